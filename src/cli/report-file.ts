/**
 * The run report's file (`run --report FILE`). isolate writes it after the
 * run, often into the project, which the command could write: it could
 * leave a symbolic link at the name, or put one in place of a directory on
 * the way, and the write would land in a file of the caller's that the
 * sandbox could not reach (a shell's start-up file, a key). So the report's
 * directory is resolved before the run (reportTarget), and after it:
 * - it must still be that directory, reached with no link on the way (on
 *   Linux the path of a descriptor of it is checked, and the writes go
 *   through /proc/self/fd/N, that very directory; elsewhere lstat and
 *   realpath say so, a narrower check);
 * - the report goes to a new file there (O_EXCL), renamed over the name: a
 *   link at the name is replaced, never followed.
 */
import { randomBytes } from 'node:crypto';
import { closeSync, constants, lstatSync, openSync, readlinkSync, realpathSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { IsolateError, errnoCode } from '../errors.js';

/** O_PATH (Linux; Node's constants lack it): a descriptor that names a directory without opening it for reading. */
const O_PATH = 0o10000000;

export interface ReportTarget {
  /** The report's directory, without symbolic links, as it was before the run. */
  dir: string;
  name: string;
  /** The path as the caller gave it, for messages. */
  given: string;
}

/** Where the report goes, resolved before the run. A directory that does not exist is kept as given: the write fails after the run. */
export function reportTarget(file: string, cwd: string): ReportTarget {
  const path = resolve(cwd, file);
  let dir = dirname(path);
  try {
    dir = realpathSync(dir);
  } catch {
    // Reported when the report is written.
  }
  return { dir, name: basename(path), given: file };
}

function moved(target: ReportTarget): IsolateError {
  return new IsolateError('E_IO', `the directory of the report ${target.given} changed during the run (${target.dir} is not reached without a symbolic link any more); the report was not written`, {
    fix: 'write the report outside the paths the sandbox can write, or look at what the command did to that directory',
  });
}

/** Run `write` with a way to name entries of the target's directory, that very directory. */
function inTargetDir(target: ReportTarget, write: (at: (name: string) => string) => void): void {
  if (process.platform !== 'linux') {
    if (!lstatSync(target.dir).isDirectory() || realpathSync(target.dir) !== target.dir) throw moved(target);
    write((name) => join(target.dir, name));
    return;
  }
  const fd = openSync(target.dir, O_PATH | constants.O_DIRECTORY | constants.O_NOFOLLOW);
  try {
    if (readlinkSync(`/proc/self/fd/${fd}`) !== target.dir) throw moved(target);
    write((name) => `/proc/self/fd/${fd}/${name}`);
  } finally {
    closeSync(fd);
  }
}

/** Write the report's text to its file (mode 0600), replacing what is at the name, following no link. */
export function writeReport(target: ReportTarget, text: string): void {
  try {
    inTargetDir(target, (at) => {
      const temp = at(`.${target.name}.isolate-${randomBytes(6).toString('hex')}`);
      writeFileSync(temp, text, { flag: 'wx', mode: 0o600 });
      try {
        renameSync(temp, at(target.name));
      } catch (e: unknown) {
        rmSync(temp, { force: true });
        throw e;
      }
    });
  } catch (e: unknown) {
    if (e instanceof IsolateError) throw e;
    const code = errnoCode(e);
    if (code === 'ELOOP' || code === 'ENOTDIR') throw moved(target);
    throw new IsolateError('E_IO', `cannot write the report to ${target.given}: ${code ?? String(e)}`, { cause: e });
  }
}
