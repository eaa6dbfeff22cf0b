/**
 * Read one of the audit log's small side files (its head, its lock) without
 * ever blocking: a named pipe or a device put in its place (by anything that
 * can write the log's directory) would block open() or read() for ever, with
 * the log's lock held and isolate deaf to SIGTERM. O_NONBLOCK keeps the open
 * from waiting; anything but a regular file is an error (ENOTREG below), as
 * one that does not decode would be.
 */
import { closeSync, constants, fstatSync, openSync, readFileSync } from 'node:fs';

/** The errno-style code of the error for a path that is not a regular file. */
export const NOT_REGULAR = 'ENOTREG';

/**
 * Open `path` with `flags` and O_NONBLOCK, and make sure it is a regular file (else close it and throw, code ENOTREG);
 * throws the open's error (ENOENT, ELOOP with O_NOFOLLOW, ...) as it is.
 */
export function openRegular(path: string, flags: number = constants.O_RDONLY): number {
  const fd = openSync(path, flags | constants.O_NONBLOCK);
  if (fstatSync(fd).isFile()) return fd;
  closeSync(fd);
  throw Object.assign(new Error(`${path} is not a regular file`), { code: NOT_REGULAR });
}

/** The file's text and modification time; throws (code ENOENT, ENOTREG, ...) when it cannot be read as a regular file. */
export function readRegularFile(path: string, flags: number = constants.O_RDONLY): { text: string; mtimeMs: number } {
  const fd = openRegular(path, flags);
  try {
    return { text: readFileSync(fd, 'utf8'), mtimeMs: fstatSync(fd).mtimeMs };
  } finally {
    closeSync(fd);
  }
}
