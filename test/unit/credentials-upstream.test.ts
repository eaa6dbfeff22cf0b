/**
 * The terminator's own HTTP/1.1 client (credentials/upstream.ts), in this
 * process against a loopback TLS server that answers with bytes written by
 * hand, in pieces: every framing (length, chunked, until close, none) comes
 * through whole and scrubbed of the token wherever the pieces and the
 * chunks split it, whatever type the response claims; a response cut short
 * reaches the client cut short; a head that is malformed or whose length is
 * ambiguous is refused (502), never guessed at; uploads arrive as sent; a
 * slow client gets a large body intact.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { Agent, request as httpsRequest } from 'node:https';
import { createServer as createTcpServer, type AddressInfo, type Server as TcpServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer as createTlsServer, type Server as TlsServer, type TLSSocket } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRunCa } from '../../src/network/credentials/ca.js';
import { TlsTerminator } from '../../src/network/credentials/terminate.js';
import { CredentialVault } from '../../src/network/credentials/vault.js';
import { makeCerts } from '../helpers/credential-site.js';

const TOKEN = `ghp_${'Tk7'.repeat(12)}`;
const PLACEHOLDER = `ghp_${'Ph9'.repeat(12)}`;
const dir = mkdtempSync(join(tmpdir(), 'isolate-upstream-unit-'));
let upstream: TlsServer;
let proxy: TcpServer;
let caPem = '';
let vault: CredentialVault;
const uploads: string[] = [];

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Write `pieces` one by one, each after the last has left (a TLS record or more each), then end unless `keepOpen`. */
async function writePieces(s: TLSSocket, pieces: (string | Buffer)[], keepOpen = false): Promise<void> {
  for (const p of pieces) {
    s.write(p);
    await sleep(5);
  }
  if (!keepOpen) s.end();
}

const head = (lines: string[]): string => `${lines.join('\r\n')}\r\n\r\n`;
const echo = `{"token":"${TOKEN}"}`;
const chunk = (s: string): string => `${Buffer.byteLength(s).toString(16)}\r\n${s}\r\n`;

/** What the server answers, by request path. */
const SCRIPTS: Record<string, (s: TLSSocket) => Promise<void>> = {
  '/length': (s) => writePieces(s, [head(['HTTP/1.1 200 OK', `Content-Length: ${echo.length}`, 'Content-Type: application/json']), echo.slice(0, 15), echo.slice(15)], true),
  // Split inside the token by the chunks themselves, and by the writes inside a chunk.
  '/chunked': (s) => writePieces(s, [head(['HTTP/1.1 200 OK', 'Transfer-Encoding: chunked', 'Content-Type: text/plain']), chunk(`a${TOKEN.slice(0, 9)}`), chunk(TOKEN.slice(9, 20)).slice(0, 5), chunk(TOKEN.slice(9, 20)).slice(5), chunk(`${TOKEN.slice(20)}z`), '0\r\nX-Trailer: 1\r\n\r\n'], true),
  // The token echoed where no header value is: the reason phrase, a header's name.
  '/reason': (s) => writePieces(s, [head([`HTTP/1.1 401 invalid token ${TOKEN}`, `X-Seen-${TOKEN}: 1`, 'Content-Length: 0'])]),
  '/close': (s) => writePieces(s, [head(['HTTP/1.1 200 OK']), 'before ', TOKEN.slice(0, 3), `${TOKEN.slice(3)} after`]),
  // A body that claims to be binary and echoes the token: scrubbed all the same.
  '/binary': (s) => writePieces(s, [head(['HTTP/1.1 200 OK', 'Content-Type: application/octet-stream', `Content-Length: ${TOKEN.length + 2}`]), Buffer.from(`\x00${TOKEN.slice(0, 30)}`, 'latin1'), Buffer.from(`${TOKEN.slice(30)}\xff`, 'latin1')], true),
  '/informational': (s) => writePieces(s, [head(['HTTP/1.1 103 Early Hints', 'Link: </a.css>; rel=preload']), head(['HTTP/1.1 200 OK', 'Content-Length: 2']), 'ok'], true),
  '/head': (s) => writePieces(s, [head(['HTTP/1.1 200 OK', 'Content-Length: 1000'])], true),
  '/te-and-length': (s) => writePieces(s, [head(['HTTP/1.1 200 OK', 'Content-Length: 3', 'Transfer-Encoding: chunked']), chunk('abcdef'), '0\r\n\r\n'], true),
  '/cut-short': (s) => writePieces(s, [head(['HTTP/1.1 200 OK', 'Content-Length: 100']), 'only part of it']),
  '/cut-chunked': (s) => writePieces(s, [head(['HTTP/1.1 200 OK', 'Transfer-Encoding: chunked']), chunk('first')]),
  '/same-length-twice': (s) => writePieces(s, [head(['HTTP/1.1 200 OK', 'Content-Length: 5', 'Content-Length: 5']), 'hello'], true),
  '/two-lengths': (s) => writePieces(s, [head(['HTTP/1.1 200 OK', 'Content-Length: 5', 'Content-Length: 6']), 'hello!']),
  '/bad-length': (s) => writePieces(s, [head(['HTTP/1.1 200 OK', 'Content-Length: -5']), 'hello']),
  '/folded': (s) => writePieces(s, [head(['HTTP/1.1 200 OK', 'X-A: 1', ' folded: 2', 'Content-Length: 0'])]),
  '/bad-chunk': (s) => writePieces(s, [head(['HTTP/1.1 200 OK', 'Transfer-Encoding: chunked']), '5x\r\nhello\r\n0\r\n\r\n']),
  '/header-echo': (s) => writePieces(s, [head(['HTTP/1.1 200 OK', `X-Echo: Bearer ${TOKEN}`, 'Content-Length: 0'])], true),
  '/big': (s) => writePieces(s, [head(['HTTP/1.1 200 OK', `Content-Length: ${BIG.length}`]), BIG], true),
};
const BIG = Buffer.alloc(8 * 1024 * 1024);
for (let i = 0; i < BIG.length; i += 4) BIG.writeUInt32LE(i, i);

