/**
 * The filtering proxy isolate runs on the host side of a `filtered` sandbox.
 * One listener speaks both HTTP (CONNECT tunnels and absolute-URI requests)
 * and SOCKS5 (CONNECT, with domain names). Every connection attempt is
 * decided by the rules, resolved here (never inside the sandbox), checked
 * against restricted addresses, connected by IP (so a second lookup cannot
 * rebind it), and recorded.
 */
import { lookup } from 'node:dns/promises';
import { createServer as createHttpServer, request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import { connect as netConnect, createServer as createNetServer, isIP, type Server, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { isRestrictedAddress } from './address.js';
import { decide, normalizeHost, type RuleSet } from './rules.js';

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
}

const defaultResolve: Resolver = async (host) => (await lookup(host, { all: true, verbatim: true })).map((a) => a.address);

interface Target {
  protocol: Protocol;
  host: string;
  port: number;
}

type Verdict =
  | { ok: true; address: string; rule: string | null; reason: string }
  | { ok: false; rule: string | null; reason: string; status: 'denied' | 'unresolved' };

const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-authenticate',
  'proxy-authorization',
  'proxy-connection',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
]);

export class FilterProxy {
  readonly events: NetworkEvent[] = [];
  private readonly server: Server;
  private readonly http = createHttpServer();
  private readonly sockets = new Set<Duplex>();
  private readonly resolve: Resolver;

  constructor(private readonly options: ProxyOptions) {
    this.resolve = options.resolve ?? defaultResolve;
    this.http.on('request', (req, res) => void this.onRequest(req, res));
    this.http.on('connect', (req: IncomingMessage, socket: Duplex, head: Buffer) => void this.onConnect(req, socket, head));
    this.http.on('clientError', (_err, socket: Duplex) => socket.destroy());
    this.server = createNetServer((socket) => this.onSocket(socket));
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

  close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    this.sockets.clear();
    return new Promise((resolvePromise) => this.server.close(() => resolvePromise()));
  }

  private track(s: Duplex): void {
    this.sockets.add(s);
    s.on('close', () => this.sockets.delete(s));
    s.on('error', () => undefined);
  }

  private onSocket(socket: Socket): void {
    this.track(socket);
    socket.once('data', (first: Buffer) => {
      socket.pause();
      socket.unshift(first);
      if (first[0] === 0x05) this.onSocks(socket);
      else this.http.emit('connection', socket);
      socket.resume();
    });
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
    this.events.push(event);
    this.options.onEvent?.(event);
  }

  /** Rules first (deny wins), then the resolved addresses. */
  private async judge(target: Target): Promise<Verdict> {
    const d = decide(this.options.rules, target.host, target.port);
    if (!d.allowed) return { ok: false, rule: d.rule?.pattern ?? null, reason: d.reason, status: 'denied' };
    let addresses: string[];
    if (isIP(target.host) !== 0) addresses = [target.host];
    else {
      try {
        addresses = await this.resolve(target.host);
      } catch (e: unknown) {
        const code = typeof e === 'object' && e !== null && 'code' in e ? String((e as { code: unknown }).code) : String(e);
        return { ok: false, rule: d.rule?.pattern ?? null, reason: `cannot resolve ${target.host}: ${code}`, status: 'unresolved' };
      }
    }
    const explicit = d.rule?.explicit === true;
    const usable = addresses.filter((a) => explicit || !isRestrictedAddress(a));
    const address = usable[0];
    if (address === undefined) {
      return {
        ok: false,
        rule: d.rule?.pattern ?? null,
        reason: `${target.host} resolves to a loopback, private or metadata address (${addresses.join(', ')}); allow it with a rule naming the host and port, e.g. "${target.host}:${target.port}"`,
        status: 'denied',
      };
    }
    return { ok: true, address, rule: d.rule?.pattern ?? null, reason: d.reason };
  }

  private async onConnect(req: IncomingMessage, client: Duplex, head: Buffer): Promise<void> {
    this.track(client);
    const started = process.hrtime.bigint();
    const target = parseAuthority(req.url ?? '', 443);
    if (target === undefined) {
      client.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
      return;
    }
    const t: Target = { protocol: 'connect', ...target };
    const verdict = await this.judge(t);
    if (!verdict.ok) {
      client.end(denialResponse(verdict.reason));
      this.record(t, started, { decision: 'denied', rule: verdict.rule, reason: verdict.reason, bytesUp: 0, bytesDown: 0 });
      return;
    }
    const upstream = netConnect({ host: verdict.address, port: t.port });
    this.track(upstream);
    let up = 0;
    let down = 0;
    let error: string | undefined;
    upstream.once('connect', () => {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      if (head.length > 0) {
        up += head.length;
        upstream.write(head);
      }
      client.on('data', (c: Buffer) => (up += c.length));
      upstream.on('data', (c: Buffer) => (down += c.length));
      client.pipe(upstream);
      upstream.pipe(client);
    });
    upstream.once('error', (e) => {
      error = e.message;
      if (up === 0 && down === 0 && client.writable) client.end('HTTP/1.1 502 Bad Gateway\r\nConnection: close\r\n\r\n');
      else client.destroy();
    });
    client.once('close', () => upstream.destroy());
    upstream.once('close', () => {
      client.destroy();
      this.record(t, started, {
        decision: 'allowed',
        rule: verdict.rule,
        reason: verdict.reason,
        address: verdict.address,
        bytesUp: up,
        bytesDown: down,
        ...(error === undefined ? {} : { error }),
      });
    });
  }

