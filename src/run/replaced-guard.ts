/**
 * Mounts a program outside the sandbox can lift during a run: a protected
 * name kept read-only (`.git/config`, `.envrc`, `.git/hooks`, a placeholder)
 * and a hidden path covered (outside a sealed directory: backends/seal.ts)
 * by a mount on its own path.
 *
 * When a program on the host replaces such a path (writes a new file and
 * renames it over, as git does for `git config`, or removes it and makes it
 * again, or moves a directory above it away), the kernel detaches every
 * mount on the old path in other mount namespaces: the command can then
 * write the new protected file (which host git, direnv or an editor obey),
 * or read the new hidden one. No mount can prevent that, so isolate watches:
 * - each path is held open for the whole run, so the file cannot be freed
 *   and its inode number reused by one the command makes (the comparison
 *   below would then be fooled);
 * - its directory is watched (inotify); on any entry made, removed or
 *   renamed there, a path that no longer leads to the file held for it
 *   trips the guard, and the caller kills the sandbox at once;
 * - every path is also compared every POLL_MS (the kernel drops events
 *   when a watch's queue overflows, and Node does not say so), and when a
 *   watch cannot start; and once more when the run ends.
 * What a tripped protected name leads to afterwards is moved aside by the
 * caller: the command may have written it between the replacement and its
 * end. A hidden path is left as the host made it.
 */
import { closeSync, constants as fsConstants, fstatSync, lstatSync, openSync, watch, type FSWatcher } from 'node:fs';
import { basename, dirname } from 'node:path';
import type { Plan } from '../backends/types.js';
import { IsolateError, errnoCode } from '../errors.js';
import { O_PATH } from './fd-paths.js';

/** How often every path is compared besides the watches' events. */
export const POLL_MS = 100;

/** What the mount on a path keeps: the path read-only (a protected name), or hidden. */
export type Kept = 'protected' | 'hidden';

export interface Tripped {
  path: string;
  kept: Kept;
}

interface Held extends Tripped {
  fd: number;
  dev: number;
  ino: number;
}

export interface ReplacedGuard {
  /**
   * Hold and watch these paths too. One not there is left out (nothing is mounted on it), unless `present`: the
   * paths were just made (placeholders), so one gone already was removed by another program, and trips the guard.
   */
  add(paths: readonly string[], kept: Kept, present?: boolean): void;
  /** Stop watching and let the files go: the paths that do not lead to their file now, or did not at some point of the run. */
  finish(): Tripped[];
}

/** Open `path` without following a link; undefined when it is not there. */
function hold(path: string, kept: Kept): Held | undefined {
  let fd: number | undefined;
  try {
    fd = openSync(path, O_PATH | fsConstants.O_NOFOLLOW);
    const st = fstatSync(fd);
    return { path, kept, fd, dev: st.dev, ino: st.ino };
  } catch (e: unknown) {
    if (fd !== undefined) closeSync(fd);
    if (errnoCode(e) === 'ENOENT') return undefined;
    throw new IsolateError('E_SANDBOX_SETUP', `cannot watch ${path} during the run (a program on the host replacing it would lift its mount in the sandbox); the command was not run`, {
      detail: errnoCode(e) ?? String(e),
      fix: 'if the error is EMFILE, raise the limit of open files (ulimit -n) and run again',
      cause: e,
    });
  }
}

/** Whether the path leads to another file than the one held for it, or to none. */
function replaced(h: Held): boolean {
  try {
    const st = lstatSync(h.path);
    return st.dev !== h.dev || st.ino !== h.ino;
  } catch {
    return true;
  }
}

/**
 * The paths an event in their directory may have replaced: the one it names, or every one when it names none of
 * them (the directory itself moved, a name Node could not decode, an event without a name). Checking only the named
 * one keeps a run's own placeholders, made and removed one by one in a watched directory, from comparing every
 * path there on each.
 */
function named(paths: readonly Held[], name: string | Buffer | null): readonly Held[] {
  const hit = typeof name === 'string' ? paths.filter((h) => basename(h.path) === name) : [];
  return hit.length > 0 ? hit : paths;
}

/**
 * Paths are watched from `add` on; `onReplaced` is called once, for the first that no longer leads to its file.
 * `watchDir`: node's fs.watch (@internal for tests: one that fails, as on a directory that cannot be watched).
 */