/** Read one request (head, and a body by Content-Length or chunked); the path and the body. */
function readRequest(s: TLSSocket): Promise<{ path: string; body: Buffer }> {
  return new Promise((resolve) => {
    let data = Buffer.alloc(0);
    const onData = (c: Buffer): void => {
      data = Buffer.concat([data, c]);
      const end = data.indexOf('\r\n\r\n');
      if (end === -1) return;
      const text = data.toString('latin1', 0, end);
      const path = text.split(' ')[1] ?? '';
      const rest = data.subarray(end + 4);
      const length = /\r\ncontent-length: *(\d+)/i.exec(text)?.[1];
      const chunked = /\r\ntransfer-encoding: *chunked/i.test(text);
      if (length !== undefined && rest.length < Number(length)) return;
      if (chunked && !rest.toString('latin1').endsWith('0\r\n\r\n')) return;
      s.off('data', onData);
      resolve({ path, body: chunked ? dechunk(rest) : rest });
    };
    s.on('data', onData);
  });
}

function dechunk(b: Buffer): Buffer {
  const out: Buffer[] = [];
  for (let at = 0; ; ) {
    const eol = b.indexOf('\r\n', at);
    const n = parseInt(b.toString('latin1', at, eol), 16);
    if (n === 0) return Buffer.concat(out);
    out.push(b.subarray(eol + 2, eol + 2 + n));
    at = eol + 2 + n + 2;
  }
}

beforeAll(async () => {
  makeCerts(dir);
  upstream = createTlsServer({ key: readFileSync(join(dir, 'server.key')), cert: readFileSync(join(dir, 'server.pem')) }, (s) => {
    s.on('error', () => undefined);
    void readRequest(s).then(async ({ path, body }) => {
      if (path === '/upload') {
        uploads.push(createHash('sha256').update(body).digest('hex'));
        return writePieces(s, [head(['HTTP/1.1 200 OK', 'Content-Length: 2']), 'ok']);
      }
      return (SCRIPTS[path] ?? ((x: TLSSocket) => writePieces(x, [head(['HTTP/1.1 404 Not Found', 'Content-Length: 0'])])))(s);
    });
  });
  await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
  const port = (upstream.address() as AddressInfo).port;
  vault = new CredentialVault([{ spec: { name: 'GITHUB_TOKEN', source: { kind: 'env', name: 'GITHUB_TOKEN' }, hosts: [`127.0.0.1:${port}`], ttlMs: undefined, from: 'test' }, value: TOKEN, placeholder: PLACEHOLDER }]);
  const ca = await createRunCa(vault.hostNames());
  caPem = ca.certPem;
  const terminator = new TlsTerminator(vault, ca, [readFileSync(join(dir, 'ca.pem'), 'utf8')]);
  proxy = createTcpServer((socket) => void terminator.accept(socket, { host: '127.0.0.1', port, address: '127.0.0.1' }, Buffer.alloc(0), () => undefined));
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
});

afterAll(async () => {
  await new Promise((resolve) => upstream.close(resolve));
  await new Promise((resolve) => proxy.close(resolve));
  rmSync(dir, { recursive: true, force: true });
});

interface Got {
  status: number;
  message?: string;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
  /** The body ended as complete (not cut off). */
  complete: boolean;
}

/** One request through the terminator; `slow`: the client reads in small bites with pauses; `agent`: a keep-alive agent to reuse the tunnel. */
function get(path: string, options: { method?: string; body?: Buffer; chunked?: boolean; slow?: boolean; agent?: Agent } = {}): Promise<Got> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { host: `127.0.0.1:${(upstream.address() as AddressInfo).port}`, authorization: `Bearer ${PLACEHOLDER}` };
    if (options.body !== undefined) headers[options.chunked === true ? 'transfer-encoding' : 'content-length'] = options.chunked === true ? 'chunked' : String(options.body.length);
    const req = httpsRequest({ host: '127.0.0.1', port: (proxy.address() as AddressInfo).port, ca: caPem, method: options.method ?? 'GET', path, headers, agent: options.agent ?? false }, (res) => {
      const parts: Buffer[] = [];
      res.on('data', (c: Buffer) => {
        parts.push(c);
        if (options.slow === true) {
          res.pause();
          setTimeout(() => res.resume(), 1);
        }
      });
      const done = (): void => resolve({ status: res.statusCode ?? 0, message: res.statusMessage ?? '', headers: res.headers, body: Buffer.concat(parts), complete: res.complete });
      res.on('end', done);
      res.on('error', done);
      res.on('aborted', done);
    });
    req.on('error', reject);
    if (options.body !== undefined && options.chunked === true) {
      for (let at = 0; at < options.body.length; at += 100_000) req.write(options.body.subarray(at, at + 100_000));
      req.end();
    } else req.end(options.body);
  });
}

