/**
 * Protected names replaced by a program outside the sandbox during a run.
 *
 * A protected name that exists (`.git/config`, `.envrc`, `.git/hooks`) is
 * kept read-only by a bind mount on its own path. When a program on the
 * host replaces it (writes a new file and renames it over, as git does for
 * `git config`, or removes it and makes it again), the kernel detaches every
 * mount on the old path in other mount namespaces: the command can then
 * write the new file, which host git, direnv or an editor obey. No mount
 * can prevent that, so isolate watches:
 * - each name is held open for the whole run, so the file cannot be freed
 *   and its inode number reused by one the command makes (the comparison
 *   below would then be fooled);
 * - its directory is watched (inotify); on any change there, a name that
 *   no longer leads to the file held for it trips the guard, and the caller
 *   kills the sandbox at once;
 * - when the run ends, every name is compared once more (a watch can miss
 *   events when its queue overflows, or fail to start: then the names are
 *   compared every POLL_MS instead).
 * What a tripped name leads to afterwards is moved aside by the caller: the
 * command may have written it between the replacement and its end.
 */
import { closeSync, constants as fsConstants, fstatSync, lstatSync, openSync, watch, type FSWatcher } from 'node:fs';
import { dirname } from 'node:path';
import type { Plan } from '../backends/types.js';
import { IsolateError, errnoCode } from '../errors.js';
import { O_PATH } from './fd-paths.js';

/** How often names are compared when their directory cannot be watched. */
export const POLL_MS = 100;

interface Held {
  path: string;
  fd: number;
  dev: number;
  ino: number;
}

export interface ProtectedGuard {
  /** Hold and watch these names too (those not there are left out: the launcher refuses a run without them). */
  add(paths: readonly string[]): void;
  /** Stop watching and let the files go: the names that do not lead to their file now, or did not at some point of the run. */
  finish(): string[];
}

/** Open `path` without following a link; undefined when it is not there (the launcher's own open then refuses the run). */
function hold(path: string): Held | undefined {
  let fd: number;
  try {
    fd = openSync(path, O_PATH | fsConstants.O_NOFOLLOW);
  } catch (e: unknown) {
    if (errnoCode(e) === 'ENOENT') return undefined;
    throw new IsolateError('E_SANDBOX_SETUP', `cannot watch the protected name ${path} during the run; the command was not run`, {
      detail: errnoCode(e) ?? String(e),
      fix: 'if the error is EMFILE, raise the limit of open files (ulimit -n) and run again',
      cause: e,
    });
  }
  const st = fstatSync(fd);
  return { path, fd, dev: st.dev, ino: st.ino };
}

/** Whether the name leads to another file than the one held for it, or to none. */
function replaced(h: Held): boolean {
  try {
    const st = lstatSync(h.path);
    return st.dev !== h.dev || st.ino !== h.ino;
  } catch {
    return true;
  }
}

/** Names are watched from `add` on; `onReplaced` is called once, for the first that no longer leads to its file. */
export function guardProtected(onReplaced: (path: string) => void): ProtectedGuard {
  const held: Held[] = [];
  const tripped = new Set<string>();
  const check = (names: readonly Held[]): void => {
    for (const h of names) {
      if (tripped.has(h.path) || !replaced(h)) continue;
      tripped.add(h.path);
      if (tripped.size === 1) onReplaced(h.path);
    }
  };
  const byDir = new Map<string, Held[]>();
  const watchers: FSWatcher[] = [];
  let poll: NodeJS.Timeout | undefined;
  const pollAll = (): void => {
    poll ??= setInterval(() => check(held), POLL_MS).unref();
  };
  const watchDir = (dir: string, names: Held[]): void => {
    try {
      // A replacement is a 'rename' event (a name made, removed or moved); writes in place ('change') leave the mount.
      const w = watch(dir, { persistent: false }, (event) => event === 'rename' && check(names));
      w.on('error', pollAll);
      watchers.push(w);
    } catch {
      pollAll();
    }
  };
  return {
    add(paths: readonly string[]): void {
      for (const h of paths.flatMap((p) => hold(p) ?? [])) {
        held.push(h);
        const dir = dirname(h.path);
        const names = byDir.get(dir) ?? [];
        if (!byDir.has(dir)) {
          byDir.set(dir, names);
          watchDir(dir, names);
        }
        names.push(h);
      }
    },
    finish(): string[] {
      for (const w of watchers) w.close();
      clearInterval(poll);
      check(held);
      for (const h of held) closeSync(h.fd);
      held.length = 0;
      return [...tripped];
    },
  };
}

/** The protected names of a plan that exist: its read-only path descriptors that are not placeholders. */
export function existingProtected(plan: Plan): string[] {
  return (plan.pathFds ?? []).flatMap((e) => (e.readOnly === true && e.create !== true ? [e.path] : []));
}

/** The placeholders of a plan: protected names that did not exist, made by the launcher's start (run/launch/path-fds.ts). */
export function placeholderPaths(plan: Plan): string[] {
  return (plan.pathFds ?? []).flatMap((e) => (e.create === true ? [e.path] : []));
}

/** Why a replaced name was moved aside after the run. */
export const REPLACED_REASON = 'replaced by a program outside the sandbox during the run, which ended its read-only protection: the command could have written what is there now';

/** The run's error when protected names were replaced: the sandbox was killed, and what is there now moved aside (`started`). */
export function replacedError(paths: readonly string[], started: boolean): IsolateError {
  const names = paths.join(', ');
  return new IsolateError('E_PROTECTED_REPLACED', `${names} ${paths.length === 1 ? 'was' : 'were'} replaced by a program outside the sandbox during the run; the sandbox was stopped`, {
    detail: started
      ? 'a replaced file is no longer kept read-only in the sandbox, so the command could have written the new one: what is there now was moved aside (see the quarantined entries)'
      : 'the command had not started',
    fix: 'compare the moved-aside file with what the program on the host wrote, move it back if it is right, and run again; avoid changing protected files on the host while a sandbox runs in the project',
  });
}
