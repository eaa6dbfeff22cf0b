/** Host facts: a home directory the walk cannot list for a reason other than its permission bits (macOS privacy, a stale NFS handle). Temp dirs only. */
import { mkdirSync, mkdtempSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { rule } from '../helpers/mount-rule.js';

/** Paths whose listing fails with the error code set for them. */
const failing = new Map<string, string>();

vi.mock('node:fs', async (importOriginal) => {
  const fs = await importOriginal<typeof import('node:fs')>();
  const readdirSync = ((path: Parameters<typeof fs.readdirSync>[0], options?: unknown) => {
    const code = failing.get(String(path));
    if (code !== undefined) throw Object.assign(new Error(`${code}: scandir '${String(path)}'`), { code });
    return (fs.readdirSync as (p: unknown, o?: unknown) => unknown)(path, options);
  }) as typeof fs.readdirSync;
  return { ...fs, default: { ...fs, readdirSync }, readdirSync };
});

const { homeGitEntries } = await import('../../src/host/git-home.js');

describe('homeGitEntries, a directory that cannot be listed', () => {
  let home: string;
  let cwd: string;
  const repo = (...parts: string[]): string => {
    mkdirSync(join(home, ...parts, '.git'), { recursive: true });
    return join(home, ...parts, '.git', 'config');
  };
  beforeEach(() => {
    home = realpathSync(mkdtempSync(join(tmpdir(), 'isolate-git-home-unlistable-')));
    cwd = join(home, 'src', 'project');
    repo('src', 'project');
  });
  afterEach(() => {
    failing.clear();
    rmSync(home, { recursive: true, force: true });
  });

  it.each(['EPERM', 'EIO', 'ESTALE'])('stops no run when listing fails with %s (macOS keeps ~/Documents from a terminal without Full Disk Access), and finds a .git there by name', (code) => {
    const other = repo('src', 'other');
    const documents = repo('Documents');
    failing.set(join(home, 'Documents'), code);
    const found = homeGitEntries([rule('read', home), rule('write', cwd)], cwd, home).map((f) => f.path).sort();
    expect(found).toEqual([documents, other].sort());
  });
});
