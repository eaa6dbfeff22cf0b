/**
 * The protected-name search and the git directories not named `.git`: the one
 * a `.git` file or a `commondir` points to, and a bare repository, get the
 * names under `.git/` as a `.git` does (git-dirs.ts), with their pointers
 * resolved as git resolves them.
 */
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { scanProtected } from '../../src/host/protect-scan.js';
import { protectOps } from '../../src/backends/mounts.js';
import { holdsGitDir, resolveAsGit, type GitDirProbe } from '../../src/host/git-dirs.js';
import { commonDirTarget, gitFileTarget } from '../../src/host/git-pointers.js';
import { lstatState } from '../../src/host/protect-names.js';
import type { ProtectFact } from '../../src/backends/types.js';
import { writablePolicy } from '../helpers/scan-policy.js';

/** The names under `.git/` of the strict profile, and HEAD. */
const NAMES = ['.git/hooks', '.git/config', '.git/config.worktree', '.git/info', '.git/modules', '.git/worktrees', 'HEAD'];

let base: string;
/** The writable root; `out` beside it is not writable. */
let proj: string;
let out: string;
beforeEach(() => {
  base = mkdtempSync(join(tmpdir(), 'isolate-it-gitdirs-'));
  proj = join(base, 'proj');
  out = join(base, 'out');
  mkdirSync(proj);
  mkdirSync(out);
});
afterEach(() => rmSync(base, { recursive: true, force: true }));

/** Make `rel` under the base: a directory when it ends in /, else a file holding `text`. */
function make(rel: string, text = 'x'): void {
  const path = join(base, rel);
  if (rel.endsWith('/')) return void mkdirSync(path, { recursive: true });
  mkdirSync(join(path, '..'), { recursive: true });
  writeFileSync(path, text);
}

/** A bare repository's directory at `rel` (what `git init --bare` makes that matters here). */
function bare(rel: string, extra: string[] = []): void {
  for (const e of ['HEAD', 'config', 'objects/', 'refs/heads/', 'hooks/', 'info/', ...extra]) make(`${rel}/${e}`, e === 'HEAD' ? 'ref: refs/heads/main\n' : 'x');
}

/** The facts below `under` (relative to the base), as [path, state, pins], sorted. */
function scan(under: string, names = NAMES): [string, ProtectFact['state'], string[]][] {
  const rel = (p: string): string => p.slice(base.length + 1);
  return scanProtected(writablePolicy(proj, names))
    .filter((f) => rel(f.path) === under || rel(f.path).startsWith(`${under}/`))
    .map((f): [string, ProtectFact['state'], string[]] => [rel(f.path), f.state, f.pins.map(rel)])
    .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
}

