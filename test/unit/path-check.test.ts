/**
 * checkSandboxPaths: run/'s check, after nsjail has mounted the pinned
 * directories and protected files by path, that each is the very file or
 * directory run/ opened. Here the "sandbox root" is a plain directory.
 */
import { closeSync, mkdirSync, mkdtempSync, realpathSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openPathFds } from '../../src/run/execute.js';
import { checkSandboxPaths } from '../../src/run/path-check.js';

describe('checkSandboxPaths', () => {
  let root: string;
  let handles: Map<number, number>;
  const entries = [
    { fd: 5, path: '/project/.git' },
    { fd: 6, path: '/project/.git/config' },
  ];
  beforeEach(() => {
    root = realpathSync(mkdtempSync(join(tmpdir(), 'isolate-pathcheck-')));
    mkdirSync(join(root, 'project', '.git'), { recursive: true });
    writeFileSync(join(root, 'project', '.git', 'config'), '[core]\n');
    mkdirSync(join(root, 'elsewhere'));
    writeFileSync(join(root, 'elsewhere', 'config'), 'other\n');
    handles = openPathFds(entries.map((e) => ({ fd: e.fd, path: join(root, e.path) })));
  });
  afterEach(() => {
    for (const h of handles.values()) closeSync(h);
    rmSync(root, { recursive: true, force: true });
  });

  it('accepts paths that are what was opened', () => {
    expect(checkSandboxPaths(root, entries, handles)).toBeUndefined();
  });

  it('refuses a directory swapped for a symlink after it was opened, even one to the original', () => {
    renameSync(join(root, 'project', '.git'), join(root, 'project', '.git-real'));
    symlinkSync(join(root, 'project', '.git-real'), join(root, 'project', '.git'));
    const e = checkSandboxPaths(root, entries, handles);
    expect(e?.code).toBe('E_SANDBOX_SETUP');
    expect(e?.message).toBe('/project/.git changed while the sandbox was being set up; the command was not run');
    expect(e?.detail).toBe('inside the sandbox /project/.git is a symbolic link');
  });

  it('refuses another directory or file at the path (another inode)', () => {
    renameSync(join(root, 'project', '.git'), join(root, 'project', '.git-real'));
    mkdirSync(join(root, 'project', '.git'));
    expect(checkSandboxPaths(root, entries, handles)?.message).toMatch(/^\/project\/\.git changed/);
    rmSync(join(root, 'project', '.git'), { recursive: true });
    renameSync(join(root, 'project', '.git-real'), join(root, 'project', '.git'));
    writeFileSync(join(root, 'project', '.git', 'config.new'), 'x\n');
    renameSync(join(root, 'project', '.git', 'config.new'), join(root, 'project', '.git', 'config'));
    expect(checkSandboxPaths(root, entries, handles)?.message).toMatch(/^\/project\/\.git\/config changed/);
  });

  it('refuses a path that is gone, or a descriptor run/ does not hold', () => {
    rmSync(join(root, 'project', '.git', 'config'));
    expect(checkSandboxPaths(root, entries, handles)?.detail).toBe('inside the sandbox /project/.git/config does not exist');
    expect(checkSandboxPaths(root, [{ fd: 9, path: '/project/.git' }], handles)?.detail).toBe('isolate did not open it');
  });
});
