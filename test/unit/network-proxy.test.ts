/**
 * The filtering proxy on its own, on a loopback TCP port, with an injected
 * resolver: absolute-URI HTTP, CONNECT tunnels and SOCKS5, the rules, the
 * restricted-address check, the recorded events, and close().
 */
import { once } from 'node:events';
import { createServer as createHttpServer, request as httpRequest, type IncomingHttpHeaders, type Server as HttpServer } from 'node:http';
import { connect as netConnect, createServer as createNetServer, isIP, type AddressInfo, type Server, type Socket } from 'node:net';
import { afterEach, beforeAll, afterAll, describe, expect, it, vi } from 'vitest';
import { FilterProxy, MAX_OPEN_CLIENTS, parseAuthority, parseSocksRequest, type NetworkEvent, type Resolver } from '../../src/network/proxy.js';
import { decide, parseRule, type DomainRule, type RuleKind } from '../../src/network/rules.js';

const BODY = 'hello from the upstream server\n';

// ---------------------------------------------------------------------------
// Servers shared by the tests: an HTTP server and a TCP echo server.

interface Seen {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
}

let upstream: HttpServer;
let upstreamPort: number;
const upstreamSeen: Seen[] = [];

let echo: Server;
let echoPort: number;
const echoSockets = new Set<Socket>();

/** A port nothing listens on. */
let closedPort: number;

function portOf(server: { address(): ReturnType<Server['address']> }): number {
  return (server.address() as AddressInfo).port;
}

async function listenOn(server: Server | HttpServer, host: string): Promise<number> {
  server.listen(0, host);
  await once(server, 'listening');
  return portOf(server);
}

function closeServer(server: Server | HttpServer): Promise<void> {
  return new Promise((resolvePromise) => server.close(() => resolvePromise()));
}

beforeAll(async () => {
  upstream = createHttpServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => (body += c));
    req.on('end', () => {
      upstreamSeen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
      res.writeHead(200, { 'content-type': 'text/plain', 'x-upstream': 'yes' });
      res.end(BODY);
    });
  });
  upstreamPort = await listenOn(upstream, '127.0.0.1');

  echo = createNetServer((s) => {
    echoSockets.add(s);
    s.on('close', () => echoSockets.delete(s));
    s.on('error', () => undefined);
    s.pipe(s);
  });
  echoPort = await listenOn(echo, '127.0.0.1');

  const tmp = createNetServer();
  closedPort = await listenOn(tmp, '127.0.0.1');
  await closeServer(tmp);
});

afterAll(async () => {
  upstream.closeAllConnections();
  await closeServer(upstream);
  for (const s of echoSockets) s.destroy();
  await closeServer(echo);
});

// ---------------------------------------------------------------------------
// Per-test resources: proxies and client sockets, all closed in afterEach.

const proxies: FilterProxy[] = [];
const sockets: Socket[] = [];
const extraServers: Server[] = [];
let resolverCalls: string[] = [];

afterEach(async () => {
  for (const s of sockets) s.destroy();
  sockets.length = 0;
  for (const p of proxies) await p.close();
  proxies.length = 0;
  for (const s of extraServers) {
    await closeServer(s);
  }
  extraServers.length = 0;
  upstreamSeen.length = 0;
  resolverCalls = [];
});

function enotfound(host: string): Error {
  return Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), { code: 'ENOTFOUND' });
}

/** allowed.test and sub.wild.test are loopback, rebind.test the metadata address, everything else does not exist. */
const resolve: Resolver = async (host) => {
  resolverCalls.push(host);
  await Promise.resolve();
  switch (host) {
    case 'allowed.test':
    case 'sub.wild.test':
      return ['127.0.0.1'];
    case 'rebind.test':
      return ['169.254.169.254'];
    case 'mixed.test':
      return ['169.254.169.254', '10.1.2.3'];
    default:
      throw enotfound(host);
  }
};

function parsed(patterns: string[], kind: RuleKind = 'allow'): DomainRule[] {
  return patterns.map((p) => {
    const r = parseRule(p, kind);
    if (!r.ok) throw new Error(`bad test rule ${p}: ${r.message}`);
    return r.rule;
  });
}

interface Started {
  proxy: FilterProxy;
  port: number;
  /** Events as passed to onEvent. */
  seen: NetworkEvent[];
}

async function startProxy(allow: string[], deny: string[] = []): Promise<Started> {
  const seen: NetworkEvent[] = [];
  const proxy = new FilterProxy({ rules: { allow: parsed(allow), deny: parsed(deny, 'deny') }, resolve, onEvent: (e) => seen.push(e) });
  proxies.push(proxy);
  await proxy.listen({ host: '127.0.0.1', port: 0 });
  return { proxy, port: portOf(proxy), seen };
}

// ---------------------------------------------------------------------------
// Clients.

interface HttpResult {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

/** Send `path` (an absolute URI) to the proxy as an HTTP client configured with a proxy would. */
function viaProxy(proxyPort: number, path: string, options: { method?: string; body?: string; headers?: Record<string, string> } = {}): Promise<HttpResult> {
  return new Promise((resolvePromise, reject) => {
    let host = '127.0.0.1';
    try {
      host = new URL(path).host;
    } catch {
      // not an absolute URL: keep the proxy's address as Host
    }
    const req = httpRequest({
      host: '127.0.0.1',
      port: proxyPort,
      method: options.method ?? 'GET',
      path,
      headers: { host, ...(options.headers ?? {}) },
      agent: false,
    });
    req.on('socket', (s: Socket) => sockets.push(s));
    req.on('error', reject);
    req.on('response', (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolvePromise({ status: res.statusCode ?? 0, headers: res.headers, body }));
      res.on('error', reject);
    });
    req.end(options.body);
  });
}

/** A raw client socket that buffers what it receives. */
class Client {
  readonly socket: Socket;
  private buf = Buffer.alloc(0);
  private waiters: (() => void)[] = [];
  readonly closed: Promise<void>;
  ended = false;

