import { describe, expect, it } from 'vitest';
import type { RunReport } from '../../src/audit/report.js';
import type { Policy } from '../../src/profile/types.js';
import { probes, probesFor, type ProbeContext } from '../../src/selftest/probes.js';
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
    hostPid: 4242,
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

describe('selftest probes on macOS', () => {
  const mac = probesFor('darwin', () => false, () => false, () => false);
  const macId = (id: string) => {
    const p = mac.find((x) => x.id === id);
    if (p === undefined) throw new Error(`no macOS probe ${id}`);
    return p;
  };

  it('the same intent as on Linux, through the interfaces macOS has', () => {
    const ids = mac.map((p) => p.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const id of ['secret-file', 'env-secret', 'write-outside', 'git-hooks', 'symlink-out', 'host-tcp', 'host-unix-socket', 'dns', 'fork-bomb', 'busy-loop', 'process-environ', 'signal-other', 'task-port', 'setid-exec']) {
      expect(ids, id).toContain(id);
    }
    for (const id of ['proc-environ', 'tiocsti', 'ptrace', 'userns', 'io-uring', 'memory-hog']) expect(ids, id).not.toContain(id);
    expect(probesFor('linux', () => false, () => false, () => false).map((p) => p.id)).toEqual(all.map((p) => p.id));
  });

  it('aim at isolate\'s own process, outside the sandbox, by its pid as an argument', () => {
    for (const id of ['process-environ', 'signal-other', 'task-port']) {
      const argv = macId(id).command(ctx());
      expect(argv[argv.length - 1], id).toBe('4242');
      expect(argv.slice(0, -1).join(' '), id).not.toContain('4242');
    }
    expect(macId('dns').command(ctx())[0]).toBe('/usr/bin/python3');
  });

  it.each([
    ['process-environ', { stdout: 'READ 4711\n' }],
    ['signal-other', { stdout: 'SIGNALLED\n' }],
    ['task-port', { stdout: 'TASKPORT\n' }],
    ['setid-exec', { stdout: 'STARTED\n' }],
    ['dns', { stdout: 'RESOLVED\n' }],
  ])('%s: an escape is reported as escaped', (id, r) => {
    expect(macId(id).judge(report(r), ctx()).outcome).toBe('escaped');
  });

  it.each([
    ['process-environ', { stdout: 'refused Operation not permitted\n' }],
    ['signal-other', { stdout: 'sh: kill: (4242) - Operation not permitted\nrefused\n' }],
    ['task-port', { stdout: 'refused: kern_return 5\n' }],
    ['setid-exec', { stdout: 'refused: sh: /usr/bin/sudo: Operation not permitted\n' }],
    ['dns', { stdout: 'no answer: [Errno 8] nodename nor servname provided, or not known\n' }],
    ['process-environ', { stderr: 'Traceback (most recent call last):\nPermissionError\n', exitCode: 1 }],
  ])('%s: a refusal is reported as blocked, with its last line', (id, r) => {
    const j = macId(id).judge(report(r), ctx());
    expect(j.outcome).toBe('blocked');
    expect(j.detail.length).toBeGreaterThan(0);
  });

  it('a word inside a refusal is no escape: the markers are whole lines', () => {
    expect(macId('setid-exec').judge(report({ stdout: 'refused: NOT STARTED\n' }), ctx()).outcome).toBe('blocked');
    expect(macId('process-environ').judge(report({ stdout: 'refused READ 1\n' }), ctx()).outcome).toBe('blocked');
  });

  it('expectations follow the profile: without the default preset, task ports and set-id programs are not refused', () => {
    const none = ctx({ policy: { ...policy, syscalls: { preset: 'none', deny: [], allow: [] } } });
    expect(macId('task-port').expect(none).blocked).toBe(false);
    expect(macId('setid-exec').expect(none).blocked).toBe(false);
    expect(macId('task-port').expect(ctx()).blocked).toBe(true);
    expect(macId('process-environ').expect(none).blocked).toBe(true);
    expect(macId('signal-other').expect(none).blocked).toBe(true);
    expect(macId('task-port').skip?.(ctx({ python: undefined }))).toMatch(/python3/);
  });
});
