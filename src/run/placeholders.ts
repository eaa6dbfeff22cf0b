/**
 * Placeholders shared between concurrent runs.
 *
 * To keep a protected name that does not exist yet (".bashrc" at the top of
 * the project) read-only, bubblewrap has to create an empty file there as a
 * mount point. Two runs in the same project see each other's placeholders,
 * so removing them when one run ends could pull a mount point from under the
 * other. Runs therefore register per writable root in isolate's private
 * runtime directory (host/runtime-dir.ts: no sandbox sees it, so none can
 * add an entry), and the last run out of a root removes every placeholder any
 * run there created (if it is still an empty file or directory), unless a
 * live run in a directory above holds one: a run in the project that started
 * while one in its subdirectory ran holds that run's placeholders as
 * protected files of its own, and their removal would stop it (its guard
 * sees them replaced). The last run out of the root above removes them. One
 * lock for the whole registry (not one per root) orders a run's registration
 * against another root's decision and removal: a run above that registered
 * after that decision would otherwise plan a placeholder still there as a
 * protected file of its own, and lose it a moment later (its sandbox then
 * fails to start: bwrap finds no source at its descriptor). A run that
 * was killed is noticed by its dead pid and its placeholders are removed by
 * the next run to finish there. A killed run's search after the run never
 * happened: what its sandbox made that host programs obey (a new .git) was
 * not moved aside, and nothing tells it from the user's own later, so the
 * run that notices it says so (Registration.notices), once, naming the root,
 * and ends the bwrap processes a killed run can leave waiting for good
 * (orphaned-launchers.ts).
 */
import { createHash, randomBytes } from 'node:crypto';
import { lstatSync, mkdirSync, readFileSync, readdirSync, realpathSync, renameSync, rmdirSync, unlinkSync, writeFileSync, type Stats } from 'node:fs';
import { dirname, join } from 'node:path';
import { withLock, type LockOptions, type LockUse } from '../audit/lock.js';
import { IsolateError, diskFull, errnoCode } from '../errors.js';
import { ensurePrivateDir, runtimeDir } from '../host/runtime-dir.js';
import { processAlive } from '../host/alive.js';
import { SparePool } from './spare-placeholders.js';
import { endOrphanedLaunchers } from './orphaned-launchers.js';
import { placeholderIsDir } from '../backends/mounts.js';

/** isolate's lasting directories in its runtime directory: the runs' registrations, and the spare placeholders. */
export const ROOTS_DIR = 'roots';
export const SPARES_DIR = 'spare';

/** The registry's one lock, among the slots (whose names are hex). */
const lockOf = (base: string): string => join(base, ROOTS_DIR, 'registry.lock');

/**
 * What the locks of the registry in the runtime directory `base` say when they cannot be had: the registry is
 * isolate's own, so the way out is room there or another runtime directory (a full /run/user/<uid> is a small tmpfs).
 */
export function registryLock(base: string): LockUse {
  return {
    guards: "isolate's placeholder registry",
    ioCode: 'E_IO',
    lockedCode: 'E_IO',
    fullDiskFix: `the file system of isolate's runtime directory ${base} (or your quota) is full: free space there, or set XDG_RUNTIME_DIR to a private directory of yours (mode 0700) on a file system with room`,
    cannotCreateFix: 'set XDG_RUNTIME_DIR to a writable private directory of yours (mode 0700)',
    notOursFix: `no other program should write in isolate's runtime directory ${base}: if no isolate is running, remove the file; or set XDG_RUNTIME_DIR to another private directory of yours`,
  };
}

interface Entry {
  pid: number;
  placeholders: string[];
  /** The writable root the run registered for (absent in entries of earlier versions). */
  root?: string;
  /** In an OWED entry: the killed run's pid. */
  killedPid?: number;
}

/** The entry a run leaves when it is done but others still use the root: its placeholders, for the last run out. */
const GONE = 'gone-';
/** What is left of a killed run's entry once another directory's run has cleaned up after it: the notice it is owed, for the next run in its root. */
const OWED = 'killed-';

