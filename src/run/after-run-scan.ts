/**
 * After a run: protected names the run created (a new repository's config
 * and hooks, a .git file or link pointing elsewhere, a .git/commondir, an
 * .envrc, an editor's or package manager's configuration, at any depth)
 * must not take effect on the host, where git, direnv or an editor would
 * run what they name. This search finds them (after-run-names.ts) and
 * moves them aside (quarantine.ts). It trusts nothing the sandbox could
 * have written: no cache, no limit on the number of directories, no path
 * too long (each directory is held open and its entries reached through
 * it, dir-handle.ts), no symbolic link followed. It never stops: a
 * directory it cannot search, or any error in a subtree, moves that
 * subtree aside whole, unless the sandbox could never have entered it.
 * Empty files and directories are left alone: they configure nothing (and
 * placeholders, this run's and concurrent runs', are such).
 */
import { readdirSync, type Dirent } from 'node:fs';
import { errnoCode } from '../errors.js';
import type { ProtectFact } from '../backends/types.js';
import { PROTECT_SCAN_SKIP, type SearchScope } from '../host/protect-scan.js';
import { nameKey } from '../host/protect-names.js';
import { clockTrusted, type ScanClock } from '../host/scan-cache.js';
import { entryName, entryPath, openChild, openDir, type DirHandle } from './dir-handle.js';
import type { Quarantined } from './quarantine.js';
import { createdIn } from './after-run-names.js';
import { chainOf, dropFrom, moveAndRecord, neverEntered, type Frame, type Walk } from './after-run-walk.js';

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
  /** @internal For tests: MAX_OPEN_DEPTH. */
  maxDepth?: number;
}

/** Search every writable root of the policy after the run: everything moved aside (or that could not be), in the order found. */
export function quarantineAfterRun(input: AfterRun): Quarantined[] {
  const trusted = input.since !== undefined && input.now !== undefined && clockTrusted(input.since, input.now);
  const w: Walk = {
    index: input.scope.names,
    tag: input.tag,
    existed: new Set(input.before.filter((f) => f.state !== 'missing').map((f) => f.path)),
    notWritable: input.scope.notWritable,
    self: { uid: process.getuid?.() ?? -1, groups: [process.getgid?.() ?? -1, ...(process.getgroups?.() ?? [])] },
    sinceMs: trusted ? input.since?.wallMs : undefined,
    fsTimes: new Map(),
    maxDepth: input.maxDepth ?? MAX_OPEN_DEPTH,
    out: [],
  };
  for (const root of input.scope.roots) searchRoot(w, root);
  return w.out;
}

/** A directory's entries; throws the errno error. (One that can be listed but not searched fails where an entry is looked at.) */
const list = (handle: DirHandle): Dirent<Buffer>[] => readdirSync(handle.self, { withFileTypes: true, encoding: 'buffer' });

/** Whether an entry may be a directory (one of unknown type may). */
const mayBeDir = (e: Dirent<Buffer>): boolean => !(e.isFile() || e.isSymbolicLink() || e.isFIFO() || e.isSocket() || e.isCharacterDevice() || e.isBlockDevice());
const SKIP_KEYS = new Set([...PROTECT_SCAN_SKIP, '.git'].map(nameKey));

function searchRoot(w: Walk, root: string): void {
  const failed = (e: unknown): void => {
    if (errnoCode(e) !== 'ENOENT') w.out.push({ path: root, movedTo: null, reason: 'the writable path could not be searched after the run', error: errnoCode(e) ?? String(e) });
  };
  let handle: DirHandle;
  try {
    handle = openDir(root);
  } catch (e: unknown) {
    return failed(e);
  }
  const frames: Frame[] = [{ step: undefined, handle, subdirs: [], next: 0 }];
  try {
    enter(w, frames, list(handle));
    while (frames.length > 0) next(w, frames);
  } catch (e: unknown) {
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
  for (const [i, name] of names.entries()) {
    if (mayBeDir(entries[i] as Dirent<Buffer>) && (typeof name !== 'string' || !SKIP_KEYS.has(nameKey(name)))) top.subdirs.push(name);
  }
}

/** The top frame's next subdirectory: skipped, searched (a new frame), or moved aside whole. Drops the top frame when it is done. */
function next(w: Walk, frames: Frame[]): void {
  const top = frames[frames.length - 1] as Frame;
  const name = top.subdirs[top.next++];
  if (name === undefined) return dropFrom(frames, frames.length - 1);
  if (ruled(w, entryPath(top.handle, name))) return;
  const step = { dir: top.handle, name };
  const chain = [...chainOf(frames), step];
  const depth = frames.length;
  let handle: DirHandle | undefined;
  try {
    handle = openChild(top.handle, name);
    if (neverEntered(w, handle.stat(), top.handle, name)) return handle.close();
    if (depth >= w.maxDepth) {
      handle.close();
      return void moveAndRecord(w, frames, chain, `more than ${w.maxDepth} directories deep: moved aside whole, not searched`);
    }
    const entries = list(handle);
    frames.push({ step, handle, subdirs: [], next: 0 });
    handle = undefined;
    enter(w, frames, entries);
  } catch (e: unknown) {
    handle?.close();
    dropFrom(frames, Math.min(depth, frames.length));
    const code = errnoCode(e) ?? String(e);
    // Gone, or not a directory (any more): nothing to search.
    if (code === 'ENOENT' || code === 'ENOTDIR' || code === 'ELOOP') return;
    moveAndRecord(w, frames, chain, `could not be searched after the run (${code}): moved aside whole`);
  }
}

/** A directory not searched (besides one the sandbox could never have entered): one the profile does not make writable, one protected as a whole during the run. */
const ruled = (w: Walk, path: string): boolean => w.notWritable.has(path) || w.existed.has(path);
