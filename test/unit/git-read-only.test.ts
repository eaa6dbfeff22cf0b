/** Host facts: the git repositories the sandbox sees read-only in the project (host/git-read-only.ts). Temp dirs only. */
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readOnlyGitEntries } from '../../src/host/git-read-only.js';
import { rule } from '../helpers/mount-rule.js';

describe('readOnlyGitEntries', () => {
  let dir: string;
  beforeEach(() => {
    dir = realpathSync(mkdtempSync(join(tmpdir(), 'isolate-git-read-only-')));
    // A checkout, a repository checked out inside it, a submodule (a .git file), and one under a hidden path.
    mkdirSync(join(dir, '.git'));
    mkdirSync(join(dir, 'tools', 'deep', '.git'), { recursive: true });
    mkdirSync(join(dir, 'sub'));
    writeFileSync(join(dir, 'sub', '.git'), 'gitdir: ../.git/modules/sub\n');
    mkdirSync(join(dir, 'secret', '.git'), { recursive: true });
  });
  // A tree deeper than PATH_MAX needs removing from the inside (rm -rf works by descriptors).
  afterEach(() => {
    spawnSync('rm', ['-rf', dir]);
    rmSync(dir, { recursive: true, force: true });
  });

  const paths = (rules: Parameters<typeof readOnlyGitEntries>[0], cwd = dir): string[] => readOnlyGitEntries(rules, cwd).map((f) => f.path).sort();

  it('finds every .git in a read-only working directory, at any depth: a directory by its config, a file by itself', () => {
    expect(paths([rule('read', dir)])).toEqual([join(dir, '.git', 'config'), join(dir, 'sub', '.git'), join(dir, 'secret', '.git', 'config'), join(dir, 'tools', 'deep', '.git', 'config')].sort());
  });

  // Root lists every directory; only an ordinary user meets one it may enter but not list.
  const WHY_ROOT = 'a directory one may enter but not list: only an ordinary user meets one (root lists every directory); run the unit tests as one';
  if (process.getuid?.() === 0) console.warn(WHY_ROOT);
  it.skipIf(process.getuid?.() === 0)('looks .git up by name in a directory the user (and the sandbox) may enter but not list', () => {
    const closed = join(dir, 'closed');
    mkdirSync(join(closed, '.git'), { recursive: true });
    chmodSync(closed, 0o311);
    try {
      expect(paths([rule('read', dir)])).toContain(join(closed, '.git', 'config'));
    } finally {
      chmodSync(closed, 0o755);
    }
  });

  it('searches nothing in a writable working directory (the protected-name search does), but a read-only path inside it', () => {
    expect(paths([rule('write', dir)])).toEqual([]);
    expect(paths([rule('write', dir), rule('read', join(dir, 'tools'))])).toEqual([join(dir, 'tools', 'deep', '.git', 'config')]);
  });

  it('does not enter a hidden or writable path inside, nor a directory through a symbolic link', () => {
    symlinkSync(join(dir, 'tools'), join(dir, 'link'));
    expect(paths([rule('read', dir), rule('deny', join(dir, 'secret')), rule('write', join(dir, 'tools'))])).toEqual([join(dir, '.git', 'config'), join(dir, 'sub', '.git')].sort());
  });

  it('refuses a directory too deep to search (a path longer than PATH_MAX), naming it and how to hide it; hidden, it is not searched', () => {
    // 20 levels of 250 characters, made one relative step at a time (no path that long can be named whole).
    const level = 'd'.repeat(250);
    expect(spawnSync('sh', ['-c', 'for i in $(seq 20); do mkdir "$1" && cd -P "$1" || exit 1; done', 'sh', level], { cwd: join(dir, 'tools') }).status).toBe(0);
    expect(() => readOnlyGitEntries([rule('read', dir)], dir)).toThrow(/cannot search .*tools.*d{250}.* too deep to search/);
    expect(paths([rule('read', dir), rule('deny', join(dir, 'tools'))])).toEqual([join(dir, '.git', 'config'), join(dir, 'sub', '.git'), join(dir, 'secret', '.git', 'config')].sort());
  });

  it('finds a read-only path inside a writable one inside the read-only working directory', () => {
    mkdirSync(join(dir, 'tools', 'vendor', '.git'), { recursive: true });
    expect(paths([rule('read', dir), rule('write', join(dir, 'tools')), rule('read', join(dir, 'tools', 'vendor'))])).toEqual(
      [join(dir, '.git', 'config'), join(dir, 'sub', '.git'), join(dir, 'secret', '.git', 'config'), join(dir, 'tools', 'vendor', '.git', 'config')].sort(),
    );
  });

  it('keeps listings between runs and never serves a stale one: a .git made deep in a settled tree is found on the next run', () => {
    const cacheDir = join(dir, 'cache');
    mkdirSync(cacheDir, { mode: 0o700 });
    // A clock far ahead: every directory counts as settled, so listings are kept and reused.
    const later = () => ({ bootId: 'boot', wallMs: Date.now() + 60_000, offsetMs: 0 });
    const rules = [rule('read', dir), rule('deny', cacheDir)];
    const find = (): string[] => readOnlyGitEntries(rules, dir, { cacheDir, clock: later }).map((f) => f.path).sort();
    const first = find();
    expect(first).toContain(join(dir, 'tools', 'deep', '.git', 'config'));
    expect(readdirSync(cacheDir).filter((n) => n.endsWith('.bin'))).toHaveLength(1);
    expect(find()).toEqual(first);
    mkdirSync(join(dir, 'tools', 'deep', 'deeper', '.git'), { recursive: true });
    writeFileSync(join(dir, 'secret', 'x'), ''); // a change elsewhere too
    expect(find()).toEqual([...first, join(dir, 'tools', 'deep', 'deeper', '.git', 'config')].sort());
    rmSync(join(dir, 'tools', 'deep', '.git'), { recursive: true });
    expect(find()).not.toContain(join(dir, 'tools', 'deep', '.git', 'config'));
  });

  it('walks nothing outside the working directory: a read-only path above it is the system\'s or the home directory', () => {
    mkdirSync(join(dir, 'other', '.git'), { recursive: true });
    mkdirSync(join(dir, 'plain', 'work'), { recursive: true });
    const rules = [rule('read', dir), rule('write', join(dir, 'plain', 'work'))];
    expect(paths(rules, join(dir, 'plain', 'work'))).toEqual([join(dir, '.git', 'config')]);
  });

  it('reports the repository above a working directory in a subdirectory of a checkout (dev: the home read-only), and not when hidden', () => {
    // The checkout's own .git, and a submodule's (a .git file) when the working directory is inside the submodule.
    const cwd = join(dir, 'sub', 'src');
    mkdirSync(cwd);
    expect(paths([rule('read', dir), rule('write', cwd)], cwd)).toEqual([join(dir, '.git', 'config'), join(dir, 'sub', '.git')].sort());
    expect(paths([rule('read', dir), rule('write', cwd), rule('deny', join(dir, '.git'))], cwd)).toEqual([join(dir, 'sub', '.git')]);
    expect(paths([rule('write', cwd)], cwd)).toEqual([]);
  });
});
