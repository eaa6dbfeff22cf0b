/**
 * For a backend that mounts Plan.pathFds by path (nsjail cannot bind a
 * descriptor of another mount namespace): once the sandbox is set up and
 * before the command starts, check from outside that each of those paths,
 * as the sandbox sees it, is the very file or directory run/ opened.
 */
import { fstatSync, lstatSync, type BigIntStats } from 'node:fs';
import { IsolateError, errnoCode } from '../errors.js';

/**
 * `root`: the sandbox's root seen from here (/proc/<init>/root). Every
 * component of each path is looked at without following symlinks: a link
 * would be resolved against isolate's root, not the sandbox's, and the
 * sandbox has no link on the way to what it must see. The last one must have
 * the device and inode of the descriptor run/ opened. Returns the error to
 * report, or undefined when every path is what was opened.
 */
export function checkSandboxPaths(root: string, entries: readonly { fd: number; path: string }[], handles: ReadonlyMap<number, number>): IsolateError | undefined {
  for (const { fd, path } of entries) {
    const handle = handles.get(fd);
    const changed = (why: string): IsolateError =>
      new IsolateError('E_SANDBOX_SETUP', `${path} changed while the sandbox was being set up; the command was not run`, {
        detail: why,
        fix: 'run again; if it keeps happening, something in the project is replacing this path',
      });
    if (handle === undefined) return changed('isolate did not open it');
    const want = fstatSync(handle, { bigint: true });
    let at = root;
    let seen: BigIntStats | undefined;
    for (const part of path.split('/').filter((p) => p !== '')) {
      at = `${at}/${part}`;
      try {
        seen = lstatSync(at, { bigint: true, throwIfNoEntry: false });
      } catch (e: unknown) {
        return new IsolateError('E_SANDBOX_SETUP', `cannot check ${path} inside the sandbox; the command was not run`, {
          detail: `${at}: ${errnoCode(e) ?? String(e)}`,
          fix: 'isolate must be able to look into the sandbox through /proc/<pid>/root; run `isolate doctor`, or use --backend bwrap',
          cause: e,
        });
      }
      if (seen === undefined) return changed(`inside the sandbox ${at.slice(root.length)} does not exist`);
      if (seen.isSymbolicLink()) return changed(`inside the sandbox ${at.slice(root.length)} is a symbolic link`);
    }
    if (seen === undefined || seen.dev !== want.dev || seen.ino !== want.ino) {
      return changed('the sandbox has another file or directory there than the one isolate opened');
    }
  }
  return undefined;
}