/** @internal For tests: a pause once a release has found no live run holding its placeholders, before it removes them. */
export interface ReleaseTesting {
  beforeRemoval?: () => Promise<void>;
}

export interface Registration {
  /** Where this run's placeholders are taken from (run/spare-placeholders.ts); removed placeholders go back there. */
  spares: SparePool | undefined;
  /** Record the placeholders this run's sandbox will create. */
  update(placeholders: readonly string[]): Promise<void>;
  /** Leave; when no other live run remains in a root, remove every recorded placeholder. */
  release(testing?: ReleaseTesting): Promise<void>;
  /** Runs found killed before their search after the run (at registration and release): what the user must be told. */
  notices: string[];
}

/** Whether the entry is a run's own that its isolate never took back: it died (SIGKILL) before the end of its run. */
function killed(name: string, e: Entry): boolean {
  return !name.startsWith(GONE) && !name.startsWith(OWED) && e.pid > 0 && !processAlive(e.pid);
}

/** Whether the entry is a run's that goes on: its process lives, and it has not left (a left run's entry may keep its pid, giveUp). */
const running = (name: string, e: Entry): boolean => !name.startsWith(GONE) && processAlive(e.pid);

/** A killed run whose notice nobody in its root has been given yet. */
const owesNotice = (name: string, e: Entry): boolean => killed(name, e) || name.startsWith(OWED);

function killedNotice(e: Entry, root: string | undefined): string {
  return (
    `an earlier isolate run in ${e.root ?? root ?? 'a directory it protected'} (pid ${e.killedPid ?? e.pid}) was killed before its search after the run: ` +
    'what its command made there that programs on the host obey (a new .git, a hook, an editor setting) was not moved aside; ' +
    'look at what changed there before you run git or an editor in it'
  );
}

/**
 * Write the entry `name` in the slot `dir` whole: written beside it, then renamed over it, so that no run ever reads
 * half of one. One that cannot be written (a full runtime directory) leaves nothing, and is said with the registry's fix.
 */
function putEntry(dir: string, name: string, entry: Entry): void {
  const temp = join(dir, `.${name}.tmp`);
  try {
    writeFileSync(temp, JSON.stringify(entry), { mode: 0o600 });
    renameSync(temp, join(dir, name));
  } catch (e: unknown) {
    try {
      unlinkSync(temp);
    } catch {
      // not made
    }
    throw registryError(dirname(dirname(dir)), `cannot write the entry ${join(dir, name)}`, e);
  }
}

/** What the registry in the runtime directory `base` says when `what` failed with `e`: its own fix (a full runtime directory, the usual cause). */
function registryError(base: string, what: string, e: unknown): IsolateError {
  const use = registryLock(base);
  return new IsolateError('E_IO', `${what} of ${use.guards}`, {
    detail: errnoCode(e) ?? String(e),
    fix: diskFull(e) ? use.fullDiskFix : use.cannotCreateFix,
    cause: e,
  });
}

function removeEntry(dir: string, name: string): void {
  try {
    unlinkSync(join(dir, name));
  } catch {
    // already gone
  }
}

/**
 * Leave without the registry's lock (it could not be had: a full runtime directory, a holder that kept it): our entry
 * is renamed as a finished run's, which takes no room and no lock (a run reading the slot sees it whole under one
 * name or the other). Its placeholders are then the next last run out's, and no run takes this one for a killed one.
 */
function giveUp(dir: string, me: string): void {
  try {
    renameSync(join(dir, me), join(dir, `${GONE}${me}`));
  } catch {
    // gone already: nothing to leave
  }
}

/** Keep a finished (or killed) run's placeholders for the last run out, under a name no later run takes for a killed one. */
function retire(dir: string, name: string, placeholders: readonly string[]): void {
  putEntry(dir, `${GONE}${name}`, { pid: -1, placeholders: [...placeholders] });
  removeEntry(dir, name);
}

