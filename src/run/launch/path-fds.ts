/**
 * Plan.pathFds: the paths the profile shows, the protected paths inside
 * writable roots, and the entries of sealed directories, that the launcher
 * mounts, opened without following a
 * symbolic link just before the start and handed over on their descriptors
 * (Linux). A sealed entry that is not what was listed is handed over as its
 * empty stand-in (stand-ins.ts).
 */
import { closeSync, constants as fsConstants, fstatSync, mkdirSync, openSync, readdirSync, readlinkSync, type Stats } from 'node:fs';
import { basename, dirname } from 'node:path';
import { IsolateError, errnoCode } from '../../errors.js';
import { O_PATH } from '../fd-paths.js';
import type { SparePool } from '../spare-placeholders.js';
import type { Plan } from '../../backends/types.js';
import { asListed, openStandIn } from './stand-ins.js';
import { placeholderRefused } from '../../host/placeholder-dirs.js';

type PathFd = NonNullable<Plan['pathFds']>[number];

/** A placeholder directory's mode: nobody, its owner included, makes anything in it (backends/mounts.ts, placeholderIsDir). */
const PLACEHOLDER_DIR_MODE = 0o555;

/** The link swapped in on the way to a path since the plan: refused. */
function throughLink(path: string): IsolateError {
  return new IsolateError('E_SANDBOX_SETUP', `${path} is reached through a symbolic link now; the command was not run`, {
    fix: 'run again; if it keeps happening, something in the project is replacing a directory with a link',
  });
}

/**
 * The directory a placeholder goes in, opened and checked to be at its path with no link on the way: a directory
 * swapped for a link since the plan (to ~/.ssh, or a directory where an empty `.git` stops git) gets nothing made in
 * what the link leads to. Closed by the caller.
 */
function openPlaceholderDir(path: string): number {
  const dir = dirname(path);
  const handle = openNoFollow(dir);
  if (fstatSync(handle).isDirectory() && readlinkSync(`/proc/self/fd/${handle}`) === dir) return handle;
  closeSync(handle);
  throw throughLink(path);
}

/**
 * A placeholder for a protected name that does not exist: an empty file,
 * made without following a symlink (a spare one when there is one,
 * spare-placeholders.ts), or an empty directory (mode 0555) when `dir`, in
 * its directory as checked (openPlaceholderDir). One another run made
 * meanwhile is used as it is (openPathFds then checks what is there).
 */
function createPlaceholder(path: string, dir: boolean, spares: SparePool | undefined): void {
  const parent = openPlaceholderDir(path);
  const at = `/proc/self/fd/${parent}/${basename(path)}`;
  try {
    if (dir) {
      mkdirSync(at, PLACEHOLDER_DIR_MODE);
      return;
    }
    if (spares?.take(path, at) === true) return;
    closeSync(openSync(at, fsConstants.O_CREAT | fsConstants.O_EXCL | fsConstants.O_WRONLY | fsConstants.O_NOFOLLOW, 0o444));
  } catch (e: unknown) {
    if (errnoCode(e) === 'EEXIST') return;
    throw placeholderRefused(path, e);
  } finally {
    closeSync(parent);
  }
}

/** Too many descriptors open for one more: said as such, with the way out. */
function tooManyOpen(path: string, e: unknown): IsolateError | undefined {
  const code = errnoCode(e);
  if (code !== 'EMFILE' && code !== 'ENFILE') return undefined;
  return new IsolateError('E_SANDBOX_SETUP', `cannot open ${path}: isolate holds one descriptor for each path it mounts from one (the profile's paths, protected names, the entries of sealed directories), and no more can be opened; the command was not run`, {
    detail: code,
    fix: 'raise the limit of open files (ulimit -n), or seal fewer entries: make a crowded read-only directory that holds a hidden path hidden or writable in the profile',
    cause: e,
  });
}

