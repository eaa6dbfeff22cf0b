/**
 * One battery of isolation checks for every backend: `isolate selftest`
 * (secrets, writes outside, protected files, TIOCSTI, ptrace, nested
 * namespaces, io_uring, host network and sockets, DNS, fork bomb, memory,
 * CPU) plus a few direct checks, run through each backend that can run on
 * this machine (bubblewrap, nsjail, an OCI runtime), as each runner. A backend that cannot run here is skipped
 * with the reason printed. On macOS (the macOS workflow) the sandbox-exec
 * battery runs with the built-in profiles as they are.
 */
import { describe, expect, it } from 'vitest';
import { findBwrap, findNsjail } from '../../src/host/facts.js';
import { ociRuntimes } from '../../src/host/oci-runtime.js';
import { isolate, runners, tempDirFor, type Runner } from '../helpers/isolate.js';

const nsjail = findNsjail(process.env);
/** Why no OCI runtime can run here, or undefined (host/oci-runtime.ts picks the one that works). */
function ociSkip(): string | undefined {
  if (process.platform !== 'linux') return `OCI runtimes need Linux (this is ${process.platform})`;
  const all = ociRuntimes();
  if (all.some((r) => r.refused === undefined)) return undefined;
  return all.length === 0 ? 'neither runc nor crun is installed (apt-get install runc)' : all.map((r) => r.refused ?? '').join('; ');
}
const backends: { name: string; env: Record<string, string>; skip: string | undefined }[] = [
  { name: 'bwrap', env: {}, skip: findBwrap(process.env) === undefined ? 'bubblewrap is not installed' : undefined },
  {
    name: 'nsjail',
    env: nsjail === undefined ? {} : { ISOLATE_NSJAIL: nsjail },
    skip: nsjail === undefined ? 'no nsjail binary on PATH or in ISOLATE_NSJAIL (see docs/backends.md, "Installing nsjail")' : undefined,
  },
  { name: 'oci', env: {}, skip: ociSkip() },
  {
    name: 'sandbox-exec',
    env: {},
    skip:
      process.platform === 'darwin'
        ? undefined
        : 'sandbox-exec exists only on macOS (run/\'s wiring for it is tested by sandbox-exec-runner.test.ts with a fake sandbox-exec, which enforces nothing)',
  },
];

for (const b of backends) {
  if (b.skip !== undefined) console.warn(`skipping the ${b.name} backend checks: ${b.skip}`);
  describe.skipIf(b.skip !== undefined).each(runners())(`backend ${b.name} ($label)`, (runner: Runner) => {
    const run = (args: string[], env: Record<string, string> = {}) => {
      const t = tempDirFor(runner);
      try {
        return isolate(runner, args, { cwd: t.dir, env: { HOME: t.dir, ...b.env, ...env }, timeoutMs: 90_000 });
      } finally {
        t.cleanup();
      }
    };

    it('selftest: no probe escapes', () => {
      const r = run(['selftest', '--json', '--backend', b.name]);
      const card = JSON.parse(r.stdout) as { ok: boolean; counts: Record<string, number>; probes: { id: string; outcome: string; detail: string }[] };
      expect(card.counts['escaped'], JSON.stringify(card.probes.filter((p) => p.outcome === 'escaped'))).toBe(0);
      expect(card.counts['error'], JSON.stringify(card.probes.filter((p) => p.outcome === 'error'))).toBe(0);
      // macOS has its own probes (src/selftest/probes-macos.ts): 14 with python3, 8 without it.
      expect(card.counts['blocked']).toBeGreaterThanOrEqual(process.platform === 'darwin' ? 8 : 14);
      expect(r.status).toBe(0);
    }, 120_000);

    it('the same exit codes', () => {
      expect(run(['run', '--backend', b.name, '--', 'sh', '-c', 'exit 7']).status).toBe(7);
      expect(run(['run', '--backend', b.name, '--', 'sh', '-c', 'kill -TERM $$']).status).toBe(143);
      expect(run(['run', '--backend', b.name, '--', 'no-such-command-xyz']).status).toBe(127);
      expect(run(['run', '--backend', b.name, '--timeout', '300ms', '--', 'sleep', '5']).status).toBe(124);
    });

    it('the same environment: only the allowlist, no secrets', () => {
      const r = run(['run', '--backend', b.name, '--', 'env'], { GITHUB_TOKEN: 'ghp_backendsecret1234567890', LANG: 'C.UTF-8' });
      expect(r.status, r.stderr).toBe(0);
      expect(r.stdout).toContain('LANG=C.UTF-8');
      expect(r.stdout).not.toContain('backendsecret');
    });
  });
}
