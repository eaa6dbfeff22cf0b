/** A policy for the protected-name search: `root` writable, these names protected. */
import type { Policy } from '../../src/profile/types.js';

export function writablePolicy(root: string, protect: string[]): Policy {
  return {
    profile: { name: 'test', sources: ['builtin:test'], description: 'test' },
    filesystem: { mounts: [{ kind: 'write', path: root, requested: root, type: 'dir' }], protect, skipped: [] },
    network: { mode: 'none', allow: [], deny: [] },
    environment: { pass: [], set: {}, secrets: [] },
    process: { cwd: root, hostname: 'isolate' },
    limits: { killAfterMs: 2000, enforce: 'rlimit' },
    syscalls: { preset: 'default', deny: [], allow: [] },
    commands: { allow: [], deny: [] },
    audit: { enabled: true, log: undefined, required: false },
  };
}
