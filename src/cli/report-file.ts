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
 * A name that is something else than a file before the run (`/dev/stderr`,
 * a process substitution's `/dev/fd/63`, a FIFO, a link the caller made) is
 * the caller's own choice of where the report goes: it is opened for writing
 * then, as it leads, and the report is written to that descriptor after the
 * run, whatever the name leads to by then.
 */
import { randomBytes } from 'node:crypto';
import { closeSync, constants, fstatSync, ftruncateSync, lstatSync, openSync, readlinkSync, realpathSync, renameSync, rmSync, writeFileSync, writeSync } from 'node:fs';
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
  /** A descriptor opened before the run, when the name was not a file then (see above). */
  fd?: number;
}

/** What is at `path` before the run, not followed; undefined when nothing is. */
function lstatOrNone(path: string): ReturnType<typeof lstatSync> | undefined {
  try {
    return lstatSync(path);
  } catch {
    return undefined;
  }
}

/** The name as it leads before the run, opened for writing; E_IO when it cannot be. */
function openSpecial(path: string, given: string): number {
  try {
    return openSync(path, constants.O_WRONLY | constants.O_CREAT | constants.O_NOCTTY, 0o600);
  } catch (e: unknown) {
    throw new IsolateError('E_IO', `cannot open ${given} for the report: ${errnoCode(e) ?? String(e)}; the command was not run`, { cause: e });
  }
}

/** Where the report goes, resolved before the run. A directory that does not exist is kept as given: the write fails after the run. */
export function reportTarget(file: string, cwd: string): ReportTarget {
  const path = resolve(cwd, file);
  const st = lstatOrNone(path);
  const special = st !== undefined && !st.isFile() && !st.isDirectory();
  let dir = dirname(path);
  try {
    dir = realpathSync(dir);
  } catch {
    // Reported when the report is written.
  }
  return { dir, name: basename(path), given: file, ...(special ? { fd: openSpecial(path, file) } : {}) };
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

/** Write the report to the descriptor opened before the run, and close it. */
function writeOpened(target: ReportTarget, fd: number, text: string): void {
  try {
    const data = Buffer.from(text);
    // A file is rewritten from its start, as writing a file by its name would; a terminal or pipe takes the text where it stands.
    const file = fstatSync(fd).isFile();
    if (file) ftruncateSync(fd, 0);
    for (let at = 0; at < data.length; ) at += writeSync(fd, data, at, data.length - at, file ? at : null);
  } catch (e: unknown) {
    throw new IsolateError('E_IO', `cannot write the report to ${target.given}: ${errnoCode(e) ?? String(e)}`, { cause: e });
  } finally {
    closeSync(fd);
  }
}

/** Write the report's text to its file (mode 0600), replacing what is at the name, following no link; or to the descriptor opened before the run. */
export function writeReport(target: ReportTarget, text: string): void {
  if (target.fd !== undefined) {
    writeOpened(target, target.fd, text);
    return;
  }
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
