/**
 * Directories held open while a tree a sandbox could have changed is
 * searched and changed (the search after a run, run/after-run-scan.ts).
 * On Linux each is an O_PATH descriptor opened from its parent's without
 * following a symbolic link, and its entries are reached as
 * `/proc/self/fd/N/<name>`: short paths, however deep the directory is
 * (no PATH_MAX), and always this very directory, whatever its path leads
 * to now. Elsewhere (macOS) a handle is its path, checked not to be a link.
 */
import { closeSync, constants, fstatSync, lstatSync, openSync, readlinkSync, type Stats } from 'node:fs';
import { IsolateError } from '../errors.js';
import { O_PATH } from './fd-paths.js';

/** An entry name as the directory has it: a string when it is valid UTF-8, else its bytes. */
export type EntryName = string | Buffer;

/** A name as read from a directory (bytes), as an EntryName. */
export function entryName(raw: Buffer): EntryName {
  const text = raw.toString('utf8');
  // Bytes that are not UTF-8 decode to U+FFFD; only then can the text differ from the name.
  return !text.includes('\uFFFD') || Buffer.from(text).equals(raw) ? text : raw;
}

export interface DirHandle {
  /** The directory's path, as reports show it (it may be longer than the system would accept). */
  readonly path: string;
  /** A path that reaches this directory itself. */
  readonly self: string;
  /** A path that reaches the entry `name` of this directory. */
  at(name: string): string;
  /** This directory's status (fstat of the descriptor). */
  stat(): Stats;
  close(): void;
}

const FD_DIR = '/proc/self/fd';
const useFds = process.platform === 'linux';
const FLAGS = O_PATH | constants.O_DIRECTORY | constants.O_NOFOLLOW;

function fdHandle(fd: number, path: string): DirHandle {
  let open = true;
  return {
    path,
    self: `${FD_DIR}/${fd}`,
    at: (name) => `${FD_DIR}/${fd}/${name}`,
    stat: () => fstatSync(fd),
    close: () => {
      if (open) closeSync(fd);
      open = false;
    },
  };
}

function pathHandle(path: string): DirHandle {
  return { path, self: path, at: (name) => (path === '/' ? `/${name}` : `${path}/${name}`), stat: () => lstatSync(path), close: () => undefined };
}

/** The path of the entry `name` of the directory at `dir` as reports show it (bytes that are not UTF-8 shown as U+FFFD). */
export const pathIn = (dir: string, name: EntryName): string => {
  const text = typeof name === 'string' ? name : name.toString('utf8');
  return dir === '/' ? `/${text}` : `${dir}/${text}`;
};

/** The path of the entry `name` of `dir` as reports show it. */
export const entryPath = (dir: DirHandle, name: EntryName): string => pathIn(dir.path, name);

/** A path that reaches the entry `name` of `dir` (bytes kept as they are). */
export const entryAt = (dir: DirHandle, name: EntryName): string | Buffer => (typeof name === 'string' ? dir.at(name) : Buffer.concat([Buffer.from(dir.at('')), name]));

/** The directory at `path` (absolute), when no component of it is a symbolic link now; throws the errno error otherwise (ELOOP for a link). */
export function openDir(path: string): DirHandle {
  if (!useFds) {
    if (!lstatSync(path).isDirectory()) throw Object.assign(new Error(`${path} is not a directory`), { code: 'ENOTDIR' });
    return pathHandle(path);
  }
  const fd = openSync(path, FLAGS);
  const handle = fdHandle(fd, path);
  if (readlinkSync(handle.self) !== path) {
    handle.close();
    throw Object.assign(new Error(`${path} is reached through a symbolic link`), { code: 'ELOOP' });
  }
  return handle;
}

/** The subdirectory `name` of `parent`, not followed if it is a symbolic link (ELOOP, ENOTDIR). */
export function openChild(parent: DirHandle, name: EntryName): DirHandle {
  const text = typeof name === 'string' ? name : name.toString('latin1');
  if (text === '' || text === '.' || text === '..' || text.includes('/')) throw new IsolateError('E_INTERNAL', `not an entry name: ${text}`);
  const path = entryPath(parent, name);
  if (!useFds) {
    if (!lstatSync(entryAt(parent, name)).isDirectory()) throw Object.assign(new Error(`${path} is not a directory`), { code: 'ENOTDIR' });
    return pathHandle(path);
  }
  return fdHandle(openSync(entryAt(parent, name), FLAGS), path);
}
