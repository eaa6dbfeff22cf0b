/**
 * Namespaces, capabilities and the network: every guarantee is checked by
 * looking from inside the sandbox, against the same probe run on the host.
 */
import { createServer, type Server } from 'node:net';
import { readFileSync, readlinkSync } from 'node:fs';
import { hostname } from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { asRunner, asRunnerAsync, homeWithProject, isolate, isolateAsync, keyValues, runners, type Project } from '../helpers/isolate.js';

const NAMESPACES = ['user', 'pid', 'ipc', 'uts', 'net', 'cgroup', 'mnt'] as const;
const NS_PROBE = `for n in ${NAMESPACES.join(' ')}; do echo "$n=$(readlink /proc/self/ns/$n)"; done`;

function hostNamespaces(): Record<string, string> {
  return Object.fromEntries(NAMESPACES.map((n) => [n, readlinkSync(`/proc/self/ns/${n}`)]));
}

function statusFields(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const m = /^(\w+):\s*(.*)$/.exec(line);
    if (m?.[1] !== undefined && m[2] !== undefined) out[m[1]] = m[2].trim();
  }
  return out;
}

function interfaces(netDev: string): string[] {
  return netDev
    .split('\n')
    .slice(2)
    .map((l) => l.split(':')[0]?.trim() ?? '')
    .filter((n) => n !== '');
}

/** A TCP server on the host's loopback that counts the connections it accepts. */
async function startServer(): Promise<{ server: Server; port: number; connections: () => number }> {
  let count = 0;
  const server = createServer((socket) => {
    count++;
    socket.end('hello from host\n');
  });
  await new Promise<void>((res) => server.listen(0, '127.0.0.1', res));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no port');
  return { server, port: address.port, connections: () => count };
}

