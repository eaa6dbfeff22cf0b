/**
 * The protected names as the search looks for them in one directory: which
 * exist there (protected wherever they are), and which missing ones are
 * blocked for the run (the rules are scanProtected's, in protect-scan.ts).
 */
import { lstatSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { IsolateError, errnoCode } from '../errors.js';
import type { ProtectFact } from '../backends/types.js';
import { AFTER_RUN_NAMES } from '../profile/after-run.js';
import type { PathState } from './own-paths.js';
import type { Hit } from './scan-cache.js';
import { foundPlaceholderDir } from './placeholder-dirs.js';

/**
 * How entry names are compared before the disk is asked: as they are, or
 * case-folded where file systems usually ignore case (macOS), so that a name
 * is only ever taken as missing when lstat would say so too.
 */
export const nameKey: (name: string) => string = process.platform === 'darwin' ? (name) => name.toLowerCase() : (name) => name;

export function lstatState(path: string): PathState {
  try {
    const st = lstatSync(path, { throwIfNoEntry: false });
    if (st === undefined) return 'missing';
    if (st.isSymbolicLink()) return 'symlink';
    if (st.isDirectory()) return 'dir';
    if (st.isFile()) return 'file';
    return 'other';
  } catch (e: unknown) {
    const code = errnoCode(e);
    if (code === 'ENOENT' || code === 'ENOTDIR') return 'missing';
    if (code === 'EACCES') return 'inaccessible';
    throw new IsolateError('E_IO', `cannot inspect ${path}: ${code ?? String(e)}`, { cause: e });
  }
}

export interface NameRule {
  segments: readonly string[];
  /** Blocked where missing; false for names protected only where they exist. */
  block: boolean;
  /** The name's first directories, when the path of the writable root it is looked for in ends with them (rootNames); none for the index's own names. */
  above?: readonly string[];
}

export interface NameIndex {
  rules: readonly NameRule[];
  /** nameKey of every first segment, and of `.git`: the entries a listing keeps (sorted). */
  keys: readonly string[];
  keySet: ReadonlySet<string>;
}

/** An index of `rules` alone, as namesIn and the search after the run take one. */
export function indexOf(rules: readonly NameRule[]): NameIndex {
  const keys = [...new Set([...rules.map((r) => nameKey(r.segments[0] ?? '')), nameKey('.git')])].sort();
  return { rules, keys, keySet: new Set(keys) };
}

/** The names to look for: the profile's protected names, blocked where missing; the names protected only where they exist (profile/after-run.ts, the profile's ~/ names). */
export function nameIndex(fs: { protect: readonly string[]; protectExisting?: readonly string[] | undefined }): NameIndex {
  const existingOnly = [...AFTER_RUN_NAMES, ...(fs.protectExisting ?? [])];
  return indexOf([...fs.protect.map((name) => ({ name, block: true })), ...existingOnly.map((name) => ({ name, block: false }))].map(({ name, block }) => ({ segments: name.split('/'), block })));
}

/**
 * A package manager's directory (`node_modules`): what it holds comes and
 * goes with every install, and packages ship editors' and tools' dot-files
 * (`.github`, `.vscode`, `.husky`) that no program on the host obeys there,
 * and that a read-only mount would keep an install inside the sandbox from
 * removing (EBUSY). Version control is what obeys a name there: git and
 * Mercurial look for their directory from wherever they run up to the root,
 * so a `.git` or `.hg` anywhere below is the repository of every host git
 * or hg run beneath it (a prompt's `git status` after `cd
 * node_modules/<pkg>`), and runs what its configuration names. So is a
 * directory holding `HEAD` (with `objects` and `refs`): git takes it for a
 * bare repository, and a `core.worktree` in its `config` makes it the
 * repository of every directory below. npm never packs a `.git` or `.hg`,
 * and a package seldom ships a `HEAD`, so protecting them costs an install
 * nothing.
 */
export const PACKAGES_DIR = 'node_modules';
const PACKAGES_NAMES = new Set(['.git', '.hg', 'HEAD'].map(nameKey));

/** The names searched for inside a package manager's directory: the version-control ones of `index`. */
export function packagesIndex(index: NameIndex): NameIndex {
  const rules = index.rules.filter((r) => PACKAGES_NAMES.has(nameKey(r.segments[0] ?? '')));
  const keys = index.keys.filter((k) => PACKAGES_NAMES.has(k));
  return { rules, keys, keySet: new Set(keys) };
}

/**
 * Directories on the way to protected names that a program reads as a
 * pointer when they are a file: a second Jujutsu workspace's `.jj/repo`
 * holds the path of the repository whose configuration jj obeys (as a
 * linked worktree's `.git` file does for git, handled on its own). Such a
 * file stands for the names beneath it: kept read-only, and moved aside
 * after a run that made it. Only these: other directories on the way may be
 * ordinary files of a project (a kernel tree's `.config`).
 */
const POINTER_FILES = new Set(['.jj/repo'].map(nameKey));

/**
 * The protected names matched against a writable root's full path, the
 * directories above the root counting, as they count for a root that holds
 * the name: `whole` when the root lies at or inside a name (a root
 * `<p>/.git/hooks` or `<p>/.git/hooks/x`, `~/.config/autostart`, the file
 * `~/.bashrc`), which is then kept read-only as a whole; else `rules`, the
 * rest of each name whose first directories the root's path ends with (a
 * root `<p>/.git`: `hooks` of `.git/hooks`, `config` of `.git/config`), to
 * look for at the root's top as the index's own names are (blocked where
 * missing as they are).
 */
export function rootNames(index: NameIndex, root: string): { whole: boolean; rules: NameRule[] } {
  const parts = root.split('/').filter((p) => p !== '').map(nameKey);
  const rules: NameRule[] = [];
  for (const rule of index.rules) {
    const keys = rule.segments.map(nameKey);
    for (let at = 0; at < parts.length; at++) {
      const shared = Math.min(keys.length, parts.length - at);
      if (!keys.slice(0, shared).every((k, i) => k === parts[at + i])) continue;
      if (shared === keys.length) return { whole: true, rules: [] };
      rules.push({ segments: rule.segments.slice(shared), block: rule.block, above: rule.segments.slice(0, shared) });
    }
  }
  return { whole: false, rules };
}

/** Whether `segments`, the start of a protected name, is a pointer file's path when it is a file. */
export function isPointerFile(segments: readonly string[]): boolean {
  return POINTER_FILES.has(nameKey(segments.join('/')));
}

/** What finding a name does: record the fact, and tell whether the sandbox could enter a directory on the way. */
export interface Finder {
  add(path: string, state: ProtectFact['state'], pins: string[]): void;
  enterable(path: string): boolean;
}

/**
 * One name in one directory; `hit`: its first segment's entry, null when absent, undefined when unknown (looked up).
 * `first`: the name its first segment has there (another git directory's for a `.git/` name, gitDirNamesIn).
 */
function consider(found: Finder, dir: string, rule: NameRule, hit: Hit | null | undefined, atTop: boolean, pins: readonly string[], first = rule.segments[0] ?? ''): void {
  const { segments } = rule;
  const on = [...pins];
  for (let i = 1; i <= segments.length; i++) {
    const path = join(dir, first, ...segments.slice(1, i));
    const state = i === 1 && hit !== undefined ? (hit?.kind ?? 'missing') : lstatState(path);
    if (state === 'inaccessible') return; // the sandbox cannot reach it either
    if (state === 'missing') {
      // Blocked where its parent exists; a missing directory on the way only at the top of a root.
      if (rule.block && (i === segments.length ? atTop || i > 1 : atTop)) found.add(path, 'missing', on);
      return;
    }
    // A symbolic link on the way stands for the name itself (a `.git` linked to a repository elsewhere), and so does a pointer file.
    if (i === segments.length || state === 'symlink' || (state === 'file' && isPointerFile([...(rule.above ?? []), ...segments.slice(0, i)]))) return found.add(path, state, on);
    // A directory on the way the sandbox cannot enter (or not a directory): nothing beneath is reachable.
    if (!found.enterable(path)) return;
    on.push(path);
  }
}

/**
 * The facts for one directory. `hits`: its entries whose names are among the
 * index's keys, by nameKey (undefined: its listing is unknown, every name is
 * looked up); `pins`: the directories from the root down to it.
 */
export function namesIn(found: Finder, index: NameIndex, dir: string, hits: ReadonlyMap<string, Hit> | undefined, atTop: boolean, pins: readonly string[]): void {
  if (!atTop && hits !== undefined && hits.size === 0) return; // below the top only names that exist count
  const gitPath = join(dir, '.git');
  const git = hits === undefined ? lstatState(gitPath) : (hits.get(nameKey('.git'))?.kind ?? 'missing');
  // A run's placeholder `.git` (a run beside this one, in a subdirectory): kept read-only whole, as it stands.
  const placeholder = git === 'dir' && foundPlaceholderDir(gitPath);
  if (placeholder) found.add(gitPath, 'dir', [...pins]);
  for (const rule of index.rules) {
    if (placeholder && nameKey(rule.segments[0] ?? '') === nameKey('.git')) continue;
    const hit = hits === undefined ? undefined : (hits.get(nameKey(rule.segments[0] ?? '')) ?? null);
    if (hit === null && !atTop) continue;
    consider(found, dir, rule, hit, atTop, pins);
  }
  // `.git` files (worktree and submodule pointers): rewriting one would redirect git to other hooks.
  if (git === 'file') found.add(gitPath, 'file', [...pins]);
}

/**
 * The names under `.git/` (`.git/config`, `.git/hooks`, ...) in another git directory, `gitDir`: one a `.git` file or
 * a `commondir` points to, or a bare repository (git-dirs.ts). Found and blocked as they are in a `.git` there.
 * `pins`: the directories to keep in place on the way to it.
 */
export function gitDirNamesIn(found: Finder, index: NameIndex, gitDir: string, pins: readonly string[]): void {
  for (const rule of index.rules) {
    if (rule.segments.length < 2 || nameKey(rule.segments[0] ?? '') !== nameKey('.git')) continue;
    consider(found, dirname(gitDir), rule, undefined, false, pins, basename(gitDir));
  }
}
