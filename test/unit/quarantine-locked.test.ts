/**
 * What the search after a run does with a name it cannot move aside at
 * all: on a full disk (ENOSPC) or in directories full to their last block
 * no rename on the way succeeds, and a planted `.git/config` stayed for
 * host git to obey. It is made unreadable in place (mode 000), so git fails
 * on it instead, and the warning says so. Runs in a worker of its own
 * (unit-isolated): it makes every rename fail.
 */
import { chmodSync, lstatSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, expect, it, vi } from 'vitest';
import { openDir } from '../../src/run/dir-handle.js';
import { moveAside } from '../../src/run/quarantine.js';

vi.mock('node:fs', async (importOriginal) => {
  const real = await importOriginal<typeof import('node:fs')>();
  const full = (): never => {
    throw Object.assign(new Error('ENOSPC: no space left on device, rename'), { code: 'ENOSPC' });
  };
  return { ...real, renameSync: full, default: { ...real, renameSync: full } };
});

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'isolate-locked-'));
  mkdirSync(join(dir, '.git'));
});
afterEach(() => {
  chmodSync(join(dir, '.git', 'config'), 0o644);
  rmSync(dir, { recursive: true, force: true });
});

it('a planted config that no rename can move is made unreadable in place, and the warning says so', () => {
  writeFileSync(join(dir, '.git', 'config'), '[core]\n\tfsmonitor = "touch /tmp/x"\n');
  const top = openDir(dir);
  const git = openDir(join(dir, '.git'));
  try {
    const moved = moveAside([{ dir: top, name: '.git' }, { dir: git, name: 'config' }], 'tag');
    expect(moved.result).toMatchObject({ movedTo: null, error: 'ENOSPC', reason: expect.stringMatching(/made unreadable in place \(mode 000\)/) });
    expect(lstatSync(join(dir, '.git', 'config')).mode & 0o7777).toBe(0);
  } finally {
    git.close();
    top.close();
  }
});

it('a link in its place is not followed: the file it names keeps its mode', () => {
  const target = join(dir, 'target');
  writeFileSync(target, 'x');
  symlinkSync(target, join(dir, '.git', 'config'));
  const git = openDir(join(dir, '.git'));
  try {
    const moved = moveAside([{ dir: git, name: 'config' }], 'tag');
    expect(moved.result?.reason ?? '').not.toMatch(/made unreadable/);
    expect(lstatSync(target).mode & 0o777).not.toBe(0);
  } finally {
    git.close();
  }
});
