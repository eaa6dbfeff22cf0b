/**
 * Host facts: the git directories in a writable path that are not a `.git`,
 * protected as a `.git` directory is (the profile's names under `.git/`,
 * rebased onto each: read-only where they exist, blocked where missing).
 * Host git obeys their `config` and runs their `hooks` as it does a
 * `.git`'s:
 *
 * - the git directory a `.git` file names (`gitdir: ./.bare`, the bare
 *   clone and worktrees layout; `git init --separate-git-dir=gd`);
 * - the one a git directory's `commondir` names (a linked worktree's);
 * - a bare repository: a directory holding `HEAD` that git takes for a git
 *   directory (`git init --bare sub.git`, a `git clone --mirror`).
 *
 * A pointer is resolved as git resolves it (the kernel's way: each link
 * followed, each `..` taken from where the links led). Where the sandbox
 * could change what it resolves to, that is kept in place instead: each
 * directory on the way that it could rename is pinned; a symbolic link it
 * could replace is reported as such (protectOps refuses the run: a link
 * cannot be kept read-only); a file it could replace with a directory, a
 * missing name it could make, and a directory it could open (chmod) are
 * protected themselves. One that leads outside every writable path needs
 * nothing: the sandbox cannot write there.
 */
import { readlinkSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type { ProtectFact } from '../backends/types.js';
import { isWithin } from '../profile/mount-rules.js';
import type { GitPointers } from './git-pointers.js';
import { gitDirNamesIn, lstatState, nameKey, type Finder, type NameIndex } from './protect-names.js';
import { readSmallFile } from './small-file.js';

/** What resolving a path needs from the host and the policy. */
export interface GitDirProbe {
  /** The state of a path, not following a final link (protect-names.ts, lstatState). */
  state(path: string): ProtectFact['state'] | 'inaccessible';
  /** Whether the sandbox could enter the directory at `path`. */
  enterable(path: string): boolean;
  /** Whether the sandbox could replace the entry at `path` (its directory is writable there). */
  replaceable(path: string): boolean;
  /** Whether `path` lies in a writable path (what is inside it could be written). */
  inWritable(path: string): boolean;
}

/** Where a path leads as git resolves it: a directory, with the directories on the way the sandbox could rename; or what to protect instead. */
export type Resolved = { dir: string; pins: string[] } | { fact: ProtectFact };

/** Links followed before the kernel gives up (ELOOP; Linux's MAXSYMLINKS). */
const MAX_LINKS = 40;
/** The longest path and name the kernel resolves (PATH_MAX, NAME_MAX): git finds no git directory past them. */
const MAX_PATH_BYTES = 4096;
const MAX_NAME_BYTES = 255;
/** The most of a `HEAD` read to tell whether it is one (git looks at its first 255 bytes, whatever its size). */
const MAX_HEAD_BYTES = 1024 * 1024;

/**
 * Resolve `path` (absolute) as the kernel does for git: component by component from `/`, each link followed where it
 * stands, each `..` the parent of the directory reached. Undefined: git finds no directory there and the sandbox
 * cannot make one (or cannot reach it).
 */
export function resolveAsGit(path: string, probe: GitDirProbe): Resolved | undefined {
  if (Buffer.byteLength(path) >= MAX_PATH_BYTES) return undefined;
  const rest = path.split('/').reverse();
  const pins: string[] = [];
  let at = '/';
  let links = 0;
  for (let name = rest.pop(); name !== undefined; name = rest.pop()) {
    if (name === '' || name === '.') continue;
    if (name === '..') {
      at = dirname(at);
      continue;
    }
    if (Buffer.byteLength(name) > MAX_NAME_BYTES) return undefined;
    const next = join(at, name);
    if (Buffer.byteLength(next) >= MAX_PATH_BYTES) return undefined;
    const state = probe.state(next);
    if (state === 'inaccessible') return undefined; // nor can the sandbox reach it
    const replaceable = probe.replaceable(next);
    if (state === 'symlink') {
      if (replaceable) return { fact: { path: next, state, pins: [...pins] } };
      let target: string;
      try {
        target = readlinkSync(next);
      } catch {
        return undefined; // nor can git follow it
      }
      if (++links > MAX_LINKS || Buffer.byteLength(target) >= MAX_PATH_BYTES) return undefined;
      if (target.startsWith('/')) at = '/';
      rest.push(...target.split('/').reverse());
      continue;
    }
    // A name that is not a directory ends the path for git; one the sandbox could replace stays as it is.
    if (state !== 'dir') return replaceable ? { fact: { path: next, state, pins: [...pins] } } : undefined;
    if (replaceable) {
      if (!probe.enterable(next)) return { fact: { path: next, state, pins: [...pins] } };
      pins.push(next);
    }
    at = next;
  }
  return { dir: at, pins };
}

/**
 * Whether git takes the directory `dir`, which holds a regular file `HEAD`, for a git directory (setup.c,
 * is_git_directory), erring towards yes: its `HEAD` reads as one (a symbolic ref to `refs/`, or an object id; the
 * sandbox cannot change it, it is protected), or it holds `objects` and `refs`, or a `commondir`.
 */
export function holdsGitDir(dir: string): boolean {
  const bytes = readSmallFile(join(dir, 'HEAD'), { maxBytes: MAX_HEAD_BYTES });
  if (bytes === undefined) return true; // not read whole here: taken for one
  const head = bytes?.subarray(0, 255).toString('latin1') ?? '';
  if (/^ref:\s*refs\//.test(head) || /^[0-9a-f]{40}/i.test(head)) return true;
  const has = (name: string): boolean => lstatState(join(dir, name)) !== 'missing';
  return (has('objects') && has('refs')) || has('commondir');
}

const GIT = nameKey('.git');

/**
 * Protect the git directories the facts found so far lead to (above), in `finder`, by the names of `index`. Facts of
 * the walk that lead to one: a `.git` file, a `HEAD` (a bare repository), a `.git/commondir` (each read once, in
 * `pointers`). One inside a directory kept read-only whole (a bare repository's `worktrees`) needs nothing more.
 * Returns every git directory found, for the search of what their configuration names (git-repos.ts).
 */
export function addGitDirFacts(finder: Finder, facts: readonly ProtectFact[], index: NameIndex, probe: GitDirProbe, pointers: GitPointers): string[] {
  const found = new Map<string, readonly string[]>();
  const queue: { dir: string; pins: readonly string[] }[] = [];
  const follow = (path: string | undefined): void => {
    const to = path === undefined ? undefined : resolveAsGit(path, probe);
    if (to === undefined) return;
    if ('fact' in to) return finder.add(to.fact.path, to.fact.state, to.fact.pins);
    queue.push(to);
  };
  for (const fact of facts) {
    if (fact.state !== 'file') continue;
    const name = nameKey(basename(fact.path));
    const dir = dirname(fact.path);
    if (name === GIT) follow(pointers.gitFile(fact.path));
    else if (name === nameKey('HEAD') && holdsGitDir(dir)) queue.push({ dir, pins: fact.pins });
    else if (name === nameKey('commondir') && nameKey(basename(dir)) === GIT) follow(pointers.commonDir(dir));
  }
  for (let next = queue.shift(); next !== undefined; next = queue.shift()) {
    if (found.has(next.dir)) continue;
    found.set(next.dir, next.pins.filter((p) => p !== next.dir));
    // Followed also from a git directory the sandbox cannot write: it may lead back into a writable path.
    follow(pointers.commonDir(next.dir));
  }
  const whole = facts.filter((f) => f.state === 'dir').map((f) => f.path);
  const kept: Finder = {
    add: (path, state, pins) => {
      if (state === 'dir') whole.push(path);
      finder.add(path, state, pins);
    },
    enterable: (path) => finder.enterable(path),
  };
  const dirs = [...found.keys()].sort((a, b) => a.length - b.length);
  for (const dir of dirs) {
    if (!probe.inWritable(dir) || whole.some((w) => isWithin(dir, w))) continue;
    gitDirNamesIn(kept, index, dir, found.get(dir) ?? []);
  }
  return dirs;
}
