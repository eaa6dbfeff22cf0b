/**
 * Writing an export into its output directory, which is treated as hostile:
 * it must not exist yet (isolate creates it, mode 0700) or be an empty
 * directory of the caller's that nobody else may write; nothing in it is
 * followed. No directory on the way to it may be another user's to change
 * (owned by the caller or root, and writable by others only when sticky, as
 * /tmp is): whoever could rename it could put a symbolic link in its place
 * between isolate's checks and its writes, and have them land elsewhere. Every entry's path is checked to stay inside it, and every file
 * and directory is created exclusively (O_EXCL), so nothing already there,
 * and no symlink planted on the way, is written through.
 */
import { closeSync, constants, lstatSync, mkdirSync, openSync, readdirSync, realpathSync, symlinkSync, writeSync } from 'node:fs';
import { basename, dirname, isAbsolute, join, normalize } from 'node:path';
import { openAncestor } from '../ancestors.js';
import { IsolateError, errnoCode } from '../errors.js';
import type { ExportEntry } from '../index.js';

function refuse(summary: string, fix: string): IsolateError {
  return new IsolateError('E_IO', summary, { fix });
}

/** The directory `dir` is in, without symbolic links, checked by openAncestor. */
function safeParent(dir: string, uid: number): string {
  let parent: string;
  try {
    parent = realpathSync(dirname(dir));
  } catch (e: unknown) {
    throw refuse(`cannot resolve the directory of the output ${dir}: ${(e as Error).message}`, 'name a directory to be created, in a directory you can write');
  }
  const open = openAncestor(parent, [uid, 0]);
  if (open !== undefined) throw refuse(`the output directory ${dir} is in a directory another user can change: ${open}`, 'export into a directory only you (or root) can change, e.g. under your home');
  return parent;
}

/**
 * The output directory, without symbolic links on the way to it: created, or
 * an existing empty one of the caller's that only the caller can write. The
 * entries are written into the path returned.
 */
export function prepareOutDir(out: string, uid: number): string {
  const dir = join(safeParent(out, uid), basename(out));
  try {
    mkdirSync(dir, { mode: 0o700 });
    return dir;
  } catch (e: unknown) {
    if (errnoCode(e) !== 'EEXIST') throw refuse(`cannot create the output directory ${dir}: ${(e as Error).message}`, 'name a directory to be created, in a directory you can write');
  }
  const st = lstatSync(dir);
  const fix = 'name a directory that does not exist yet; isolate creates it';
  if (!st.isDirectory()) throw refuse(`the output ${dir} exists and is not a directory${st.isSymbolicLink() ? ' (a symbolic link, which isolate does not follow)' : ''}`, fix);
  if (st.uid !== uid) throw refuse(`the output directory ${dir} belongs to another user (uid ${String(st.uid)})`, fix);
  if ((st.mode & 0o022) !== 0) throw refuse(`the output directory ${dir} can be written by other users`, fix);
  if (readdirSync(dir).length > 0) throw refuse(`the output directory ${dir} is not empty`, fix);
  return dir;
}

/** The entry's path below `dir`: relative, with no `..`, `.` or empty part. */
function inside(dir: string, path: string): string {
  const parts = path.split('/');
  if (isAbsolute(path) || normalize(path) !== path || parts.some((p) => p === '' || p === '.' || p === '..')) {
    throw new IsolateError('E_INTERNAL', `an export entry's path leaves its directory: ${JSON.stringify(path)}`);
  }
  return join(dir, path);
}

function writeFile(path: string, content: string): void {
  // Files of an export can carry environment values: readable by the caller only.
  const fd = openSync(path, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
  try {
    writeSync(fd, content);
  } finally {
    closeSync(fd);
  }
}

/** Create the entries in `dir` (prepared by prepareOutDir), in order. */
export function writeEntries(dir: string, entries: readonly ExportEntry[]): void {
  for (const entry of entries) {
    const path = inside(dir, entry.path);
    try {
      if (entry.kind === 'dir') mkdirSync(path, { mode: 0o755 });
      else if (entry.kind === 'file') writeFile(path, entry.content);
      else symlinkSync(entry.target, path);
    } catch (e: unknown) {
      throw refuse(`cannot write ${path}: ${(e as Error).message}`, 'export into a new directory of a local filesystem');
    }
  }
}