  constructor(port: number, host = '127.0.0.1') {
    this.socket = netConnect({ host, port });
    sockets.push(this.socket);
    this.socket.on('error', () => undefined);
    this.socket.on('data', (c: Buffer) => {
      this.buf = Buffer.concat([this.buf, c]);
      this.wake();
    });
    this.closed = new Promise((resolvePromise) =>
      this.socket.once('close', () => {
        this.ended = true;
        this.wake();
        resolvePromise();
      }),
    );
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  async connected(): Promise<void> {
    if (!this.socket.connecting) return;
    await once(this.socket, 'connect');
  }

  write(data: Buffer | string): void {
    this.socket.write(data);
  }

  /** Wait until `pred` holds for the buffered bytes (or the socket closed), within `ms`. */
  private async waitFor(pred: (b: Buffer) => boolean, what: string, ms = 3000): Promise<void> {
    const deadline = Date.now() + ms;
    while (!pred(this.buf)) {
      if (this.ended) throw new Error(`socket closed while waiting for ${what}; received ${JSON.stringify(this.buf.toString('latin1'))}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out waiting for ${what}; received ${JSON.stringify(this.buf.toString('latin1'))}`);
      await new Promise<void>((r) => {
        const t = setTimeout(r, left);
        this.waiters.push(() => {
          clearTimeout(t);
          r();
        });
      });
    }
  }

  /** Take exactly n bytes. */
  async read(n: number): Promise<Buffer> {
    await this.waitFor((b) => b.length >= n, `${n} bytes`);
    const out = this.buf.subarray(0, n);
    this.buf = this.buf.subarray(n);
    return out;
  }

  /** Take everything up to and including `marker`. */
  async readUntil(marker: string): Promise<string> {
    await this.waitFor((b) => b.includes(marker), JSON.stringify(marker));
    const end = this.buf.indexOf(marker) + marker.length;
    const out = this.buf.subarray(0, end).toString('latin1');
    this.buf = this.buf.subarray(end);
    return out;
  }

  /** Everything until the peer closes. */
  async rest(ms = 3000): Promise<Buffer> {
    await Promise.race([this.closed, new Promise((_, reject) => setTimeout(() => reject(new Error('timed out waiting for close')), ms))]);
    const out = this.buf;
    this.buf = Buffer.alloc(0);
    return out;
  }
}

function connectRequest(authority: string): string {
  return `CONNECT ${authority} HTTP/1.1\r\nHost: ${authority}\r\n\r\n`;
}

/** SOCKS5 CONNECT (or another command) with a domain name. */
function socksDomain(host: string, port: number, cmd = 1): Buffer {
  const name = Buffer.from(host, 'latin1');
  const b = Buffer.alloc(7 + name.length);
  b[0] = 5;
  b[1] = cmd;
  b[2] = 0;
  b[3] = 3;
  b[4] = name.length;
  name.copy(b, 5);
  b.writeUInt16BE(port, 5 + name.length);
  return b;
}

function socksIPv4(ip: string, port: number, cmd = 1): Buffer {
  const b = Buffer.alloc(10);
  b[0] = 5;
  b[1] = cmd;
  b[3] = 1;
  ip.split('.').forEach((o, i) => (b[4 + i] = Number(o)));
  b.writeUInt16BE(port, 8);
  return b;
}

function socksIPv6(groups: number[], port: number): Buffer {
  const b = Buffer.alloc(22);
  b[0] = 5;
  b[1] = 1;
  b[3] = 4;
  groups.forEach((g, i) => b.writeUInt16BE(g, 4 + i * 2));
  b.writeUInt16BE(port, 20);
  return b;
}

const GREETING = Buffer.from([5, 1, 0]);

/** Greet, send the request, return the 10-byte reply. */
async function socks(c: Client, request: Buffer): Promise<Buffer> {
  c.write(GREETING);
  expect([...(await c.read(2))]).toEqual([5, 0]);
  c.write(request);
  return c.read(10);
}

async function eventually(events: NetworkEvent[], n = 1): Promise<NetworkEvent[]> {
  await vi.waitFor(() => expect(events.length).toBeGreaterThanOrEqual(n), { timeout: 3000, interval: 10 });
  return events;
}

// ---------------------------------------------------------------------------

describe('FilterProxy: absolute-URI HTTP', () => {
  it('forwards a GET allowed by an explicit host:port rule, and records it', async () => {
    const { proxy, port, seen } = await startProxy([`allowed.test:${upstreamPort}`]);
    const r = await viaProxy(port, `http://allowed.test:${upstreamPort}/hello?x=1`, {
      headers: { 'proxy-authorization': 'Basic c2VjcmV0', 'proxy-connection': 'keep-alive', 'x-custom': 'kept' },
    });
    expect(r.status).toBe(200);
    expect(r.body).toBe(BODY);
    expect(r.headers['x-upstream']).toBe('yes');
    expect(r.headers['x-isolate-denied']).toBeUndefined();

    // The upstream saw an origin-form request with the client's Host, without proxy headers.
    expect(upstreamSeen).toHaveLength(1);
    const u = upstreamSeen[0];
    expect(u?.method).toBe('GET');
    expect(u?.url).toBe('/hello?x=1');
    expect(u?.headers.host).toBe(`allowed.test:${upstreamPort}`);
    expect(u?.headers['x-custom']).toBe('kept');
    expect(u?.headers['proxy-authorization']).toBeUndefined();
    expect(u?.headers['proxy-connection']).toBeUndefined();

    await eventually(proxy.events);
    expect(proxy.events).toHaveLength(1);
    const e = proxy.events[0];
    expect(e).toMatchObject({
      protocol: 'http',
      host: 'allowed.test',
      port: upstreamPort,
      decision: 'allowed',
      rule: `allowed.test:${upstreamPort}`,
      address: '127.0.0.1',
    });
    expect(e?.error).toBeUndefined();
    // The proxy relays the bytes of the exchange: the request head up, the response (head and body) down.
    expect(e?.bytesUp).toBeGreaterThan(0);
    expect(e?.bytesDown).toBeGreaterThanOrEqual(Buffer.byteLength(BODY));
    expect(e?.durationMs).toBeGreaterThanOrEqual(0);
    expect(Number.isNaN(Date.parse(e?.time ?? ''))).toBe(false);
    expect(seen).toEqual(proxy.events);
    // Resolved once, by the proxy.
    expect(resolverCalls).toEqual(['allowed.test']);
  });

  it('counts the request body as bytesUp', async () => {
    const { proxy, port } = await startProxy([`allowed.test:${upstreamPort}`]);
    const payload = 'x'.repeat(1000);
    const r = await viaProxy(port, `http://allowed.test:${upstreamPort}/upload`, { method: 'POST', body: payload, headers: { 'content-type': 'text/plain' } });
    expect(r.status).toBe(200);
    expect(upstreamSeen[0]?.body).toBe(payload);
    await eventually(proxy.events);
    expect(proxy.events[0]?.decision).toBe('allowed');
    expect(proxy.events[0]?.bytesUp).toBeGreaterThanOrEqual(1000);
    expect(proxy.events[0]?.bytesDown).toBeGreaterThanOrEqual(Buffer.byteLength(BODY));
  });

  it('refuses a host that resolves to loopback under allowed.test:* (not explicit)', async () => {
    const { proxy, port } = await startProxy(['allowed.test:*']);
    const r = await viaProxy(port, `http://allowed.test:${upstreamPort}/`);
    expect(r.status).toBe(403);
    expect(r.body).not.toContain(BODY);
    const why = String(r.headers['x-isolate-denied']);
    expect(why).toMatch(/loopback, private, metadata or this machine.s own address/);
    expect(why).toContain('127.0.0.1');
    expect(why).toContain(`allowed.test:${upstreamPort}`); // the fix it suggests
    expect(upstreamSeen).toHaveLength(0);
    await eventually(proxy.events);
    expect(proxy.events[0]).toMatchObject({ protocol: 'http', decision: 'denied', rule: 'allowed.test:*', bytesUp: 0, bytesDown: 0 });
    expect(proxy.events[0]?.address).toBeUndefined();
  });

  it('refuses loopback under a wildcard rule, and a name that resolves to the metadata address', async () => {
    const wild = await startProxy(['*.test:*']);
    const r1 = await viaProxy(wild.port, `http://allowed.test:${upstreamPort}/`);
    expect(r1.status).toBe(403);
    expect(String(r1.headers['x-isolate-denied'])).toMatch(/loopback/);

    const rebind = await startProxy(['rebind.test', 'mixed.test:*']);
    const r2 = await viaProxy(rebind.port, 'http://rebind.test/latest/meta-data/');
    expect(r2.status).toBe(403);
    expect(String(r2.headers['x-isolate-denied'])).toContain('169.254.169.254');
    const r3 = await viaProxy(rebind.port, 'http://mixed.test:8080/');
    expect(r3.status).toBe(403);
    expect(String(r3.headers['x-isolate-denied'])).toContain('169.254.169.254, 10.1.2.3');
    expect(upstreamSeen).toHaveLength(0);
    await eventually(rebind.proxy.events, 2);
    expect(rebind.proxy.events.map((e) => [e.host, e.decision, e.rule])).toEqual([
      ['rebind.test', 'denied', 'rebind.test'],
      ['mixed.test', 'denied', 'mixed.test:*'],
    ]);
  });

  it('IP literals: 127.0.0.1:<port> reaches loopback, 127.0.0.1:* does not; neither is resolved', async () => {
    const exact = await startProxy([`127.0.0.1:${upstreamPort}`]);
    const ok = await viaProxy(exact.port, `http://127.0.0.1:${upstreamPort}/`);
    expect(ok.status).toBe(200);
    expect(ok.body).toBe(BODY);
    const any = await startProxy(['127.0.0.1:*']);
    const no = await viaProxy(any.port, `http://127.0.0.1:${upstreamPort}/`);
    expect(no.status).toBe(403);
    expect(resolverCalls).toEqual([]);
  });

  it('denies a host no rule names, with x-isolate-denied and rule null, without resolving it', async () => {
    const { proxy, port } = await startProxy([`allowed.test:${upstreamPort}`]);
    const r = await viaProxy(port, `http://other.test:${upstreamPort}/`);
    expect(r.status).toBe(403);
    expect(r.headers['x-isolate-denied']).toBe('no allow rule matches');
    expect(r.body).toContain('no allow rule matches');
    // The allowed host on another port is not covered either.
    const wrongPort = await viaProxy(port, `http://allowed.test:${closedPort}/`);
    expect(wrongPort.status).toBe(403);
    expect(upstreamSeen).toHaveLength(0);
    expect(resolverCalls).toEqual([]);
    await eventually(proxy.events, 2);
    expect(proxy.events[0]).toMatchObject({ protocol: 'http', host: 'other.test', port: upstreamPort, decision: 'denied', rule: null, reason: 'no allow rule matches' });
    expect(proxy.events[1]).toMatchObject({ host: 'allowed.test', port: closedPort, decision: 'denied', rule: null });
  });

  it('deny beats allow', async () => {
    const { proxy, port } = await startProxy([`allowed.test:${upstreamPort}`], ['allowed.test:*']);
    const r = await viaProxy(port, `http://allowed.test:${upstreamPort}/`);
    expect(r.status).toBe(403);
    expect(r.headers['x-isolate-denied']).toBe('denied by rule "allowed.test:*"');
    expect(upstreamSeen).toHaveLength(0);
    expect(resolverCalls).toEqual([]);
    await eventually(proxy.events);
    expect(proxy.events[0]).toMatchObject({ decision: 'denied', rule: 'allowed.test:*' });
  });

  it('matches the host case-insensitively and without a trailing dot', async () => {
    const { proxy, port } = await startProxy([`allowed.test:${upstreamPort}`]);
    const r = await viaProxy(port, `http://ALLOWED.Test.:${upstreamPort}/`);
    expect(r.status).toBe(200);
    expect(r.body).toBe(BODY);
    await eventually(proxy.events);
    expect(proxy.events[0]?.host).toBe('allowed.test');
  });

  it('answers 400 to origin-form and https:// requests', async () => {
    const { proxy, port } = await startProxy([`allowed.test:${upstreamPort}`]);
    const origin = await viaProxy(port, '/hello');
    expect(origin.status).toBe(400);
    const https = await viaProxy(port, `https://allowed.test:${upstreamPort}/`);
    expect(https.status).toBe(400);
    expect(https.body).toContain('CONNECT');
    expect(upstreamSeen).toHaveLength(0);
    expect(proxy.events).toHaveLength(0);
  });

  it('answers 502 when an allowed upstream refuses, and records the error', async () => {
    const { proxy, port } = await startProxy([`allowed.test:${closedPort}`]);
    const r = await viaProxy(port, `http://allowed.test:${closedPort}/`);
    expect(r.status).toBe(502);
    await eventually(proxy.events);
    expect(proxy.events[0]).toMatchObject({ decision: 'allowed', address: '127.0.0.1', bytesDown: 0 });
    expect(proxy.events[0]?.error).toMatch(/ECONNREFUSED/);
  });

  it('a resolver failure is a denial with an "unresolved" reason', async () => {
    const { proxy, port } = await startProxy(['missing.test:8080']);
    const r = await viaProxy(port, 'http://missing.test:8080/');
    expect(r.status).toBe(403);
    expect(String(r.headers['x-isolate-denied'])).toBe('cannot resolve missing.test: ENOTFOUND');
    expect(resolverCalls).toEqual(['missing.test']);
    await eventually(proxy.events);
    expect(proxy.events[0]).toMatchObject({ decision: 'denied', rule: 'missing.test:8080', reason: 'cannot resolve missing.test: ENOTFOUND' });
  });
});

describe('FilterProxy: request heads', () => {
  it('waits for a request head that arrives in pieces', async () => {
    const { port } = await startProxy([`allowed.test:${upstreamPort}`]);
    const c = new Client(port);
    await c.connected();
    c.write(`GET http://allowed.test:${upstreamPort}/split HTTP/1.1\r\n`);
    await new Promise((r) => setTimeout(r, 50));
    c.write(`Host: allowed.test:${upstreamPort}\r\n`);
    await new Promise((r) => setTimeout(r, 50));
    c.write('\r\n');
    const text = (await c.rest()).toString('latin1');
    expect(text).toMatch(/^HTTP\/1\.1 200 /);
    expect(text).toContain(BODY);
    expect(upstreamSeen.map((u) => u.url)).toEqual(['/split']);
  });

  it('a second request on the same connection cannot reach another host', async () => {
    const other = createHttpServer((_req, res) => res.end('other server\n'));
    const otherPort = await listenOn(other, '127.0.0.1');
    extraServers.push(other);
    let otherHits = 0;
    other.on('request', () => otherHits++);
    const { port } = await startProxy([`allowed.test:${upstreamPort}`, `allowed.test:${otherPort}`]);
    const c = new Client(port);
    c.write(
      `GET http://allowed.test:${upstreamPort}/first HTTP/1.1\r\nHost: allowed.test:${upstreamPort}\r\n\r\n` +
        `GET http://other.test:${otherPort}/second HTTP/1.1\r\nHost: other.test:${otherPort}\r\n\r\n`,
    );
    await c.rest();
    expect(otherHits).toBe(0);
    expect(upstreamSeen.map((u) => u.url)[0]).toBe('/first');
  });

  it('answers 400 to a malformed head and 431 to an endless one', async () => {
    const { proxy, port } = await startProxy([`allowed.test:${upstreamPort}`]);
    const bad = new Client(port);
    bad.write('this is not http\r\n\r\n');
    expect((await bad.rest()).toString('latin1')).toMatch(/^HTTP\/1\.1 400 /);
    const huge = new Client(port);
    huge.write(`GET http://allowed.test:${upstreamPort}/ HTTP/1.1\r\nX-Big: ${'a'.repeat(70 * 1024)}`);
    expect((await huge.rest()).toString('latin1')).toMatch(/^HTTP\/1\.1 431 /);
    expect(upstreamSeen).toHaveLength(0);
    expect(proxy.events).toHaveLength(0);
  });
});

describe('FilterProxy: CONNECT', () => {
  it('tunnels to an allowed target: bytes sent with the request and after it are echoed', async () => {
    const { proxy, port } = await startProxy([`allowed.test:${echoPort}`]);
    const c = new Client(port);
    await c.connected();
    c.write(connectRequest(`allowed.test:${echoPort}`) + 'early');
    const head = await c.readUntil('\r\n\r\n');
    expect(head).toMatch(/^HTTP\/1\.1 200 /);
    expect((await c.read(5)).toString()).toBe('early');
    c.write('ping through the tunnel');
    expect((await c.read(23)).toString()).toBe('ping through the tunnel');
    expect(proxy.events).toHaveLength(0); // recorded when the tunnel closes
    c.socket.end();
    await eventually(proxy.events);
    expect(proxy.events[0]).toMatchObject({
      protocol: 'connect',
      host: 'allowed.test',
      port: echoPort,
      decision: 'allowed',
      rule: `allowed.test:${echoPort}`,
      address: '127.0.0.1',
      bytesUp: 28,
      bytesDown: 28,
    });
  });

  it('a client that half-closes after sending still gets the reply (CONNECT and SOCKS5)', async () => {
    // Control: the echo server answers a half-closed connection directly.
    const direct = new Client(echoPort);
    await direct.connected();
    direct.socket.end('direct');
    expect((await direct.rest()).toString()).toBe('direct');

    const { proxy, port } = await startProxy([`allowed.test:${echoPort}`]);
    const c = new Client(port);
    c.write(connectRequest(`allowed.test:${echoPort}`));
    await c.readUntil('\r\n\r\n');
    c.socket.end('half-closed');
    expect((await c.rest()).toString(), 'CONNECT').toBe('half-closed');

    const s5 = new Client(port);
    expect((await socks(s5, socksDomain('allowed.test', echoPort)))[1]).toBe(0);
    s5.socket.end('half-closed');
    expect((await s5.rest()).toString(), 'SOCKS5').toBe('half-closed');
    await eventually(proxy.events, 2);
  });

  it('denies a target no rule allows with 403 and X-Isolate-Denied, and closes', async () => {
    const { proxy, port } = await startProxy([`allowed.test:${echoPort}`]);
    const c = new Client(port);
    c.write(connectRequest(`other.test:${echoPort}`));
    const text = (await c.rest()).toString('latin1');
    expect(text).toMatch(/^HTTP\/1\.1 403 /);
    expect(text).toMatch(/\r\nX-Isolate-Denied: no allow rule matches\r\n/i);
    expect(echoSockets.size).toBe(0);
    await eventually(proxy.events);
    expect(proxy.events[0]).toMatchObject({ protocol: 'connect', host: 'other.test', port: echoPort, decision: 'denied', rule: null });
  });

  it('denies loopback under host:*, and honours deny rules', async () => {
    const loose = await startProxy(['allowed.test:*']);
    const c1 = new Client(loose.port);
    c1.write(connectRequest(`allowed.test:${echoPort}`));
    const t1 = (await c1.rest()).toString('latin1');
    expect(t1).toMatch(/^HTTP\/1\.1 403 /);
    expect(t1).toMatch(/X-Isolate-Denied: .*loopback/i);

    const denied = await startProxy([`allowed.test:${echoPort}`], [`allowed.test:${echoPort}`]);
    const c2 = new Client(denied.port);
    c2.write(connectRequest(`allowed.test:${echoPort}`));
    const t2 = (await c2.rest()).toString('latin1');
    expect(t2).toMatch(/^HTTP\/1\.1 403 /);
    expect(t2).toContain('denied by rule');
    expect(echoSockets.size).toBe(0);
  });

  it('answers 400 to a malformed authority and 502 when the upstream refuses', async () => {
    const { proxy, port } = await startProxy([`allowed.test:${closedPort}`]);
    const bad = new Client(port);
    bad.write(connectRequest('allowed.test:99999'));
    expect((await bad.rest()).toString('latin1')).toMatch(/^HTTP\/1\.1 400 /);

    const refused = new Client(port);
    refused.write(connectRequest(`allowed.test:${closedPort}`));
    expect((await refused.rest()).toString('latin1')).toMatch(/^HTTP\/1\.1 502 /);
    await eventually(proxy.events);
    expect(proxy.events[0]?.error).toMatch(/ECONNREFUSED/);
  });

  it('a resolver failure is a 403', async () => {
    const { proxy, port } = await startProxy(['missing.test:443']);
    const c = new Client(port);
    c.write(connectRequest('missing.test:443'));
    const text = (await c.rest()).toString('latin1');
    expect(text).toMatch(/^HTTP\/1\.1 403 /);
    expect(text).toContain('cannot resolve missing.test: ENOTFOUND');
    await eventually(proxy.events);
    expect(proxy.events[0]).toMatchObject({ protocol: 'connect', decision: 'denied' });
  });
});

describe('FilterProxy: a deny pattern without a port', () => {
  /** One attempt per protocol at host:<upstream port>: the HTTP status, the CONNECT status line, the SOCKS5 reply code. */
  async function attempts(allow: string[], deny: string[], host: string): Promise<{ answers: unknown; events: NetworkEvent[] }> {
    const { proxy, port } = await startProxy(allow, deny);
    const http = (await viaProxy(port, `http://${host}:${upstreamPort}/`)).status;
    const tunnel = new Client(port);
    tunnel.write(connectRequest(`${host}:${upstreamPort}`));
    const connect = (await tunnel.readUntil('\r\n')).trim();
    const request = isIP(host) === 4 ? socksIPv4(host, upstreamPort) : socksDomain(host, upstreamPort);
    const socks5 = (await socks(new Client(port), request))[1];
    return { answers: { http, connect, socks5 }, events: proxy.events };
  }

  it.each([
    ['a host', 'allowed.test', 'allowed.test'],
    ['a wildcard', 'sub.wild.test', '*.wild.test'],
    ['an IP literal', '127.0.0.1', '127.0.0.1'],
  ])('%s: %s on the port an allow rule names is denied by %s over HTTP, CONNECT and SOCKS5', async (_what, host, deny) => {
    const allow = [`${host}:${upstreamPort}`];
    // Control: the allow rule alone lets all three through.
    const open = await attempts(allow, [], host);
    expect(open.answers).toEqual({ http: 200, connect: 'HTTP/1.1 200 Connection Established', socks5: 0 });
    expect(upstreamSeen).toHaveLength(1);
    resolverCalls = [];
    const closed = await attempts(allow, [deny], host);
    expect(closed.answers).toEqual({ http: 403, connect: 'HTTP/1.1 403 Forbidden', socks5: 2 });
    expect(upstreamSeen).toHaveLength(1);
    // Decided by the rule, before any lookup.
    expect(resolverCalls).toEqual([]);
    await eventually(closed.events, 3);
    expect(closed.events.map((e) => `${e.protocol}:${e.decision}:${String(e.rule)}`).sort()).toEqual([
      `connect:denied:${deny}`,
      `http:denied:${deny}`,
      `socks5:denied:${deny}`,
    ]);
  });
});

describe('FilterProxy: SOCKS5', () => {
  it('greets clients that offer "no authentication", refuses the others', async () => {
    const { port } = await startProxy([]);
    const c = new Client(port);
    c.write(Buffer.from([5, 2, 2, 0]));
    expect([...(await c.read(2))]).toEqual([5, 0]);

    const auth = new Client(port);
    auth.write(Buffer.from([5, 1, 2]));
    expect([...(await auth.rest())]).toEqual([5, 0xff]);
  });

  it('CONNECT with a domain name allowed: reply 0 and data flows both ways', async () => {
    const { proxy, port } = await startProxy([`allowed.test:${echoPort}`]);
    const c = new Client(port);
    const reply = await socks(c, socksDomain('allowed.test', echoPort));
    expect(reply[0]).toBe(5);
    expect(reply[1]).toBe(0);
    c.write('socks payload');
    expect((await c.read(13)).toString()).toBe('socks payload');
    c.socket.end();
    await eventually(proxy.events);
    expect(proxy.events[0]).toMatchObject({
      protocol: 'socks5',
      host: 'allowed.test',
      port: echoPort,
      decision: 'allowed',
      rule: `allowed.test:${echoPort}`,
      address: '127.0.0.1',
      bytesUp: 13,
      bytesDown: 13,
    });
    expect(resolverCalls).toEqual(['allowed.test']);
  });

  it('greeting, request and payload in one write', async () => {
    const { port } = await startProxy([`allowed.test:${echoPort}`]);
    const c = new Client(port);
    c.write(Buffer.concat([GREETING, socksDomain('ALLOWED.test.', echoPort), Buffer.from('eager')]));
    expect([...(await c.read(2))]).toEqual([5, 0]);
    expect((await c.read(10))[1]).toBe(0);
    expect((await c.read(5)).toString()).toBe('eager');
  });

  it('CONNECT denied: reply 2, connection closed, nothing reached', async () => {
    const { proxy, port } = await startProxy([`allowed.test:${echoPort}`], ['blocked.test:*']);
    const c = new Client(port);
    const reply = await socks(c, socksDomain('other.test', echoPort));
    expect(reply[1]).toBe(2);
    await c.rest();

    const loop = await startProxy(['allowed.test:*']);
    const c2 = new Client(loop.port);
    expect((await socks(c2, socksDomain('allowed.test', echoPort)))[1]).toBe(2);

    const deny = await startProxy([`blocked.test:${echoPort}`], ['blocked.test:*']);
    const c3 = new Client(deny.port);
    expect((await socks(c3, socksDomain('blocked.test', echoPort)))[1]).toBe(2);

    expect(echoSockets.size).toBe(0);
    await eventually(proxy.events);
    expect(proxy.events[0]).toMatchObject({ protocol: 'socks5', host: 'other.test', decision: 'denied', rule: null });
    await eventually(loop.proxy.events);
    expect(loop.proxy.events[0]).toMatchObject({ decision: 'denied', rule: 'allowed.test:*' });
    expect(loop.proxy.events[0]?.reason).toMatch(/loopback/);
    await eventually(deny.proxy.events);
    expect(deny.proxy.events[0]).toMatchObject({ decision: 'denied', rule: 'blocked.test:*' });
  });

  it('BIND and UDP ASSOCIATE: reply 7 (command not supported)', async () => {
    const { port } = await startProxy([`allowed.test:${echoPort}`]);
    const bind = new Client(port);
    expect((await socks(bind, socksDomain('allowed.test', echoPort, 2)))[1]).toBe(7);
    const udp = new Client(port);
    expect((await socks(udp, socksDomain('allowed.test', echoPort, 3)))[1]).toBe(7);
    expect(echoSockets.size).toBe(0);
  });

  it('a malformed request: reply 1', async () => {
    const { port } = await startProxy([`allowed.test:${echoPort}`]);
    const c = new Client(port);
    const bad = socksDomain('allowed.test', echoPort);
    bad[0] = 4;
    expect((await socks(c, bad))[1]).toBe(1);
  });

  it('CONNECT with an IPv4 address (ATYP 1)', async () => {
    const { proxy, port } = await startProxy([`127.0.0.1:${echoPort}`]);
    const c = new Client(port);
    expect((await socks(c, socksIPv4('127.0.0.1', echoPort)))[1]).toBe(0);
    c.write('v4');
    expect((await c.read(2)).toString()).toBe('v4');
    c.socket.end();
    await eventually(proxy.events);
    expect(proxy.events[0]).toMatchObject({ protocol: 'socks5', host: '127.0.0.1', port: echoPort, decision: 'allowed', address: '127.0.0.1' });
    expect(resolverCalls).toEqual([]);

    const loose = await startProxy(['127.0.0.1:*']);
    const c2 = new Client(loose.port);
    expect((await socks(c2, socksIPv4('127.0.0.1', echoPort)))[1]).toBe(2);
  });

  it('CONNECT with an IPv6 address (ATYP 4) is matched against an IPv6 rule', async (ctx) => {
    const echo6 = createNetServer((s) => {
      s.on('error', () => undefined);
      s.pipe(s);
    });
    let port6: number;
    try {
      port6 = await listenOn(echo6, '::1');
    } catch {
      ctx.skip();
      return;
    }
    extraServers.push(echo6);
    const { proxy, port } = await startProxy([`[::1]:${port6}`]);
    const c = new Client(port);
    const reply = await socks(c, socksIPv6([0, 0, 0, 0, 0, 0, 0, 1], port6));
    // A refusal is recorded at once: wait for it, to name it. An allowed tunnel is recorded only when it closes.
    if (reply[1] !== 0) await eventually(proxy.events).catch(() => undefined);
    expect(reply[1], `reply ${reply[1]}; events: ${JSON.stringify(proxy.events)}`).toBe(0);
    c.write('v6');
    expect((await c.read(2)).toString()).toBe('v6');
    c.socket.destroy();
  });

  it('a resolver failure: reply 4 (host unreachable) and a denied event', async () => {
    const { proxy, port } = await startProxy([`missing.test:${echoPort}`]);
    const c = new Client(port);
    expect((await socks(c, socksDomain('missing.test', echoPort)))[1]).toBe(4);
    await eventually(proxy.events);
    expect(proxy.events[0]).toMatchObject({
      protocol: 'socks5',
      decision: 'denied',
      rule: `missing.test:${echoPort}`,
      reason: 'cannot resolve missing.test: ENOTFOUND',
      bytesUp: 0,
      bytesDown: 0,
    });
  });

  it('an allowed target that refuses: reply 5', async () => {
    const { proxy, port } = await startProxy([`allowed.test:${closedPort}`]);
    const c = new Client(port);
    expect((await socks(c, socksDomain('allowed.test', closedPort)))[1]).toBe(5);
    await eventually(proxy.events);
    expect(proxy.events[0]?.error).toMatch(/ECONNREFUSED/);
  });
});

describe('FilterProxy: the relay', () => {
  it('a large download to a slow reader arrives intact, in order, and counted', async () => {
    // No two 4-byte words alike: bytes lost, repeated or reordered (a read buffer reused too early) would show.
    const SIZE = 24 * 1024 * 1024;
    const blob = Buffer.allocUnsafe(SIZE);
    for (let i = 0; i < SIZE; i += 4) blob.writeUInt32LE(Math.imul(i >>> 2, 2654435761) >>> 0, i);
    const source = createNetServer((s) => {
      s.on('error', () => undefined);
      s.once('data', () => s.end(blob));
    });
    extraServers.push(source);
    const sourcePort = await listenOn(source, '127.0.0.1');
    const { proxy, port } = await startProxy([`allowed.test:${sourcePort}`]);

    const socket = netConnect({ host: '127.0.0.1', port });
    sockets.push(socket);
    socket.write(connectRequest(`allowed.test:${sourcePort}`) + 'go');
    const chunks: Buffer[] = [];
    let received = 0;
    socket.on('data', (c: Buffer) => {
      chunks.push(c);
      received += c.length;
      // A slow reader: the proxy's writes back up, and it has to pause the upstream.
      if (received < SIZE / 2) {
        socket.pause();
        setTimeout(() => socket.resume(), 1);
      }
    });
    await once(socket, 'end');
    const all = Buffer.concat(chunks);
    const head = all.indexOf('\r\n\r\n') + 4;
    expect(all.subarray(0, head).toString('latin1')).toMatch(/^HTTP\/1\.1 200 /);
    const body = all.subarray(head);
    expect(body.length).toBe(SIZE);
    expect(body.equals(blob)).toBe(true);
    socket.end();
    await eventually(proxy.events);
    expect(proxy.events[0]).toMatchObject({ protocol: 'connect', decision: 'allowed', bytesUp: 2, bytesDown: SIZE });
  });
});

describe('FilterProxy: latency', () => {
  it('a request written in two pieces reaches the upstream at once (no Nagle on the upstream socket)', async () => {
    // The upstream answers once it has both pieces. With Nagle on, the proxy holds the second piece until the
    // upstream's delayed ACK of the first (40 ms).
    const answer = createNetServer((s) => {
      s.on('error', () => undefined);
      let got = 0;
      s.on('data', (d: Buffer) => {
        got += d.length;
        if (got >= 10) {
          got = 0;
          s.write('ok');
        }
      });
    });
    extraServers.push(answer);
    const answerPort = await listenOn(answer, '127.0.0.1');
    const { port } = await startProxy([`allowed.test:${answerPort}`]);
    const c = new Client(port);
    c.socket.setNoDelay(true);
    c.write(connectRequest(`allowed.test:${answerPort}`));
    await c.readUntil('\r\n\r\n');
    const times: number[] = [];
    for (let i = 0; i < 7; i++) {
      const t = process.hrtime.bigint();
      c.write('hello');
      await new Promise((r) => setTimeout(r, 1));
      c.write('world');
      expect((await c.read(2)).toString()).toBe('ok');
      times.push(Number(process.hrtime.bigint() - t) / 1e6);
    }
    times.sort((a, b) => a - b);
    expect(times[3], `ms per round trip: ${times.map((x) => x.toFixed(1)).join(' ')}`).toBeLessThan(25);
    c.socket.destroy();
  });
});

describe('FilterProxy: close()', () => {
  it('destroys open tunnels and has recorded them when it resolves', async () => {
    const { proxy, port } = await startProxy([`allowed.test:${echoPort}`]);
    const tunnel = new Client(port);
    tunnel.write(connectRequest(`allowed.test:${echoPort}`));
    await tunnel.readUntil('\r\n\r\n');
    tunnel.write('a');
    await tunnel.read(1);
    const s5 = new Client(port);
    expect((await socks(s5, socksDomain('allowed.test', echoPort)))[1]).toBe(0);
    s5.write('b');
    await s5.read(1);
    // An idle keep-alive HTTP client as well.
    const idle = new Client(port);
    await idle.connected();
    expect(echoSockets.size).toBe(2);

    let closed = false;
    const closing = proxy.close().then(() => (closed = true));
    await Promise.race([closing, new Promise((_, reject) => setTimeout(() => reject(new Error('close() did not finish')), 3000))]);
    expect(closed).toBe(true);
    // The run report is built as soon as close() resolves: the tunnels it cut must be recorded by then.
    expect(proxy.events.map((e) => e.protocol).sort(), 'events recorded when close() resolved').toEqual(['connect', 'socks5']);
    await tunnel.closed;
    await s5.closed;
    await vi.waitFor(() => expect(echoSockets.size).toBe(0), { timeout: 3000, interval: 10 });
    expect(proxy.events.every((e) => e.decision === 'allowed' && e.bytesUp === 1 && e.bytesDown === 1)).toBe(true);
    // No longer listening.
    const late = new Client(port);
    await late.closed;
    proxies.splice(proxies.indexOf(proxy), 1);
  });
});

describe('FilterProxy: close() while a host is being resolved', () => {
  it.each(['connect', 'socks5', 'http'])('opens no connection (%s) when the proxy closes during the lookup: nothing reaches the server, nothing is left open', async (kind) => {
    let answer: (a: string[]) => void = () => undefined;
    const slow: Resolver = (host) => {
      resolverCalls.push(host);
      return new Promise((r) => (answer = r));
    };
    const proxy = new FilterProxy({ rules: { allow: parsed([`allowed.test:${echoPort}`]), deny: [] }, resolve: slow });
    await proxy.listen({ host: '127.0.0.1', port: 0 });
    const c = new Client(portOf(proxy));
    if (kind === 'socks5') {
      c.write(GREETING);
      await c.read(2);
      c.write(socksDomain('allowed.test', echoPort));
    } else c.write(kind === 'connect' ? connectRequest(`allowed.test:${echoPort}`) : `GET http://allowed.test:${echoPort}/ HTTP/1.1\r\n\r\n`);
    await vi.waitFor(() => expect(resolverCalls).toEqual(['allowed.test']), { timeout: 3000, interval: 5 });
    await proxy.close();
    const events = proxy.events.length;
    answer(['127.0.0.1']);
    await c.closed;
    await new Promise((r) => setTimeout(r, 200));
    expect(echoSockets.size, 'a connection to the server after close()').toBe(0);
    expect(proxy.open).toBe(0);
    expect(proxy.events.length, 'an event recorded after close() resolved').toBe(events);
  });
});

describe('parseAuthority', () => {
  it.each([
    ['example.com:443', 443, { host: 'example.com', port: 443 }],
    ['Example.COM.:8443', 443, { host: 'example.com', port: 8443 }],
    ['example.com', 443, { host: 'example.com', port: 443 }],
    ['example.com', 80, { host: 'example.com', port: 80 }],
    ['1.2.3.4:22', 443, { host: '1.2.3.4', port: 22 }],
    ['[::1]:443', 443, { host: '::1', port: 443 }],
    ['[::1]', 443, { host: '::1', port: 443 }],
    ['[2001:DB8::1]:8080', 443, { host: '2001:db8::1', port: 8080 }],
    ['example.com:65535', 443, { host: 'example.com', port: 65535 }],
  ] as const)('%j (default %d)', (authority, def, expected) => {
    expect(parseAuthority(authority, def)).toEqual(expected);
  });

  it.each(['', ':443', 'example.com:0', 'example.com:65536', 'example.com:99999', 'example.com:abc', 'a:b:c', '::1', '[::1', '[::1]x', 'example.com:'])(
    'rejects %j',
    (authority) => {
      expect(parseAuthority(authority, 443)).toBeUndefined();
    },
  );
});

describe('parseSocksRequest', () => {
  it('parses a domain-name request, normalising the name', () => {
    const buf = Buffer.concat([socksDomain('API.Example.COM.', 8443), Buffer.from('extra')]);
    const r = parseSocksRequest(buf);
    expect(r).toEqual({ cmd: 1, host: 'api.example.com', port: 8443, length: 7 + 'API.Example.COM.'.length });
  });

  it('parses IPv4 and IPv6 requests', () => {
    expect(parseSocksRequest(socksIPv4('10.1.2.3', 80))).toEqual({ cmd: 1, host: '10.1.2.3', port: 80, length: 10 });
    expect(parseSocksRequest(socksIPv4('1.2.3.4', 65535, 2))).toEqual({ cmd: 2, host: '1.2.3.4', port: 65535, length: 10 });
    const v6 = parseSocksRequest(socksIPv6([0x2001, 0xdb8, 0, 0, 0, 0, 0, 1], 443));
    if (typeof v6 === 'string') throw new Error(`unexpected ${v6}`);
    expect(isIP(v6.host)).toBe(6);
    expect(v6).toMatchObject({ cmd: 1, port: 443, length: 22 });
  });

  it('an IPv6 request is decided like the same address written in a rule', () => {
    // A rule [2001:db8::1]:443 must cover a SOCKS5 request for that address.
    const v6 = parseSocksRequest(socksIPv6([0x2001, 0xdb8, 0, 0, 0, 0, 0, 1], 443));
    if (typeof v6 === 'string') throw new Error(`unexpected ${v6}`);
    expect(decide({ allow: parsed(['[2001:db8::1]:443']), deny: [] }, v6.host, v6.port).allowed, `host parsed as ${v6.host}`).toBe(true);
    const loop = parseSocksRequest(socksIPv6([0, 0, 0, 0, 0, 0, 0, 1], 8080));
    if (typeof loop === 'string') throw new Error(`unexpected ${loop}`);
    expect(decide({ allow: parsed(['[::1]:8080']), deny: [] }, loop.host, loop.port).allowed, `host parsed as ${loop.host}`).toBe(true);
  });

  it('asks for more bytes while the request is incomplete', () => {
    const full = socksDomain('example.com', 443);
    for (let n = 0; n < full.length; n++) expect(parseSocksRequest(full.subarray(0, n)), `${n} bytes`).toBe('incomplete');
    const v4 = socksIPv4('1.2.3.4', 80);
    for (let n = 0; n < v4.length; n++) expect(parseSocksRequest(v4.subarray(0, n)), `${n} bytes`).toBe('incomplete');
    const v6 = socksIPv6([0, 0, 0, 0, 0, 0, 0, 1], 80);
    for (let n = 0; n < v6.length; n++) expect(parseSocksRequest(v6.subarray(0, n)), `${n} bytes`).toBe('incomplete');
  });

  it('rejects a wrong version or address type', () => {
    const wrongVersion = socksIPv4('1.2.3.4', 80);
    wrongVersion[0] = 4;
    expect(parseSocksRequest(wrongVersion)).toBe('bad');
    const wrongType = socksIPv4('1.2.3.4', 80);
    wrongType[3] = 2;
    expect(parseSocksRequest(wrongType)).toBe('bad');
  });
});

describe('FilterProxy: the Host header', () => {
  it('an absolute-URI request reaches the upstream with the Host of the URL, whatever the client sent', async () => {
    const { createServer } = await import('node:http');
    const seen: string[] = [];
    const upstream = createServer((req, res) => {
      seen.push(req.headers.host ?? '');
      res.end('ok');
    });
    await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', () => r()));
    const port = (upstream.address() as { port: number }).port;
    const { FilterProxy } = await import('../../src/network/proxy.js');
    const { parseRule } = await import('../../src/network/rules.js');
    const rule = parseRule(`allowed.test:${port}`, 'allow');
    if (!rule.ok) throw new Error(rule.message);
    const proxy = new FilterProxy({ rules: { allow: [rule.rule], deny: [] }, resolve: async () => ['127.0.0.1'] });
    await proxy.listen({ host: '127.0.0.1', port: 0 });
    const proxyPort = (proxy.address() as { port: number }).port;
    try {
      const { connect } = await import('node:net');
      const reply = await new Promise<string>((resolve, reject) => {
        const s = connect(proxyPort, '127.0.0.1', () => {
          s.write(`GET http://allowed.test:${port}/ HTTP/1.1\r\nHost: evil.example\r\nHost: another.example\r\n\r\n`);
        });
        let data = '';
        s.on('data', (d: Buffer) => (data += d.toString()));
        s.on('end', () => resolve(data));
        s.on('error', reject);
      });
      expect(reply).toContain('200');
      expect(seen).toEqual([`allowed.test:${port}`]);
    } finally {
      await proxy.close();
      await new Promise<void>((r) => upstream.close(() => r()));
    }
  });

  it('a header value with a bare LF, CR, NUL or other control character is refused (400), never passed on as a second header', async () => {
    const { parseRequestHead } = await import('../../src/network/request-head.js');
    const ok = parseRequestHead('GET http://a.test/ HTTP/1.1\r\nX-A: a\tb c\r\nAccept: */*');
    expect(ok?.headers).toEqual([['X-A', 'a\tb c'], ['Accept', '*/*']]);
    for (const bad of ['X-A: a\nHost: evil', 'X-A: a\rHost: evil', 'X-A: a\0b', 'X-A: a\x1bb', 'X A: b', 'X-A\n: b', 'X-(A): b']) {
      expect(parseRequestHead(`GET http://a.test/ HTTP/1.1\r\n${bad}`), JSON.stringify(bad)).toBeUndefined();
    }
    expect(parseRequestHead('GET http://a.test/\x7f HTTP/1.1')).toBeUndefined();
  });
});

describe('FilterProxy: hosts the resolver would read differently', () => {
  it('a NUL byte (or other non-host characters) in the host is refused before any rule matches', async () => {
    const { FilterProxy } = await import('../../src/network/proxy.js');
    const { parseRule } = await import('../../src/network/rules.js');
    const rule = parseRule('*.example.com:*', 'allow');
    if (!rule.ok) throw new Error(rule.message);
    const resolved: string[] = [];
    const proxy = new FilterProxy({
      rules: { allow: [rule.rule], deny: [] },
      resolve: async (h) => {
        resolved.push(h);
        return ['93.184.216.34'];
      },
    });
    await proxy.listen({ host: '127.0.0.1', port: 0 });
    const proxyPort = (proxy.address() as { port: number }).port;
    try {
      const { connect } = await import('node:net');
      for (const host of ['203.0.113.5\0.example.com', 'evil .example.com', 'a\r\nb.example.com']) {
        const reply = await new Promise<string>((resolve, reject) => {
          const s = connect(proxyPort, '127.0.0.1', () => s.write(`CONNECT ${host}:8080 HTTP/1.1\r\n\r\n`));
          let data = '';
          s.on('data', (d: Buffer) => (data += d.toString('latin1')));
          s.on('close', () => resolve(data));
          s.on('error', reject);
        });
        expect(reply.startsWith('HTTP/1.1 200'), JSON.stringify(host)).toBe(false);
      }
      expect(resolved).toEqual([]);
      expect(proxy.events.every((e) => e.decision === 'denied')).toBe(true);
    } finally {
      await proxy.close();
    }
  });
});

describe('FilterProxy: connections held open at once', () => {
  it(`refuses, with a recorded denial, a connection beyond ${MAX_OPEN_CLIENTS} open at once, and takes one again once another closes`, async () => {
    // Each open tunnel may hold relay buffers in isolate, outside the sandbox's limits: a command that opened tunnels
    // and never read from them would grow isolate's memory without end.
    const { proxy, port } = await startProxy([`allowed.test:${echoPort}`]);
    const open: Client[] = [];
    for (let i = 0; i < MAX_OPEN_CLIENTS; i++) {
      const c = new Client(port);
      c.write(connectRequest(`allowed.test:${echoPort}`));
      open.push(c);
    }
    for (const c of open) expect(await c.readUntil('\r\n\r\n')).toMatch(/^HTTP\/1\.1 200 /);
    const over = new Client(port);
    over.write(connectRequest(`allowed.test:${echoPort}`));
    const text = (await over.rest()).toString('latin1');
    expect(text).toMatch(/^HTTP\/1\.1 403 /);
    expect(text).toMatch(new RegExp(`X-Isolate-Denied: .*${MAX_OPEN_CLIENTS} connections`, 'i'));
    await eventually(proxy.events);
    expect(proxy.events[0]).toMatchObject({ protocol: 'connect', host: 'allowed.test', decision: 'denied', rule: null });
    expect(echoSockets.size).toBe(MAX_OPEN_CLIENTS);

    open[0]?.socket.destroy();
    await open[0]?.closed;
    await vi.waitFor(() => expect(proxy.open).toBe(2 * MAX_OPEN_CLIENTS - 2), { timeout: 3000, interval: 10 });
    const again = new Client(port);
    again.write(connectRequest(`allowed.test:${echoPort}`));
    expect(await again.readUntil('\r\n\r\n')).toMatch(/^HTTP\/1\.1 200 /);
  });
});
