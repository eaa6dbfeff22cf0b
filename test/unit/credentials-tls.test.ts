/**
 * The run CA and the ClientHello reader without a sandbox: the CA's name
 * constraints hold (openssl verify accepts a certificate for a credential
 * host and refuses one for any other name or address, even signed by the
 * CA itself), its key cannot be exported, and the server name is read from
 * real ClientHellos, split anywhere.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from 'node:tls';
import { afterAll, describe, expect, it } from 'vitest';
import { parseClientHello } from '../../src/network/client-hello.js';
import { sniGate } from '../../src/network/relay-filter.js';
import { createRunCa } from '../../src/network/credentials/ca.js';

const dir = mkdtempSync(join(tmpdir(), 'isolate-ca-unit-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function verify(caPem: string, leafPem: string, name: string): { ok: boolean; output: string } {
  writeFileSync(join(dir, 'ca.pem'), caPem);
  writeFileSync(join(dir, `${name}.pem`), leafPem);
  const r = spawnSync('openssl', ['verify', '-CAfile', join(dir, 'ca.pem'), join(dir, `${name}.pem`)], { encoding: 'utf8' });
  return { ok: r.status === 0, output: r.stdout + r.stderr };
}

describe('the run CA', () => {
  it('vouches for the credential hosts and, by its name constraints, for nothing else', async () => {
    const ca = await createRunCa(['api.github.com', '127.0.0.1']);
    expect(verify(ca.certPem, (await ca.leafFor('api.github.com')).cert, 'api').ok).toBe(true);
    expect(verify(ca.certPem, (await ca.leafFor('uploads.api.github.com')).cert, 'sub').ok).toBe(true);
    expect(verify(ca.certPem, (await ca.leafFor('127.0.0.1')).cert, 'ip').ok).toBe(true);
    for (const other of ['github.com', 'evil.example', 'api.github.com.evil.example', '10.0.0.1', '::1']) {
      const r = verify(ca.certPem, (await ca.leafFor(other)).cert, other.replace(/:/g, '_'));
      expect(r.ok, other).toBe(false);
      expect(r.output).toMatch(/permitted subtree violation/);
    }
  });

  it('a CA for names only vouches for no address, one for addresses only for no name', async () => {
    const names = await createRunCa(['api.github.com']);
    expect(verify(names.certPem, (await names.leafFor('127.0.0.1')).cert, 'n-ip').ok).toBe(false);
    const ips = await createRunCa(['127.0.0.1']);
    expect(verify(ips.certPem, (await ips.leafFor('localhost')).cert, 'i-name').ok).toBe(false);
  });

  it('is a CA for one path step, expires within a day, and reuses a host\'s certificate', async () => {
    const ca = await createRunCa(['api.github.com']);
    writeFileSync(join(dir, 'c.pem'), ca.certPem);
    const text = spawnSync('openssl', ['x509', '-in', join(dir, 'c.pem'), '-noout', '-text', '-enddate'], { encoding: 'utf8' }).stdout;
    expect(text).toMatch(/CA:TRUE, pathlen:0/);
    expect(text).toMatch(/X509v3 Name Constraints: critical/);
    const end = Date.parse((/notAfter=(.*)/.exec(text)?.[1] ?? '').trim());
    expect(end - Date.now()).toBeLessThanOrEqual(24 * 3600 * 1000);
    expect(end - Date.now()).toBeGreaterThan(23 * 3600 * 1000);
    expect(await ca.leafFor('api.github.com')).toBe(await ca.leafFor('api.github.com'));
    expect(ca.certPem).not.toMatch(/PRIVATE KEY/);
  });
});

/** The first bytes a real TLS client sends for `servername`. */
async function clientHello(servername: string | undefined): Promise<Buffer> {
  let socket: Socket | undefined;
  const server = createServer((s) => (socket = s));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  const client = connect({ host: '127.0.0.1', port, ...(servername === undefined ? {} : { servername }), rejectUnauthorized: false });
  client.on('error', () => undefined);
  const bytes = await new Promise<Buffer>((resolve) => {
    const wait = (): void => {
      if (socket === undefined) return void setTimeout(wait, 5);
      socket.once('data', (d: Buffer) => resolve(d));
    };
    wait();
  });
  client.destroy();
  socket?.destroy();
  await new Promise<void>((r) => server.close(() => r()));
  return bytes;
}

describe('sniGate', () => {
  it('passes a ClientHello naming the tunnel\'s host or none, and refuses another name, saying which kind of tunnel', async () => {
    const other = await clientHello('other.test');
    expect(sniGate('allowed.test', 'SOCKS5')(other)).toEqual({ refused: 'the TLS server name "other.test" is not the SOCKS5 host allowed.test (domain fronting)' });
    expect(sniGate('allowed.test', 'CONNECT')(other)).toEqual({ refused: 'the TLS server name "other.test" is not the CONNECT host allowed.test (domain fronting)' });
    expect(sniGate('other.test', 'SOCKS5')(other)).toBe('pass');
    expect(sniGate('allowed.test', 'SOCKS5')(await clientHello(undefined))).toBe('pass');
  });
});

describe('parseClientHello', () => {
  it('reads the server name of a real ClientHello, and waits while it is cut short anywhere', async () => {
    const hello = await clientHello('api.github.com');
    expect(parseClientHello(hello)).toEqual({ kind: 'hello', serverName: 'api.github.com' });
    for (let cut = 1; cut < hello.length; cut++) expect(parseClientHello(hello.subarray(0, cut)).kind, `cut at ${cut}`).toBe('incomplete');
  });

  it('a ClientHello without a server name, bytes that are not TLS, and a malformed hello', async () => {
    expect(parseClientHello(await clientHello(undefined))).toEqual({ kind: 'hello', serverName: undefined });
    expect(parseClientHello(Buffer.from('GET / HTTP/1.1\r\n'))).toEqual({ kind: 'not-tls' });
    expect(parseClientHello(Buffer.from([0x16, 3, 1, 0, 4, 2, 0, 0, 0]))).toEqual({ kind: 'malformed' });
  });
});