/**
 * Whether what is at `path` (as lstat saw it) is what a run makes there (run/launch/path-fds.ts): an empty file, or
 * where a directory placeholder goes an empty directory, without a write bit. Anything else (a directory a program
 * made where a placeholder file was planned, a file the user can write) is not one, and may be a protected path
 * another run holds. (Not judged by its owner: on a file system that maps root to nobody, a placeholder root made is
 * nobody's.)
 */
function placeholderShaped(path: string, st: Stats): boolean {
  if ((st.mode & 0o222) !== 0) return false;
  return st.isFile() ? st.size === 0 : st.isDirectory() && placeholderIsDir(path);
}

function removeIfPlaceholder(path: string, spares: SparePool): void {
  try {
    // Only where the path still leads: never through a directory swapped for a symlink.
    if (realpathSync.native(dirname(path)) !== dirname(path)) return;
    const st = lstatSync(path);
    if (!placeholderShaped(path, st)) return;
    if (st.isFile() && !spares.give(path, st)) unlinkSync(path);
    else if (st.isDirectory()) rmdirSync(path);
  } catch {
    // already gone, or not empty: leave it alone
  }
}

/** An entry as a run writes it; anything else (damaged, or of another shape) is read as an entry of no live run with no placeholder. */
function asEntry(v: unknown): Entry | undefined {
  if (typeof v !== 'object' || v === null) return undefined;
  const e = v as Record<string, unknown>;
  const number = (x: unknown): boolean => typeof x === 'number' && Number.isSafeInteger(x);
  if (!number(e['pid']) || !Array.isArray(e['placeholders']) || !e['placeholders'].every((p) => typeof p === 'string' && p.startsWith('/'))) return undefined;
  if ((e['root'] !== undefined && typeof e['root'] !== 'string') || (e['killedPid'] !== undefined && !number(e['killedPid']))) return undefined;
  return e as unknown as Entry;
}

const UNREADABLE: Entry = { pid: -1, placeholders: [] };

function readEntries(dir: string): Map<string, Entry> {
  const out = new Map<string, Entry>();
  let names: string[] = [];
  try {
    names = readdirSync(dir);
  } catch {
    return out;
  }
  for (const name of names) {
    if (name.startsWith('.')) continue; // an entry being replaced
    try {
      out.set(name, asEntry(JSON.parse(readFileSync(join(dir, name), 'utf8'))) ?? UNREADABLE);
    } catch {
      out.set(name, UNREADABLE);
    }
  }
  return out;
}

/**
 * Last out for the root in `dir`: remove every recorded placeholder, the entries and the directory; the notices of
 * killed runs among them. Without `root` (a run in another directory cleaning up after killed ones), the notices are
 * kept in the slot for the next run in its root instead.
 */
function clearSlot(dir: string, entries: Map<string, Entry>, spares: SparePool, root?: string): string[] {
  const notices = root === undefined ? [] : [...entries].filter(([name, e]) => owesNotice(name, e)).map(([, e]) => killedNotice(e, root));
  for (const [name, e] of entries) {
    for (const p of e.placeholders) removeIfPlaceholder(p, spares);
    if (root === undefined && killed(name, e)) putEntry(dir, `${OWED}${name}`, { pid: -1, placeholders: [], ...(e.root === undefined ? {} : { root: e.root }), killedPid: e.pid });
    if (root === undefined && name.startsWith(OWED)) continue;
    removeEntry(dir, name);
  }
  try {
    rmdirSync(dir);
  } catch {
    // a new run registered meanwhile, or a half-written entry remains
  }
  return notices;
}

/**
 * Whether a live run other than `me`, registered in any root's slot under `rootsDir`, has a writable root that holds
 * one of `placeholders` (a run in the project while one in its subdirectory made them): it may hold one as a
 * protected file of its own, and a removal would lift that file's mount in its sandbox and stop it (its guard sees a
 * protected file replaced). Read under the registry's lock, so no run registers meanwhile; an entry's list of
 * placeholders may change (update), but not its root or pid.
 */
