/**
 * Plan.standIns: what the sandbox shows for an entry of a sealed directory
 * (backends/seal.ts) that is no longer what the listing said when run/ opens
 * it just before the start: a symbolic link a program on the host swapped in
 * (perhaps to a hidden path: another sandbox of the same user, with a
 * writable home, can do that in a loop), an entry removed, or one of another
 * type. Such an entry is never followed: it is bound from an empty stand-in
 * of the listed type, read-only, that isolate keeps in its private runtime
 * directory (which no sandbox sees): an empty file for a listed file (or
 * socket, fifo, device), an empty directory for a listed directory.
 *
 * Refusing the run instead would let a neighbouring sandbox make every run
 * fail by swapping an entry back and forth; with the stand-in the run goes
 * on, and only that entry is empty in it.
 */
import { closeSync, constants as fsConstants, fstatSync, lstatSync, mkdirSync, openSync, readdirSync, type Stats } from 'node:fs';
import { standInPath } from '../../backends/seal.js';
import type { SealType } from '../../backends/types.js';
import { IsolateError, errnoCode } from '../../errors.js';
import { ensurePrivateDir } from '../../host/runtime-dir.js';
import { O_PATH } from '../fd-paths.js';

/** Whether an entry is what it was listed as: never a link; a file, a directory, or (`other`) neither. */
export function asListed(st: Pick<Stats, 'isFile' | 'isDirectory' | 'isSymbolicLink'>, type: SealType): boolean {
  if (st.isSymbolicLink()) return false;
  if (type === 'file') return st.isFile();
  if (type === 'dir') return st.isDirectory();
  return !st.isFile() && !st.isDirectory();
}

/** Whether the entry at `path` is what it was listed as now; false when it is gone. */
export function listedNow(path: string, type: SealType): boolean {
  const st = lstatSync(path, { throwIfNoEntry: false });
  return st !== undefined && asListed(st, type);
}

function brokenStandIn(path: string, why: string): IsolateError {
  return new IsolateError('E_SANDBOX_SETUP', `isolate's empty stand-in ${path} ${why}; the command was not run`, {
    fix: `remove ${path}: isolate makes it again, empty`,
  });
}

/** Make the stand-in where it is missing (mode 0444 for the file, 0555 for the directory); one there is kept. */
function makeStandIn(path: string, type: SealType): void {
  try {
    if (type === 'dir') mkdirSync(path, { mode: 0o555 });
    else closeSync(openSync(path, fsConstants.O_CREAT | fsConstants.O_EXCL | fsConstants.O_WRONLY | fsConstants.O_NOFOLLOW, 0o444));
  } catch (e: unknown) {
    if (errnoCode(e) === 'EEXIST') return;
    throw new IsolateError('E_SANDBOX_SETUP', `cannot make isolate's empty stand-in ${path}; the command was not run`, {
      detail: errnoCode(e) ?? String(e),
      fix: 'check that isolate\'s runtime directory is writable (XDG_RUNTIME_DIR, else ~/.local/state/isolate/run), then run again',
      cause: e,
    });
  }
}

/**
 * An O_PATH descriptor of the empty stand-in for an entry listed as `type` (made first where missing). One that is
 * not empty, or not of its kind, is refused: the sandbox would show it.
 */
export function openStandIn(dir: string, type: SealType): number {
  const path = standInPath(ensurePrivateDir(dir), type);
  makeStandIn(path, type);
  const handle = openSync(path, O_PATH | fsConstants.O_NOFOLLOW);
  try {
    const st = fstatSync(handle);
    if (!asListed(st, type === 'dir' ? 'dir' : 'file')) throw brokenStandIn(path, `is not a ${type === 'dir' ? 'directory' : 'file'}`);
    if (type === 'dir' ? readdirSync(path).length > 0 : st.size > 0) throw brokenStandIn(path, 'is not empty');
    return handle;
  } catch (e: unknown) {
    closeSync(handle);
    throw e;
  }
}

/** The stand-in for an entry listed as `type`, made and checked (for a launcher that binds it by path: an OCI bundle). */
export function readyStandIn(dir: string, type: SealType): string {
  closeSync(openStandIn(dir, type));
  return standInPath(dir, type);
}
