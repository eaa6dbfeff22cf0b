/**
 * After a run: protected names the run created (a new repository's config
 * and hooks, a .git file or link pointing elsewhere, a .git/commondir, an
 * .envrc, an editor's or package manager's configuration, at any depth)
 * must not take effect on the host, where git, direnv or an editor would
 * run what they name. This search finds them (after-run-names.ts) and
 * moves them aside (quarantine.ts). It trusts nothing the sandbox could
 * have written: no limit on the number of directories, no path too long
 * (each directory it lists is held open and its entries reached through
 * it, dir-handle.ts), no symbolic link followed. It never stops: a
 * directory it cannot search, or any error in a subtree, moves that
 * subtree aside whole, unless the sandbox could never have entered it.
 * Empty files and directories are left alone: they configure nothing (and
 * placeholders, this run's and concurrent runs', are such).
 *
 * A directory is not listed again when the search before the run listed it
 * (host/scan-seen.ts) and its stamp is unchanged since, under the rules of
 * host/scan-cache.ts: the listing was recorded as reusable only when the
 * directory's change time was settled before that search began, and any
 * entry added, removed or renamed since (by the sandbox, which starts after
 * it) would have set the change time to the kernel's clock, which no
 * process can set back. Only its subdirectories are looked at then, with
 * one lstat each, and the names it had that begin a protected name.
 */
import { lstatSync, readdirSync, type Dirent, type Stats } from 'node:fs';
import { errnoCode } from '../errors.js';
import type { ProtectFact } from '../backends/types.js';
import type { SearchScope } from '../host/protect-scan.js';
import { nameKey, packagesIndex } from '../host/protect-names.js';
import { clockTrusted, type ScanClock } from '../host/scan-cache.js';
import type { SeenTrees } from '../host/scan-seen.js';
import { StampsAhead, type AheadOptions } from '../host/scan-ahead.js';
import { entryName, openChild, openDir, pathIn, type DirHandle, type EntryName } from './dir-handle.js';
import { unexaminedReason, type Quarantined } from './quarantine.js';
import { createdIn, leftInGitRoot } from './after-run-names.js';
import { ChangedDuringSearch, chainOf, dropFrom, moveAndRecord, neverEntered, openFrames, type Frame, type Walk } from './after-run-walk.js';

/** How deep the search holds directories open; a subtree below is moved aside whole (far below any real project). */
export const MAX_OPEN_DEPTH = 4096;

export interface AfterRun {
  /** The writable roots, the names, the paths not writable (host/protect-scan.ts, searchScope). */
  scope: SearchScope;
  /** The protected-name facts from before the run (host facts). */
  before: readonly ProtectFact[];
  /** Names the moved entries get: `<name>.isolate-quarantined-<tag>`. */
  tag: string;
  /** The clock before the sandbox started, and now: whether a directory's change time can show it was not touched during the run. */
  since: ScanClock | undefined;
  now: ScanClock | undefined;
  /** What the search before the run saw (host/scan-seen.ts): listings that stand while a directory's stamp is unchanged. */
  seen?: SeenTrees | undefined;
  /** @internal For tests: MAX_OPEN_DEPTH. */
  maxDepth?: number;
  /** @internal For tests: when the stamps of a large tree are looked up ahead by a worker thread (host/scan-ahead.ts). */
  ahead?: AheadOptions & { onEnd?: (taken: number) => void };
}

/** The trees of the search before the run, when their listings may stand now: the same names, and a clock that has not gone back since. */
function reusable(input: AfterRun): SeenTrees | undefined {
  const { seen, now } = input;
  if (seen === undefined || now === undefined || !clockTrusted(seen.clock, now)) return undefined;
  return seen.names.join('\0') === input.scope.names.keys.join('\0') ? seen : undefined;
}