function coveredByOthers(rootsDir: string, me: string, placeholders: readonly string[]): boolean {
  if (placeholders.length === 0) return false;
  let slots: string[];
  try {
    slots = readdirSync(rootsDir);
  } catch {
    return false;
  }
  return slots.some(
    (slot) =>
      !slot.endsWith('.lock') &&
      !slot.startsWith('.') &&
      [...readEntries(join(rootsDir, slot))].some(([name, e]) => name !== me && e.root !== undefined && running(name, e) && placeholders.some((p) => p.startsWith(`${e.root}/`))),
  );
}

const placeholdersOf = (entries: Map<string, Entry>): string[] => [...entries.values()].flatMap((e) => e.placeholders);

/** Leave the root's slot (under the registry's lock): the last run out removes every recorded placeholder, unless another live run's root holds one. */
async function leaveSlot(dir: string, me: string, spares: SparePool, root: string, testing: ReleaseTesting): Promise<string[]> {
  const entries = readEntries(dir);
  const others = [...entries].filter(([name, e]) => name !== me && running(name, e));
  if (others.length === 0 && !coveredByOthers(dirname(dir), me, placeholdersOf(entries))) {
    await testing.beforeRemoval?.();
    return clearSlot(dir, entries, spares, root);
  }
  // Still in use: leave our placeholders for the last run out.
  retire(dir, me, entries.get(me)?.placeholders ?? []);
  return retireKilled(dir, entries, root);
}

/** Retire the entries of killed runs in the slot (their placeholders stay for the last run out): their notices. */
function retireKilled(dir: string, entries: Map<string, Entry>, root: string): string[] {
  const notices: string[] = [];
  for (const [name, e] of entries) {
    if (!owesNotice(name, e)) continue;
    if (!name.startsWith(OWED)) retire(dir, name, e.placeholders);
    else removeEntry(dir, name);
    notices.push(killedNotice(e, root));
  }
  return notices;
}

/** A clean-up that timed out waiting for the lock (a burst of runs in one project) is tried again, not abandoned. */
export const RELEASE_ATTEMPTS = 4;

async function withRetries(fn: () => Promise<void>): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await fn();
      return;
    } catch (e: unknown) {
      if (attempt >= RELEASE_ATTEMPTS) throw e;
    }
  }
}

/**
 * Roots whose runs were all killed (isolate itself SIGKILLed) or are done, and whose placeholders no live run's root
 * holds (coveredByOthers): clean up after them. True when a killed run was among them.
 */
async function collectAbandoned(base: string, use: LockUse, spares: SparePool, notices: string[], me: string): Promise<boolean> {
  const rootsDir = join(base, ROOTS_DIR);
  let names: string[];
  try {
    names = readdirSync(rootsDir);
  } catch {
    return false;
  }
  let sawKilled = false;
  for (const name of names) {
    if (name.endsWith('.lock') || name.startsWith('.')) continue;
    const dir = join(rootsDir, name);
    const unused = (entries: Map<string, Entry>): boolean => ![...entries].some(([slot, e]) => running(slot, e)) && !coveredByOthers(rootsDir, me, placeholdersOf(entries));
    if (!unused(readEntries(dir))) continue;
    try {
      await withLock(lockOf(base), use, async () => {
        const entries = readEntries(dir);
        if (!unused(entries)) return;
        sawKilled ||= [...entries].some(([slot, e]) => killed(slot, e));
        notices.push(...clearSlot(dir, entries, spares));
      }, { timeoutMs: 500 });
    } catch {
      // busy: another run is there, and will clean up itself
    }
  }
  return sawKilled;
}

