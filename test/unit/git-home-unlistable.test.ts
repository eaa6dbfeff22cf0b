/** Host facts: a home directory the walk cannot list for a reason other than its permission bits (macOS privacy, a stale NFS handle). Temp dirs only. */
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { rule } from '../helpers/mount-rule.js';
import { homeRepos, type HomeRepos } from '../helpers/home-repos.js';

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
  let repo: HomeRepos['repo'];
  let cleanup: () => void;
  beforeEach(() => {
    ({ home, cwd, repo, cleanup } = homeRepos('isolate-git-home-unlistable-'));
  });
  afterEach(() => {
    failing.clear();
    cleanup();
  });

  it.each(['EPERM', 'EIO', 'ESTALE'])('stops no run when listing fails with %s (macOS keeps ~/Documents from a terminal without Full Disk Access), and finds a .git there by name', (code) => {
    const other = repo('src', 'other');
    const documents = repo('Documents');
    failing.set(join(home, 'Documents'), code);
    const found = homeGitEntries([rule('read', home), rule('write', cwd)], cwd, home).map((f) => f.path).sort();
    expect(found).toEqual([documents, other].sort());
  });
});
