/**
 * The protected-name search's walk of one writable root, directory by
 * directory (the rules are scanProtected's, in protect-scan.ts). The same
 * code runs in the CLI's thread and, for a large tree, in a worker thread
 * that searches some of its subtrees at the same time (scan-split.ts): each
 * subdirectory still waiting to be searched is on `pending`, where the
 * split takes some from the back.
 *
 * One lstat and at most one readdir per directory: a directory's listing is
 * taken from the previous run's cache while its stamp is unchanged
 * (scan-cache.ts says why that is never stale), so an unchanged tree costs
 * one lstat per directory. A directory listed afresh costs one lstat more
 * per regular file: those with other names (hard links, linked-files.ts)
 * are noted, and kept in its record for the runs that reuse its listing.
 */
import { lstatSync, readdirSync, type Dirent, type Stats } from 'node:fs';
import { mayExecute } from './access-x.js';
import { IsolateError, errnoCode } from '../errors.js';
import type { MountRule } from '../profile/types.js';
import { isWritable } from '../backends/mounts.js';
import type { ProtectFact } from '../backends/types.js';
import { PACKAGES_DIR, nameKey, namesIn, type Finder, type NameIndex } from './protect-names.js';
import { settled, type EntryKind, type Hit } from './scan-cache.js';
import type { ScanTree } from './scan-tree.js';
import type { TreeBuilder } from './scan-tree-builder.js';
import { cacheableFs } from './scan-cache-file.js';
import { refuseUnnamableDirs } from './unnamable-dirs.js';
import type { Linked } from './linked-files.js';

/**
 * A directory deeper than this below a writable root, or with a longer path,
 * is kept read-only as a whole instead of searched: no project comes near,
 * and a command could otherwise leave a tree that no search can walk and no
 * mount can name (deeper than PATH_MAX), which would stop every later run.
 */
export const MAX_SCAN_DEPTH = 128;
export const MAX_SCAN_PATH_BYTES = 2048;

/** The path of `name` in the directory `dir`. */
const under = (dir: string, name: string): string => (dir === '/' ? `/${name}` : `${dir}/${name}`);

export interface Self {
  uid: number;
  groups: readonly number[];
}

/**
 * Whether the sandboxed command could enter a directory by its permission
 * bits: the sandbox has no capabilities, so even root gets only the
 * owner/group/other bits (and an access control list, sandboxMayEnter).
 */
export function sandboxCanEnter(mode: number, uid: number, gid: number, self: Self): boolean {
  if (uid === self.uid) return (mode & 0o100) !== 0;
  if (self.groups.includes(gid)) return (mode & 0o010) !== 0;
  return (mode & 0o001) !== 0;
}

/**
 * Whether the sandboxed command may enter the directory at `path`, erring
 * towards yes: its permission bits let it in, or, where they keep it out,
 * an access control list may not (a directory shared with `setfacl -m
 * u:me:rwx` and mode 0770 was taken for one the sandbox never enters, and
 * went unsearched before and after the run). An ordinary user's own access
 * check reads the list; root's passes everything, so for root a list that
 * could hold an entry letting it in (its mask, the group bits, allows
 * searching, and root does not own the directory) is enough.
 */
export function sandboxMayEnter(path: string | Buffer, st: Pick<Stats, 'mode' | 'uid' | 'gid'>, self: Self): boolean {
  if (sandboxCanEnter(st.mode, st.uid, st.gid, self)) return true;
  if (self.uid !== 0) return mayExecute(path);
  return st.uid !== self.uid && (st.mode & 0o010) !== 0;
}

/** The subdirectories of one directory, in the order they are searched; from `limit` on, handed to the split (scan-split.ts). */
export interface Pending {
  path: string;
  names: readonly string[];
  /** Each one's cached record, or -1. */
  olds: readonly number[];
  /** The one being searched. */
  next: number;
  limit: number;
  /** How many of Search.pins lead down to this one (the pins of its subdirectories' names). */
  depth: number;
  inPackages: boolean;
  /** The split's ticket of each one handed over (undefined before any is). */
  tickets: Int32Array | undefined;
}

/** Another thread searching some subtrees (scan-split.ts). */
export interface Split {
  /** Called for each directory the walk reaches: may hand subtrees of `pending` over. */
  tick(s: Search): void;
  /** The subdirectory `k` of `at`, handed over: its record, as child() returns it. */
  settle(s: Search, at: Pending, k: number): boolean;
}

