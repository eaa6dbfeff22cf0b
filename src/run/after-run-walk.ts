/**
 * The state of the search after a run (after-run-scan.ts) and the rules it
 * shares with the look at one directory's names (after-run-names.ts): which
 * directories the sandbox could never have entered, how a move aside ends
 * the search beneath what was moved, and how a directory whose listing was
 * reused without opening it is opened when it must be looked into.
 */
import { statfsSync, type Stats } from 'node:fs';
import { sandboxMayEnter } from '../host/protect-scan.js';
import type { NameIndex } from '../host/protect-names.js';
import { CACHEABLE_FS, settled } from '../host/scan-cache.js';
import type { StampsAhead } from '../host/scan-ahead.js';
import type { ScanTree } from '../host/scan-tree.js';
import { entryAt, openChild, type DirHandle, type EntryName } from './dir-handle.js';
import { moveAside, type Quarantined, type Step } from './quarantine.js';

/** What one search knows and gathers. */
export interface Walk {
  index: NameIndex;
  /** The names at the top of the current root, when its path begins some (host/protect-scan.ts, SearchScope.tops). */
  top: NameIndex | undefined;
  /** The names looked for below a package manager's directory (host/protect-names.ts, packagesIndex). */
  packages: NameIndex;
  tag: string;
  /** Paths protected before the run (existing names, read-only during it). */
  existed: ReadonlySet<string>;
  /** The directories pinned for the run (above protected names): the sandbox could not move them or put others in their place. */
  pinned: ReadonlySet<string>;
  /** Paths the profile does not make writable (host/protect-scan.ts, searchScope). */
  notWritable: ReadonlySet<string>;
  /** The sandbox's user, as the host sees it (this process's). */
  self: { uid: number; groups: readonly number[] };
  /** Wall clock before the sandbox started; undefined when the clock cannot be trusted since (nothing then counts as unchanged). */
  sinceMs: number | undefined;
  /** Per device: whether its change times are the local kernel's. */
  fsTimes: Map<number, boolean>;
  /** How deep directories are held open (after-run-scan.ts, MAX_OPEN_DEPTH). */
  maxDepth: number;
  /** The current root's tree from the search before the run, whose reusable listings stand while a directory's stamp is unchanged. */
  tree: ScanTree | undefined;
  /** The current root's stamps looked up ahead by a worker thread (host/scan-ahead.ts), for a large tree. */
  ahead: StampsAhead | undefined;
  out: Quarantined[];
}

/**
 * A directory being searched: the step that reached it and its handle (none
 * for a root's step; neither while it is not opened: its listing was reused),
 * its record in `Walk.tree` (-1: none), its subdirectories still to search
 * with their records.
 */
export interface Frame {
  step: Step | undefined;
  handle: DirHandle | undefined;
  name: EntryName;
  path: string;
  old: number;
  subdirs: EntryName[];
  olds: number[];
  next: number;
}

/** The directories of a search changed under it (a concurrent process): its reused listings are dropped and the root searched again. */
export class ChangedDuringSearch extends Error {}

/** The chain of steps from the root down to the top frame's directory (every frame opened: openFrames). */
export const chainOf = (frames: readonly Frame[]): Step[] => frames.flatMap((f) => (f.step === undefined ? [] : [f.step]));

/**
 * Open every frame not opened yet, each from its parent's handle (no link
 * followed), checking it is still the directory whose stamp let its listing
 * be reused; returns the top frame's handle.
 */
export function openFrames(w: Walk, frames: Frame[]): DirHandle {
  for (let i = 1; i < frames.length; i++) {
    const f = frames[i] as Frame;
    if (f.handle !== undefined) continue;
    const parent = (frames[i - 1] as Frame).handle as DirHandle;
    let handle: DirHandle;
    try {
      handle = openChild(parent, f.name);
    } catch (e: unknown) {
      throw new ChangedDuringSearch(`${f.path} changed during the search`, { cause: e });
    }
    if (w.tree?.reusableFor(f.old, handle.stat()) !== true) {
      handle.close();
      throw new ChangedDuringSearch(`${f.path} changed during the search`);
    }
    f.handle = handle;
    f.step = { dir: parent, name: f.name };
  }
  return (frames[frames.length - 1] as Frame).handle as DirHandle;
}

/** Close and drop the frames from `from` on. */
export function dropFrom(frames: Frame[], from: number): void {
  for (const f of frames.splice(from)) f.handle?.close();
}

/**
 * Move the last step of `chain` (which starts at the root frame) aside and
 * record it. True when a directory of the frames went with it: its frames
 * are dropped and the search goes on above it.
 */
export function moveAndRecord(w: Walk, frames: Frame[], chain: readonly Step[], reason?: string): boolean {
  const moved = moveAside(chain, w.tag, reason);
  if (moved.result !== undefined) w.out.push(moved.result);
  // Step k of the chain is the directory of frame k + 1 (frame 0 is the root).
  if (moved.at < 0 || moved.at + 1 >= frames.length) return false;
  dropFrom(frames, moved.at + 1);
  return true;
}

/**
 * Whether the sandbox could never have entered this directory: it cannot
 * enter it now, and could not have changed that during the run (it is not
 * the owner, or the directory's change time is from before the run).
 */
export function neverEntered(w: Walk, st: Stats, parent: DirHandle, name: EntryName): boolean {
  if (sandboxMayEnter(entryAt(parent, name), st, w.self)) return false;
  return st.uid !== w.self.uid || unchangedSinceRun(w, st, parent, name);
}

/** Whether the change times of the file system holding this entry are the local kernel's (scan-cache.ts, rule 3). */
export function localTimes(w: Walk, st: Stats, parent: DirHandle, name: EntryName): boolean {
  let local = w.fsTimes.get(st.dev);
  if (local === undefined) {
    try {
      local = CACHEABLE_FS.has(statfsSync(entryAt(parent, name)).type);
    } catch {
      local = false;
    }
    w.fsTimes.set(st.dev, local);
  }
  return local;
}

/** How far before the run's start a change time may be and still count as the run's: the kernel stamps files from a clock that lags the wall clock by a tick. */
const CLOCK_SLACK_MS = 100;

/** Whether an entry's change time is since the run's start (`sinceMs`), or cannot tell (undefined): it counts as the run's. */
export const changedInRun = (sinceMs: number | undefined, st: Stats): boolean => sinceMs === undefined || st.ctimeMs >= sinceMs - CLOCK_SLACK_MS;

/** Whether a directory's change time proves it unchanged since before the run (scan-cache.ts, rules 1 and 3). */
export function unchangedSinceRun(w: Walk, st: Stats, parent: DirHandle, name: EntryName): boolean {
  if (w.sinceMs === undefined) return false;
  return localTimes(w, st, parent, name) && settled(st, w.sinceMs);
}
