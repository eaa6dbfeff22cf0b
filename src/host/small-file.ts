/**
 * Host facts: a small regular file read without ever blocking. A named
 * pipe or a device where a file of git's is expected (a command run in a
 * writable tree can put one there) would block open() or read() for ever,
 * and isolate with it; O_NONBLOCK keeps the open from waiting, and nothing
 * but a regular file is read. An exact read follows no symbolic link at the
 * end of the path and keeps the bytes only while the file is still the one
 * at that path (no directory on the way swapped since the open).
 */
import { closeSync, constants, fstatSync, lstatSync, openSync, readSync, type Stats } from 'node:fs';
import { errnoCode } from '../errors.js';

export interface SmallFileRead {
  /** The most the file may weigh to be read. */
  maxBytes: number;
  /** Read through no final symbolic link, and only while the file is still the one at the path. */
  exact?: boolean;
}

/**
 * The file's bytes: null when it is not there or not a regular file; undefined when it cannot be read whole (too
 * large, unreadable, a final link under `exact`), or under `exact` is no longer at exactly `path`.
 */
export function readSmallFile(path: string, how: SmallFileRead): Buffer | undefined | null {
  const read = readSmallFileStat(path, how);
  return read === null || read === undefined ? read : read.bytes;
}

/** readSmallFile's bytes with the status of the very file they were read from (its owner and mode). */
export function readSmallFileStat(path: string, how: SmallFileRead): { bytes: Buffer; st: Stats } | undefined | null {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOCTTY | (how.exact === true ? constants.O_NOFOLLOW : 0));
  } catch (e: unknown) {
    return errnoCode(e) === 'ENOENT' ? null : undefined;
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) return null;
    if (st.size > how.maxBytes || (how.exact === true && !stillAt(path, st))) return undefined;
    const buf = Buffer.alloc(st.size);
    return { bytes: buf.subarray(0, readSync(fd, buf, 0, st.size, 0)), st };
  } catch {
    return undefined;
  } finally {
    closeSync(fd);
  }
}

/** The file opened is the one at `path` now: the same inode there. */
function stillAt(path: string, opened: { ino: number; dev: number }): boolean {
  const now = lstatSync(path, { throwIfNoEntry: false });
  return now !== undefined && now.ino === opened.ino && now.dev === opened.dev;
}
