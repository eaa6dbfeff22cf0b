/**
 * Host facts: where the protected names (filesystem.protect) are inside the
 * writable roots, at any depth, and which of them are missing and must be
 * blocked for the run. Reads the disk; plan() turns the facts into mounts.
 *
 * One lstat and at most one readdir per directory: a directory's listing is
 * taken from the previous run's cache while its stamp is unchanged
 * (scan-cache.ts says why that is never stale), so an unchanged tree costs
 * one lstat per directory.
 */
import { lstatSync, readdirSync, type Dirent, type Stats } from 'node:fs';
import { join } from 'node:path';
import { IsolateError, errnoCode } from '../errors.js';
import type { MountRule, Policy } from '../profile/types.js';
import { isWritable, writableRoots } from '../backends/mounts.js';
import type { ProtectFact } from '../backends/types.js';
import { protectsAnything } from '../profile/own-paths.js';
import { missingHiddenPaths } from '../profile/mount-rules.js';
import { deniedPathFacts, missingDeniedFacts, ownPathFacts, pathFacts } from './own-paths.js';
import { GIT_HOOK_NAMES, gitTargets } from './git-repos.js';
import { PACKAGES_DIR, lstatState, nameIndex, nameKey, namesIn, packagesIndex, type Finder, type NameIndex } from './protect-names.js';
import { clockTrusted, settled, type EntryKind, type Hit, type ScanClock } from './scan-cache.js';
import type { ScanTree } from './scan-tree.js';
import { TreeBuilder } from './scan-tree-builder.js';
import { cacheableFs, readScanCache, scanClock, writeScanCache } from './scan-cache-file.js';
import { recordSeen } from './scan-seen.js';
import { refuseUnnamableDirs } from './unnamable-dirs.js';

/**
 * A directory deeper than this below a writable root, or with a longer path,
 * is kept read-only as a whole instead of searched: no project comes near,
 * and a command could otherwise leave a tree that no search can walk and no
 * mount can name (deeper than PATH_MAX), which would stop every later run.
 */
export const MAX_SCAN_DEPTH = 128;
export const MAX_SCAN_PATH_BYTES = 2048;

/**
 * Whether the sandboxed command could enter a directory: the sandbox has no
 * capabilities, so even root gets only the owner/group/other permission bits.
 */
export function sandboxCanEnter(mode: number, uid: number, gid: number, self: { uid: number; groups: readonly number[] }): boolean {
  if (uid === self.uid) return (mode & 0o100) !== 0;
  if (self.groups.includes(gid)) return (mode & 0o010) !== 0;
  return (mode & 0o001) !== 0;
}

export interface ScanOptions {
  /** Where the search keeps what it saw between runs (scan-cache-file.ts); undefined: nothing is kept. */
  cacheDir?: string | undefined;
  /** @internal The clock, for tests: undefined when the boot cannot be told apart (no cache then). */
  clock?: () => ScanClock | undefined;
  /** The caller's environment: where git's own configuration is, and the home directory it expands `~/` to (git-repos.ts). */
  env?: Readonly<Record<string, string | undefined>> | undefined;
}

/** One search: what it looks for, what it found, and where it is. */
interface Search {
  finder: Finder & { has(path: string): boolean; facts(): ProtectFact[] };
  names: NameIndex;
  /** The names searched for below a package manager's directory (protect-names.ts, packagesIndex), and whether the search is there. */
  packages: NameIndex;
  inPackages: boolean;
  rules: readonly MountRule[];
  /** Paths that have a rule of their own: only there can a subdirectory of a writable one be other than writable. */
  rulePaths: ReadonlySet<string>;
  self: { uid: number; groups: readonly number[] };
  /** When the search began (wall clock); undefined: no listing is recorded as reusable, none reused. */
  startMs: number | undefined;
  /** Per device: whether its filesystem's timestamps allow reuse. */
  /** File system types by device (scan-cache-file.ts fsType). */
  fsTypes: Map<number, number | undefined>;
  /** The directories from the current root down to the one being searched. */
  pins: string[];
  /** The current root's cached tree, and the one this search builds. */
  old: ScanTree | undefined;
  out: TreeBuilder;
}

function dirStat(path: string): Stats | undefined {
  try {
    return lstatSync(path, { throwIfNoEntry: false });
  } catch (e: unknown) {
    const code = errnoCode(e);
    if (code === 'ENOTDIR' || code === 'EACCES') return undefined;
    throw new IsolateError('E_IO', `cannot inspect ${path}: ${code ?? String(e)}`, { cause: e });
  }
}

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

const kindOf = (e: Dirent): EntryKind => (e.isSymbolicLink() ? 'symlink' : e.isDirectory() ? 'dir' : e.isFile() ? 'file' : 'other');
const hitMap = (hits: readonly Hit[]): Map<string, Hit> => new Map(hits.map((h) => [nameKey(h.name), h]));
const NONE: readonly Hit[] = Object.freeze([]);

