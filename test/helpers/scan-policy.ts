/** Policies for tests of the pure and host layers: one with `mounts` as given, and one for the protected-name search. */
import type { MountRule, Policy } from '../../src/profile/types.js';

/** A policy with these mount rules and working directory, and nothing else: no network, no protected names, no audit. */
export function testPolicy(mounts: MountRule[], cwd: string): Policy {
  return {
    profile: { name: 'test', sources: ['test'], description: 'test' },
    filesystem: { mounts, protect: [], skipped: [] },
    network: { mode: 'none', allow: [], deny: [] },
    environment: { pass: [], set: {}, secrets: [] },
    process: { cwd, hostname: 'isolate' },
    limits: { killAfterMs: 2000, enforce: 'rlimit' },
    syscalls: { preset: 'default', deny: [], allow: [] },
    commands: { allow: [], deny: [] },
    audit: { enabled: false, log: undefined, required: false },
  };
}

/** A policy for the protected-name search: `root` writable, these names protected. */
export function writablePolicy(root: string, protect: string[]): Policy {
  const base = testPolicy([{ kind: 'write', path: root, requested: root, type: 'dir' }], root);
  return {
    ...base,
    profile: { ...base.profile, sources: ['builtin:test'] },
    filesystem: { ...base.filesystem, protect },
    audit: { enabled: true, log: undefined, required: false },
  };
}