/**
 * Outside any run (a long-lived program's start): clean up after the roots in the runtime directory `base` whose
 * runs are all gone, as a run does when it leaves (collectAbandoned). A killed run's notice stays in its root's slot
 * for the next run there.
 */
export async function collectAbandonedRoots(base: string): Promise<void> {
  const notices: string[] = [];
  const abandonedKilled = await collectAbandoned(base, registryLock(base), new SparePool(join(base, SPARES_DIR)), notices, '');
  if (notices.length > 0 || abandonedKilled) endOrphanedLaunchers();
}

export async function registerRun(roots: readonly string[], env: Readonly<Record<string, string | undefined>>, lock: LockOptions = {}): Promise<Registration> {
  if (roots.length === 0) return { spares: undefined, update: async () => undefined, release: async () => undefined, notices: [] };
  const base = runtimeDir(env);
  const use = registryLock(base);
  const spares = new SparePool(join(base, SPARES_DIR));
  const me = `${process.pid}-${randomBytes(6).toString('hex')}`;
  const slots = roots.map((root) => {
    const id = createHash('sha256').update(root).digest('hex').slice(0, 32);
    return { root, dir: join(base, ROOTS_DIR, id) };
  });
  let placeholders: string[] = [];
  const notices: string[] = [];
  const write = (dir: string, root: string): void => putEntry(dir, me, { pid: process.pid, placeholders, root });

  for (const [i, slot] of slots.entries()) {
    // Another run may remove the shared directories the moment they are empty: retry.
    for (let attempt = 0; ; attempt++) {
      try {
        ensurePrivateDir(base);
        ensurePrivateDir(join(base, ROOTS_DIR));
        ensurePrivateDir(join(base, SPARES_DIR));
        await withLock(lockOf(base), use, async () => {
          try {
            mkdirSync(slot.dir, { mode: 0o700 });
          } catch (e: unknown) {
            if (errnoCode(e) !== 'EEXIST') throw registryError(base, `cannot create the directory ${slot.dir}`, e);
          }
          write(slot.dir, slot.root);
          notices.push(...retireKilled(slot.dir, readEntries(slot.dir), slot.root));
        });
        break;
      } catch (e: unknown) {
        if (attempt < 5) continue;
        // Not registered: the entries made so far would look like a run killed later.
        for (const done of slots.slice(0, i)) removeEntry(done.dir, me);
        throw e;
      }
    }
  }

  return {
    spares,
    notices,
    async update(paths) {
      placeholders = [...paths];
      for (const slot of slots) {
        const mine = placeholders.filter((p) => p.startsWith(`${slot.root}/`));
        // Our own entry, replaced atomically: a run reading it under the lock sees the old or the new list,
        // with our live pid either way, so no lock is needed.
        putEntry(slot.dir, me, { pid: process.pid, placeholders: mine, root: slot.root });
      }
    },
    async release(testing = {}) {
      const failed: { root: string; reason: string }[] = [];
      for (const slot of slots) {
        try {
          await withRetries(() => withLock(lockOf(base), use, async () => void notices.push(...(await leaveSlot(slot.dir, me, spares, slot.root, testing))), lock));
        } catch (e: unknown) {
          giveUp(slot.dir, me);
          failed.push({ root: slot.root, reason: e instanceof Error ? e.message : String(e) });
        }
      }
      if (failed.length > 0) {
        throw new IsolateError('E_IO', `the placeholders of this run could not be removed: ${failed.map((f) => `${f.root} (${f.reason})`).join('; ')}`, {
          detail: placeholders.join('\n'),
          fix: 'the next isolate run in the same directory removes them; or remove these empty files yourself',
        });
      }
      // The runtime directory, its `roots` and its spares stay: making them anew would cost every run a new inode each.
      const abandonedKilled = await collectAbandoned(base, use, spares, notices, me);
      // A killed run may have left its bwrap's first process waiting for good (orphaned-launchers.ts).
      if (notices.length > 0 || abandonedKilled) endOrphanedLaunchers();
    },
  };
}