function cacheable(s: Search, dev: number, path: string): boolean {
  return s.startMs !== undefined && cacheableFs(s.fsTypes, dev, path);
}

/** Search a directory: from its cached listing while its stamp is unchanged, else from a fresh one. `old`: its cached record, or -1. */
function visit(s: Search, path: string, name: string, st: Stats, old: number, atTop: boolean): void {
  const mayReuse = cacheable(s, st.dev, path);
  if (mayReuse && old >= 0 && s.old?.reusableFor(old, st) === true) return revisit(s, path, old, atTop);
  const entries = atTop && !sandboxCanEnter(st.mode, st.uid, st.gid, s.self) ? undefined : listDir(path);
  const index = s.inPackages ? s.packages : s.names;
  if (entries === undefined) {
    namesIn(s.finder, index, path, undefined, atTop, s.pins);
    return s.out.close(s.out.open(name, st, false, NONE));
  }
  const hits: Hit[] = [];
  const subdirs: string[] = [];
  for (const e of entries) {
    if (s.names.keySet.has(nameKey(e.name))) hits.push({ name: e.name, kind: kindOf(e) });
    if (e.isDirectory() && e.name !== '.git') subdirs.push(e.name);
  }
  refuseUnnamableDirs(path, subdirs, (sub) => sandboxCanEnter(sub.mode, sub.uid, sub.gid, s.self));
  if (atTop || hits.length > 0) namesIn(s.finder, index, path, hitMap(hits), atTop, s.pins);
  // The top of a root changes with every run (placeholders come and go): listed every time, so its new stamp never rewrites the cache.
  const record = s.out.open(name, st, !atTop && mayReuse && s.startMs !== undefined && settled(st, s.startMs), hits);
  const before = old >= 0 ? s.old?.children(old) : undefined;
  let whole = true;
  for (const sub of subdirs) whole = child(s, path, sub, before?.get(sub) ?? -1) && whole;
  // A subdirectory without a record of its own (its name not UTF-8, or not looked at): this listing must be read again.
  if (!whole) s.out.unflag(record);
  s.out.close(record);
}

/** Search a directory whose cached listing stands: its names, then each subdirectory it had. */
function revisit(s: Search, path: string, old: number, atTop: boolean): void {
  const tree = s.old as ScanTree;
  const hits = tree.hits(old);
  if (atTop || hits.length > 0) namesIn(s.finder, s.inPackages ? s.packages : s.names, path, hitMap(hits), atTop, s.pins);
  const record = s.out.openCopy(old);
  let whole = true;
  for (let j = old + 1; j < tree.end(old); j = tree.end(j)) whole = child(s, path, tree.name(j), j) && whole;
  if (!whole) s.out.unflag(record);
  s.out.close(record);
}

/** A subdirectory: searched when the sandbox could enter and write it, else recorded by name only. False: no record. */
function child(s: Search, parent: string, name: string, old: number): boolean {
  const path = parent === '/' ? `/${name}` : `${parent}/${name}`;
  const st = dirStat(path);
  if (st === undefined || !st.isDirectory()) return false; // gone or replaced since the listing (the parent's stamp changed too), or a name not UTF-8
  const enter =
    sandboxCanEnter(st.mode, st.uid, st.gid, s.self) && // one it cannot enter holds nothing it could write
    !s.finder.has(path) && // protected as a whole
    (!s.rulePaths.has(path) || isWritable(s.rules, path));
  if (!enter) return record(s, name, st);
  if (s.pins.length >= MAX_SCAN_DEPTH || Buffer.byteLength(path) > MAX_SCAN_PATH_BYTES) {
    s.finder.add(path, 'dir', [...s.pins]); // kept read-only whole: nothing can be planted where no search or mount reaches
    return record(s, name, st);
  }
  s.pins.push(path);
  const inPackages = s.inPackages;
  s.inPackages ||= nameKey(name) === nameKey(PACKAGES_DIR);
  try {
    visit(s, path, name, st, old, false);
  } finally {
    s.pins.pop();
    s.inPackages = inPackages;
  }
  return true;
}

/** A directory recorded by name and stamp only: not searched, its listing never reused. */
function record(s: Search, name: string, st: Stats): true {
  s.out.close(s.out.open(name, st, false, NONE));
  return true;
}

function finder(self: Search['self']): Search['finder'] {
  const facts = new Map<string, ProtectFact>();
  return {
    add: (path, state, pins) => void (facts.has(path) || facts.set(path, { path, state, pins })),
    has: (path) => facts.has(path),
    enterable: (path) => {
      const st = dirStat(path);
      return st !== undefined && st.isDirectory() && sandboxCanEnter(st.mode, st.uid, st.gid, self);
    },
    facts: () => [...facts.values()],
  };
}

