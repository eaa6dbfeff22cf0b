/**
 * Descriptors that name a path without following symbolic links, for the
 * steps that act on a tree a sandbox could change meanwhile (Linux).
 */
import { closeSync, constants, openSync, readlinkSync } from 'node:fs';

/** O_PATH: a descriptor that names a file without opening it for reading; it needs no permission on the file itself. */
export const O_PATH = 0o10000000;

/**
 * Run `fn` with an O_PATH descriptor of the directory `dir`, opened only if
 * no component of `dir` is a symbolic link now (the descriptor's own path is
 * `dir` exactly); `fn` reaches entries as `/proc/self/fd/N/<name>`, which
 * names that very directory whatever its path leads to later. Undefined when
 * `dir` is not such a directory.
 */
export function inDirectory<T>(dir: string, fn: (at: (name: string) => string) => T): T | undefined {
  let fd: number;
  try {
    fd = openSync(dir, O_PATH | constants.O_DIRECTORY | constants.O_NOFOLLOW);
  } catch {
    return undefined;
  }
  try {
    if (readlinkSync(`/proc/self/fd/${fd}`) !== dir) return undefined;
    return fn((name) => `/proc/self/fd/${fd}/${name}`);
  } finally {
    closeSync(fd);
  }
}
