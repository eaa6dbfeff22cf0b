/**
 * Host facts: what a run by root could read under the profile's read-only
 * paths only because it is root. The sandbox has no capabilities, but its
 * uid 0 is the owner of root's files, so the owner's (and root's group's)
 * permission bits apply: a file of root's that others cannot read (0600,
 * 0640) or a directory others cannot enter (0700) would be open to it.
 * Every such entry is hidden (as a deny rule hides a path), a directory as
 * a whole. Not searched: the working directory and the home directory, and
 * what is beneath them (the user's own, meant to be read, as an ordinary
 * user reads their own files; unless one is /), paths with a rule of their
 * own that does not make them read-only, and a path a rule names (asked for).
 *
 * One lstat per directory and per entry of a directory whose listing
 * changed: a directory's root-only files are kept in a cache by the rules of
 * the protected-name search (scan-cache.ts), so an unchanged tree costs one
 * lstat per directory. Not seen until its directory changes: an existing
 * file made root-only by chmod in a directory a cached search saw settled.
 */
import { lstatSync, readdirSync, type Dirent, type Stats } from 'node:fs';
import { join } from 'node:path';
import { IsolateError } from '../errors.js';
import type { MountRule, Policy } from '../profile/types.js';
import { effectiveKind, governing, isWithin } from '../backends/mounts.js';
import type { RootOnlyFact } from '../backends/types.js';
import { clockTrusted, settled, type EntryKind, type Hit, type ScanClock } from './scan-cache.js';
import type { ScanTree } from './scan-tree.js';
import { TreeBuilder } from './scan-tree-builder.js';
import { cacheableFs, fsType, readScanCache, scanClock, writeScanCache } from './scan-cache-file.js';
import { MAX_SCAN_DEPTH, MAX_SCAN_PATH_BYTES } from './protect-scan.js';
import { unnamableEntries } from './unnamable-dirs.js';
import { coldSearchTurn } from './cold-search-gate.js';

/** The cache's key in place of protected names (no name holds a NUL byte). */
const CACHE_KEY: readonly string[] = ['\0root-only'];

interface Self {
  uid: number;
  groups: readonly number[];
}

/**
 * Whether the sandbox reaches the entry only as its owner or group: others
 * could not read it (a directory: enter it; a socket or FIFO: read or write
 * it), and the class the kernel puts the sandbox in can.
 */
export function onlyOwnerReaches(st: Pick<Stats, 'mode' | 'uid' | 'gid' | 'isDirectory' | 'isFile'>, self: Self): boolean {
  const want = st.isDirectory() ? 0o1 : st.isFile() ? 0o4 : 0o6;
  const own = st.uid === self.uid ? (st.mode >> 6) & 0o7 : self.groups.includes(st.gid) ? (st.mode >> 3) & 0o7 : st.mode & 0o7;
  return (own & want & ~st.mode) !== 0;
}

/**
 * The kernel's own file systems (statfs f_type): what is root-only there
 * (sysfs attributes, /proc, cgroups, debugfs) is the kernel's, not a secret
 * a user put there, and sysfs alone holds thousands of such entries, more
 * than a sandbox can hide one by one. Not searched; what a profile makes
 * readable of them is guarded by the kernel paths isolate always hides
 * (/sys/firmware, ...). tmpfs is searched (/run/secrets).
 */
const KERNEL_FS: ReadonlySet<number> = new Set([
  0x9fa0, // proc
  0x62656572, // sysfs
  0x27e0eb, // cgroup
  0x63677270, // cgroup2
  0x64626720, // debugfs
  0x74726163, // tracefs
  0x73636673, // securityfs
  0xcafe4a11, // bpf
  0x62656570, // configfs
  0x6165676c, // pstore
  0xde5e81e4, // efivarfs
  0x1cd1, // devpts
  0x19800202, // mqueue
  0x958458f6, // hugetlbfs
  0x42494e4d, // binfmt_misc
  0x65735543, // fusectl
]);

/** More root-only entries than this under one run's read-only paths: the run is refused rather than given thousands of mounts. */
export const MAX_ROOT_ONLY = 1000;

interface Walk {
  self: Self;
  /** Not searched: the project, and paths with a rule that is not `read`. */
  skip: (path: string) => boolean;
  /** Named by a rule: never hidden. */
  named: ReadonlySet<string>;
  startMs: number | undefined;
  /** File system types by device (scan-cache-file.ts fsType). */
  fsTypes: Map<number, number | undefined>;
  depth: number;
  old: ScanTree | undefined;
  out: TreeBuilder;
  found: RootOnlyFact[];
}

