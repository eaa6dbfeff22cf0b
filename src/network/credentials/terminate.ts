/**
 * TLS terminated for the credential hosts only. Inside an allowed CONNECT
 * (or SOCKS5) tunnel to such a host, the proxy answers the TLS handshake itself with a
 * certificate from the run's CA (ca.ts), reads each HTTP request (node's
 * HTTP server: keep-alive, chunked bodies), lets the vault put the values in
 * (or refuse), and sends it on over a new TLS connection that verifies the
 * real server against the system's roots plus the profile's
 * network.upstreamCa. A failed verification refuses the request; nothing is
 * ever sent unverified. Responses come back scrubbed of the values.
 *
 * The names must agree: a ClientHello naming another server than the
 * CONNECT host, or a request that names another server, is refused (a CDN
 * would route it by that name: domain fronting). A request names its server
 * in its Host header and, in absolute form (`GET https://host/path`), in its
 * target, which a server then reads instead of Host (RFC 9112 3.2.2); so a
 * request is passed on only with a path as its target (or `*`) and exactly
 * one Host, naming the CONNECT host and, when it has a port, the CONNECT port.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { TLSSocket, createSecureContext, type SecureContext } from 'node:tls';
import { normalizeHost } from '../rules.js';
import type { RunCa } from './ca.js';
import { HeldBodies } from './held-bodies.js';
import { MAX_PIPELINED, SerialRequests } from './serial-requests.js';
import { HOP, toClient } from './to-client.js';
import { exchange, type Exchange, type UpstreamTls } from './upstream.js';
import type { CredentialVault, OutgoingRequest } from './vault.js';

export { MAX_PIPELINED };

export interface TerminatedTarget {
  host: string;
  port: number;
  /** The address the rules and the resolver chose: the upstream connection goes there, by IP. */
  address: string;
}

/** What happened on a terminated tunnel, for the proxy's record of it. */
export interface TerminatedEnd {
  bytesUp: number;
  bytesDown: number;
  /** Why a request or the tunnel was refused, or why it failed (the first such). */
  refused?: string;
  error?: string;
}

function pairs(raw: readonly string[]): [string, string][] {
  const out: [string, string][] = [];
  for (let i = 0; i + 1 < raw.length; i += 2) out.push([raw[i] ?? '', raw[i + 1] ?? '']);
  return out;
}

type Note = (field: 'refused' | 'error', text: string) => void;

/** `host[:port]` of a Host header (an IPv6 address in brackets), or undefined when it is not one. */
function hostAndPort(value: string): { host: string; port: number | undefined } | undefined {
  const m = /^(\[[0-9A-Fa-f:.]+\]|[^:[\]]+)(?::(\d{1,5}))?$/.exec(value.trim());
  if (m?.[1] === undefined) return undefined;
  return { host: normalizeHost(m[1].replace(/^\[|\]$/g, '')), port: m[2] === undefined ? undefined : Number(m[2]) };
}

/** Why `req` names another server than the CONNECT host (its Host headers, its target), or undefined when it names that host only. */
function otherServer(req: IncomingMessage, t: TerminatedTarget): string | undefined {
  const target = req.url ?? '';
  if (!target.startsWith('/') && target !== '*') return `the request's target ${JSON.stringify(target)} is not a path: a server would read the host it names instead of Host`;
  const hosts = pairs(req.rawHeaders).filter(([n]) => n.toLowerCase() === 'host').map(([, v]) => v);
  if (hosts.length !== 1) return `the request has ${String(hosts.length)} Host headers; it needs exactly one, naming the CONNECT host ${t.host}`;
  const named = hostAndPort(hosts[0] ?? '');
  if (named === undefined || named.host !== t.host || (named.port !== undefined && named.port !== t.port)) {
    return `the request's Host ${JSON.stringify(hosts[0] ?? '')} is not the CONNECT host ${t.host}:${String(t.port)}`;
  }
  return undefined;
}

function refuse(res: ServerResponse, status: number, reason: string): void {
  const body = `isolate: ${reason}\n`;
  res.writeHead(status, { 'content-type': 'text/plain', 'x-isolate-denied': reason.replace(/[\r\n]/g, ' '), 'content-length': Buffer.byteLength(body), connection: 'close' });
  res.end(body);
}

export class TlsTerminator {
  constructor(
    private readonly vault: CredentialVault,
    private readonly ca: RunCa,
    /** PEM certificates the upstream servers are verified against: the system's roots and network.upstreamCa. */
    private readonly trust: readonly string[],
    /** The bodies read to hash them, in all of the run's tunnels (held-bodies.ts). */
    private readonly held = new HeldBodies(),
  ) {}

  private context: SecureContext | undefined;
  private readonly leaves = new Map<string, Promise<SecureContext>>();
  /** The last TLS session of each upstream host:port, to resume: a request's connection skips the full handshake. */
  private readonly sessions = new Map<string, Buffer>();

