/**
 * The TLS terminator with an aws credential, in this process against a
 * loopback HTTPS server that checks SigV4 with the real keys (aws4): a
 * body that must be hashed is read first and the request signed again;
 * one larger than the proxy hashes in memory is refused, and the server
 * receives nothing; so is one that would take the bodies held at once by
 * all the tunnels over their sum.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request as httpsRequest, createServer, type Server } from 'node:https';
import { createServer as createTcpServer, type AddressInfo, type Server as TcpServer } from 'node:net';
import { connect as tlsConnect, type TLSSocket } from 'node:tls';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_HASHED_BODY } from '../../src/network/credentials/aws-request.js';
import { createRunCa, type RunCa } from '../../src/network/credentials/ca.js';
import { HeldBodies } from '../../src/network/credentials/held-bodies.js';
import { TlsTerminator } from '../../src/network/credentials/terminate.js';
import { CredentialVault } from '../../src/network/credentials/vault.js';
import { loadCredentials } from '../../src/run/credential-sources.js';
import { notSignedWith, signAs } from '../helpers/aws-sigv4.js';
import { makeCerts } from '../helpers/credential-site.js';

const REAL = { accessKeyId: 'AKIAZ7REALKEY0123456', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYREALSECRET' };
const dir = mkdtempSync(join(tmpdir(), 'isolate-aws-tls-unit-'));
let upstream: Server;
let proxy: TcpServer;
let caPem = '';
let runCa: RunCa;
let vault: CredentialVault;
let placeholder: { accessKeyId: string; secretAccessKey: string } = REAL;
const received: string[] = [];

beforeAll(async () => {
  makeCerts(dir);
  upstream = createServer({ key: readFileSync(join(dir, 'server.key')), cert: readFileSync(join(dir, 'server.pem')) }, (req, res) => {
    const parts: Buffer[] = [];
    req.on('data', (c: Buffer) => parts.push(c));
    req.on('end', () => {
      const why = notSignedWith(REAL, { method: req.method ?? 'GET', target: req.url ?? '/', headers: req.headers, body: Buffer.concat(parts) });
      received.push(why ?? 'signed with the real keys');
      res.writeHead(why === undefined ? 200 : 403).end(why ?? 'ok');
    });
  });
  await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
  const port = (upstream.address() as AddressInfo).port;
  const [c] = loadCredentials([{ name: 'AWS', kind: 'aws', source: { kind: 'env', name: 'AWS' }, hosts: [`127.0.0.1:${port}`], ttlMs: undefined, from: 'test' }], { AWS_ACCESS_KEY_ID: REAL.accessKeyId, AWS_SECRET_ACCESS_KEY: REAL.secretAccessKey }, '/', () => ({ open: undefined, shown: '' }));
  if (c?.aws === undefined) throw new Error('nothing loaded');
  placeholder = c.aws.placeholder;
  vault = new CredentialVault([c]);
  const ca = await createRunCa(vault.hostNames());
  runCa = ca;
  caPem = ca.certPem;
  const terminator = new TlsTerminator(vault, ca, [readFileSync(join(dir, 'ca.pem'), 'utf8')]);
  proxy = createTcpServer((socket) => void terminator.accept(socket, { host: '127.0.0.1', port, address: '127.0.0.1' }, Buffer.alloc(0), () => undefined));
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
});

afterAll(async () => {
  upstream.closeAllConnections();
  await new Promise((resolve) => upstream.close(resolve));
  await new Promise((resolve) => proxy.close(resolve));
  rmSync(dir, { recursive: true, force: true });
});

/** `body` sent through the terminator, signed with the placeholder keys as the command would; resolves to the status and the refusal. */
function send(service: string, method: string, body: Buffer, headers: Record<string, string> = {}): Promise<{ status: number; denied: string }> {
  const port = (upstream.address() as AddressInfo).port;
  const host = `127.0.0.1:${port}`;
  const s = signAs(placeholder, { host, method, path: '/', service, body, headers });
  return new Promise((resolve, reject) => {
    const req = httpsRequest({ host: '127.0.0.1', port: (proxy.address() as AddressInfo).port, ca: caPem, method, path: s.target, headers: Object.fromEntries(s.headers) }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode ?? 0, denied: String(res.headers['x-isolate-denied'] ?? '') }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

describe('the terminator with an aws credential', () => {
  it('reads a body that is signed by its hash, checks it, and sends the request on signed with the real keys', async () => {
    const body = Buffer.from('Action=GetCallerIdentity&Version=2011-06-15');
    expect(await send('sts', 'POST', body)).toEqual({ status: 200, denied: '' });
    const put = Buffer.alloc(1024 * 1024, 'x');
    expect(await send('s3', 'PUT', put, { 'x-amz-content-sha256': createHash('sha256').update(put).digest('hex') })).toEqual({ status: 200, denied: '' });
    expect(received).toEqual(['signed with the real keys', 'signed with the real keys']);
  });

  it(`refuses a body it would have to hash beyond ${MAX_HASHED_BODY / 1024 / 1024} MiB; the server receives nothing`, async () => {
    const before = received.length;
    const big = Buffer.alloc(MAX_HASHED_BODY + 1, 'y');
    const r = await send('s3', 'PUT', big, { 'x-amz-content-sha256': createHash('sha256').update(big).digest('hex') }).catch((e: unknown) => ({ status: -1, denied: String(e) }));
    expect(r).toEqual({ status: 403, denied: expect.stringMatching(/hashed in memory, up to 32 MiB/) });
    expect(received.length).toBe(before);
    expect(vault.events.at(-1)).toMatchObject({ kind: 'refused', method: 'PUT' });
  });

  it('refuses (503) a body that would take the bodies held at once over their sum; the server receives nothing', async () => {
    const before = received.length;
    const port = (upstream.address() as AddressInfo).port;
    const terminator = new TlsTerminator(vault, runCa, [readFileSync(join(dir, 'ca.pem'), 'utf8')], new HeldBodies(1024 * 1024));
    const small = createTcpServer((socket) => void terminator.accept(socket, { host: '127.0.0.1', port, address: '127.0.0.1' }, Buffer.alloc(0), () => undefined));
    await new Promise<void>((resolve) => small.listen(0, '127.0.0.1', resolve));
    const sockets: TLSSocket[] = [];
    try {
      // Neither body is signed, nor sent whole: the terminator reads a body before it checks the signature.
      const send = (): Promise<string> =>
        new Promise((resolve) => {
          const s = tlsConnect({ host: '127.0.0.1', port: (small.address() as AddressInfo).port, ca: caPem });
          sockets.push(s);
          let answer = '';
          s.on('data', (d: Buffer) => (answer += d.toString('latin1')));
          s.on('error', () => undefined);
          s.on('close', () => resolve(answer));
          const auth = `AWS4-HMAC-SHA256 Credential=${placeholder.accessKeyId}/20260101/us-east-1/sts/aws4_request, SignedHeaders=host;x-amz-date, Signature=${'0'.repeat(64)}`;
          s.write(`POST / HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nAuthorization: ${auth}\r\nX-Amz-Date: 20260101T000000Z\r\nContent-Length: ${700 * 1024}\r\n\r\n`);
          s.write(Buffer.alloc(600 * 1024, 'z'));
          setTimeout(() => s.end(), 1500);
        });
      const [first, second] = await Promise.all([send(), new Promise<string>((resolve) => setTimeout(() => void send().then(resolve), 300))]);
      expect(first, 'the first body was read, not refused').not.toMatch(/^HTTP\/1\.1 503 /);
      expect(second).toMatch(/^HTTP\/1\.1 503 /);
      expect(second).toMatch(/x-isolate-denied: the bodies isolate holds to hash them would be more than 1 MiB at once/i);
      expect(received.length).toBe(before);
    } finally {
      for (const s of sockets) s.destroy();
      await new Promise((resolve) => small.close(resolve));
    }
  });
});