function stat(path: string): Stats | undefined {
  try {
    return lstatSync(path, { throwIfNoEntry: false });
  } catch {
    return undefined; // cannot be looked at: nor can the sandbox reach it by this path
  }
}

function list(dir: string): Dirent[] | undefined {
  try {
    return readdirSync(dir, { withFileTypes: true });
  } catch {
    return undefined;
  }
}

function cacheable(w: Walk, dev: number, path: string): boolean {
  return w.startMs !== undefined && cacheableFs(w.fsTypes, dev, path);
}

function onKernelFs(w: Walk, dev: number, path: string): boolean {
  const type = fsType(w.fsTypes, dev, path);
  return type !== undefined && KERNEL_FS.has(type);
}

function hide(w: Walk, path: string, dir: boolean): void {
  if (!w.named.has(path)) w.found.push({ path, dir });
}

const kindOf = (st: Stats): EntryKind => (st.isFile() ? 'file' : 'other');

/** A directory's root-only files, from its cached listing while its stamp stands, else from lstats; then its subdirectories. */
function visit(w: Walk, path: string, name: string, st: Stats, old: number): void {
  const mayReuse = cacheable(w, st.dev, path);
  if (mayReuse && old >= 0 && w.old?.reusableFor(old, st) === true) {
    const tree = w.old;
    for (const hit of tree.hits(old)) hide(w, join(path, hit.name), false);
    const record = w.out.openCopy(old);
    for (let j = old + 1; j < tree.end(old); j = tree.end(j)) child(w, path, tree.name(j), j);
    return w.out.close(record);
  }
  const entries = list(path);
  if (entries === undefined) return w.out.close(w.out.open(name, st, false, []));
  if (unnamableEntries(path, entries.map((e) => e.name)).some((u) => u.st.isDirectory() || onlyOwnerReaches(u.st, w.self))) {
    // A name isolate cannot mount over, or a directory it cannot search by name: the whole directory is hidden.
    hide(w, path, true);
    return w.out.close(w.out.open(name, st, false, []));
  }
  const hits: Hit[] = [];
  const subdirs: string[] = [];
  for (const e of entries) {
    if (e.isDirectory()) subdirs.push(e.name);
    else if (!e.isSymbolicLink()) {
      const s = stat(join(path, e.name));
      if (s !== undefined && !s.isDirectory() && onlyOwnerReaches(s, w.self)) hits.push({ name: e.name, kind: kindOf(s) });
    }
  }
  for (const hit of hits) hide(w, join(path, hit.name), false);
  const record = w.out.open(name, st, mayReuse && w.startMs !== undefined && settled(st, w.startMs), hits);
  const before = old >= 0 ? w.old?.children(old) : undefined;
  for (const sub of subdirs) child(w, path, sub, before?.get(sub) ?? -1);
  w.out.close(record);
}

/** A subdirectory: hidden whole when only root may enter it, searched otherwise (unless skipped). */
function child(w: Walk, parent: string, name: string, old: number): void {
  const path = parent === '/' ? `/${name}` : `${parent}/${name}`;
  const st = stat(path);
  if (st === undefined || !st.isDirectory()) return; // gone or replaced since the listing (the parent's stamp changed too)
  const record = (): void => w.out.close(w.out.open(name, st, false, []));
  if (w.skip(path) || onKernelFs(w, st.dev, path)) return record();
  if (onlyOwnerReaches(st, w.self) || w.depth >= MAX_SCAN_DEPTH || Buffer.byteLength(path) > MAX_SCAN_PATH_BYTES) {
    hide(w, path, true);
    return record();
  }
  w.depth++;
  try {
    visit(w, path, name, st, old);
  } finally {
    w.depth--;
  }
}

/**
 * Whether a path is the user's own: the working directory or the home
 * directory, or beneath one that is not / (beneath /, it is the system).
 */
export function ownPath(cwd: string, home: string | undefined): (path: string) => boolean {
  const trees = [cwd, home].filter((p): p is string => p !== undefined);
  return (path) => trees.some((t) => path === t || (t !== '/' && isWithin(path, t)));
}

/**
 * The distribution's own tree, not searched: what packages install under
 * /usr is readable by design, and the one root-only entry a Debian system
 * has there (polkit's rules.d) holds no secret of the user's, while its
 * 15,000 directories cost every run by root 0.1-0.3 s. /usr/local, where an
 * administrator's own files go, is searched.
 */
const PACKAGE_TREE = '/usr';
const LOCAL_TREE = '/usr/local';

/** Under /usr but not /usr/local. */
const inPackageTree = (d: string): boolean => d === PACKAGE_TREE || (isWithin(d, PACKAGE_TREE) && d !== LOCAL_TREE && !isWithin(d, LOCAL_TREE));

