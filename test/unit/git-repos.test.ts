/**
 * Which files a repository's configuration makes host git run or read
 * (host/git-repos.ts), on real files: where relative paths start, a
 * worktree's `.git` file and its common directory, includes followed (and
 * a loop of them ending), a FIFO never read.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { gitTargets } from '../../src/host/git-repos.js';
import { gitFileTarget } from '../../src/host/git-pointers.js';
import { GitConfigReads } from '../../src/host/git-config-reads.js';
import { gitPrefixes, hostGitPlaces, type GitPlaces } from '../../src/host/git-paths.js';
import { userHome } from '../../src/host/user-homes.js';
import { userInfo } from 'node:os';
import type { ProtectFact } from '../../src/backends/types.js';

let root: string;
beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'isolate-it-gitrepos-'));
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

function write(rel: string, text: string): void {
  mkdirSync(join(root, rel, '..'), { recursive: true });
  writeFileSync(join(root, rel), text);
}
const fact = (rel: string, state: ProtectFact['state'] = 'file'): ProtectFact => ({ path: join(root, rel), state, pins: [] });
/** An environment in which git's own configuration is only what the test writes. */
const env = (over: Record<string, string> = {}): Record<string, string> => ({ GIT_CONFIG_SYSTEM: join(root, 'no-system-config'), ...over });
/** A host where no user's home and no git's prefix can be told. */
const nowhere: GitPlaces = { prefixes: [], userHome: () => undefined };
const rel = (paths: string[]): string[] => paths.map((p) => (p.startsWith(`${root}/`) ? p.slice(root.length + 1) : p)).sort();