  private async onRequest(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const started = process.hrtime.bigint();
    let url: URL;
    try {
      url = new URL(req.url ?? '');
    } catch {
      res.writeHead(400, { 'content-type': 'text/plain', connection: 'close' }).end('isolate proxy: expected an absolute http:// URL or CONNECT\n');
      return;
    }
    if (url.protocol !== 'http:') {
      res.writeHead(400, { 'content-type': 'text/plain', connection: 'close' }).end(`isolate proxy: ${url.protocol} URLs go through CONNECT\n`);
      return;
    }
    const t: Target = { protocol: 'http', host: normalizeHost(url.hostname.replace(/^\[|\]$/g, '')), port: url.port === '' ? 80 : Number(url.port) };
    const verdict = await this.judge(t);
    if (!verdict.ok) {
      res.writeHead(403, { 'content-type': 'text/plain', 'x-isolate-denied': verdict.reason, connection: 'close' }).end(`isolate: ${verdict.reason}\n`);
      this.record(t, started, { decision: 'denied', rule: verdict.rule, reason: verdict.reason, bytesUp: 0, bytesDown: 0 });
      return;
    }
    const headers: Record<string, string | string[]> = {};
    for (const [k, v] of Object.entries(req.headers)) if (v !== undefined && !HOP_BY_HOP.has(k)) headers[k] = v;
    headers['connection'] = 'close';
    let up = 0;
    let down = 0;
    const upstream = httpRequest({
      host: verdict.address,
      port: t.port,
      method: req.method,
      path: `${url.pathname}${url.search}`,
      headers,
      setHost: false,
      agent: false,
    });
    const finish = (error?: string): void =>
      this.record(t, started, {
        decision: 'allowed',
        rule: verdict.rule,
        reason: verdict.reason,
        address: verdict.address,
        bytesUp: up,
        bytesDown: down,
        ...(error === undefined ? {} : { error }),
      });
    req.on('data', (c: Buffer) => (up += c.length));
    upstream.on('response', (r) => {
      const out: Record<string, string | string[]> = {};
      for (const [k, v] of Object.entries(r.headers)) if (v !== undefined && !HOP_BY_HOP.has(k)) out[k] = v;
      res.writeHead(r.statusCode ?? 502, r.statusMessage, out);
      r.on('data', (c: Buffer) => (down += c.length));
      r.pipe(res);
      r.on('end', () => finish());
    });
    upstream.on('error', (e) => {
      if (!res.headersSent) res.writeHead(502, { 'content-type': 'text/plain', connection: 'close' }).end(`isolate proxy: ${e.message}\n`);
      else res.destroy();
      finish(e.message);
    });
    req.pipe(upstream);
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
          client.end(Buffer.from([5, 0xff]));
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
          client.end(reply(1));
          return;
        }
        if (parsed.cmd !== 1) {
          client.end(reply(7));
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
    if (!verdict.ok) {
      client.end(reply(verdict.status === 'unresolved' ? 4 : 2));
      this.record(t, started, { decision: 'denied', rule: verdict.rule, reason: verdict.reason, bytesUp: 0, bytesDown: 0 });
      return;
    }
    const upstream = netConnect({ host: verdict.address, port: t.port });
    this.track(upstream);
    let up = 0;
    let down = 0;
    let error: string | undefined;
    upstream.once('connect', () => {
      client.write(reply(0));
      if (rest.length > 0) {
        up += rest.length;
        upstream.write(rest);
      }
      client.on('data', (c: Buffer) => (up += c.length));
      upstream.on('data', (c: Buffer) => (down += c.length));
      client.pipe(upstream);
      upstream.pipe(client);
      client.resume();
    });
    upstream.once('error', (e) => {
      error = e.message;
      if (up === 0 && down === 0 && client.writable) client.end(reply((e as { code?: string }).code === 'ECONNREFUSED' ? 5 : 1));
      else client.destroy();
    });
    client.once('close', () => upstream.destroy());
    upstream.once('close', () => {
      client.destroy();
      this.record(t, started, {
        decision: 'allowed',
        rule: verdict.rule,
        reason: verdict.reason,
        address: verdict.address,
        bytesUp: up,
        bytesDown: down,
        ...(error === undefined ? {} : { error }),
      });
    });
  }
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
