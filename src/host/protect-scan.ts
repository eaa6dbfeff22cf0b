/**
 * Host facts: where the protected names (filesystem.protect) are inside the
 * writable roots, at any depth, and which of them are missing and must be
 * blocked for the run. Reads the disk; plan() turns the facts into mounts.
 */
import { lstatSync, readdirSync, type Dirent } from 'node:fs';
import { join } from 'node:path';
import { IsolateError, errnoCode } from '../errors.js';
import type { Policy } from '../profile/types.js';
import { effectiveKind, writableRoots } from '../backends/mounts.js';
import type { ProtectFact } from '../backends/types.js';
import { AFTER_RUN_NAMES } from '../profile/after-run.js';
import { protectsAnything } from '../profile/own-paths.js';
import { ownPathFacts, type PathState } from './own-paths.js';

/** Directories the protected-name search never enters (documented in docs/protected-files.md). */
export const PROTECT_SCAN_SKIP = new Set(['node_modules']);
export const PROTECT_SCAN_LIMIT = 50_000;


/**
 * Whether the sandboxed command could enter a directory: the sandbox has no
 * capabilities, so even root gets only the owner/group/other permission bits.
 */
export function sandboxCanEnter(mode: number, uid: number, gid: number, self: { uid: number; groups: readonly number[] }): boolean {
  if (uid === self.uid) return (mode & 0o100) !== 0;
  if (self.groups.includes(gid)) return (mode & 0o010) !== 0;
  return (mode & 0o001) !== 0;
}

function lstatState(path: string): PathState {
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

/**
 * How entry names are compared before the disk is asked: as they are, or
 * case-folded where file systems usually ignore case (macOS), so that a name
 * is only ever taken as missing when lstat would say so too.
 */
const nameKey: (name: string) => string = process.platform === 'darwin' ? (name) => name.toLowerCase() : (name) => name;

/** A directory's entries, or undefined when it cannot be listed (the names are then looked up one by one). */
function listDir(dir: string): Dirent[] | undefined {
  try {
    return readdirSync(dir, { withFileTypes: true });
  } catch (e: unknown) {
    const code = errnoCode(e);
    if (code === 'EACCES' || code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    throw new IsolateError('E_IO', `cannot list ${dir}: ${code ?? String(e)}`, { cause: e });
  }
}

/**
 * Find every protected name under each writable root, at any depth.
 * A name that exists is protected wherever it is. A missing one is blocked
 * for the run (a placeholder is mounted): a single name (`.bashrc`) at the
 * top of each root; a nested name (`.git/hooks`) wherever its parent
 * directory exists, and at the top of each root also when directories on
 * the way are missing: then the first missing one is blocked (no `.git`,
 * `.github` or `.config` can be created there, so nothing can be put
 * beneath). `.git` files (worktree and submodule pointers) are protected
 * too: rewriting one would redirect git to another hooks directory.
 */
export function scanProtected(policy: Policy): ProtectFact[] {
  const fs = policy.filesystem;
  if (!protectsAnything(fs)) return [];
  const names = fs.protect.map((name) => name.split('/'));
  /** Protected where they exist; never blocked where missing (profile/after-run.ts, the profile's ~/ names). */
  const existingOnly = [...AFTER_RUN_NAMES, ...(fs.protectExisting ?? [])].map((name) => name.split('/'));
  const rules = policy.filesystem.mounts;
  const facts = new Map<string, ProtectFact>();
  let visited = 0;

  const self = { uid: process.getuid?.() ?? -1, groups: [process.getgid?.() ?? -1, ...(process.getgroups?.() ?? [])] };
  const enterable = (path: string): boolean => {
    const st = lstatSync(path, { throwIfNoEntry: false });
    return st !== undefined && st.isDirectory() && sandboxCanEnter(st.mode, st.uid, st.gid, self);
  };
  const add = (path: string, state: ProtectFact['state'], pins: string[]): void => {
    if (!facts.has(path)) facts.set(path, { path, state, pins });
  };

  /** One name in one directory; `present`: the directory's entry names (undefined: unknown, look each up). */
  const consider = (atTop: boolean, dir: string, segments: readonly string[], ancestors: string[], present: ReadonlySet<string> | undefined, block = true): void => {
    const pins = [...ancestors];
    for (let i = 1; i <= segments.length; i++) {
      const path = join(dir, ...segments.slice(0, i));
      const state = i === 1 && present !== undefined && !present.has(nameKey(segments[0] ?? '')) ? 'missing' : lstatState(path);
      if (state === 'inaccessible') return; // the sandbox cannot reach it either
      if (state === 'missing') {
        // Blocked where its parent exists; a missing directory on the way only at the top of a root.
        if (block && (i === segments.length ? atTop || i > 1 : atTop)) add(path, 'missing', pins);
        return;
      }
      if (i === segments.length) return add(path, state, pins);
      // A directory on the way the sandbox cannot enter (or not a directory): nothing beneath is reachable.
      if (!enterable(path)) return;
      pins.push(path);
    }
  };

  const walk = (root: string, dir: string, ancestors: string[]): void => {
    if (++visited > PROTECT_SCAN_LIMIT) {
      throw new IsolateError('E_PROTECT_SCAN_LIMIT', `more than ${PROTECT_SCAN_LIMIT} directories under the writable path ${root}`, {
        detail: 'isolate looks for protected files (.git/hooks, .bashrc, ...) at every depth of a writable path',
        fix: 'make a smaller directory writable (--cwd or the profile\'s filesystem.write), or use --profile strict',
      });
    }
    const entries = listDir(dir);
    const present = entries === undefined ? undefined : new Set(entries.map((e) => nameKey(e.name)));
    for (const segments of names) consider(dir === root, dir, segments, ancestors, present);
    for (const segments of existingOnly) consider(dir === root, dir, segments, ancestors, present, false);
    const gitFile = join(dir, '.git');
    if ((present === undefined || present.has(nameKey('.git'))) && lstatState(gitFile) === 'file') add(gitFile, 'file', [...ancestors]);
    for (const entry of entries ?? []) {
      if (!entry.isDirectory() || PROTECT_SCAN_SKIP.has(entry.name) || entry.name === '.git') continue;
      const child = join(dir, entry.name);
      // A directory the sandbox cannot enter holds nothing it could write: skip it.
      if (!enterable(child)) continue;
      if (facts.has(child)) continue; // protected as a whole
      if (effectiveKind(rules, child) !== 'write') continue;
      walk(root, child, [...ancestors, child]);
    }
  };

  // Absolute protected paths first: the walk then does not enter what they protect as a whole.
  for (const fact of ownPathFacts(policy, { state: lstatState, enterable })) add(fact.path, fact.state, fact.pins);
  for (const root of writableRoots(rules)) {
    if (lstatState(root) !== 'dir') continue;
    walk(root, root, []);
  }
  return [...facts.values()];
}
