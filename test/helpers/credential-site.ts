/** What the credential tests share: a test CA, loopback servers (HTTP or HTTPS) started and stopped, and every file under a tree, to scan for a token or a key. */
import { spawnSync } from 'node:child_process';
import { readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import type { Server as HttpServer } from 'node:http';
import type { Server as HttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';

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