describe('gitTargets', () => {
  it('a repository seen through any protected name in its .git: hooks relative to the worktree, includes to the file', () => {
    write('app/.git/config', '[core]\n\thooksPath = tools/hooks\n[include]\n\tpath = ../../shared.cfg\n[includeIf "gitdir:x"]\n\tpath = ~/user.cfg\n');
    write('shared.cfg', '[include]\n\tpath = sub/more.cfg\n[core]\n\thooksPath = /abs/hooks\n');
    write('sub/more.cfg', '[include]\n\tpath = ../shared.cfg\n'); // a loop: followed once
    const t = gitTargets([fact('app/.git/hooks', 'missing')], env({ HOME: join(root, 'home') }));
    expect(rel(t.hooks)).toEqual(['/abs/hooks', 'app/tools/hooks']);
    expect(rel(t.include)).toEqual(['home/user.cfg', 'shared.cfg', 'sub/more.cfg']);
  });

  it('a path with a name before `..` (sub/../inc.cfg) also names that directory: the kernel follows it, and a run could make it a link', () => {
    write('app/.git/config', '[include]\n\tpath = ../sub/../inc.cfg\n[core]\n\thooksPath = tools/x/../../hooks\n');
    write('app/sub/keep', '');
    const t = gitTargets([fact('app/.git/config')], env(), new GitConfigReads(), nowhere);
    expect(rel(t.include)).toEqual(['app/inc.cfg']);
    expect(rel(t.hooks)).toEqual(['app/hooks']);
    expect(rel(t.anchors)).toEqual(['app/sub', 'app/tools', 'app/tools/x']);
    // A `..` that only leaves the directory the path starts in names none.
    write('app/.git/config', '[include]\n\tpath = ../../shared.cfg\n');
    expect(gitTargets([fact('app/.git/config')], env(), new GitConfigReads(), nowhere).anchors).toEqual([]);
  });

  it('a worktree\'s .git file: its git directory\'s config and config.worktree, and the common directory\'s config', () => {
    write('main/.git/config', '[core]\n\thooksPath = common-hooks\n');
    write('main/.git/worktrees/wt/commondir', '../..\n');
    write('main/.git/worktrees/wt/config.worktree', '[core]\n\thooksPath = wt-hooks\n');
    write('wt/.git', `gitdir: ${join(root, 'main/.git/worktrees/wt')}\n`);
    expect(rel(gitTargets([fact('wt/.git')], env()).hooks)).toEqual(['wt/common-hooks', 'wt/wt-hooks']);
  });

  it('a bare repository\'s relative hooks path starts in its git directory; core.worktree moves the worktree', () => {
    write('b/.git/config', '[core]\n\tbare = true\n\thooksPath = h\n\tworktree = ../../elsewhere\n');
    expect(rel(gitTargets([fact('b/.git/config')], env()).hooks)).toEqual(['b/.git/h', 'b/h', 'elsewhere/h']);
  });

  it('git\'s own configuration for the user: its includes, its hooks path (a relative one in each repository)', () => {
    write('home/.gitconfig', '[include]\n\tpath = ~/.gitconfig.local\n[core]\n\thooksPath = .hooks\n');
    write('home/.gitconfig.local', '[core]\n\thooksPath = ~/git-hooks\n');
    write('xdg/git/config', '[include]\n\tpath = extra\n');
    write('sys', '[include]\n\tpath = /etc/elsewhere\n');
    write('app/.git/config', '');
    const t = gitTargets([fact('app/.git/config')], env({ HOME: join(root, 'home'), XDG_CONFIG_HOME: join(root, 'xdg'), GIT_CONFIG_SYSTEM: join(root, 'sys') }));
    expect(rel(t.include)).toEqual(['/etc/elsewhere', 'home/.gitconfig.local', 'xdg/git/extra']);
    expect(rel(t.hooks)).toEqual(['app/.hooks', 'home/git-hooks']);
  });

  it('nothing from a missing .git, a .git file without a pointer, or paths git cannot resolve', () => {
    write('x/.git', 'not a pointer\n');
    write('y/.git/config', '[core]\n\thooksPath = ~other/hooks\n[include]\n\tpath = %(prefix)/etc/x\n');
    const t = gitTargets([fact('.git', 'missing'), fact('x/.git'), fact('y/.git/config')], env(), new GitConfigReads(), nowhere);
    expect({ hooks: t.hooks, include: t.include }).toEqual({ hooks: [], include: [] });
    expect(rel(t.configs.map((c) => c.path))).toEqual(['y/.git/config']);
  });

  it('a FIFO where a configuration file should be is not read (and does not block)', () => {
    expect(spawnSync('mkfifo', [join(root, 'fifo')]).status).toBe(0);
    expect(gitFileTarget(join(root, 'fifo'))).toBeUndefined();
    write('z/.git/config', '[include]\n\tpath = ../../fifo\n');
    const t = gitTargets([fact('z/.git/config')], env());
    expect(rel(t.include)).toEqual(['fifo']);
    expect(rel(t.configs.map((c) => c.path))).toEqual(['z/.git/config']);
  });

  it('an include written ~user/ is that user\'s home; one written %(prefix)/ is below each prefix a git on this host has', () => {
    write('alice/inc.cfg', '[http]\n\textraheader = secret\n');
    write('pfx/share/git.cfg', '[http]\n\textraheader = secret\n');
    write('app/.git/config', '[include]\n\tpath = ~alice/inc.cfg\n[includeIf "gitdir:/x/"]\n\tpath = %(prefix)/share/git.cfg\n');
    const places: GitPlaces = { prefixes: [join(root, 'pfx'), join(root, 'other')], userHome: (name) => (name === 'alice' ? join(root, 'alice') : undefined) };
    const t = gitTargets([fact('app/.git/config')], env(), new GitConfigReads(), places);
    expect(rel(t.include)).toEqual(['alice/inc.cfg', 'other/share/git.cfg', 'pfx/share/git.cfg']);
    expect(rel(t.configs.map((c) => c.path))).toEqual(['alice/inc.cfg', 'app/.git/config', 'pfx/share/git.cfg']);
  });

  it('an include whose file cannot be told (~user/ of no known user, %(prefix)/ with no git found) is noted on the file that names it', () => {
    write('app/.git/config', '[include]\n\tpath = ~nobody-here/inc.cfg\n\tpath = %(prefix)/x\n\tpath = plain.cfg\n');
    const t = gitTargets([fact('app/.git/config')], env(), new GitConfigReads(), nowhere);
    expect(t.configs.find((c) => c.path === join(root, 'app/.git/config'))?.unresolved).toEqual(['~nobody-here/inc.cfg', '%(prefix)/x']);
  });

  it('finds ~user/ and %(prefix)/ where the git on this host finds them (real git as the oracle)', () => {
    const asGit = (value: string): string => spawnSync('git', ['-c', `isolate.p=${value}`, 'config', '--type=path', '--get', 'isolate.p'], { encoding: 'utf8', env: { PATH: process.env['PATH'] } }).stdout.trim();
    const prefix = asGit('%(prefix)/');
    expect(prefix, 'git expands %(prefix)/').not.toBe('');
    expect(gitPrefixes({ PATH: process.env['PATH'] ?? '' }).map((p) => `${p}/`)).toContain(prefix);
    const me = userInfo().username;
    expect(userHome(me)).toBe(asGit(`~${me}/`).replace(/\/$/, ''));
    expect(userHome('no-such-user-here')).toBeUndefined();
  });

  it('looks up each user\'s home once, and no more than a few users in one search (a repository may name thousands)', () => {
    const places = hostGitPlaces({});
    const me = userInfo().username;
    expect(places.userHome(me)).toBe(userHome(me));
    for (let i = 0; i < 40; i++) places.userHome(`no-such-user-${i}`);
    const start = Date.now();
    for (let i = 40; i < 1000; i++) expect(places.userHome(`no-such-user-${i}`)).toBeUndefined();
    expect(Date.now() - start).toBeLessThan(500);
  });
});