function openNoFollow(path: string): number {
  try {
    return openSync(path, O_PATH | fsConstants.O_NOFOLLOW);
  } catch (e: unknown) {
    throw tooManyOpen(path, e) ?? new IsolateError('E_SANDBOX_SETUP', `${path} changed while the sandbox was being set up; the command was not run`, {
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
function openPlaceholder(path: string, dir: boolean, spares: SparePool | undefined): number {
  const flags = O_PATH | fsConstants.O_NOFOLLOW | (dir ? fsConstants.O_DIRECTORY : 0);
  for (let attempt = 1; ; attempt++) {
    createPlaceholder(path, dir, spares);
    try {
      return openSync(path, flags);
    } catch (e: unknown) {
      if (errnoCode(e) !== 'ENOENT' || attempt >= 3) return openNoFollow(path);
    }
  }
}

/** What a placeholder must be once opened: a file, or (`dir`) an empty directory of this user; a link is refused before. */
type Made = { dir: boolean } | undefined;

/** Whether an opened placeholder is what one of its kind is (Made). */
function asMade(handle: number, st: Stats, made: NonNullable<Made>): boolean {
  if (!made.dir) return st.isFile();
  return st.isDirectory() && st.uid === process.geteuid?.() && readdirSync(`/proc/self/fd/${handle}`).length === 0;
}

/** The descriptor names exactly `path` (no link on the way), and a created placeholder is still what it was made as. */
function checkOpened(handle: number, path: string, made: Made): void {
  // O_PATH|O_NOFOLLOW opens a final symlink itself: refuse it, as any link on the way.
  const st = fstatSync(handle);
  if (st.isSymbolicLink() || readlinkSync(`/proc/self/fd/${handle}`) !== path) throw throughLink(path);
  if (made !== undefined && !asMade(handle, st, made)) {
    throw new IsolateError('E_SANDBOX_SETUP', `${path} appeared while the sandbox was being set up, and is not ${made.dir ? 'an empty directory of this user' : 'a file'}; the command was not run`, {
      fix: 'run again; isolate will then protect what is there now',
    });
  }
}

/**
 * Where sealed entries' stand-ins are (Plan.standIns), and the entries bound from them whatever is there now (an OCI
 * bundle or nsjail's config written so). byPath: the launcher binds the other entries by their paths
 * (Plan.checkPathFds), so it cannot show a stand-in for one that changed since its config was written.
 */
export interface StandIns {
  dir: string | undefined;
  forced?: ReadonlySet<string>;
  byPath?: boolean;
}

/**
 * A sealed entry not as listed, changed after the launcher's config was written, for a launcher that would bind
 * whatever is at its path now (a link's target, or nothing: nsjail then fails to mount it): refused before the
 * launcher starts, rather than by the check before "go".
 */
function changedByPath(path: string): IsolateError {
  return new IsolateError('E_SANDBOX_SETUP', `${path}, an entry of a directory isolate seals, changed while the sandbox was being set up (it is a link now, gone, or of another type); the command was not run`, {
    detail: 'this backend binds each entry by its path, from a config already written',
    fix: 'run again; if something keeps replacing this entry, use --backend bwrap (which shows such an entry empty), or make its directory writable or hidden in the profile',
  });
}

/**
 * A sealed entry opened without following a link; its empty stand-in when it is a link, gone, or not of the listed
 * type (`seal`), or when the launcher binds it from the stand-in already (`forced`); refused instead when the
 * launcher binds it by its path (`byPath`).
 */
function openSealed(path: string, seal: NonNullable<PathFd['seal']>, standIns: StandIns): { handle: number; standIn: boolean } {
  const standIn = (): { handle: number; standIn: boolean } => {
    if (standIns.byPath === true && standIns.forced?.has(path) !== true) throw changedByPath(path);
    if (standIns.dir === undefined) throw new IsolateError('E_INTERNAL', `internal error: ${path} changed since it was listed, and the plan names no place for its stand-in`);
    return { handle: openStandIn(standIns.dir, seal), standIn: true };
  };
  if (standIns.forced?.has(path) === true) return standIn();
  let handle: number;
  try {
    handle = openSync(path, O_PATH | fsConstants.O_NOFOLLOW);
  } catch (e: unknown) {
    if (errnoCode(e) === 'ENOENT') return standIn();
    throw tooManyOpen(path, e) ?? new IsolateError('E_SANDBOX_SETUP', `cannot open ${path}, an entry of a directory isolate seals; the command was not run`, {
      detail: errnoCode(e) ?? String(e),
      fix: 'run again; if it keeps happening, something is replacing a directory above it',
      cause: e,
    });
  }
  if (asListed(fstatSync(handle), seal)) return { handle, standIn: false };
  closeSync(handle);
  return standIn();
}

/** Open one entry of Plan.pathFds; checked, unless it is a sealed entry's stand-in (checked as it was opened). One refused is closed. */
function openEntry({ path, create, dir, seal }: PathFd, spares: SparePool | undefined, standIns: StandIns): number {
  if (seal !== undefined) {
    const sealed = openSealed(path, seal, standIns);
    return sealed.standIn ? sealed.handle : checked(sealed.handle, path, undefined);
  }
  if (create !== true) return checked(openNoFollow(path), path, undefined);
  return checked(openPlaceholder(path, dir === true, spares), path, { dir: dir === true });
}

/** The handle once checkOpened accepts it; closed when it does not. */
function checked(handle: number, path: string, made: Made): number {
  try {
    checkOpened(handle, path, made);
    return handle;
  } catch (e: unknown) {
    closeSync(handle);
    throw e;
  }
}

/**
 * Open each path without following a final symlink, and check that the
 * descriptor names exactly that path (so no directory on the way was swapped
 * for a symlink since the plan was made). Entries marked create get an empty
 * placeholder file first, and must be a regular file; sealed entries not as
 * listed get their stand-in (openSealed). Returns the descriptors by number.
 */
export function openPathFds(entries: readonly PathFd[], spares?: SparePool, standIns: StandIns = { dir: undefined }): Map<number, number> {
  const opened = new Map<number, number>();
  try {
    for (const entry of entries) opened.set(entry.fd, openEntry(entry, spares, standIns));
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