describe('git directories not named .git', () => {
  it('the bare clone and worktrees layout: .git says gitdir: ./.bare; its config, hooks, worktrees are kept as a .git\'s', () => {
    bare('proj/.bare', ['worktrees/main/HEAD']);
    make('proj/.bare/worktrees/main/commondir', '../..\n');
    make('proj/.git', 'gitdir: ./.bare\n');
    make('proj/main/.git', `gitdir: ${proj}/.bare/worktrees/main\n`);
    expect(scan('proj/.bare')).toEqual([
      ['proj/.bare/HEAD', 'file', ['proj/.bare']],
      ['proj/.bare/config', 'file', ['proj/.bare']],
      ['proj/.bare/config.worktree', 'missing', ['proj/.bare']],
      ['proj/.bare/hooks', 'dir', ['proj/.bare']],
      ['proj/.bare/info', 'dir', ['proj/.bare']],
      ['proj/.bare/modules', 'missing', ['proj/.bare']],
      ['proj/.bare/worktrees', 'dir', ['proj/.bare']],
      // Found by the walk, which entered `worktrees` before it was kept read-only whole; nothing is rebased onto it.
      ['proj/.bare/worktrees/main/HEAD', 'file', ['proj/.bare', 'proj/.bare/worktrees', 'proj/.bare/worktrees/main']],
    ]);
  });

  it('a .git file naming its git directory by an absolute path, or a relative one with .. in it (each directory it passes kept in place)', () => {
    make('proj/a/.git', `gitdir: ${proj}/meta/gd\n`);
    make('proj/b/.git', 'gitdir: ../meta/x/../other\r\n');
    make('proj/meta/gd/config');
    make('proj/meta/other/hooks/');
    make('proj/meta/x/');
    expect(scan('proj/meta')).toEqual([
      ['proj/meta/gd/config', 'file', ['proj/meta', 'proj/meta/gd']],
      ['proj/meta/gd/config.worktree', 'missing', ['proj/meta', 'proj/meta/gd']],
      ['proj/meta/gd/hooks', 'missing', ['proj/meta', 'proj/meta/gd']],
      ['proj/meta/gd/info', 'missing', ['proj/meta', 'proj/meta/gd']],
      ['proj/meta/gd/modules', 'missing', ['proj/meta', 'proj/meta/gd']],
      ['proj/meta/gd/worktrees', 'missing', ['proj/meta', 'proj/meta/gd']],
      ['proj/meta/other/config', 'missing', ['proj/b', 'proj/meta', 'proj/meta/x', 'proj/meta/other']],
      ['proj/meta/other/config.worktree', 'missing', ['proj/b', 'proj/meta', 'proj/meta/x', 'proj/meta/other']],
      ['proj/meta/other/hooks', 'dir', ['proj/b', 'proj/meta', 'proj/meta/x', 'proj/meta/other']],
      ['proj/meta/other/info', 'missing', ['proj/b', 'proj/meta', 'proj/meta/x', 'proj/meta/other']],
      ['proj/meta/other/modules', 'missing', ['proj/b', 'proj/meta', 'proj/meta/x', 'proj/meta/other']],
      ['proj/meta/other/worktrees', 'missing', ['proj/b', 'proj/meta', 'proj/meta/x', 'proj/meta/other']],
    ]);
  });

  it('a bare repository (git init --bare sub.git) is kept as a .git; a directory with a HEAD that git does not take for one is not', () => {
    bare('proj/sub.git');
    make('proj/notes/HEAD', 'just a file\n');
    make('proj/detached/HEAD', `${'ab'.repeat(20)}\n`);
    expect(scan('proj/sub.git').map(([path, state]) => [path, state])).toEqual([
      ['proj/sub.git/HEAD', 'file'],
      ['proj/sub.git/config', 'file'],
      ['proj/sub.git/config.worktree', 'missing'],
      ['proj/sub.git/hooks', 'dir'],
      ['proj/sub.git/info', 'dir'],
      ['proj/sub.git/modules', 'missing'],
      ['proj/sub.git/worktrees', 'missing'],
    ]);
    expect(scan('proj/notes')).toEqual([['proj/notes/HEAD', 'file', ['proj/notes']]]);
    // A HEAD holding an object id is one (git's detached HEAD), with no objects or refs beside it yet: the command could make them.
    expect(scan('proj/detached').map(([path]) => path)).toContain('proj/detached/config');
  });

  it('a git directory the .git file names that does not exist: blocked, as is the first missing directory on the way', () => {
    make('proj/a/.git', 'gitdir: gd\n');
    make('proj/b/.git', 'gitdir: ../x/y/gd\n');
    expect(scan('proj/a')).toEqual([['proj/a/.git', 'file', ['proj/a']], ['proj/a/gd', 'missing', ['proj/a']]]);
    expect(scanProtected(writablePolicy(proj, NAMES)).find((f) => f.path === join(proj, 'x'))?.state).toBe('missing');
  });

  it('a symbolic link the sandbox could replace on the way is reported as the link (protectOps refuses it); one outside the writable paths is followed', () => {
    make('proj/real/gd/config');
    symlinkSync(join(proj, 'real'), join(proj, 'link'));
    make('proj/a/.git', 'gitdir: ../link/gd\n');
    expect(scan('proj/link')).toEqual([['proj/link', 'symlink', ['proj/a']]]);
    rmSync(join(proj, 'a/.git'));
    symlinkSync(join(proj, 'real'), join(out, 'link'));
    make('proj/a/.git', `gitdir: ${out}/link/gd\n`);
    expect(scan('proj/real').map(([path, state]) => [path, state])).toContainEqual(['proj/real/gd/config', 'file']);
  });

  it('.. after a link is taken from where the link led, as the kernel does (not from the text)', () => {
    make('proj/deep/gd/config');
    make('out/gd/config');
    symlinkSync(join(proj, 'deep', 'inner'), join(out, 'link'));
    make('proj/deep/inner/');
    make('proj/a/.git', `gitdir: ${out}/link/../gd\n`);
    expect(scan('proj/deep').map(([path, state]) => [path, state])).toContainEqual(['proj/deep/gd/config', 'file']);
  });

  it('a pointer that leads outside every writable path needs nothing', () => {
    bare('out/elsewhere.git');
    make('proj/a/.git', `gitdir: ${out}/elsewhere.git\n`);
    expect(scan('out')).toEqual([]);
  });

  it('a pointer to a regular file the sandbox could replace keeps that file as it is', () => {
    make('proj/gd', 'not a directory');
    make('proj/a/.git', 'gitdir: ../gd\n');
    expect(scan('proj').filter(([path]) => path === 'proj/gd')).toEqual([['proj/gd', 'file', ['proj/a']]]);
  });

  it('a commondir is followed to the git directory it shares: from a .git directory, and from one a .git file names', () => {
    make('proj/w/.git/HEAD', 'ref: refs/heads/main\n');
    make('proj/w/.git/commondir', `${proj}/common\n`);
    bare('proj/common');
    make('proj/v/.git', 'gitdir: ../meta/wt\n');
    make('proj/meta/wt/HEAD', 'ref: refs/heads/main\n');
    make('proj/meta/wt/commondir', '../../common2\n');
    bare('proj/common2');
    const names = NAMES.filter((n) => n !== 'HEAD'); // the walk does not see the bare repositories by their HEAD then
    expect(scan('proj/common', names).map(([path]) => path)).toContain('proj/common/config');
    expect(scan('proj/common2', names).map(([path]) => path)).toContain('proj/common2/hooks');
    expect(scan('proj/meta', names).map(([path]) => path)).toEqual(expect.arrayContaining(['proj/meta/wt/config.worktree', 'proj/meta/wt/commondir']));
  });
});

