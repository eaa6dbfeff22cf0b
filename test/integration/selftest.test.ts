import { chmodSync, writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { cgroupSupport } from '../helpers/cgroup.js';
import { isolate, runners, tempDirFor } from '../helpers/isolate.js';

interface Scorecard {
  schemaVersion: number;
  kind: string;
  ok: boolean;
  uid: number;
  counts: Record<string, number>;
  probes: { id: string; expected: string; outcome: string; detail: string }[];
}

describe.each(runners())('isolate selftest ($label)', (runner) => {
  const cgroup = cgroupSupport(runner);
  const run = (args: string[]): { status: number | null; card: Scorecard; stderr: string } => {
    const t = tempDirFor(runner);
    try {
      const r = isolate(runner, ['selftest', '--json', ...args], { cwd: t.dir, env: { HOME: t.dir }, timeoutMs: 60_000 });
      return { status: r.status, card: JSON.parse(r.stdout) as Scorecard, stderr: r.stderr };
    } finally {
      t.cleanup();
    }
  };

  it('the default profile contains every probe', () => {
    const { status, card, stderr } = run([]);
    expect(status, stderr).toBe(0);
    expect(card.kind).toBe('selftest');
    expect(card.ok).toBe(true);
    expect(card.counts['escaped']).toBe(0);
    expect(card.counts['error']).toBe(0);
    expect(card.probes.length).toBeGreaterThanOrEqual(16);
    const outcome = (id: string) => card.probes.find((p) => p.id === id)?.outcome;
    for (const id of ['secret-file', 'env-secret', 'proc-environ', 'write-outside', 'git-hooks', 'symlink-out', 'tiocsti', 'ptrace', 'userns', 'io-uring', 'host-tcp', 'host-unix-socket', 'dns', 'memory-hog', 'busy-loop']) {
      expect(outcome(id), id).toBe('blocked');
    }
    // The kernel exempts uid 0 from RLIMIT_NPROC: as root the fork bomb is held by the cgroup's pids.max, or skipped with that reason without one.
    expect(outcome('fork-bomb')).toBe(runner.uid === 0 && !cgroup.usable ? 'skipped' : 'blocked');
  });

  it('a profile without the syscall filter shows what it allows, and is not scored as an escape', () => {
    const t = tempDirFor(runner);
    try {
      const profile = `${t.dir}/noseccomp.yaml`;
      writeFileSync(profile, 'extends: default\nsyscalls: { preset: none }\n');
      chmodSync(profile, 0o644);
      const r = isolate(runner, ['selftest', '--json', '-p', profile], { cwd: t.dir, env: { HOME: t.dir }, timeoutMs: 60_000 });
      const card = JSON.parse(r.stdout) as Scorecard;
      expect(r.status, r.stderr).toBe(0);
      const ptrace = card.probes.find((p) => p.id === 'ptrace');
      expect(ptrace?.expected).toBe('allowed');
      // The control: without the filter, ptrace really works, so the default run's "blocked" means something.
      expect(ptrace?.outcome).toBe('allowed');
      expect(card.probes.find((p) => p.id === 'io-uring')?.outcome).not.toBe('escaped');
    } finally {
      t.cleanup();
    }
  });
});
