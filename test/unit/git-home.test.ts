/** Host facts: the user's other repositories in a read-only home (host/git-home.ts), and submodules' configs (git-repos.ts moduleConfigs). Temp dirs only. */
import { mkdirSync, mkdtempSync, readdirSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { HOME_GIT_DEPTH, homeGitEntries } from '../../src/host/git-home.js';
import { moduleConfigs, worktreeConfigs } from '../../src/host/git-repos.js';
import { rule } from '../helpers/mount-rule.js';
import { homeRepos, type HomeRepos } from '../helpers/home-repos.js';

describe('homeGitEntries', () => {
  let home: string;
  let cwd: string;
  let repo: HomeRepos['repo'];
  let cleanup: () => void;
  beforeEach(() => {
    ({ home, cwd, repo, cleanup } = homeRepos('isolate-git-home-'));
  });
  afterEach(() => cleanup());

  const dev = () => [rule('read', home), rule('write', cwd)];
  const paths = (rules = dev(), at = cwd): string[] => homeGitEntries(rules, at, home).map((f) => f.path).sort();

  it('finds the other repositories of a read-only home, five levels down (a Go workspace), but not the working directory\'s', () => {
    const other = repo('src', 'other');
    const go = repo('go', 'src', 'github.com', 'org', 'repo');
    const own = repo();
    expect(HOME_GIT_DEPTH).toBe(5);
    expect(paths()).toEqual([own, other, go].sort());
  });

  it('does not go deeper than five levels, into hidden directories, into node_modules, or below a repository it found (but below a home that is one)', () => {
    repo('a', 'b', 'c', 'd', 'e', 'f');
    repo('.config', 'nvim');
    repo('tools', 'node_modules', 'pkg');
    const other = repo('src', 'other');
    repo('src', 'other', 'vendor', 'nested');
    expect(paths()).toEqual([other]);
    const dotfiles = repo();
    expect(paths()).toEqual([dotfiles, other].sort());
  });

  it('finds a repository that is a hidden directory itself (~/.dotfiles, a bare ~/.cfg, ~/src/org/.github), but nothing below one, nor a denied one', () => {
    const dotfiles = repo('.dotfiles');
    const github = repo('src', 'org', '.github');
    const bare = join(home, '.cfg');
    for (const d of ['objects', 'refs']) mkdirSync(join(bare, d), { recursive: true });
    writeFileSync(join(bare, 'HEAD'), 'ref: refs/heads/main\n');
    writeFileSync(join(bare, 'config'), '[core]\n\tbare = true\n');
    repo('.config', 'nvim');
    repo('.ssh');
    mkdirSync(join(home, '.cache', 'objects'), { recursive: true });
    writeFileSync(join(home, '.cache', 'config'), 'x\n');
    expect(paths([...dev(), rule('deny', join(home, '.ssh'))])).toEqual([dotfiles, join(bare, 'config'), github].sort());
  });

  it('does not walk a hidden or writable path, nor through a symbolic link; a .git file (a linked worktree) is reported by itself', () => {
    repo('secret', 'repo');
    mkdirSync(join(home, 'wt'));
    writeFileSync(join(home, 'wt', '.git'), 'gitdir: ../src/other/.git/worktrees/wt\n');
    symlinkSync(join(home, 'secret'), join(home, 'link'));
    expect(paths([...dev(), rule('deny', join(home, 'secret'))])).toEqual([join(home, 'wt', '.git')]);
  });

  it('walks nothing when the home is hidden, is the working directory, or holds none of it; a read-only path a rule shows in it is walked', () => {
    const other = repo('src', 'other');
    expect(paths([rule('write', cwd)])).toEqual([]);
    expect(paths([rule('read', home)], home)).toEqual([]);
    expect(paths([rule('write', cwd), rule('read', join(home, 'src'))])).toEqual([other]);
    expect(homeGitEntries([rule('read', '/')], '/', home)).toEqual([]);
  });

  it('finds a bare repository (git clone --bare, --mirror: ~/mirrors/other.git) by its config, and does not walk below it', () => {
    const bare = join(home, 'mirrors', 'other.git');
    for (const d of ['objects', 'refs', join('objects', 'pack')]) mkdirSync(join(bare, d), { recursive: true });
    writeFileSync(join(bare, 'HEAD'), 'ref: refs/heads/main\n');
    writeFileSync(join(bare, 'config'), '[core]\n\tbare = true\n');
    repo('mirrors', 'other.git', 'objects', 'nested');
    const notRepo = join(home, 'notes');
    mkdirSync(join(notRepo, 'objects'), { recursive: true });
    writeFileSync(join(notRepo, 'config'), 'x\n');
    expect(paths()).toEqual([join(bare, 'config')]);
  });

  it('does not enter a directory whose name is not UTF-8 (an old archive unpacked in Downloads), and refuses no run for it', () => {
    const odd = Buffer.concat([Buffer.from(join(home, 'Downloads') + '/'), Buffer.from([0x41, 0xe9, 0x42])]);
    mkdirSync(odd, { recursive: true });
    const other = repo('src', 'other');
    expect(paths()).toEqual([other]);
  });

  it('keeps listings between runs and never serves a stale one: a repository cloned since the last run is found', () => {
    const cacheDir = join(home, '.cache-dir');
    mkdirSync(cacheDir, { mode: 0o700 });
    const later = () => ({ bootId: 'boot', wallMs: Date.now() + 60_000, offsetMs: 0 });
    const find = (): string[] => homeGitEntries(dev(), cwd, home, { cacheDir, clock: later }).map((f) => f.path).sort();
    const first = find();
    expect(readdirSync(cacheDir).filter((n) => n.endsWith('.bin'))).toHaveLength(1);
    expect(find()).toEqual(first);
    const cloned = repo('work', 'team', 'service');
    expect(find()).toEqual([...first, cloned].sort());
  });
});

describe('moduleConfigs', () => {
  let gitDir: string;
  beforeEach(() => {
    gitDir = realpathSync(mkdtempSync(join(tmpdir(), 'isolate-git-modules-')));
  });
  afterEach(() => rmSync(gitDir, { recursive: true, force: true }));

  const config = (...parts: string[]): string => {
    mkdirSync(join(gitDir, ...parts), { recursive: true });
    writeFileSync(join(gitDir, ...parts, 'config'), '[core]\n');
    return join(gitDir, ...parts, 'config');
  };

  it('lists every submodule\'s config, checked out or not: names with a slash, and submodules of submodules', () => {
    const want = [config('modules', 'lib'), config('modules', 'libs', 'ui'), config('modules', 'lib', 'modules', 'inner')];
    mkdirSync(join(gitDir, 'modules', 'empty'));
    expect(moduleConfigs(gitDir).sort()).toEqual(want.sort());
  });

  it('follows no symbolic link below modules/, and finds none without modules/', () => {
    const elsewhere = mkdtempSync(join(tmpdir(), 'isolate-git-modules-elsewhere-'));
    try {
      mkdirSync(join(elsewhere, 'x'));
      writeFileSync(join(elsewhere, 'x', 'config'), '');
      expect(moduleConfigs(gitDir)).toEqual([]);
      mkdirSync(join(gitDir, 'modules'));
      symlinkSync(join(elsewhere, 'x'), join(gitDir, 'modules', 'link'));
      expect(moduleConfigs(gitDir)).toEqual([]);
    } finally {
      rmSync(elsewhere, { recursive: true, force: true });
    }
  });
});

describe('worktreeConfigs', () => {
  let gitDir: string;
  beforeEach(() => {
    gitDir = realpathSync(mkdtempSync(join(tmpdir(), 'isolate-git-worktrees-')));
  });
  afterEach(() => rmSync(gitDir, { recursive: true, force: true }));

  it('names each linked worktree\'s config.worktree (a worktree elsewhere, or gone and not pruned); none without worktrees/', () => {
    expect(worktreeConfigs(gitDir)).toEqual([]);
    for (const name of ['feature', 'hotfix']) mkdirSync(join(gitDir, 'worktrees', name), { recursive: true });
    writeFileSync(join(gitDir, 'worktrees', 'stray'), 'x\n');
    expect(worktreeConfigs(gitDir).sort()).toEqual([join(gitDir, 'worktrees', 'feature', 'config.worktree'), join(gitDir, 'worktrees', 'hotfix', 'config.worktree')]);
  });
});
