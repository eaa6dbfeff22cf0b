/**
 * Red team: a credential whose hosts name port 443 exactly
 * (`api.example.com:443`, the natural way to say "https only"). The rule
 * for clear text gave the value to any request to a host and port a rule
 * names exactly, so `curl http://host:443/` from the sandbox made the proxy
 * send the real token to the https port in clear text, readable by anyone
 * on the way and by whatever logs the bad request there. Port 443 means
 * https: a plain http request to it gets no value, and is refused.
 *
 * A loopback listener on 127.0.0.2:443 stands in for the host and keeps
 * every byte it is sent; only root can listen on a port below 1024.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { giveTo, homeWithProject, isolateAsync, runners, type Project, type Runner } from '../helpers/isolate.js';

const TOKEN = `ghp_${randomBytes(27).toString('base64url').replace(/[-_]/g, 'x')}`;
const HOST = '127.0.0.2';
const lowPortsOpen = Number(readFileSync('/proc/sys/net/ipv4/ip_unprivileged_port_start', 'utf8')) <= 443;
const canListen = process.getuid?.() === 0 || lowPortsOpen;
if (!canListen) console.warn('credential on port 443 over plain http: skipped: only root can listen on port 443 here (ip_unprivileged_port_start is above it)');

let server: Server;
let received = '';
const sockets = new Set<Socket>();

beforeAll(async () => {
  if (!canListen) return;
  server = createServer((s) => {
    sockets.add(s);
    s.once('close', () => sockets.delete(s));
    s.on('error', () => undefined);
    s.on('data', (d: Buffer) => {
      received += d.toString('latin1');
      if (received.includes('\r\n\r\n')) s.end('HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
    });
  });
  await new Promise<void>((resolvePromise, reject) => {
    server.once('error', reject);
    server.listen(443, HOST, resolvePromise);
  });
});

afterAll(async () => {
  if (!canListen) return;
  for (const s of sockets) s.destroy();
  await new Promise<void>((resolvePromise) => server.close(() => resolvePromise()));
});

describe.skipIf(!canListen).each(runners())('red team: a credential for host:443 sent over plain http ($label)', (runner: Runner) => {
  let p: Project;
  let profile: string;

  beforeAll(() => {
    p = homeWithProject(runner);
    profile = join(p.home, 'https-port.yaml');
    const lines = [
      'extends: default',
      'network:',
      '  mode: filtered',
      `  allow: ["${HOST}:443"]`,
      'credentials:',
      `  - { name: GITHUB_TOKEN, from: { env: GITHUB_TOKEN }, hosts: ["${HOST}:443"] }`,
      '',
    ];
    writeFileSync(profile, lines.join('\n'), { mode: 0o644 });
    giveTo(runner, p.home);
  });
  afterAll(() => p.cleanup());

  it('the token never reaches the https port in clear text: the request is refused, and recorded as misuse', async () => {
    received = '';
    const script = `curl -sS -o /dev/null -w '%{http_code}\\n' -H "Authorization: Bearer $GITHUB_TOKEN" http://${HOST}:443/plaintext`;
    const report = join(p.home, 'report.json');
    const r = await isolateAsync(runner, ['run', '-p', profile, '--report', report, '--', 'sh', '-c', script], {
      cwd: p.project,
      env: { ...p.env, XDG_STATE_HOME: join(p.home, 'state'), GITHUB_TOKEN: TOKEN },
      timeoutMs: 30_000,
    });
    expect(received, 'the listener on port 443 was sent the real token in clear text').not.toContain(TOKEN);
    expect(r.stdout.trim(), r.stderr).toBe('403');
    expect(readFileSync(report, 'utf8')).toMatch(/port 443 is https's/);
    // Control: the same request without the placeholder reaches the listener (it is allowed and listening).
    const control = await isolateAsync(runner, ['run', '-p', profile, '--', 'sh', '-c', `curl -sS -o /dev/null -w '%{http_code}\\n' http://${HOST}:443/control`], {
      cwd: p.project,
      env: { ...p.env, XDG_STATE_HOME: join(p.home, 'state'), GITHUB_TOKEN: TOKEN },
      timeoutMs: 30_000,
    });
    expect(control.stdout.trim(), control.stderr).toBe('400');
    expect(received).toContain('GET /control');
  });
});
