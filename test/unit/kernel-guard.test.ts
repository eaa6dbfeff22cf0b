/**
 * The kernel guard's operations (backends/kernel-guard.ts) from the host's
 * facts: the named /proc paths, and, when the facts list them (isolate runs
 * as root), every other entry at the top of /proc kept read-only, since root
 * could chmod it for every /proc on the host, or hidden when only root may
 * read it. Everything synthetic.
 */
import { describe, expect, it } from 'vitest';
import { describeKernelGuard, isOtherProcEntry, kernelGuardOps, procReadOnly } from '../../src/backends/kernel-guard.js';
import { SYNTHETIC_KERNEL_PATHS } from '../golden/synthetic.js';

const ROOT_OWNED = [
  { path: '/proc/meminfo', dir: false },
  { path: '/proc/tty', dir: true },
  { path: '/proc/kpageflags', dir: false, ownerOnly: true },
  { path: '/proc/locks', dir: false },
];

describe('kernel guard', () => {
  it('keeps the other entries at the top of /proc read-only when the facts list them, after the named ones', () => {
    const ops = kernelGuardOps([...SYNTHETIC_KERNEL_PATHS, ...ROOT_OWNED], []);
    expect(ops.slice(-4)).toEqual([
      { kind: 'kernel-read-only', path: '/proc/meminfo', dir: false },
      { kind: 'kernel-read-only', path: '/proc/tty', dir: true },
      { kind: 'kernel-mask', path: '/proc/kpageflags', dir: false },
      // Bound from the host's /proc it would list the host's locks: hidden.
      { kind: 'kernel-mask', path: '/proc/locks', dir: false },
    ]);
    expect(ops.filter((op) => op.path === '/proc/sys')).toHaveLength(1);
  });

  it('without them (an ordinary user, who owns none), only the named paths', () => {
    const ops = kernelGuardOps(SYNTHETIC_KERNEL_PATHS, []);
    expect(ops.some((op) => isOtherProcEntry(op.path))).toBe(false);
  });

  it('names only entries directly in /proc that the lists do not', () => {
    expect(['/proc/meminfo', '/proc/tty'].every(isOtherProcEntry)).toBe(true);
    expect(['/proc/sys', '/proc/keys', '/proc/tty/drivers', '/sys/firmware', '/procx'].some(isOtherProcEntry)).toBe(false);
  });

  it('explain counts the read-only ones on a line of their own, and names the hidden ones', () => {
    const lines = describeKernelGuard(kernelGuardOps([...SYNTHETIC_KERNEL_PATHS, ...ROOT_OWNED], []));
    expect(lines.find((l) => l.startsWith('kernel: read-only whoever'))).not.toMatch(/meminfo/);
    expect(lines).toContainEqual(expect.stringMatching(/^kernel: read-only as root runs isolate: the 2 other /));
    expect(lines.find((l) => l.startsWith('kernel: hidden'))).toMatch(/\/proc\/kpageflags/);
  });

  it("the whole /proc is read-only only for root (the other entries listed) on the host's network", () => {
    expect(procReadOnly([...SYNTHETIC_KERNEL_PATHS, ...ROOT_OWNED], true)).toBe(true);
    expect(procReadOnly([...SYNTHETIC_KERNEL_PATHS, ...ROOT_OWNED], false)).toBe(false);
    expect(procReadOnly(SYNTHETIC_KERNEL_PATHS, true)).toBe(false);
  });
});
