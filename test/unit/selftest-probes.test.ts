import { describe, expect, it } from 'vitest';
import type { RunReport } from '../../src/audit/report.js';
import type { Policy } from '../../src/profile/types.js';
import { probes, type ProbeContext } from '../../src/selftest/probes.js';
import { runRecord } from '../helpers/audit-records.js';

const policy: Policy = {
  profile: { name: 't', sources: [], description: '' },
  filesystem: { mounts: [], protect: ['.git/hooks'], skipped: [] },
  network: { mode: 'none', allow: [], deny: [] },
  environment: { pass: ['PATH'], set: {}, secrets: [] },
  process: { cwd: '/p', hostname: 'isolate' },
  limits: { killAfterMs: 2000, enforce: 'rlimit' },
  syscalls: { preset: 'default', deny: [], allow: [] },
  commands: { allow: [], deny: [] },
  audit: { enabled: true, log: undefined, required: false },
};

function ctx(over: Partial<ProbeContext> = {}): ProbeContext {
  return {
    policy,
    uid: 1000,
    cgroupPids: false,
    python: '/usr/bin/python3',
    outside: '/o',
    secretFile: '/o/secret.txt',
    secretToken: 'SECRET-TOKEN',
    envTokens: ['ENV-TOKEN-1', 'ENV-TOKEN-2'],
    hostPort: 1234,
    hostSocket: '/o/host.sock',
    writeTarget: '/o/written.txt',
    hooksFile: '/p/.git/hooks/pre-commit',
    gitConfig: '/p/.git/config',
    gitConfigBefore: 'cfg',
    exists: () => false,
    read: () => 'cfg',
    ...over,
  };
}

function report(over: Partial<RunReport>): RunReport {
  return { ...runRecord(), stdout: '', stderr: '', ...over };
}

const all = probes(
  () => false,
  () => false,
  () => false,
);
const byId = (id: string) => {
  const p = all.find((x) => x.id === id);
  if (p === undefined) throw new Error(`no probe ${id}`);
  return p;
};

describe('selftest probes judge what they see', () => {
  it.each([
    ['secret-file', { stdout: 'SECRET-TOKEN\n' }],
    ['symlink-out', { stdout: 'SECRET-TOKEN\n' }],
    ['env-secret', { stdout: 'X=ENV-TOKEN-2\n' }],
    ['proc-environ', { stdout: 'GITHUB_TOKEN=ENV-TOKEN-1' }],
    ['tiocsti', { stdout: 'INJECTED\n' }],
    ['ptrace', { stdout: 'TRACED\n' }],
    ['userns', { stdout: 'MOUNTED\n' }],
    ['io-uring', { stdout: 'RING\n' }],
    ['host-tcp', { stdout: 'CONNECTED\n' }],
    ['host-unix-socket', { stdout: 'CONNECTED\n' }],
    ['dns', { stdout: '1.2.3.4 example.com\nRESOLVED\n' }],
    ['fork-bomb', { stdout: 'FORKED 5000\n' }],
    ['memory-hog', { stdout: 'ALLOCATED 536870912\n' }],
    ['busy-loop', { exitCode: 124, timedOut: true, limit: 'timeout' as const, signal: 'SIGTERM' }],
  ])('%s: an escape is reported as escaped', (id, r) => {
    expect(byId(id).judge(report(r), ctx()).outcome).toBe('escaped');
  });

  it.each([
    ['secret-file', { stderr: 'cat: No such file or directory\n', exitCode: 1 }],
    ['env-secret', { stdout: 'PATH=/usr/bin\n' }],
    ['tiocsti', { stdout: 'refused Operation not permitted\n' }],
    ['busy-loop', { exitCode: 152, signal: 'SIGXCPU', limit: 'cpu' as const }],
  ])('%s: a refusal is reported as blocked', (id, r) => {
    expect(byId(id).judge(report(r), ctx()).outcome).toBe('blocked');
  });

  it('a write that reached the host is an escape, judged by the host, not by the output', () => {
    const wrote = ctx({ exists: (p) => p === '/o/written.txt' });
    expect(byId('write-outside').judge(report({ stdout: '' }), wrote).outcome).toBe('escaped');
    expect(byId('write-outside').judge(report({ stdout: '' }), ctx()).outcome).toBe('blocked');
    const edited = ctx({ read: () => 'cfg\n[core] hooksPath = /tmp\n' });
    expect(byId('git-hooks').judge(report({}), edited).outcome).toBe('escaped');
  });

  it('expectations follow the profile', () => {
    expect(byId('tiocsti').expect(ctx())).toEqual({ blocked: true });
    const allowIoctl = ctx({ policy: { ...policy, syscalls: { preset: 'default', deny: [], allow: ['ioctl'] } } });
    expect(byId('tiocsti').expect(allowIoctl).blocked).toBe(false);
    const none = ctx({ policy: { ...policy, syscalls: { preset: 'none', deny: [], allow: [] } } });
    expect(byId('ptrace').expect(none).blocked).toBe(false);
    const host = ctx({ policy: { ...policy, network: { mode: 'host', allow: [], deny: [] } } });
    expect(byId('host-tcp').expect(host).blocked).toBe(false);
    expect(byId('host-tcp').expect(ctx()).blocked).toBe(true);
  });

  it('the fork bomb is skipped as root without a cgroup, where no process limit can be enforced, and without python', () => {
    expect(byId('fork-bomb').skip?.(ctx({ uid: 0 }))).toMatch(/root/);
    expect(byId('fork-bomb').skip?.(ctx({ uid: 0, cgroupPids: true }))).toBeUndefined();
    expect(byId('fork-bomb').skip?.(ctx())).toBeUndefined();
    expect(byId('ptrace').skip?.(ctx({ python: undefined }))).toMatch(/python3/);
  });
});