/** The read-only directories to search: each read rule's directory that is not the user's own, inside no other such one; /usr left to its packages, but not /usr/local. */
export function readOnlyRoots(rules: readonly MountRule[], own: (path: string) => boolean): string[] {
  const dirs = rules.filter((r) => r.kind === 'read' && r.type === 'dir' && governing(rules, r.path) === r && effectiveKind(rules, r.path) === 'read' && !own(r.path)).map((r) => r.path);
  const all = [...new Set(dirs)].filter((d) => !dirs.some((o) => o !== d && isWithin(d, o)));
  const roots = all.filter((d) => !inPackageTree(d));
  const coversUsr = all.some((d) => d === PACKAGE_TREE || isWithin(PACKAGE_TREE, d));
  // The walk from an ancestor of /usr skips /usr: /usr/local is then a root of its own, in place of any inside it.
  if (!coversUsr || effectiveKind(rules, LOCAL_TREE) !== 'read' || own(LOCAL_TREE)) return roots;
  return [...roots.filter((d) => d !== LOCAL_TREE && !isWithin(d, LOCAL_TREE)), LOCAL_TREE];
}

export interface RootOnlyOptions {
  uid: number;
  /** The user's home directory (real path), whose files are theirs like the project's. */
  home?: string | undefined;
  groups: readonly number[];
  /** Where the search keeps what it saw between runs (scan-cache-file.ts); undefined: nothing is kept. */
  cacheDir: string | undefined;
  /** @internal The clock, for tests. */
  clock?: () => ScanClock | undefined;
}

/** Every entry under the policy's read-only paths that a run as `uid` reaches only as its owner or group. */
export function rootOnlyEntries(policy: Policy, options: RootOnlyOptions): RootOnlyFact[] {
  const start = (options.clock ?? scanClock)();
  const found = search(policy, options, start);
  if (start === undefined) return atMostMax(found);
  const end = (options.clock ?? scanClock)();
  if (end === undefined || !clockTrusted(start, end)) return atMostMax(search(policy, { ...options, cacheDir: undefined }, undefined));
  return atMostMax(found);
}

/** `found`, or the run refused when there are too many to hide one by one (a sandbox takes a few thousand mounts at most). */
function atMostMax(found: RootOnlyFact[]): RootOnlyFact[] {
  if (found.length <= MAX_ROOT_ONLY) return found;
  throw new IsolateError('E_SANDBOX_SETUP', `a run by root would have to hide ${found.length} entries under its read-only paths that only root may read (the first: ${found[0]?.path ?? ''}); isolate hides at most ${MAX_ROOT_ONLY}`, {
    fix: 'hide the directory that holds them with a deny rule (filesystem.deny), or run isolate as an ordinary user',
  });
}

function search(policy: Policy, options: RootOnlyOptions, start: ScanClock | undefined): RootOnlyFact[] {
  const rules = policy.filesystem.mounts;
  // The working directory the profile resolved to, not one a run moved its command to (narrow.ts): a call's cwd of /etc does not make /etc the user's.
  const own = ownPath(policy.process.profileCwd ?? policy.process.cwd, options.home);
  const ruled = new Set(rules.map((r) => r.path));
  const w: Walk = {
    self: { uid: options.uid, groups: options.groups },
    skip: (path) => path === PACKAGE_TREE || own(path) || (ruled.has(path) && effectiveKind(rules, path) !== 'read'),
    named: ruled,
    startMs: start?.wallMs,
    fsTypes: new Map(),
    depth: 0,
    old: undefined,
    out: new TreeBuilder(undefined),
    found: [],
  };
  for (const root of readOnlyRoots(rules, own)) {
    const st = stat(root);
    if (st === undefined || !st.isDirectory() || onKernelFs(w, st.dev, root)) continue;
    const cacheDir = start === undefined ? undefined : options.cacheDir;
    const read = (): ScanTree | undefined => (cacheDir === undefined || start === undefined ? undefined : readScanCache(cacheDir, root, CACHE_KEY, start));
    w.old = read();
    // No cache: one such search at a time (cold-search-gate.ts); after another's, its cache is read.
    const release = w.old === undefined && cacheDir !== undefined ? coldSearchTurn(cacheDir) : undefined;
    if (w.old === undefined && cacheDir !== undefined && release === undefined) w.old = read();
    try {
      w.out = new TreeBuilder(w.old);
      visit(w, root, '', st, w.old === undefined ? -1 : 0);
      const { tree, changed } = w.out.finish();
      if (changed && cacheDir !== undefined && start !== undefined) writeScanCache(cacheDir, { root, names: [...CACHE_KEY], clock: start }, tree);
    } finally {
      release?.();
    }
  }
  return w.found;
}