export function guardReplaced(onReplaced: (path: string) => void, watchDir: typeof watch = watch): ReplacedGuard {
  const held: Held[] = [];
  const tripped: Tripped[] = [];
  const trip = (t: Tripped): void => {
    if (tripped.some((o) => o.path === t.path)) return;
    tripped.push({ path: t.path, kept: t.kept });
    if (tripped.length === 1) onReplaced(t.path);
  };
  const check = (paths: readonly Held[]): void => {
    for (const h of paths) if (replaced(h)) trip(h);
  };
  const byDir = new Map<string, Held[]>();
  const watchers: FSWatcher[] = [];
  let poll: NodeJS.Timeout | undefined;
  const pollAll = (): void => {
    poll ??= setInterval(() => check(held), POLL_MS).unref();
  };
  const watchPaths = (dir: string, paths: Held[]): void => {
    try {
      // A replacement is a 'rename' event (a name made, removed or moved); writes in place ('change') leave the mount.
      const w = watchDir(dir, { persistent: false }, (event, name) => event === 'rename' && check(named(paths, name)));
      w.on('error', () => check(paths));
      watchers.push(w);
    } catch {
      // Unwatched: compared every POLL_MS with the rest.
    }
  };
  return {
    add(paths, kept, present = false): void {
      for (const path of paths) {
        // Pushed as soon as held, so finish() closes it whatever fails after.
        const h = hold(path, kept);
        if (h === undefined) {
          if (present) trip({ path, kept });
          continue;
        }
        held.push(h);
        pollAll();
        const dir = dirname(h.path);
        const inDir = byDir.get(dir) ?? [];
        if (!byDir.has(dir)) {
          byDir.set(dir, inDir);
          watchPaths(dir, inDir);
        }
        inDir.push(h);
      }
    },
    finish(): Tripped[] {
      for (const w of watchers) w.close();
      clearInterval(poll);
      check(held);
      for (const h of held) closeSync(h.fd);
      held.length = 0;
      return [...tripped];
    },
  };
}

/**
 * The protected names of a plan that exist, and the directories pinned above them: its path descriptors that are
 * neither placeholders, nor entries of sealed directories (mounted on the sealed tmpfs, which no host rename
 * detaches), nor the profile's binds. A pinned directory a host program moves away takes its mounts along, and the
 * command could make a new one in its place.
 */
export function existingProtected(plan: Plan): string[] {
  return (plan.pathFds ?? []).flatMap((e) => (e.create !== true && e.seal === undefined && e.bind !== true ? [e.path] : []));
}

/** The placeholders of a plan (names that did not exist, made by the launcher's start: run/launch/path-fds.ts), by what their mount keeps. */
export function placeholderPaths(plan: Plan): Record<Kept, string[]> {
  const made = (plan.pathFds ?? []).filter((e) => e.create === true);
  return { protected: made.filter((e) => e.hidden !== true).map((e) => e.path), hidden: made.filter((e) => e.hidden === true).map((e) => e.path) };
}

/** The guard of one run: run/'s cancellation signal, the placeholders once made, the end. */
export interface RunGuard {
  /** The caller's cancellation, or the guard's own when a watched path is replaced (ExecuteOptions.signal). */
  signal: AbortSignal;
  /** The launcher has made the plan's placeholders (ExecuteOptions.beforeStart): watch them too. */
  placeholdersMade(): void;
  /** Stop watching: what was replaced, and whether the sandbox was stopped for it (rather than found after its end). */
  finish(): { tripped: Tripped[]; stopped: boolean };
}

/** Watch what the plan mounts on host paths a host program could replace (protected names, pins, hidden paths), from now to finish(). */
export function guardRun(plan: Plan, caller: AbortSignal | undefined): RunGuard {
  const tripwire = new AbortController();
  const guard = guardReplaced(() => tripwire.abort());
  // A hidden path's placeholder is made with the others, at the start: watched from then on, as what it is.
  const placeholders = placeholderPaths(plan);
  guard.add([...existingProtected(plan), ...(plan.watchProtected ?? [])], 'protected');
  guard.add((plan.watchHidden ?? []).filter((p) => !placeholders.hidden.includes(p)), 'hidden');
  return {
    signal: caller === undefined ? tripwire.signal : AbortSignal.any([caller, tripwire.signal]),
    placeholdersMade: () => {
      for (const kept of ['protected', 'hidden'] as const) guard.add(placeholders[kept], kept, true);
    },
    finish() {
      const stopped = tripwire.signal.aborted;
      return { tripped: guard.finish(), stopped };
    },
  };
}

/** Why a replaced protected name was moved aside after the run. */
export const REPLACED_REASON = 'replaced by a program outside the sandbox during the run, which ended its read-only protection: the command could have written what is there now';

/**
 * The run's error when watched paths were replaced: the sandbox was killed (`stopped`; otherwise the replacement was
 * found when the command had ended); a protected one is moved aside when the command had started.
 */
export function replacedError(tripped: readonly Tripped[], started: boolean, stopped: boolean): IsolateError {
  const paths = tripped.map((t) => t.path);
  const said = (kept: Kept, text: string): string[] => (tripped.some((t) => t.kept === kept) ? [text] : []);
  const detail = started
    ? [
        ...said('protected', 'a protected file that is replaced is no longer read-only in the sandbox, so the command could have written the new one: what is there now was moved aside (see the quarantined entries)'),
        ...said('hidden', 'a hidden file that is replaced is no longer hidden in the sandbox: the command could have read the new one in the moment before it was stopped'),
      ].join('\n')
    : 'the command had not started';
  const end = stopped ? 'the sandbox was stopped' : 'found when the command had ended';
  return new IsolateError('E_PROTECTED_REPLACED', `${paths.join(', ')} ${paths.length === 1 ? 'was' : 'were'} replaced by a program outside the sandbox during the run; ${end}`, {
    detail,
    fix: 'do not change protected or hidden files on the host while a sandbox runs beside them; compare a moved-aside file with what the program on the host wrote, move it back if it is right, and run again',
  });
}