/** The facts a search found, by path, in the order found. */
export class Facts implements Finder {
  private readonly byPath = new Map<string, ProtectFact>();
  /** Paths in the order added. */
  readonly paths: string[] = [];
  constructor(private readonly self: Self) {}
  /** Regular files with other names (hard links), in the order found: linked-files.ts decides what is kept read-only. */
  readonly linked: Linked[] = [];
  add(path: string, state: ProtectFact['state'], pins: string[], why?: string): void {
    if (this.byPath.has(path)) return;
    this.byPath.set(path, why === undefined ? { path, state, pins } : { path, state, pins, why });
    this.paths.push(path);
  }
  /** The files `names` of the directory `dir`, which have other names; `pins`: the directories from the root down to `dir`. */
  addLinked(dir: string, names: readonly string[], pins: readonly string[]): void {
    if (names.length === 0) return;
    const on = [...pins];
    for (const name of names) this.linked.push({ path: under(dir, name), pins: on });
  }
  has(path: string): boolean {
    return this.byPath.has(path);
  }
  enterable(path: string): boolean {
    const st = dirStat(path);
    return st !== undefined && st.isDirectory() && sandboxMayEnter(path, st, this.self);
  }
  /** The facts added from the `from`-th on. */
  facts(from = 0): ProtectFact[] {
    return this.paths.slice(from).map((p) => this.byPath.get(p) as ProtectFact);
  }
}

/** One search: what it looks for, what it found, and where it is. */
export interface Search {
  finder: Facts;
  names: NameIndex;
  /** The names searched for below a package manager's directory (protect-names.ts, packagesIndex), and whether the search is there. */
  packages: NameIndex;
  inPackages: boolean;
  rules: readonly MountRule[];
  /** Paths that have a rule of their own: only there can a subdirectory of a writable one be other than writable. */
  rulePaths: ReadonlySet<string>;
  self: Self;
  /** When the search began (wall clock); undefined: no listing is recorded as reusable, none reused. */
  startMs: number | undefined;
  /** File system types by device (scan-cache-file.ts fsType). */
  fsTypes: Map<number, number | undefined>;
  /** The directories from the current root down to the one being searched. */
  pins: string[];
  /** The subdirectories still to search, of each directory from the root down. */
  pending: Pending[];
  /** The current root's cached tree, and the one this search builds. */
  old: ScanTree | undefined;
  out: TreeBuilder;
  split: Split | undefined;
}

