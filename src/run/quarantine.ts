/**
 * Moving aside what a run left that programs on the host would obey (found
 * by run/after-run-scan.ts): each is renamed next to where it was, as
 * `<name>.isolate-quarantined-<tag>`, and reported; the user can look at it
 * and restore it. Renames go through the directory handles of the search
 * (run/dir-handle.ts), so no symbolic link is followed and no path is too
 * long. When a rename fails, the directory holding the name is moved aside
 * instead, and so on up to the writable root: what cannot be moved alone
 * is never left in place silently.
 */
import { chmodSync, closeSync, constants, fchmodSync, fstatSync, lstatSync, openSync, readdirSync, renameSync } from 'node:fs';
import { errnoCode } from '../errors.js';
import { basename, dirname } from 'node:path';
import { entryAt, entryName, entryPath, openDir, type DirHandle, type EntryName } from './dir-handle.js';

export interface Quarantined {
  path: string;
  /** Where it was moved, or null when it could not be (see error). */
  movedTo: string | null;
  /** Why, when it is not simply a name the run created: a directory that could not be searched, or what it stands in for. */
  reason?: string;
  error?: string;
}

/**
 * Why an entry the search after a run could not look at (`code`, its
 * errno) goes aside whole; undefined when it is gone, or replaced by a
 * file or a link since it was listed (ENOENT, ENOTDIR, ELOOP): nothing is
 * there to look at.
 */
export function unexaminedReason(code: string, verb: 'examined' | 'searched'): string | undefined {
  return code === 'ENOENT' || code === 'ENOTDIR' || code === 'ELOOP' ? undefined : `could not be ${verb} after the run (${code}): moved aside whole`;
}

/** One step down a tree: the entry `name` of the directory `dir`. A chain of them leads from a writable root to an entry. */
export interface Step {
  dir: DirHandle;
  name: EntryName;
}

const MAX_NAME_BYTES = 255;

function exists(path: string | Buffer): boolean {
  try {
    lstatSync(path);
    return true;
  } catch (e: unknown) {
    return errnoCode(e) !== 'ENOENT';
  }
}

/** A name for the entry aside, within the 255 bytes a name may have, not taken yet. */
function asideName(step: Step, tag: string): EntryName {
  const suffix = Buffer.from(`.isolate-quarantined-${tag}`);
  const raw = typeof step.name === 'string' ? Buffer.from(step.name) : step.name;
  const base = raw.subarray(0, Math.min(raw.length, MAX_NAME_BYTES - suffix.length - 4));
  let aside = Buffer.concat([base, suffix]);
  for (let n = 2; n < 100 && exists(entryAt(step.dir, aside)); n++) aside = Buffer.concat([base, suffix, Buffer.from(`-${n}`)]);
  return entryName(aside);
}

/**
 * Whether the entry configures nothing: an empty file or directory. One
 * that cannot be read is not empty, nor is an empty file with another
 * name: kept in place, it would be a protected name in the next run, bound
 * read-only there, while its other name (in a `.git`, which no search
 * lists) stayed writable and wrote it.
 */
export function isEmpty(step: Step): boolean {
  try {
    const st = lstatSync(entryAt(step.dir, step.name));
    if (st.isFile()) return st.size === 0 && st.nlink === 1;
    if (st.isDirectory()) return readdirSync(entryAt(step.dir, step.name)).length === 0;
    return false;
  } catch (e: unknown) {
    return errnoCode(e) === 'ENOENT'; // gone: nothing to do
  }
}

/**
 * Rename an entry within its directory. A command may have made the
 * directory read-only to its owner (`chmod a-w`) so that what it planted
 * there could not be moved: where the rename is refused so and the
 * directory is isolate's own user's, it is made writable for the rename,
 * then given its mode back.
 */
function renameWithin(dir: DirHandle, from: EntryName, to: EntryName): void {
  try {
    renameSync(entryAt(dir, from), entryAt(dir, to));
  } catch (e: unknown) {
    const st = errnoCode(e) === 'EACCES' ? dir.stat() : undefined;
    if (st === undefined || st.uid !== process.getuid?.() || (st.mode & 0o300) === 0o300) throw e;
    chmodSync(dir.self, (st.mode & 0o7777) | 0o300);
    try {
      renameSync(entryAt(dir, from), entryAt(dir, to));
    } finally {
      chmodSync(dir.self, st.mode & 0o7777);
    }
  }
}

/** The result of a move: what was moved, and how many steps of the chain it kept (the index of the step moved). */
export interface Moved {
  result: Quarantined | undefined;
  at: number;
}

/**
 * Move the last step of `chain` aside; when that fails, the step before it
 * (the directory holding it), and so on, never the writable root itself.
 * Undefined result: the entry is gone, nothing to move.
 */
export function moveAside(chain: readonly Step[], tag: string, reason?: string): Moved {
  const last = chain.length - 1;
  const path = entryPath((chain[last] as Step).dir, (chain[last] as Step).name);
  let firstError: string | undefined;
  for (let k = last; k >= 0; k--) {
    const step = chain[k] as Step;
    const aside = asideName(step, tag);
    try {
      renameWithin(step.dir, step.name, aside);
      const why = k === last ? reason : `in place of ${path}, which could not be moved (${firstError ?? 'unknown'})${reason === undefined ? '' : `; ${reason}`}`;
      return { result: { path: entryPath(step.dir, step.name), movedTo: entryPath(step.dir, aside), ...(why === undefined ? {} : { reason: why }) }, at: k };
    } catch (e: unknown) {
      const code = errnoCode(e) ?? String(e);
      if (k === last && code === 'ENOENT') return { result: undefined, at: last };
      firstError ??= code;
    }
  }
  const locked = lockDown(chain[last] as Step) ? `${reason === undefined ? '' : `${reason}; `}made unreadable in place (mode 000) instead` : reason;
  return { result: { path, movedTo: null, ...(locked === undefined ? {} : { reason: locked }), error: firstError ?? 'unknown' }, at: -1 };
}

/**
 * Where nothing on the way could be renamed (a full disk, ENOSPC, or a
 * directory full to its last block), the entry itself is made unreadable
 * (mode 000), so that git and the others fail on it rather than obey it.
 * Only a regular file or directory of isolate's own user, opened without
 * following a link and changed through its descriptor. Root reads it all
 * the same: the warning stands.
 */
function lockDown(step: Step): boolean {
  let fd: number | undefined;
  try {
    fd = openSync(entryAt(step.dir, step.name), constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
    const st = fstatSync(fd);
    if (!(st.isFile() || st.isDirectory()) || st.uid !== process.getuid?.()) return false;
    fchmodSync(fd, 0);
    return true;
  } catch {
    return false;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/** Move aside the entry at each absolute path, its directory opened without following a link; one whose directory cannot be opened is reported, not moved. */
export function moveAsidePaths(paths: readonly string[], tag: string, reason: string): Quarantined[] {
  return paths.flatMap((path): Quarantined[] => {
    let dir: DirHandle;
    try {
      dir = openDir(dirname(path));
    } catch (e: unknown) {
      return [{ path, movedTo: null, reason, error: errnoCode(e) ?? String(e) }];
    }
    try {
      const moved = moveAside([{ dir, name: basename(path) }], tag, reason).result;
      return moved === undefined ? [] : [moved];
    } finally {
      dir.close();
    }
  });
}