  /** Take over an established CONNECT or SOCKS5 tunnel (`early`: bytes the client sent after the CONNECT head or SOCKS5 request). */
  async accept(client: Socket, t: TerminatedTarget, early: Buffer, done: (end: TerminatedEnd) => void): Promise<void> {
    const end: TerminatedEnd = { bytesUp: 0, bytesDown: 0 };
    const note = (field: 'refused' | 'error', text: string): void => {
      end[field] ??= text;
    };
    const context = await this.leafContext(t.host);
    if (early.length > 0) client.unshift(early);
    const tls = new TLSSocket(client, {
      isServer: true,
      secureContext: context,
      ALPNProtocols: ['http/1.1'],
      SNICallback: (name, cb) => {
        if (normalizeHost(name) === t.host) return cb(null, context);
        note('refused', `the TLS server name ${JSON.stringify(name)} is not the CONNECT host ${t.host}`);
        cb(new Error('server name mismatch'));
      },
    });
    tls.on('error', (e: Error) => note('error', e.message));
    // One request sent on at a time (serial-requests.ts): the command may write many before it reads an answer.
    const serial = new SerialRequests(() => {
      note('refused', `the command pipelined more than ${MAX_PIPELINED} requests behind one not yet answered on a tunnel to ${t.host}; isolate sends them on one at a time`);
      tls.destroy();
    });
    const server: Server = createServer((req, res) => serial.run(res, () => this.forward(req, res, t, note)));
    tls.once('close', () => {
      serial.close();
      end.bytesUp = client.bytesRead;
      end.bytesDown = client.bytesWritten;
      server.close();
      done(end);
    });
    server.emit('connection', tls);
  }

  /** One request of the tunnel: its Host and target checked, the values put in by the vault, sent on verified, the response scrubbed. */
  private forward(req: IncomingMessage, res: ServerResponse, t: TerminatedTarget, note: Note): void {
    const reason = otherServer(req, t);
    if (reason !== undefined) {
      note('refused', reason);
      refuse(res, 403, reason);
      return;
    }
    const headers = pairs(req.rawHeaders).filter(([n]) => !HOP.has(n.toLowerCase()));
    const request: OutgoingRequest = { method: req.method ?? 'GET', host: t.host, port: t.port, target: req.url ?? '/', headers, tls: true };
    if (!this.vault.bodyNeeded(request)) {
      this.send(req, res, t, note, request);
      return;
    }
    // A request signed with an aws credential whose payload hash covers its body: read first, then checked and signed again.
    void this.held.read(req).then((held) => {
      if (held === 'failed') res.destroy();
      else if (held === 'over the sum') {
        const reason = `the bodies isolate holds to hash them would be more than ${this.held.max / 1024 / 1024} MiB at once; try again when fewer are in flight`;
        note('refused', reason);
        refuse(res, 503, reason);
      } else if (held === 'too large') this.send(req, res, t, note, request, held);
      else {
        res.once('close', held.free);
        this.send(req, res, t, note, request, held.body);
      }
    });
  }

  /** `request` with the values in (the vault's rewrite), sent on verified, the response scrubbed; `body`: read already (or too large to read), else piped. */
  private send(req: IncomingMessage, res: ServerResponse, t: TerminatedTarget, note: Note, request: OutgoingRequest, body?: Buffer | 'too large'): void {
    const r = this.vault.rewrite(request, body === 'too large' ? undefined : body);
    if (!r.ok) {
      note('refused', r.reason);
      refuse(res, 403, r.reason);
      return;
    }
    if (body === 'too large') {
      // rewrite refuses a request whose body it needed and could not read; this is the guard should that change.
      refuse(res, 413, 'the request body is too large to check');
      return;
    }
    const failed = (given: string, beforeHead: boolean): void => {
      // A reason may quote the server (the codings it named): scrubbed as its response is, for the command and the records.
      const reason = this.vault.scrubText(given);
      note('error', reason);
      if (beforeHead) refuse(res, 502, reason);
      else res.destroy();
    };
    const upstream = { host: t.host, port: t.port, address: t.address, method: request.method, target: r.target, headers: r.headers };
    const up: Exchange = exchange(upstream, this.upstreamTls(`${t.address} ${t.host}:${t.port}`), body ?? req, toClient(res, this.vault, () => up, failed));
    res.once('close', () => up.destroy());
  }

  /** The TLS context that answers for `host` with its certificate, made once per host. */
  private leafContext(host: string): Promise<SecureContext> {
    let context = this.leaves.get(host);
    if (context === undefined) {
      context = this.ca.leafFor(host).then((leaf) => createSecureContext({ cert: leaf.cert, key: leaf.key }));
      this.leaves.set(host, context);
    }
    return context;
  }

  /** The roots upstream servers are verified against, made once (a bundle of system roots takes milliseconds to load). */
  private upstreamTls(key: string): UpstreamTls {
    this.context ??= createSecureContext({ ca: [...this.trust] });
    return { context: this.context, session: this.sessions.get(key), onSession: (s) => this.sessions.set(key, s) };
  }
}
