/** What the credential tests share: a test CA, loopback servers (HTTP or HTTPS) started and stopped, and every file under a tree, to scan for a token or a key. */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import type { Server as HttpServer } from 'node:http';
import type { Server as HttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer as createTlsServer, type TLSSocket } from 'node:tls';
import { TEMP_PREFIX, isolateAsync, type Project, type Result, type Runner } from './isolate.js';

type Server = HttpServer | HttpsServer;

/** Listen on 127.0.0.1 at a free port each; resolves to the ports, in order. */
export function listenAll(...servers: Server[]): Promise<number[]> {
  return Promise.all(servers.map(listenLoopback));
}

/** Close the servers and every connection they still have. */
export async function stopAll(...servers: Server[]): Promise<void> {
  await Promise.all(servers.map(stopServer));
}

/** Listen on 127.0.0.1 at a free port; resolves to the port. */
function listenLoopback(server: Server): Promise<number> {
  return new Promise((resolvePromise, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolvePromise((server.address() as AddressInfo).port));
  });
}

function stopServer(server: Server): Promise<void> {
  server.closeAllConnections();
  return new Promise((resolvePromise) => server.close(() => resolvePromise()));
}

/** Every regular file under `root`, with its content. */
export function filesUnder(root: string): { path: string; text: string }[] {
  const out: { path: string; text: string }[] = [];
  const walk = (dir: string): void => {
    for (const name of readdirSync(dir)) {
      const path = join(dir, name);
      const st = statSync(path, { throwIfNoEntry: false });
      if (st?.isDirectory() === true) walk(path);
      else if (st?.isFile() === true) out.push({ path, text: readFileSync(path, 'latin1') });
    }
  };
  walk(root);
  return out;
}

function openssl(args: string[]): void {
  const r = spawnSync('openssl', args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`openssl ${args[0]} failed: ${r.stderr}`);
}

/** A test CA and a certificate for 127.0.0.1 it signed. */
export function makeCerts(dir: string): void {
  const f = (n: string): string => join(dir, n);
  openssl(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=isolate test CA', '-days', '1', '-keyout', f('ca.key'), '-out', f('ca.pem')]);
  openssl(['req', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=127.0.0.1', '-keyout', f('server.key'), '-out', f('server.csr')]);
  writeFileSync(f('ext'), 'subjectAltName=IP:127.0.0.1\n');
  openssl(['x509', '-req', '-in', f('server.csr'), '-CA', f('ca.pem'), '-CAkey', f('ca.key'), '-CAcreateserial', '-days', '1', '-extfile', f('ext'), '-out', f('server.pem')]);
}

/**
 * A profile in `home` (written as `<name>.yaml`, with the test CA beside it as test-ca.pem) that extends default,
 * lets the filtered network reach 127.0.0.1 at `ports` only, trusts the test CA for them, and gives the command a
 * placeholder for GITHUB_TOKEN, whose value the proxy adds for those hosts only. Returns the profile's path.
 */
export function loopbackCredentialProfile(home: string, name: string, caPem: string, ports: number | readonly number[]): string {
  writeFileSync(join(home, 'test-ca.pem'), readFileSync(caPem));
  const profile = join(home, `${name}.yaml`);
  const hosts = JSON.stringify([ports].flat().map((port) => `127.0.0.1:${port}`));
  const lines = [
    'extends: default',
    'network:',
    '  mode: filtered',
    `  allow: ${hosts}`,
    `  upstreamCa: ${join(home, 'test-ca.pem')}`,
    'credentials:',
    `  - { name: GITHUB_TOKEN, from: { env: GITHUB_TOKEN }, hosts: ${hosts} }`,
    '',
  ];
  writeFileSync(profile, lines.join('\n'), { mode: 0o644 });
  return profile;
}

/** How a test runs a script as `runner` under the profile `at()` gives (set up before each test), with `token` as GITHUB_TOKEN's real value and an audit log in the home. */
export function runWithToken(runner: Runner, at: () => { p: Project; profile: string }, token: string): (script: string) => Promise<Result> {
  return (script) => {
    const { p, profile } = at();
    return isolateAsync(runner, ['run', '-p', profile, '--', 'sh', '-c', script], {
      cwd: p.project,
      env: { ...p.env, XDG_STATE_HOME: join(p.home, 'state'), GITHUB_TOKEN: token },
      timeoutMs: 30_000,
    });
  };
}

/** A loopback TLS server with certificates of a test CA of its own (makeCerts), and how to stop it. */
export interface TlsSite {
  port: number;
  /** The test CA's certificate, for a profile's network.upstreamCa. */
  caPem: string;
  /** End its connections, close it, remove its certificates. */
  stop(): Promise<void>;
}

/** Start a TlsSite on 127.0.0.1 at a free port that serves each connection with `handler`. */
export async function startTlsSite(name: string, handler: (socket: TLSSocket) => void): Promise<TlsSite> {
  const certDir = mkdtempSync(join(tmpdir(), `${TEMP_PREFIX}${name}-`));
  makeCerts(certDir);
  const sockets = new Set<TLSSocket>();
  const server = createTlsServer({ key: readFileSync(join(certDir, 'server.key')), cert: readFileSync(join(certDir, 'server.pem')) }, (s) => {
    sockets.add(s);
    s.once('close', () => sockets.delete(s));
    handler(s);
  });
  await new Promise<void>((resolvePromise) => server.listen(0, '127.0.0.1', resolvePromise));
  return {
    port: (server.address() as AddressInfo).port,
    caPem: join(certDir, 'ca.pem'),
    async stop() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolvePromise) => server.close(() => resolvePromise()));
      rmSync(certDir, { recursive: true, force: true });
    },
  };
}
