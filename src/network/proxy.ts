/**
 * The filtering proxy isolate runs on the host side of a `filtered` sandbox.
 * One listener speaks both HTTP (CONNECT tunnels and absolute-URI requests)
 * and SOCKS5 (CONNECT, with domain names). Every connection attempt is
 * decided by the rules, resolved here (never inside the sandbox), checked
 * against restricted addresses, connected by IP (so a second lookup cannot
 * rebind it), and recorded.
 */
import { lookup } from 'node:dns/promises';
import { connect as netConnect, createServer as createNetServer, type Server, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { isRestrictedAddress, ownAddresses } from './address.js';
import { NetworkEventLog } from './event-log.js';
import { decide, ipVersion, isHostName, normalizeHost, type RuleSet } from './rules.js';
import type { CredentialVault, OutgoingRequest } from './credentials/vault.js';
import type { TerminatedEnd, TlsTerminator } from './credentials/terminate.js';
import { plainResponse } from './credentials/plain-response.js';
import { allChecks, gated, sniGate, type RelayFilter } from './relay-filter.js';
import { tunnelHttp } from './tunnel-http.js';
import { MAX_HEAD, forwardedHeaders, originFormHead, parseRequestHead, type RequestHead } from './request-head.js';

export type Protocol = 'http' | 'connect' | 'socks5';

export interface NetworkEvent {
  time: string;
  protocol: Protocol;
  host: string;
  port: number;
  decision: 'allowed' | 'denied';
  /** The rule that decided, or null (denied: nothing matched). */
  rule: string | null;
  reason: string;
  /** The address the proxy connected to. */
  address?: string;
  bytesUp: number;
  bytesDown: number;
  durationMs: number;
  error?: string;
}

export type Resolver = (host: string) => Promise<string[]>;

export interface ProxyOptions {
  rules: RuleSet;
  resolve?: Resolver;
  /** Called for every finished connection attempt. */
  onEvent?: (event: NetworkEvent) => void;
  /** The run's credentials: placeholders in requests become real values for their hosts only (credentials/vault.ts). */
  credentials?: CredentialVault;
  /** With credentials: TLS to their hosts is terminated here (credentials/terminate.ts); every other tunnel stays opaque. */
  terminator?: TlsTerminator;
}

/**
 * How many clients' connections one proxy holds open at once. Each open tunnel may hold relay buffers (RELAY_CHUNK)
 * in isolate, outside the sandbox's limits: a command that opened tunnels and never read from them grew isolate's
 * memory without end. A package manager opens 15-64; a request beyond this is refused and recorded.
 */
export const MAX_OPEN_CLIENTS = 128;

const defaultResolve: Resolver = async (host) => (await lookup(host, { all: true, verbatim: true })).map((a) => a.address);

interface Target {
  protocol: Protocol;
  host: string;
  port: number;
}

type Verdict =
  | { ok: true; address: string; rule: string | null; reason: string }
  | { ok: false; rule: string | null; reason: string; status: 'denied' | 'unresolved' };


export class FilterProxy {
  /** The attempts seen: the first MAX_NETWORK_EVENTS whole, the rest counted (a proxy may run for days). */
  readonly log = new NetworkEventLog();

  get events(): NetworkEvent[] {
    return this.log.events;
  }
  private readonly server: Server;
  /** Open sockets, each with a promise that settles when it has closed. */
  private readonly sockets = new Map<Duplex, Promise<void>>();
  private readonly resolve: Resolver;
  /** Clients' connections open now. */
  private clients = 0;

  constructor(private readonly options: ProxyOptions) {
    this.resolve = options.resolve ?? defaultResolve;
    // allowHalfOpen: a client may send its request and shut down its side; the reply must still reach it.
    // noDelay: replies go out as written (over TCP: isolate proxy, tests); a unix socket has no Nagle to turn off.
    this.server = createNetServer({ allowHalfOpen: true, noDelay: true }, (socket) => this.onSocket(socket));
  }

  /** Listen on a unix socket path, or a TCP port on loopback (tests). */
  listen(target: { path: string } | { host: string; port: number }): Promise<void> {
    return new Promise((resolvePromise, reject) => {
      this.server.once('error', reject);
      this.server.listen(target, () => {
        this.server.off('error', reject);
        resolvePromise();
      });
    });
  }

  address(): ReturnType<Server['address']> {
    return this.server.address();
  }

  /**
   * Stop listening at once; give the open connections up to `graceMs` to
   * finish on their own (0: none), end those still open, and resolve once
   * each has been recorded. `cut`, when it settles first, ends the grace
   * period early (a second signal).
   */
  async close(graceMs = 0, cut?: Promise<unknown>): Promise<void> {
    const listening = new Promise<void>((resolvePromise) => this.server.close(() => resolvePromise()));
    if (graceMs > 0 && this.sockets.size > 0) await settledWithin(Promise.all(this.sockets.values()), graceMs, cut);
    const closing = [...this.sockets.values()];
    for (const s of this.sockets.keys()) s.destroy();
    await Promise.all(closing);
    await listening;
  }

  /** Sockets open now (a client's, and the upstream's it was relayed to). */
  get open(): number {
    return this.sockets.size;
  }

  private track(s: Duplex): void {
    s.on('error', () => undefined);
    this.sockets.set(
      s,
      new Promise((resolvePromise) =>
        s.once('close', () => {
          this.sockets.delete(s);
          resolvePromise();
        }),
      ),
    );
  }

  private onSocket(socket: Socket): void {
    this.track(socket);
    this.clients++;
    socket.once('close', () => this.clients--);
    let buf: Buffer = Buffer.alloc(0);
    const onData = (chunk: Buffer): void => {
      buf = buf.length === 0 ? chunk : Buffer.concat([buf, chunk]);
      if (buf[0] === 0x05) {
        socket.off('data', onData);
        socket.pause();
        socket.unshift(buf);
        this.onSocks(socket);
        socket.resume();
        return;
      }
      const end = buf.indexOf('\r\n\r\n');
      if (end === -1) {
        if (buf.length > MAX_HEAD) finish(socket, simpleResponse(431, 'Request Header Fields Too Large', 'request head too large'));
        return;
      }
      socket.off('data', onData);
      socket.pause();
      const head = parseRequestHead(buf.subarray(0, end).toString('latin1'));
      const rest = buf.subarray(end + 4);
      if (head === undefined) {
        finish(socket, simpleResponse(400, 'Bad Request', 'malformed request'));
        return;
      }
      if (head.method === 'CONNECT') void this.onConnect(socket, head, rest);
      else void this.onRequest(socket, head, rest);
    };
    socket.on('data', onData);
  }

  private record(target: Target, started: bigint, fields: Omit<NetworkEvent, 'time' | 'protocol' | 'host' | 'port' | 'durationMs'>): void {
    const event: NetworkEvent = {
      time: new Date().toISOString(),
      protocol: target.protocol,
      host: target.host,
      port: target.port,
      durationMs: Number((process.hrtime.bigint() - started) / 1000n) / 1000,
      ...fields,
    };
    this.log.add(event);
    this.options.onEvent?.(event);
  }

  /** Rules first (deny wins), then the resolved addresses. */
  private async judge(target: Target): Promise<Verdict> {
    if (this.clients > MAX_OPEN_CLIENTS) {
      return { ok: false, rule: null, reason: `the command holds more than ${MAX_OPEN_CLIENTS} connections open through the proxy at once`, status: 'denied' };
    }
    // A host the resolver would read differently from the rules (a NUL byte, spaces, control
    // characters: getaddrinfo stops at a NUL) is refused before any rule sees it.
    if (ipVersion(target.host) === 0 && !isHostName(target.host)) {
      return { ok: false, rule: null, reason: `${JSON.stringify(target.host)} is not a valid host name`, status: 'denied' };
    }
    const d = decide(this.options.rules, target.host, target.port);
    if (!d.allowed) return { ok: false, rule: d.rule?.pattern ?? null, reason: d.reason, status: 'denied' };
    let addresses: string[];
    if (ipVersion(target.host) !== 0) addresses = [target.host];
    else {
      try {
        addresses = await this.resolve(target.host);
      } catch (e: unknown) {
        const code = typeof e === 'object' && e !== null && 'code' in e ? String((e as { code: unknown }).code) : String(e);
        return { ok: false, rule: d.rule?.pattern ?? null, reason: `cannot resolve ${target.host}: ${code}`, status: 'unresolved' };
      }
    }
    const explicit = d.rule?.explicit === true;
    const own = explicit ? undefined : ownAddresses();
    const usable = addresses.filter((a) => own === undefined || !isRestrictedAddress(a, own));
    const address = usable[0];
    if (address === undefined) {
      return {
        ok: false,
        rule: d.rule?.pattern ?? null,
        reason: `${target.host} resolves to a loopback, private, metadata or this machine's own address (${addresses.join(', ')}); allow it with a rule naming the host and port, e.g. "${target.host}:${target.port}"`,
        status: 'denied',
      };
    }
    return { ok: true, address, rule: d.rule?.pattern ?? null, reason: d.reason };
  }

  private async onConnect(client: Socket, head: RequestHead, early: Buffer): Promise<void> {
    const started = process.hrtime.bigint();
    const target = parseAuthority(head.target, 443);
    if (target === undefined) {
      finish(client, simpleResponse(400, 'Bad Request', 'CONNECT needs host:port'));
      return;
    }
    const t: Target = { protocol: 'connect', ...target };
    const verdict = await this.judge(t);
    if (client.destroyed) return; // the proxy closed while the name was resolved: nothing may be opened after close()
    if (!verdict.ok) {
      finish(client, denialResponse(verdict.reason));
      this.record(t, started, { decision: 'denied', rule: verdict.rule, reason: verdict.reason, bytesUp: 0, bytesDown: 0 });
      return;
    }
    const established = (): void => void client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
    const terminator = this.terminatorFor(t);
    if (terminator !== undefined) {
      this.terminate(terminator, client, t, verdict, started, early, established);
      return;
    }
    this.tunnel(
      client,
      t,
      verdict,
      started,
      early,
      {
        established,
        failed: () => finish(client, simpleResponse(502, 'Bad Gateway', 'cannot connect')),
      },
      this.opaque(t),
    );
  }

  /**
   * What an opaque tunnel (CONNECT, SOCKS5) may carry: TLS that names its
   * host (or none); plain HTTP whose first request goes on with the
   * tunnel's host as its Host and the connection closed after it
   * (tunnel-http.ts); with credentials, no placeholder in clear (the
   * misuse is recorded).
   */
  private opaque(t: Target): RelayFilter {
    const vault = this.options.credentials;
    const placeholders = vault?.bodyWatch({ method: t.protocol.toUpperCase(), host: t.host, port: t.port, target: '(tunnel)' });
    const sni = sniGate(t.host, t.protocol === 'socks5' ? 'SOCKS5' : 'CONNECT');
    const http = tunnelHttp(t.host, t.port);
    return { gate: (data) => (data[0] === TLS_HANDSHAKE ? sni(data) : http.gate(data)), checkUp: allChecks(placeholders, http.watch) };
  }

  /**
   * The terminator for a tunnel (CONNECT or SOCKS5 alike) to a credential
   * host, or undefined: other tunnels stay opaque. Through an opaque one a
   * credential host's responses would reach the command unscrubbed, and it
   * may show what it was sent before (the value, added to an earlier
   * request) to whoever asks.
   */
  private terminatorFor(t: Target): TlsTerminator | undefined {
    return this.options.credentials?.servesHost(t.host, t.port) === true ? this.options.terminator : undefined;
  }

  /** A tunnel to a credential host: TLS answered here, each request sent on with the values (credentials/terminate.ts). */
  private terminate(terminator: TlsTerminator, client: Socket, t: Target, verdict: Extract<Verdict, { ok: true }>, started: bigint, early: Buffer, established: () => void): void {
    established();
    const done = (end: TerminatedEnd): void =>
      this.record(t, started, {
        decision: end.refused === undefined ? 'allowed' : 'denied',
        rule: verdict.rule,
        reason: end.refused ?? `${verdict.reason}; TLS terminated by isolate for the run's credentials`,
        address: verdict.address,
        bytesUp: end.bytesUp,
        bytesDown: end.bytesDown,
        ...(end.error === undefined ? {} : { error: end.error }),
      });
    terminator.accept(client, { host: t.host, port: t.port, address: verdict.address }, early, done).catch((e: unknown) => {
      client.destroy();
      done({ bytesUp: 0, bytesDown: 0, error: e instanceof Error ? e.message : String(e) });
    });
  }

  /**
   * Relay an allowed connection. Downloads are read straight into 1 MiB
   * buffers (onread) and written to the client from there, without a copy:
   * a buffer is reused once the client's socket has taken its bytes (the
   * write callback), so a tunnel holds one or two. Upstream reading pauses
   * while the client is not keeping up. Bytes are counted each way and the
   * attempt recorded on close.
   */
  private tunnel(
    client: Duplex,
    t: Target,
    verdict: Extract<Verdict, { ok: true }>,
    started: bigint,
    early: Buffer,
    reply: { established: () => void; failed: (e: NodeJS.ErrnoException) => void },
    filter: RelayFilter = {},
  ): void {
    let up = 0;
    let down = 0;
    let error: string | undefined;
    const free: Buffer[] = [];
    let refused: string | undefined;
    const refuse = (reason: string): void => {
      refused = reason;
      client.destroy();
    };
    const upstream: Socket = netConnect({
      host: verdict.address,
      port: t.port,
      allowHalfOpen: true,
      // A relay passes on what it has at once; Nagle would hold small writes (a TLS handshake) for an ACK.
      noDelay: true,
      onread: {
        buffer: () => free.pop() ?? Buffer.allocUnsafeSlow(RELAY_CHUNK),
        callback: (n: number, buf: Uint8Array): boolean => {
          down += n;
          const b = buf as Buffer;
          const read = b.subarray(0, n);
          const why = refused === undefined ? filter.checkDown?.(read) : refused;
          if (why !== undefined) {
            free.push(b);
            refuse(why);
            return true;
          }
          writeOrPause(client, upstream, filter.scrubDown?.push(read) ?? [read], () => free.push(b));
          return true;
        },
      },
    });
    this.track(upstream);
    upstream.once('connect', () => {
      reply.established();
      const send = (c: Buffer): void => {
        const why = filter.checkUp?.(c);
        if (why !== undefined) return refuse(why);
        writeOrPause(upstream, client, [c]);
      };
      const feed = filter.gate === undefined ? send : gated(filter.gate, send, refuse);
      up += early.length;
      if (early.length > 0) feed(early);
      client.on('data', (c: Buffer) => {
        up += c.length;
        feed(c);
      });
      client.on('end', () => upstream.end());
      upstream.on('end', () => client.end(filter.scrubDown?.flush()));
      client.resume();
    });
    upstream.once('error', (e: NodeJS.ErrnoException) => {
      error = e.message;
      if (up === 0 && down === 0 && client.writable) reply.failed(e);
      else client.destroy();
    });
    client.once('close', () => upstream.destroy());
    upstream.once('close', () => {
      client.destroy();
      this.record(t, started, {
        decision: refused === undefined ? 'allowed' : 'denied',
        rule: verdict.rule,
        reason: refused ?? verdict.reason,
        address: verdict.address,
        bytesUp: up,
        bytesDown: down,
        ...(error === undefined ? {} : { error }),
      });
    });
  }

  /**
   * An absolute-URI request (`GET http://host/path HTTP/1.1`): decide, then
   * send the request on in origin form with `Connection: close` and relay the
   * rest of the connection as is. Anything more the client sends on it can
   * only reach the same, allowed, upstream.
   */
  private async onRequest(client: Socket, head: RequestHead, early: Buffer): Promise<void> {
    const started = process.hrtime.bigint();
    let url: URL;
    try {
      url = new URL(head.target);
    } catch {
      finish(client, simpleResponse(400, 'Bad Request', 'expected an absolute http:// URL or CONNECT'));
      return;
    }
    if (url.protocol !== 'http:') {
      finish(client, simpleResponse(400, 'Bad Request', `${url.protocol} URLs go through CONNECT`));
      return;
    }
    const t: Target = { protocol: 'http', host: normalizeHost(url.hostname.replace(/^\[|\]$/g, '')), port: url.port === '' ? 80 : Number(url.port) };
    const verdict = await this.judge(t);
    if (client.destroyed) return; // the proxy closed while the name was resolved: nothing may be opened after close()
    if (!verdict.ok) {
      finish(client, denialResponse(verdict.reason));
      this.record(t, started, { decision: 'denied', rule: verdict.rule, reason: verdict.reason, bytesUp: 0, bytesDown: 0 });
      return;
    }
    // The Host header is always the host that was decided on: a different one would let a request
    // reach another site served from the same address (a CDN) than the rule allowed.
    const headers = forwardedHeaders(head.headers);
    const request = { method: head.method, host: t.host, port: t.port, target: `${url.pathname}${url.search}`, headers, tls: false };
    const sent = this.withCredentials(request, early);
    if (!sent.ok) {
      finish(client, denialResponse(sent.reason));
      this.record(t, started, { decision: 'denied', rule: verdict.rule, reason: sent.reason, bytesUp: 0, bytesDown: 0 });
      return;
    }
    const rewritten = Buffer.concat([originFormHead(head, sent.target, url.host, sent.headers), early]);
    this.tunnel(
      client,
      t,
      verdict,
      started,
      rewritten,
      {
        established: () => undefined,
        failed: (e) => finish(client, simpleResponse(502, 'Bad Gateway', e.message)),
      },
      sent.filter,
    );
  }

  /**
   * A plain HTTP request with the run's credentials (credentials/vault.ts):
   * placeholders in its head replaced for their hosts, or refused; the body
   * checked for placeholders going where they may not; the response
   * read and scrubbed of real values (credentials/plain-response.ts). Unchanged when the run has no credentials.
   */
  private withCredentials(
    request: OutgoingRequest,
    early: Buffer,
  ): { ok: true; target: string; headers: [string, string][]; filter: RelayFilter } | { ok: false; reason: string } {
    const vault = this.options.credentials;
    if (vault === undefined) return { ok: true, target: request.target, headers: request.headers, filter: {} };
    const r = vault.rewrite(request);
    if (!r.ok) return { ok: false, reason: r.reason };
    const watch = vault.bodyWatch(request);
    const inBody = watch(early);
    if (inBody !== undefined) return { ok: false, reason: inBody };
    const response = plainResponse(request.method, vault);
    return { ok: true, target: r.target, headers: r.headers, filter: { checkUp: watch, checkDown: allChecks(vault.responseGuard(), response.check), scrubDown: response.scrubber } };
  }

  private onSocks(client: Socket): void {
    const started = process.hrtime.bigint();
    let buf = Buffer.alloc(0);
    let stage: 'greeting' | 'request' | 'done' = 'greeting';
    const reply = (code: number): Buffer => Buffer.from([5, code, 0, 1, 0, 0, 0, 0, 0, 0]);
    const onData = (chunk: Buffer): void => {
      buf = Buffer.concat([buf, chunk]);
      if (stage === 'greeting') {
        if (buf.length < 2) return;
        const n = buf[1] ?? 0;
        if (buf.length < 2 + n) return;
        const methods = buf.subarray(2, 2 + n);
        buf = buf.subarray(2 + n);
        if (!methods.includes(0)) {
          finish(client, Buffer.from([5, 0xff]));
          stage = 'done';
          return;
        }
        client.write(Buffer.from([5, 0]));
        stage = 'request';
      }
      if (stage === 'request') {
        const parsed = parseSocksRequest(buf);
        if (parsed === 'incomplete') return;
        stage = 'done';
        client.off('data', onData);
        if (parsed === 'bad') {
          finish(client, reply(1));
          return;
        }
        if (parsed.cmd !== 1) {
          finish(client, reply(7));
          return;
        }
        const rest = buf.subarray(parsed.length);
        void this.socksConnect(client, { protocol: 'socks5', host: parsed.host, port: parsed.port }, rest, started, reply);
      }
    };
    client.on('data', onData);
  }

  private async socksConnect(client: Socket, t: Target, rest: Buffer, started: bigint, reply: (code: number) => Buffer): Promise<void> {
    client.pause();
    const verdict = await this.judge(t);
    if (client.destroyed) return; // the proxy closed while the name was resolved: nothing may be opened after close()
    if (!verdict.ok) {
      finish(client, reply(verdict.status === 'unresolved' ? 4 : 2));
      this.record(t, started, { decision: 'denied', rule: verdict.rule, reason: verdict.reason, bytesUp: 0, bytesDown: 0 });
      return;
    }
    const established = (): void => void client.write(reply(0));
    const terminator = this.terminatorFor(t);
    if (terminator !== undefined) {
      this.terminate(terminator, client, t, verdict, started, rest, established);
      return;
    }
    this.tunnel(
      client,
      t,
      verdict,
      started,
      rest,
      {
        established,
        failed: (e) => finish(client, reply(e.code === 'ECONNREFUSED' ? 5 : 1)),
      },
      this.opaque(t),
    );
  }
}

/** Write `chunks` to `to` (`done` once the last is written); when `to` is full, pause `from` until it drains. */
function writeOrPause(to: Duplex, from: Duplex, chunks: readonly Uint8Array[], done?: () => void): void {
  let full = false;
  chunks.forEach((c, i) => (full = !to.write(c, i === chunks.length - 1 ? done : undefined) || full));
  if (chunks.length === 0) done?.();
  if (full) {
    from.pause();
    to.once('drain', () => from.resume());
  }
}

/** The first byte of a TLS record carrying a handshake (a ClientHello). */
const TLS_HANDSHAKE = 0x16;
/** Read size for downloads: large reads mean few callbacks; fewer than 1 MiB measured slower, more no faster. */
const RELAY_CHUNK = 1 << 20;

/** Wait for `p`, at most `ms`, or until `cut` settles. */
async function settledWithin(p: Promise<unknown>, ms: number, cut?: Promise<unknown>): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<void>((resolvePromise) => (timer = setTimeout(resolvePromise, ms)));
  try {
    await Promise.race([p, timeout, ...(cut === undefined ? [] : [cut])]);
  } finally {
    clearTimeout(timer);
  }
}