describe('git pointers, read as git reads them', () => {
  it('a .git file: "gitdir: " and a path, its line ends stripped, relative to its directory; nothing else', () => {
    make('p/a/.git', 'gitdir: ../gd\r\n\n');
    make('p/b/.git', 'gitdir:../gd\n');
    make('p/c/.git', 'gitdir: \n');
    make('p/d/.git', `gitdir: /abs/gd \n`);
    expect(gitFileTarget(join(base, 'p/a/.git'))).toBe(`${base}/p/a/../gd`);
    expect(gitFileTarget(join(base, 'p/b/.git'))).toBeUndefined();
    expect(gitFileTarget(join(base, 'p/c/.git'))).toBeUndefined();
    expect(gitFileTarget(join(base, 'p/d/.git'))).toBe('/abs/gd ');
  });

  it('a commondir: its path relative to the git directory; none when missing', () => {
    make('g/commondir', '../..\n');
    expect(commonDirTarget(join(base, 'g'))).toBe(`${base}/g/../..`);
    expect(commonDirTarget(join(base, 'none'))).toBeUndefined();
  });

  it('resolveAsGit stops at what git cannot follow and the sandbox cannot change', () => {
    const probe: GitDirProbe = { state: lstatState, enterable: () => true, replaceable: () => false, inWritable: () => false };
    make('out/gd/');
    expect(resolveAsGit(`${base}/out/missing/gd`, probe)).toBeUndefined();
    expect(resolveAsGit(`${base}/out/./gd/`, probe)).toEqual({ dir: `${base}/out/gd`, pins: [] });
    symlinkSync('loop', join(base, 'out', 'loop'));
    expect(resolveAsGit(`${base}/out/loop/gd`, probe)).toBeUndefined();
    expect(resolveAsGit(`${base}/${'x'.repeat(256)}/gd`, probe)).toBeUndefined();
  });

  it('holdsGitDir: a HEAD git reads as one, or objects and refs, or a commondir', () => {
    make('a/HEAD', 'ref:  refs/heads/x');
    make('b/HEAD', 'garbage');
    make('c/HEAD', 'garbage');
    make('c/objects/');
    make('c/refs/');
    make('d/HEAD', 'garbage');
    make('d/commondir', '..');
    expect(['a', 'b', 'c', 'd'].map((d) => holdsGitDir(join(base, d)))).toEqual([true, false, true, true]);
  });
});

describe('what the configuration of a git directory not named .git names', () => {
  it('a bare repository\'s includes, and those of the git directory a .git directory\'s commondir names, are kept as a .git\'s are', () => {
    bare('proj/sub.git');
    make('proj/sub.git/config', '[core]\n\tbare = true\n[include]\n\tpath = ../shared.cfg\n');
    make('proj/shared.cfg', '[user]\n\tname = me\n');
    make('proj/w/.git/HEAD', 'ref: refs/heads/main\n');
    make('proj/w/.git/commondir', '../../common\n');
    bare('proj/common');
    make('proj/common/config', '[include]\n\tpath = common.cfg\n');
    const paths = scan('proj').map(([path, state]) => `${path} ${state}`);
    expect(paths).toContain('proj/shared.cfg file');
    expect(paths).toContain('proj/common/common.cfg missing');
  });
});

describe('a directory kept read-only whole', () => {
  it('pins nothing inside it: no pin there makes a directory of it writable again (a bare repository\'s worktrees/<name>)', () => {
    bare('proj/.bare', ['worktrees/main/HEAD', 'worktrees/main/logs/HEAD']);
    make('proj/.bare/worktrees/main/commondir', '../..\n');
    const policy = writablePolicy(proj, NAMES);
    const ops = protectOps(policy.filesystem.mounts, scanProtected(policy), new Set([proj]));
    const rel = (p: string): string => p.slice(base.length + 1);
    expect(ops.filter((op) => op.kind === 'pin').map((op) => rel(op.path)).filter((p) => p.includes('.bare/worktrees'))).toEqual([]);
    expect(ops.map((op) => `${op.kind} ${rel(op.path)}`)).toContain('protect proj/.bare/worktrees');
  });
});