interface Searched {
  facts: ProtectFact[];
  /** Each root's tree, and whether it differs from the cached one. */
  trees: { root: string; tree: ScanTree; changed: boolean }[];
}

/** Every root searched, with the cached trees when `start` is given. */
function search(policy: Policy, cacheDir: string | undefined, start: ScanClock | undefined, env: Readonly<Record<string, string | undefined>>): Searched {
  const rules = policy.filesystem.mounts;
  const self = { uid: process.getuid?.() ?? -1, groups: [process.getgid?.() ?? -1, ...(process.getgroups?.() ?? [])] };
  const names = nameIndex(policy.filesystem);
  const s: Search = { finder: finder(self), names, packages: packagesIndex(names), inPackages: false, rules, rulePaths: new Set(rules.map((r) => r.path)), self, startMs: start?.wallMs, fsTypes: new Map(), pins: [], old: undefined, out: new TreeBuilder(undefined) };
  // Absolute protected paths first: the walk then does not enter what they protect as a whole. Then the hidden paths' pins.
  const probe = { state: lstatState, enterable: s.finder.enterable };
  for (const fact of [...ownPathFacts(policy, probe), ...deniedPathFacts(rules, probe), ...missingDeniedFacts(policy, probe)]) s.finder.add(fact.path, fact.state, fact.pins);
  const trees = [];
  for (const root of writableRoots(rules)) {
    const st = dirStat(root);
    if (st === undefined || !st.isDirectory()) continue;
    s.old = cacheDir === undefined || start === undefined ? undefined : readScanCache(cacheDir, root, names.keys, start);
    s.out = new TreeBuilder(s.old);
    visit(s, root, '', st, s.old === undefined ? -1 : 0, true);
    trees.push({ root, ...s.out.finish() });
  }
  for (const fact of gitConfigFacts(rules, s.finder.facts(), env, s.finder.enterable)) s.finder.add(fact.path, fact.state, fact.pins);
  return { facts: s.finder.facts(), trees };
}

/**
 * What the configuration of the repositories found makes git run or read
 * (git-repos.ts): each hooks directory and included file inside a writable
 * root, protected as a whole; a hooks directory that is a writable root
 * itself by the hook names in it.
 */
function gitConfigFacts(rules: readonly MountRule[], found: readonly ProtectFact[], env: Readonly<Record<string, string | undefined>>, enterable: (path: string) => boolean): ProtectFact[] {
  const { hooks, include } = gitTargets(found, env);
  const roots = new Set(writableRoots(rules));
  const atRoots = hooks.filter((dir) => roots.has(dir)).flatMap((dir) => GIT_HOOK_NAMES.map((name) => join(dir, name)));
  return pathFacts(rules, [...hooks, ...include, ...atRoots], { state: lstatState, enterable });
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
 * With `cacheDir`, unchanged directories are not listed again. What the
 * search saw is kept for the search after the run (scan-seen.ts).
 */
export function scanProtected(policy: Policy, options: ScanOptions = {}): ProtectFact[] {
  // A hidden path inside a writable root has directories to pin (own-paths.ts, deniedPathFacts), and a missing one a placeholder.
  const hides = policy.filesystem.mounts.some((r) => r.kind === 'deny') || missingHiddenPaths(policy.filesystem.skipped).length > 0;
  if (!protectsAnything(policy.filesystem) && !hides) return [];
  const clock = options.clock ?? scanClock;
  const start = clock();
  const result = search(policy, options.cacheDir, start, options.env ?? {});
  if (start === undefined) return result.facts;
  const end = clock();
  // The wall clock went back during the search: its reuse of listings is not proven; search again without them.
  if (end === undefined || !clockTrusted(start, end)) return search(policy, undefined, undefined, options.env ?? {}).facts;
  const names = nameIndex(policy.filesystem).keys;
  // The search after the run (run/after-run-scan.ts) takes its listings from these trees.
  recordSeen(result.facts, { clock: start, names, trees: new Map(result.trees.map((t) => [t.root, t.tree])) });
  if (options.cacheDir === undefined) return result.facts;
  for (const { root, tree, changed } of result.trees) {
    if (changed) writeScanCache(options.cacheDir, { root, names, clock: start }, tree);
  }
  return result.facts;
}

/** What the search after a run (run/after-run-scan.ts) takes from the policy: the same roots and names as this search. */
export interface SearchScope {
  roots: string[];
  names: NameIndex;
  /** Paths inside the roots with a rule of their own that does not make them writable: not searched. */
  notWritable: ReadonlySet<string>;
}

export function searchScope(policy: Policy): SearchScope {
  const rules = policy.filesystem.mounts;
  return {
    roots: writableRoots(rules),
    names: nameIndex(policy.filesystem),
    notWritable: new Set(rules.filter((r) => !isWritable(rules, r.path)).map((r) => r.path)),
  };
}