describe.each(runners())('namespaces and privileges ($label)', (runner) => {
  let p: Project;
  beforeAll(() => {
    p = homeWithProject(runner);
  });
  afterAll(() => p.cleanup());

  it('runs in new user, pid, ipc, uts, net, cgroup and mount namespaces', () => {
    const host = hostNamespaces();
    // Control: the probe, run on the host as this user, reports the host's namespaces.
    const control = asRunner(runner, ['sh', '-c', NS_PROBE], { cwd: p.project, env: p.env });
    expect(control.status).toBe(0);
    expect(keyValues(control.stdout)).toEqual(host);

    const r = isolate(runner, ['run', '--', 'sh', '-c', NS_PROBE], { cwd: p.project, env: p.env });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const inside = keyValues(r.stdout);
    for (const n of NAMESPACES) {
      expect(inside[n], `namespace ${n}`).toMatch(new RegExp(`^${n}:\\[\\d+\\]$`));
      expect(inside[n], `namespace ${n} must differ from the host's`).not.toBe(host[n]);
    }
  });

  it('shares only the network namespace with --net host (the comparison above is meaningful)', () => {
    const host = hostNamespaces();
    const r = isolate(runner, ['run', '--net', 'host', '--', 'sh', '-c', NS_PROBE], { cwd: p.project, env: p.env });
    expect(r.status).toBe(0);
    const inside = keyValues(r.stdout);
    expect(inside['net']).toBe(host['net']);
    for (const n of NAMESPACES.filter((x) => x !== 'net')) expect(inside[n], `namespace ${n}`).not.toBe(host[n]);
  });

  it('cannot create nested user namespaces', () => {
    // Control: this user can create one on the host.
    const control = asRunner(runner, ['unshare', '--user', 'true'], { cwd: p.project, env: p.env });
    expect(control.status, control.stderr).toBe(0);

    const r = isolate(runner, ['run', '--', 'unshare', '--user', 'true'], { cwd: p.project, env: p.env });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/unshare failed/);

    const r2 = isolate(runner, ['run', '--', 'unshare', '--user', '--map-root-user', 'true'], { cwd: p.project, env: p.env });
    expect(r2.status).not.toBe(0);
  });

  it('has no capabilities and no_new_privs set', () => {
    // Control: on the host the bounding set of this user is not empty
    // (and root has effective capabilities), so zeros inside are the sandbox's doing.
    const control = statusFields(asRunner(runner, ['cat', '/proc/self/status'], { cwd: p.project, env: p.env }).stdout);
    expect(control['CapBnd']).toMatch(/^[0-9a-f]{16}$/);
    expect(control['CapBnd']).not.toBe('0000000000000000');
    if (runner.uid === 0) expect(control['CapEff']).not.toBe('0000000000000000');

    const r = isolate(runner, ['run', '--', 'cat', '/proc/self/status'], { cwd: p.project, env: p.env });
    expect(r.status).toBe(0);
    const s = statusFields(r.stdout);
    for (const field of ['CapInh', 'CapPrm', 'CapEff', 'CapBnd', 'CapAmb']) {
      expect(s[field], field).toBe('0000000000000000');
    }
    expect(s['NoNewPrivs']).toBe('1');
  });

  it('has its own pid numbering and the hostname "isolate"', () => {
    expect(hostname()).not.toBe('isolate');
    const r = isolate(runner, ['run', '--', 'sh', '-c', 'echo "pid=$$"; echo "hostname=$(hostname)"; echo "kernel=$(cat /proc/sys/kernel/hostname)"'], {
      cwd: p.project,
      env: p.env,
    });
    expect(r.status).toBe(0);
    const kv = keyValues(r.stdout);
    expect(Number(kv['pid'])).toBeGreaterThan(0);
    expect(Number(kv['pid'])).toBeLessThanOrEqual(5);
    expect(kv['hostname']).toBe('isolate');
    expect(kv['kernel']).toBe('isolate');
    // The host's name is untouched.
    expect(hostname()).not.toBe('isolate');
  });

  it('sees only the loopback interface', () => {
    const hostIfs = interfaces(readFileSync('/proc/net/dev', 'utf8'));
    expect(hostIfs.filter((n) => n !== 'lo').length).toBeGreaterThan(0);

    const r = isolate(runner, ['run', '--', 'cat', '/proc/net/dev'], { cwd: p.project, env: p.env });
    expect(r.status).toBe(0);
    expect(interfaces(r.stdout)).toEqual(['lo']);

    const dev = isolate(runner, ['run', '-p', 'dev', '--', 'cat', '/proc/net/dev'], { cwd: p.project, env: p.env });
    expect(dev.status).toBe(0);
    expect(interfaces(dev.stdout).sort()).toEqual([...hostIfs].sort());
  });

  describe('a TCP server on the host loopback', () => {
    let srv: Awaited<ReturnType<typeof startServer>>;
    beforeAll(async () => {
      srv = await startServer();
    });
    afterAll(async () => {
      await new Promise<void>((res) => srv.server.close(() => res()));
    });

    const probe = (port: number): string[] => [
      'bash',
      '-c',
      `if exec 3<>/dev/tcp/127.0.0.1/${port}; then read -r line <&3; echo "connected: $line"; else echo "no connection"; exit 1; fi`,
    ];

    it('is reachable from the host and with --net host (control)', async () => {
      const before = srv.connections();
      const host = await asRunnerAsync(runner, probe(srv.port), { cwd: p.project, env: p.env });
      expect(host.stdout).toContain('connected: hello from host');
      const r = await isolateAsync(runner, ['run', '--net', 'host', '--', ...probe(srv.port)], { cwd: p.project, env: p.env });
      expect(r.status, r.stderr).toBe(0);
      expect(r.stdout).toContain('connected: hello from host');
      await new Promise((res) => setTimeout(res, 50));
      expect(srv.connections()).toBeGreaterThanOrEqual(before + 2);
    });

    for (const profile of ['default', 'strict']) {
      it(`is not reachable from inside with the ${profile} profile`, async () => {
        const before = srv.connections();
        const r = await isolateAsync(runner, ['run', '-p', profile, '--', ...probe(srv.port)], { cwd: p.project, env: p.env });
        expect(r.status).toBe(1);
        expect(r.stdout).toContain('no connection');
        expect(r.stdout).not.toContain('connected:');
        await new Promise((res) => setTimeout(res, 50));
        expect(srv.connections()).toBe(before);
      });
    }
  });
});