/** Send a last reply and close: the connection is finished even if the client keeps its side open. */
function finish(socket: Duplex, data: string | Buffer): void {
  socket.end(data, () => socket.destroy());
}

function simpleResponse(status: number, text: string, message: string): string {
  const body = `isolate proxy: ${message}\n`;
  return `HTTP/1.1 ${status} ${text}\r\nContent-Type: text/plain\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`;
}

function denialResponse(reason: string): string {
  const body = `isolate: ${reason}\n`;
  return `HTTP/1.1 403 Forbidden\r\nContent-Type: text/plain\r\nX-Isolate-Denied: ${reason.replace(/[\r\n]/g, ' ')}\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`;
}

/** `host:port` or `[v6]:port` from a CONNECT request line. */
export function parseAuthority(authority: string, defaultPort: number): { host: string; port: number } | undefined {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]]+))(?::(\d{1,5}))?$/.exec(authority);
  if (m === null) return undefined;
  const host = normalizeHost(m[1] ?? m[2] ?? '');
  const port = m[3] === undefined ? defaultPort : Number(m[3]);
  if (host === '' || port < 1 || port > 65535) return undefined;
  return { host, port };
}

type SocksRequest = { cmd: number; host: string; port: number; length: number };

/** VER CMD RSV ATYP DST.ADDR DST.PORT */
export function parseSocksRequest(buf: Buffer): SocksRequest | 'incomplete' | 'bad' {
  if (buf.length < 5) return 'incomplete';
  if (buf[0] !== 5) return 'bad';
  const cmd = buf[1] ?? 0;
  const atyp = buf[3];
  let host: string;
  let offset: number;
  if (atyp === 1) {
    if (buf.length < 10) return 'incomplete';
    host = `${buf[4]}.${buf[5]}.${buf[6]}.${buf[7]}`;
    offset = 8;
  } else if (atyp === 3) {
    const len = buf[4] ?? 0;
    if (buf.length < 5 + len + 2) return 'incomplete';
    host = normalizeHost(buf.subarray(5, 5 + len).toString('latin1'));
    offset = 5 + len;
  } else if (atyp === 4) {
    if (buf.length < 22) return 'incomplete';
    const parts: string[] = [];
    for (let i = 0; i < 8; i++) parts.push(buf.readUInt16BE(4 + i * 2).toString(16));
    host = parts.join(':');
    offset = 20;
  } else {
    return 'bad';
  }
  return { cmd, host, port: buf.readUInt16BE(offset), length: offset + 2 };
}
