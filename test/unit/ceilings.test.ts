import { describe, expect, it } from 'vitest';
import { resolveLimits } from '../../src/profile/resolve.js';
import { limitViews, tmpfsSize } from '../../src/backends/ceilings.js';
import type { HostFacts } from '../../src/backends/types.js';
import { expectIsolateError } from './expect-error.js';

const G = 1024 ** 3;
const ceilings = { tmpfs: '2G', processes: 4096, memory: '8G' };

describe('ceilings: resolved beside the limits', () => {
  it('a limit for the same resource replaces its ceiling; "unlimited" removes both', () => {
    expect(resolveLimits({ ceilings }).ceilings).toEqual({ tmpfsBytes: 2 * G, processes: 4096, memoryBytes: 8 * G });
    const raised = resolveLimits({ ceilings, tmpfs: '4G', processes: 100 });
    expect(raised.tmpfsBytes).toBe(4 * G);
    expect(raised.processes).toBe(100);
    expect(raised.ceilings).toEqual({ memoryBytes: 8 * G });
    const removed = resolveLimits({ ceilings, tmpfs: 'unlimited', processes: 'unlimited', memory: 'unlimited' });
    expect(removed).toEqual({ killAfterMs: 2000, enforce: 'rlimit' });
    expect(resolveLimits({ ceilings: { ...ceilings, memory: 'unlimited' } }).ceilings).toEqual({ tmpfsBytes: 2 * G, processes: 4096 });
  });

  it('a bad ceiling is E_LIMIT_INVALID naming its key', () => {
    const err = expectIsolateError(() => resolveLimits({ ceilings: { tmpfs: 'lots' } }), 'E_LIMIT_INVALID');
    expect(err.message).toContain('limits.ceilings.tmpfs');
  });
});

describe('ceilings: what each host applies', () => {
  const host = (uid: number, cgroup: boolean): HostFacts =>
    ({
      uid,
      cgroup: cgroup ? { version: 2, parents: { memory: '/sys/fs/cgroup/x', pids: '/sys/fs/cgroup/x' }, name: 'isolate-1-a' } : { version: undefined, unusable: { reason: 'no controllers', fix: 'x' }, name: 'isolate-1-a' },
    }) as unknown as HostFacts;
  const limits = resolveLimits({ ceilings });

  it('with a cgroup: memory and processes for the whole sandbox, RLIMIT_NPROC too when not root', () => {
    const v = limitViews(limits, host(1000, true));
    expect(v.cgroup).toMatchObject({ memoryBytes: 8 * G, processes: 4096 });
    expect(v.rlimit.processes).toBe(4096);
    expect(v.rlimit.memoryBytes).toBeUndefined(); // never RLIMIT_DATA for a ceiling
    expect(v.notes).toEqual([]);
    expect(limitViews(limits, host(0, true)).rlimit.processes).toBeUndefined(); // root: the kernel exempts uid 0 from RLIMIT_NPROC
  });

  it('without one: RLIMIT_NPROC when not root, and a note for what is not applied (never a refusal)', () => {
    const user = limitViews(limits, host(1000, false));
    expect(user.cgroup.memoryBytes).toBeUndefined();
    expect(user.rlimit.processes).toBe(4096);
    expect(user.notes).toEqual(['memory ceiling 8G: not applied (no controllers)']);
    const root = limitViews(limits, host(0, false));
    expect(root.notes).toHaveLength(2);
    expect(root.notes[1]).toContain('process ceiling 4096: not applied');
  });

  it('the tmpfs size: the limit, else the ceiling', () => {
    expect(tmpfsSize(limits)).toBe(2 * G);
    expect(tmpfsSize(resolveLimits({ ceilings, tmpfs: '1G' }))).toBe(G);
    expect(tmpfsSize(resolveLimits({}))).toBeUndefined();
  });
});