const masked = (s: string): string => s.replaceAll(TOKEN, PLACEHOLDER);

describe('the terminator reads the upstream response itself', () => {
  it('passes every framing on whole, the token scrubbed wherever the pieces and chunks split it', async () => {
    const length = await get('/length');
    expect(length).toMatchObject({ status: 200, complete: true });
    expect(length.body.toString()).toBe(masked(echo));
    const chunked = await get('/chunked');
    expect(chunked.body.toString()).toBe(`a${PLACEHOLDER}z`);
    expect(chunked.complete).toBe(true);
    const close = await get('/close');
    expect(close.body.toString()).toBe(`before ${PLACEHOLDER} after`);
    expect(close.complete).toBe(true);
  });

  it('scrubs a body that claims a binary type as well: the type is the server\'s word, not a proof', async () => {
    const r = await get('/binary');
    expect(r.headers['content-type']).toBe('application/octet-stream');
    expect(r.body.toString('latin1')).toBe(`\x00${PLACEHOLDER}\xff`);
  });

  it('scrubs response headers, skips 1xx heads, sends no body for HEAD, and lets Transfer-Encoding win over Content-Length', async () => {
    expect((await get('/header-echo')).headers['x-echo']).toBe(`Bearer ${PLACEHOLDER}`);
    expect(await get('/informational')).toMatchObject({ status: 200, complete: true, body: Buffer.from('ok') });
    const headOnly = await get('/head', { method: 'HEAD' });
    expect(headOnly).toMatchObject({ status: 200, body: Buffer.alloc(0) });
    expect(headOnly.headers['content-length']).toBe('1000');
    const twice = await get('/same-length-twice');
    expect(twice).toMatchObject({ status: 200, complete: true, body: Buffer.from('hello') });
    expect(twice.headers['content-length']).toBe('5');
    const both = await get('/te-and-length');
    expect(both.body.toString()).toBe('abcdef');
    expect(both.headers['content-length']).toBeUndefined();
  });

  it('scrubs the reason phrase and header names too', async () => {
    const r = await get('/reason');
    expect(r.status).toBe(401);
    expect(r.message).toBe(`invalid token ${PLACEHOLDER}`);
    expect(r.headers[`x-seen-${PLACEHOLDER.toLowerCase()}`]).toBe('1');
    expect(JSON.stringify(r.headers)).not.toContain(TOKEN.toLowerCase());
  });

  it('cuts the client off when the upstream body is cut short, never ending it as if whole', async () => {
    for (const path of ['/cut-short', '/cut-chunked']) {
      const r = await get(path).catch(() => ({ complete: false, status: 0 }));
      expect(r.complete, path).toBe(false);
    }
  });

  it('refuses a malformed head, an ambiguous or invalid length, or malformed chunks (502 before the head, a cut connection after)', async () => {
    for (const path of ['/two-lengths', '/bad-length', '/folded']) {
      const r = await get(path);
      expect(r.status, path).toBe(502);
      expect(String(r.headers['x-isolate-denied']), path).toMatch(/upstream response/);
    }
    const bad = await get('/bad-chunk').catch(() => ({ complete: false, status: 0 }));
    expect(bad.complete).toBe(false);
  });

  it('sends uploads on as they came, by length and chunked', async () => {
    const body = Buffer.alloc(3 * 1024 * 1024 + 7, 'u');
    const want = createHash('sha256').update(body).digest('hex');
    expect((await get('/upload', { method: 'POST', body })).status).toBe(200);
    expect((await get('/upload', { method: 'POST', body, chunked: true })).status).toBe(200);
    expect(uploads).toEqual([want, want]);
  });

  it('answers several requests in one kept-alive tunnel, each over its own upstream connection, each scrubbed', async () => {
    const agent = new Agent({ keepAlive: true, maxSockets: 1, ca: caPem });
    const tunnels = new Set<unknown>();
    agent.on('free', (socket) => tunnels.add(socket));
    try {
      for (const path of ['/length', '/chunked', '/informational', '/length']) {
        const r = await get(path, { agent });
        expect(r.complete, path).toBe(true);
        expect(r.body.toString(), path).not.toContain(TOKEN);
      }
      expect(tunnels.size).toBe(1);
    } finally {
      agent.destroy();
    }
  });

  it('gives a slow client a large body intact and in order', async () => {
    const r = await get('/big', { slow: true });
    expect(r.complete).toBe(true);
    expect(r.body.equals(BIG)).toBe(true);
  }, 60_000);
});