/** Search every writable root of the policy after the run: everything moved aside (or that could not be), in the order found. */
export function quarantineAfterRun(input: AfterRun): Quarantined[] {
  const trusted = input.since !== undefined && input.now !== undefined && clockTrusted(input.since, input.now);
  const w: Walk = {
    index: input.scope.names,
    top: undefined,
    packages: packagesIndex(input.scope.names),
    tag: input.tag,
    existed: new Set(input.before.filter((f) => f.state !== 'missing').map((f) => f.path)),
    pinned: new Set(input.before.flatMap((f) => f.pins)),
    notWritable: input.scope.notWritable,
    self: { uid: process.getuid?.() ?? -1, groups: [process.getgid?.() ?? -1, ...(process.getgroups?.() ?? [])] },
    sinceMs: trusted ? input.since?.wallMs : undefined,
    fsTimes: new Map(),
    maxDepth: input.maxDepth ?? MAX_OPEN_DEPTH,
    tree: undefined,
    ahead: undefined,
    out: [],
  };
  const seen = reusable(input);
  for (const root of input.scope.roots) {
    if (w.existed.has(root)) continue; // protected whole for the run (at or inside a protected path): nothing could be made in it
    w.top = input.scope.tops.get(root);
    w.tree = seen?.trees.get(root);
    // Started now, after the run: every stamp it looks up is taken after the sandbox ended.
    w.ahead = w.tree === undefined || w.sinceMs === undefined ? undefined : StampsAhead.start(root, w.tree, input.ahead);
    try {
      searchRoot(w, root);
    } catch (e: unknown) {
      if (!(e instanceof ChangedDuringSearch)) throw e;
      w.tree = undefined; // changed under the search by another process: searched again, every directory listed
      searchRoot(w, root);
    } finally {
      const taken = w.ahead?.end();
      w.ahead = undefined;
      if (taken !== undefined) input.ahead?.onEnd?.(taken);
    }
  }
  return w.out;
}

/** A directory's entries; throws the errno error. (One that can be listed but not searched fails where an entry is looked at.) */
const list = (handle: DirHandle): Dirent<Buffer>[] => readdirSync(handle.self, { withFileTypes: true, encoding: 'buffer' });

/** Whether an entry may be a directory (one of unknown type may). */
const mayBeDir = (e: Dirent<Buffer>): boolean => !(e.isFile() || e.isSymbolicLink() || e.isFIFO() || e.isSocket() || e.isCharacterDevice() || e.isBlockDevice());
const GIT_KEY = nameKey('.git');

const frameOf = (name: EntryName, path: string, old: number, handle?: DirHandle, step?: Frame['step']): Frame => ({ step, handle, name, path, old, subdirs: [], olds: [], next: 0 });

function searchRoot(w: Walk, root: string): void {
  const failed = (e: unknown): void => {
    // A root that is a file (`--allow-write notes.txt`) holds no names; one that is gone has none left.
    if (errnoCode(e) !== 'ENOENT' && errnoCode(e) !== 'ENOTDIR') w.out.push({ path: root, movedTo: null, reason: 'the writable path could not be searched after the run', error: errnoCode(e) ?? String(e) });
  };
  let handle: DirHandle;
  try {
    handle = openDir(root);
  } catch (e: unknown) {
    return failed(e);
  }
  const frames: Frame[] = [frameOf('', root, w.tree === undefined ? -1 : 0, handle)];
  try {
    leftInGitRoot(w, frames, root);
    if (w.tree?.reusableFor(0, handle.stat()) === true) reuseListing(w, frames);
    else enter(w, frames, list(handle));
    while (frames.length > 0) next(w, frames);
  } catch (e: unknown) {
    if (e instanceof ChangedDuringSearch) throw e;
    failed(e); // only the root's own listing can fail here: below it, an error moves the subtree aside
  } finally {
    dropFrom(frames, 0);
  }
}

