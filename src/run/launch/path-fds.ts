/**
 * Plan.pathFds: the paths inside writable roots that the launcher mounts,
 * opened without following a symbolic link just before the start and
 * handed over on their descriptors (Linux).
 */
import { closeSync, constants as fsConstants, fstatSync, openSync, readlinkSync } from 'node:fs';
import { IsolateError, errnoCode } from '../../errors.js';
import { O_PATH } from '../fd-paths.js';
import type { SparePool } from '../spare-placeholders.js';

/**
 * A placeholder for a protected name that does not exist: an empty file,
 * made without following a symlink (a spare one when there is one,
 * spare-placeholders.ts). One another run made meanwhile is used as it is
 * (openPathFds then checks what is there).
 */
function createPlaceholder(path: string, spares: SparePool | undefined): void {
  if (spares?.take(path) === true) return;
  try {
    closeSync(openSync(path, fsConstants.O_CREAT | fsConstants.O_EXCL | fsConstants.O_WRONLY | fsConstants.O_NOFOLLOW, 0o444));
  } catch (e: unknown) {
    if (errnoCode(e) === 'EEXIST') return;
    throw new IsolateError('E_SANDBOX_SETUP', `cannot create the placeholder ${path} for a protected name; the command was not run`, {
      detail: errnoCode(e) ?? String(e),
      fix: 'run again; if it keeps happening, check that the directory is writable and nothing is replacing it',
      cause: e,
    });
  }
}

function openNoFollow(path: string): number {
  try {
    return openSync(path, O_PATH | fsConstants.O_NOFOLLOW);
  } catch (e: unknown) {
    throw new IsolateError('E_SANDBOX_SETUP', `${path} changed while the sandbox was being set up; the command was not run`, {
      detail: errnoCode(e) ?? String(e),
      fix: 'run again; if it keeps happening, something in the project is replacing this path',
      cause: e,
    });
  }
}

/**
 * A placeholder made (or found) and opened. An empty one left by a killed run may be removed by another run's
 * clean-up between the two (placeholders.ts): it is then made again, a few times at most.
 */
function openPlaceholder(path: string, spares: SparePool | undefined): number {
  for (let attempt = 1; ; attempt++) {
    createPlaceholder(path, spares);
    try {
      return openSync(path, O_PATH | fsConstants.O_NOFOLLOW);
    } catch (e: unknown) {
      if (errnoCode(e) !== 'ENOENT' || attempt >= 3) return openNoFollow(path);
    }
  }
}

/** The descriptor names exactly `path` (no link on the way), and a created placeholder is still a file. */
function checkOpened(handle: number, path: string, create: boolean): void {
  // O_PATH|O_NOFOLLOW opens a final symlink itself: refuse it, as any link on the way.
  const st = fstatSync(handle);
  if (st.isSymbolicLink() || readlinkSync(`/proc/self/fd/${handle}`) !== path) {
    throw new IsolateError('E_SANDBOX_SETUP', `${path} is reached through a symbolic link now; the command was not run`, {
      fix: 'run again; if it keeps happening, something in the project is replacing a directory with a link',
    });
  }
  if (create && !st.isFile()) {
    throw new IsolateError('E_SANDBOX_SETUP', `${path} appeared while the sandbox was being set up, and is not a file; the command was not run`, {
      fix: 'run again; isolate will then protect what is there now',
    });
  }
}

/**
 * Open each path without following a final symlink, and check that the
 * descriptor names exactly that path (so no directory on the way was swapped
 * for a symlink since the plan was made). Entries marked create get an empty
 * placeholder file first, and must be a regular file. Returns the
 * descriptors by number.
 */
export function openPathFds(entries: readonly { fd: number; path: string; create?: boolean }[], spares?: SparePool): Map<number, number> {
  const opened = new Map<number, number>();
  try {
    for (const { fd, path, create } of entries) {
      const handle = create === true ? openPlaceholder(path, spares) : openNoFollow(path);
      opened.set(fd, handle);
      checkOpened(handle, path, create === true);
    }
    return opened;
  } catch (e: unknown) {
    closePathFds(opened);
    throw e;
  }
}

/** Close what openPathFds opened (once the launcher holds its copies, or the check is done); safe to call again. */
export function closePathFds(opened: Map<number, number>): void {
  for (const handle of opened.values()) closeSync(handle);
  opened.clear();
}
