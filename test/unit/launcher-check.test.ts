import { mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { findBwrap } from '../../src/host/facts.js';
import { checkLauncher } from '../../src/host/launcher-check.js';
import { isWritable } from '../../src/profile/mount-rules.js';
import type { Policy } from '../../src/profile/types.js';
import { rule } from '../helpers/mount-rule.js';
import { expectIsolateError } from './expect-error.js';

/** The project /synthetic-rt/p is writable, /synthetic-rt/p/ro inside it read-only, /synthetic-rt/opt readable. */
const policy = { filesystem: { mounts: [rule('write', '/synthetic-rt/p'), rule('read', '/synthetic-rt/p/ro'), rule('read', '/synthetic-rt/opt')] } } as unknown as Pick<Policy, 'filesystem'>;
/** What the policy's sandbox can write. */
const writable = (p: Pick<Policy, 'filesystem'>) => (path: string): boolean => isWritable(p.filesystem.mounts, path);

describe('the launcher isolate starts on the host (launcher-check.ts)', () => {
  it('is refused inside a path the sandbox can write, whichever launcher', () => {
    for (const name of ['bwrap', 'nsjail']) {
      const e = expectIsolateError(() => checkLauncher(writable(policy), name, `/synthetic-rt/p/bin/${name}`), 'E_BACKEND_UNSUPPORTED');
      expect(e.message).toBe(`${name} at /synthetic-rt/p/bin/${name} is inside a path the sandbox can write: the command of a run could replace the program isolate starts on the host`);
      expect(e.fix).toContain(`ISOLATE_${name.toUpperCase()}`);
    }
  });

  it('is accepted where the sandbox only reads, or sees nothing, and when there is none', () => {
    expect(() => checkLauncher(writable(policy), 'nsjail', '/synthetic-rt/opt/nsjail')).not.toThrow();
    expect(() => checkLauncher(writable(policy), 'nsjail', '/synthetic-rt/p/ro/nsjail')).not.toThrow();
    expect(() => checkLauncher(writable(policy), 'bwrap', '/usr/bin/bwrap')).not.toThrow();
    expect(() => checkLauncher(writable(policy), 'bwrap', undefined)).not.toThrow();
  });

  it('is refused when a link on the way to it is inside a path the sandbox can write', () => {
    const dir = mkdtempSync(join(tmpdir(), 'isolate-launcher-'));
    try {
      // dir/bin/bwrap -> dir/p/current/bwrap, dir/p/current -> dir/opt: the command could point current at its own bwrap.
      for (const d of ['bin', 'p', 'opt']) mkdirSync(join(dir, d));
      writeFileSync(join(dir, 'opt', 'bwrap'), '', { mode: 0o755 });
      symlinkSync(join(dir, 'opt'), join(dir, 'p', 'current'));
      symlinkSync(join(dir, 'p', 'current', 'bwrap'), join(dir, 'bin', 'bwrap'));
      const open = { filesystem: { mounts: [rule('write', join(dir, 'p')), rule('read', join(dir, 'opt')), rule('read', join(dir, 'bin'))] } } as unknown as Pick<Policy, 'filesystem'>;
      const e = expectIsolateError(() => checkLauncher(writable(open), 'bwrap', join(dir, 'bin', 'bwrap')), 'E_BACKEND_UNSUPPORTED');
      expect(e.message).toContain(join(dir, 'p', 'current'));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('named by a relative ISOLATE_BWRAP is the file from where isolate runs, by its absolute path: the launcher starts in /, where the name would mean another', () => {
    const dir = realpathSync(mkdtempSync(join(tmpdir(), 'isolate-launcher-')));
    try {
      writeFileSync(join(dir, 'bwrap'), '', { mode: 0o755 });
      expect(findBwrap({ ISOLATE_BWRAP: relative(process.cwd(), join(dir, 'bwrap')) })).toBe(join(dir, 'bwrap'));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