/** The top frame's directory was just opened and listed: move aside what the run created in it, and queue its subdirectories. */
function enter(w: Walk, frames: Frame[], entries: Dirent<Buffer>[]): void {
  const names = entries.map((e) => entryName(e.name));
  if (createdIn(w, frames, names)) return;
  const top = frames[frames.length - 1] as Frame;
  const before = top.old >= 0 ? w.tree?.children(top.old) : undefined;
  for (const [i, name] of names.entries()) {
    if (!mayBeDir(entries[i] as Dirent<Buffer>) || (typeof name === 'string' && nameKey(name) === GIT_KEY)) continue;
    top.subdirs.push(name);
    top.olds.push(typeof name === 'string' ? (before?.get(name) ?? -1) : -1);
  }
}

/** The top frame's directory is unchanged since the search before the run listed it: the names it had, its subdirectories then. */
function reuseListing(w: Walk, frames: Frame[]): void {
  const tree = w.tree as NonNullable<Walk['tree']>;
  const top = frames[frames.length - 1] as Frame;
  const hits = tree.hits(top.old);
  if (hits.length > 0 && createdIn(w, frames, hits.map((h) => h.name))) return;
  for (let j = top.old + 1; j < tree.end(top.old); j = tree.end(j)) {
    top.subdirs.push(tree.name(j));
    top.olds.push(j);
  }
}

/** The directory at `path` when it is the one of record `old` with its stamp unchanged (its listing stands); lstat, no handle. */
function unchanged(w: Walk, path: string, old: number): boolean {
  if (old < 0 || w.tree?.reusable(old) !== true) return false;
  const ahead = w.ahead?.take(old);
  if (ahead !== undefined) return ahead.dir && w.tree.reusableFor(old, ahead.stamp);
  let st: Stats | undefined;
  try {
    st = lstatSync(path, { throwIfNoEntry: false });
  } catch {
    return false; // looked at through handles instead, where every failure is dealt with
  }
  return st !== undefined && st.isDirectory() && w.tree?.reusableFor(old, st) === true;
}

/** The top frame's next subdirectory: skipped, taken as listed before the run, searched (a new frame), or moved aside whole. Drops the top frame when it is done. */
function next(w: Walk, frames: Frame[]): void {
  const top = frames[frames.length - 1] as Frame;
  const at = top.next++;
  const name = top.subdirs[at];
  if (name === undefined) return dropFrom(frames, frames.length - 1);
  const path = pathIn(top.path, name);
  if (ruled(w, path)) return;
  const old = top.olds[at] ?? -1;
  if (frames.length < w.maxDepth && unchanged(w, path, old)) {
    frames.push(frameOf(name, path, old));
    return reuseListing(w, frames);
  }
  searchChild(w, frames, name, path, old);
}

/** Open and list the subdirectory `name` of the top frame (a new frame), or move it aside whole when it cannot be searched. */
function searchChild(w: Walk, frames: Frame[], name: EntryName, path: string, old: number): void {
  const parent = openFrames(w, frames);
  const step = { dir: parent, name };
  const chain = [...chainOf(frames), step];
  const depth = frames.length;
  let handle: DirHandle | undefined;
  try {
    handle = openChild(parent, name);
    if (neverEntered(w, handle.stat(), parent, name)) return handle.close();
    if (depth >= w.maxDepth) {
      handle.close();
      return void moveAndRecord(w, frames, chain, `more than ${w.maxDepth} directories deep: moved aside whole, not searched`);
    }
    const entries = list(handle);
    frames.push(frameOf(name, path, old, handle, step));
    handle = undefined;
    enter(w, frames, entries);
  } catch (e: unknown) {
    handle?.close();
    if (e instanceof ChangedDuringSearch) throw e;
    dropFrom(frames, Math.min(depth, frames.length));
    const reason = unexaminedReason(errnoCode(e) ?? String(e), 'searched');
    if (reason !== undefined) moveAndRecord(w, frames, chain, reason);
  }
}

/** A directory not searched (besides one the sandbox could never have entered): one the profile does not make writable, one protected as a whole during the run. */
const ruled = (w: Walk, path: string): boolean => w.notWritable.has(path) || w.existed.has(path);