export function dirStat(path: string): Stats | undefined {
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

/** The names of the regular files among `entries` of `dir` that have other names (hard links): one lstat each. */
function linkedFiles(dir: string, entries: readonly Dirent[]): string[] {
  const out: string[] = [];
  for (const e of entries) {
    if (!e.isFile()) continue;
    const st = dirStat(under(dir, e.name)); // undefined: gone, or not reachable (nor is it for the sandbox)
    if (st !== undefined && st.isFile() && st.nlink > 1) out.push(e.name);
  }
  return out;
}

/**
 * The files with other names in the object store of the repository `dir/.git`: a `git clone` from a path on the same
 * file system links the objects of both repositories (pack files and loose objects alike), so a command that
 * rewrote one in place would change the other repository, outside the writable paths. The walk does not enter `.git`;
 * only `objects` and the directories in it (`ab/`, `pack/`, `info/`) are listed, on every run (not cached): git
 * writes a new object into its directory and renames it into place, and never links one later.
 */
function gitObjectLinks(s: Search, dir: string): void {
  const git = under(dir, '.git');
  const objects = `${git}/objects`;
  const st = dirStat(objects);
  if (st === undefined || !st.isDirectory() || !sandboxMayEnter(objects, st, s.self)) return;
  const entries = listDir(objects) ?? [];
  const pins = [...s.pins, git, objects];
  s.finder.addLinked(objects, linkedFiles(objects, entries), pins);
  for (const e of entries) {
    if (!e.isDirectory()) continue;
    const sub = `${objects}/${e.name}`;
    s.finder.addLinked(sub, linkedFiles(sub, listDir(sub) ?? []), [...pins, sub]);
  }
}

/** Whether a listing's protected names include a `.git` directory. */
const hasGitDir = (hits: readonly Hit[]): boolean => hits.some((h) => h.kind === 'dir' && nameKey(h.name) === GIT_KEY);
const GIT_KEY = nameKey('.git');

const kindOf = (e: Dirent): EntryKind => (e.isSymbolicLink() ? 'symlink' : e.isDirectory() ? 'dir' : e.isFile() ? 'file' : 'other');
const hitMap = (hits: readonly Hit[]): Map<string, Hit> => new Map(hits.map((h) => [nameKey(h.name), h]));
const NONE: readonly Hit[] = Object.freeze([]);

function cacheable(s: Search, dev: number, path: string): boolean {
  return s.startMs !== undefined && cacheableFs(s.fsTypes, dev, path);
}

/** Search a directory: from its cached listing while its stamp is unchanged, else from a fresh one. `old`: its cached record, or -1. */
export function visit(s: Search, path: string, name: string, st: Stats, old: number, atTop: boolean): void {
  const mayReuse = cacheable(s, st.dev, path);
  if (mayReuse && old >= 0 && s.old?.reusableFor(old, st) === true) return revisit(s, path, old, atTop);
  const entries = atTop && !sandboxMayEnter(path, st, s.self) ? undefined : listDir(path);
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
  refuseUnnamableDirs(path, subdirs, (sub, at) => sandboxMayEnter(at, sub, s.self));
  if (atTop || hits.length > 0) namesIn(s.finder, index, path, hitMap(hits), atTop, s.pins);
  const linked = linkedFiles(path, entries);
  s.finder.addLinked(path, linked, s.pins);
  if (hasGitDir(hits)) gitObjectLinks(s, path);
  // The top of a root changes with every run (placeholders come and go): listed every time, so its new stamp never rewrites the cache.
  const record = s.out.open(name, st, !atTop && mayReuse && s.startMs !== undefined && settled(st, s.startMs), hits, linked);
  const before = old >= 0 ? s.old?.children(old) : undefined;
  const olds = before === undefined ? subdirs.map(() => -1) : subdirs.map((sub) => before.get(sub) ?? -1);
  // A subdirectory without a record of its own (its name not UTF-8, or not looked at): this listing must be read again.
  if (!children(s, path, subdirs, olds)) s.out.unflag(record);
  s.out.close(record);
}

/** Search a directory whose cached listing stands: its names, then each subdirectory it had. */
function revisit(s: Search, path: string, old: number, atTop: boolean): void {
  const tree = s.old as ScanTree;
  const hits = tree.hits(old);
  if (atTop || hits.length > 0) namesIn(s.finder, s.inPackages ? s.packages : s.names, path, hitMap(hits), atTop, s.pins);
  s.finder.addLinked(path, tree.linked(old), s.pins);
  if (hasGitDir(hits)) gitObjectLinks(s, path);
  const record = s.out.openCopy(old);
  const names: string[] = [];
  const olds: number[] = [];
  for (let j = old + 1; j < tree.end(old); j = tree.end(j)) {
    names.push(tree.name(j));
    olds.push(j);
  }
  if (!children(s, path, names, olds)) s.out.unflag(record);
  s.out.close(record);
}

/** Search the subdirectories of `path`, in order, or take the records of those handed over. False: one got no record. */
function children(s: Search, path: string, names: readonly string[], olds: readonly number[]): boolean {
  if (names.length === 0) return true;
  const at: Pending = { path, names, olds, next: 0, limit: names.length, depth: s.pins.length, inPackages: s.inPackages, tickets: undefined };
  s.pending.push(at);
  let whole = true;
  try {
    for (; at.next < names.length; at.next++) {
      const k = at.next;
      const recorded = k < at.limit || s.split === undefined ? child(s, path, names[k] as string, olds[k] as number) : s.split.settle(s, at, k);
      whole = recorded && whole;
    }
  } finally {
    s.pending.pop();
  }
  return whole;
}

/** A subdirectory: searched when the sandbox could enter and write it, else recorded by name only. False: no record. */
export function child(s: Search, parent: string, name: string, old: number): boolean {
  s.split?.tick(s);
  const path = under(parent, name);
  const st = dirStat(path);
  if (st === undefined || !st.isDirectory()) return false; // gone or replaced since the listing (the parent's stamp changed too), or a name not UTF-8
  const enter =
    sandboxMayEnter(path, st, s.self) && // one it cannot enter holds nothing it could write
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
