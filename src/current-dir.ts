/**
 * The process's working directory, where relative paths are resolved from.
 * One that was removed while a shell stood in it has no path any more
 * (getcwd fails with ENOENT): that is the caller's to fix, said as such,
 * not an internal error.
 */
import { IsolateError, errnoCode } from './errors.js';

export function currentDir(): string {
  try {
    return process.cwd();
  } catch (e: unknown) {
    if (errnoCode(e) !== 'ENOENT') throw e;
    throw new IsolateError('E_PATH_MISSING', 'the current directory no longer exists (it was removed while this shell was in it)', {
      fix: 'cd to a directory that exists (cd "$PWD" if it was made again), then run isolate again',
      cause: e,
    });
  }
}
