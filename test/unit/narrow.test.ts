/**
 * What a caller may change of a resolved policy for one run (profile/narrow.ts):
 * a working directory the sandbox shows, a shorter timeout, and nothing wider.
 */
import { mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { withTimeoutAtMost, withWorkdir } from '../../src/profile/narrow.js';
import type { Policy } from '../../src/profile/types.js';
import { writablePolicy } from '../helpers/scan-policy.js';
import { expectIsolateError } from './expect-error.js';

describe('a working directory for one run', () => {
  let dir: string;
  let policy: Policy;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'isolate-narrow-'));
    for (const d of ['project/sub', 'shown', 'hidden', 'outside', 'tmp']) mkdirSync(join(dir, d), { recursive: true });
    const base = writablePolicy(join(dir, 'project'), []);
    const rule = (kind: 'read' | 'deny' | 'tmpfs', name: string) => ({ kind, path: join(dir, name), requested: join(dir, name), type: 'dir' as const });
    policy = { ...base, filesystem: { ...base.filesystem, mounts: [...base.filesystem.mounts, rule('read', 'shown'), rule('deny', 'shown/hidden'), rule('tmpfs', 'tmp')] } };
    mkdirSync(join(dir, 'shown', 'hidden'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('moves the command into a readable or writable directory and changes nothing else', () => {
    const moved = withWorkdir(policy, join(dir, 'project', 'sub'));
    expect(moved.process.cwd).toBe(join(dir, 'project', 'sub'));
    expect({ ...moved, process: policy.process }).toEqual(policy);
    expect(withWorkdir(policy, join(dir, 'shown')).process.cwd).toBe(join(dir, 'shown'));
  });

  it('refuses a directory the sandbox does not show, hides, or replaces with an empty tmpfs', () => {
    expect(expectIsolateError(() => withWorkdir(policy, join(dir, 'outside'), 'cwd'), 'E_PATH_INVALID').message).toContain('not inside a readable or writable path');
    expect(expectIsolateError(() => withWorkdir(policy, join(dir, 'shown', 'hidden'), 'cwd'), 'E_PATH_INVALID').message).toContain('hidden by the profile');
    expect(expectIsolateError(() => withWorkdir(policy, join(dir, 'tmp'), 'cwd'), 'E_PATH_INVALID').message).toContain('empty tmpfs');
    expect(expectIsolateError(() => withWorkdir(policy, join(dir, 'missing'), 'cwd'), 'E_PATH_MISSING').message).toContain('does not exist');
  });

  it('follows a symbolic link to where it leads before deciding', () => {
    symlinkSync(join(dir, 'outside'), join(dir, 'project', 'link'));
    expect(expectIsolateError(() => withWorkdir(policy, join(dir, 'project', 'link')), 'E_PATH_INVALID').message).toContain('not inside');
  });
});

describe('a timeout for one run', () => {
  const policy = writablePolicy('/p', []);
  it('sets one where the profile has none, and shortens the profile\'s', () => {
    expect(withTimeoutAtMost(policy, 1500).limits.timeoutMs).toBe(1500);
    const limited = { ...policy, limits: { ...policy.limits, timeoutMs: 20_000 } };
    expect(withTimeoutAtMost(limited, 5000).limits.timeoutMs).toBe(5000);
    expect(withTimeoutAtMost(limited, 20_000).limits.timeoutMs).toBe(20_000);
  });

  it('refuses a longer one, and one that is not a positive duration', () => {
    const limited = { ...policy, limits: { ...policy.limits, timeoutMs: 20_000 } };
    expect(expectIsolateError(() => withTimeoutAtMost(limited, 20_001), 'E_LIMIT_INVALID').message).toContain("longer than the profile's timeout (20s)");
    expect(expectIsolateError(() => withTimeoutAtMost(policy, 0), 'E_LIMIT_INVALID').message).toContain('positive');
    expect(expectIsolateError(() => withTimeoutAtMost(policy, Number.NaN), 'E_LIMIT_INVALID').message).toContain('positive');
    // Longer than a timer can wait would fire at once: refused, even where the profile has no timeout.
    expect(expectIsolateError(() => withTimeoutAtMost(policy, 1e12), 'E_LIMIT_INVALID').message).toContain('at most 596h');
  });
});
