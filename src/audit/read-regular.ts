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

/** The file's text and modification time; throws (code ENOENT, ENOTREG, ...) when it cannot be read as a regular file. */
export function readRegularFile(path: string): { text: string; mtimeMs: number } {
  const fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) throw Object.assign(new Error(`${path} is not a regular file`), { code: NOT_REGULAR });
    return { text: readFileSync(fd, 'utf8'), mtimeMs: st.mtimeMs };
  } finally {
    closeSync(fd);
  }
}
