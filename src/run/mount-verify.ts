/**
 * For a backend that mounts Plan.pathFds by path (nsjail cannot bind a
 * descriptor of another mount namespace): once the sandbox is set up and
 * before the command starts, check from outside that each of those paths,
 * as the sandbox sees it, is the very file or directory run/ opened, and
 * that the backend's bind mount (read-only for a protected name, read-write
 * for a pinned directory) is the one at that path.
 *
 * The inode alone is not enough: a concurrent sandbox can swap a pinned
 * directory for a symlink while the backend mounts by path (so the mounts
 * land on whatever the link leads to) and swap it back before the check; the
 * path then has its original inode and no link, but nothing of ours is
 * mounted on it.
 */
import { closeSync, fstatSync, lstatSync, openSync, readFileSync, statSync, constants as fsConstants, type BigIntStats } from 'node:fs';
import { IsolateError, errnoCode } from '../errors.js';
import { O_PATH } from './fd-paths.js';

/** One checked path: `readOnly` is the flag the backend's bind mount at `path` must have. */
export interface CheckedPath {
  fd: number;
  path: string;
  readOnly?: boolean;
  /** Covered by the host's /dev/null (a hidden path's placeholder): that is what the sandbox must have at the path. */
  hidden?: boolean;
}

/** What covers a hidden path's placeholder in the sandbox (the backends' empty source). */
const EMPTY = '/dev/null';

/** What the check reads of one line of /proc/<pid>/mountinfo. */
export interface MountinfoEntry {
  /** The mount's ID (as in /proc/<pid>/fdinfo/<fd> mnt_id). */
  id: number;
  /** Where it is mounted, relative to the process's root, unescaped. */
  mountPoint: string;
  /** The per-mount flag (not the file system's). */
  readOnly: boolean;
}

/** The kernel writes space, tab, newline and backslash in mountinfo paths as \ooo. */
export function unescapeMountinfo(field: string): string {
  return field.replace(/\\([0-7]{3})/g, (_, oct: string) => String.fromCharCode(parseInt(oct, 8)));
}

/**
 * The mounts of a mountinfo text, in its order (the order they were mounted
 * in: of several at one mount point, the last is on top). A line that does
 * not parse is left out: that can only make a mount look missing (a refusal).
 */
export function parseMountinfo(text: string): MountinfoEntry[] {
  const mounts: MountinfoEntry[] = [];
  for (const line of text.split('\n')) {
    // ID, parent ID, major:minor, root, mount point, mount options, optional fields..., "-", type, source, super options
    const fields = line.split(' ');
    const [id, , , , mountPoint, options] = fields;
    if (id === undefined || mountPoint === undefined || options === undefined || !/^\d+$/.test(id) || !fields.includes('-')) continue;
    mounts.push({ id: Number(id), mountPoint: unescapeMountinfo(mountPoint), readOnly: options.split(',').includes('ro') });
  }
  return mounts;
}


/**
 * `proc`: the sandbox's init seen from here (/proc/<init>). Each path is
 * looked at through its root (`proc`/root), every component without
 * following symlinks: a link would be resolved against isolate's root, not
 * the sandbox's, and the sandbox has no link on the way to what it must see.
 * The last one must have the device and inode of the descriptor run/ opened,
 * and belong to the topmost mount whose mount point (in `proc`/mountinfo, as
 * the sandbox sees it) is exactly the path, with the read-only flag the
 * entry names (read-only where another entry at the path is: a bind
 * covered by a protected name's). Returns the error to report, or undefined when every path is
 * what was opened, mounted as planned.
 */
export function verifySandboxMounts(proc: string, entries: readonly CheckedPath[], handles: ReadonlyMap<number, number>): IsolateError | undefined {
  const root = `${proc}/root`;
  const cannotCheck = (path: string, what: string, e: unknown): IsolateError =>
    new IsolateError('E_SANDBOX_SETUP', `cannot check ${path} inside the sandbox; the command was not run`, {
      detail: `${what}: ${errnoCode(e) ?? String(e)}`,
      fix: 'isolate must be able to look into the sandbox through /proc/<pid>/root and /proc/<pid>/mountinfo; run `isolate doctor`, or use --backend bwrap',
      cause: e,
    });
  let mounts: MountinfoEntry[] | undefined;
  // A writable path kept read-only whole has two entries: its bind, and the read-only bind on top (setup-ops.ts orders protected names after binds).
  const coveredReadOnly = new Set(entries.filter((e) => e.readOnly === true).map((e) => e.path));
  for (const { fd, path, readOnly, hidden } of entries) {
    const handle = handles.get(fd);
    const changed = (why: string): IsolateError =>
      new IsolateError('E_SANDBOX_SETUP', `${path} changed while the sandbox was being set up; the command was not run`, {
        detail: why,
        fix: 'run again; if it keeps happening, something in the project is replacing this path',
      });
    const notMounted = (why: string): IsolateError =>
      new IsolateError('E_SANDBOX_SETUP', `${path} is not mounted inside the sandbox as isolate asked; the command was not run`, {
        detail: why,
        fix: 'run again; if it keeps happening, something in the project is replacing this path or a directory above it',
      });
    if (handle === undefined) return changed('isolate did not open it');
    if (readOnly === undefined) return notMounted('the plan does not say whether it is mounted read-only or read-write');
    const want = hidden === true ? statSync(EMPTY, { bigint: true }) : fstatSync(handle, { bigint: true });
    let at = root;
    let seen: BigIntStats | undefined;
    for (const part of path.split('/').filter((p) => p !== '')) {
      at = `${at}/${part}`;
      try {
        seen = lstatSync(at, { bigint: true, throwIfNoEntry: false });
      } catch (e: unknown) {
        return cannotCheck(path, at, e);
      }
      if (seen === undefined) return changed(`inside the sandbox ${at.slice(root.length)} does not exist`);
      if (seen.isSymbolicLink()) return changed(`inside the sandbox ${at.slice(root.length)} is a symbolic link`);
    }
    if (seen === undefined || seen.dev !== want.dev || seen.ino !== want.ino) {
      return changed('the sandbox has another file or directory there than the one isolate opened');
    }

    // The mount the path leads to now (opened again: what was looked at above could have been swapped since).
    let mountId: number;
    let reached: BigIntStats;
    try {
      const h = openSync(at, O_PATH | fsConstants.O_NOFOLLOW);
      try {
        reached = fstatSync(h, { bigint: true });
        const id = /^mnt_id:\s*(\d+)$/m.exec(readFileSync(`/proc/self/fdinfo/${h}`, 'utf8'))?.[1];
        if (id === undefined) return cannotCheck(path, `/proc/self/fdinfo/${h}`, 'no mnt_id');
        mountId = Number(id);
      } finally {
        closeSync(h);
      }
      mounts ??= parseMountinfo(readFileSync(`${proc}/mountinfo`, 'utf8'));
    } catch (e: unknown) {
      return cannotCheck(path, at, e);
    }
    if (reached.dev !== want.dev || reached.ino !== want.ino) {
      return changed('the sandbox has another file or directory there than the one isolate opened');
    }
    if (readOnly === false && coveredReadOnly.has(path)) continue;
    const top = mounts.findLast((m) => m.mountPoint === path);
    if (top === undefined) return notMounted(`nothing is mounted at ${path} inside the sandbox (the ${readOnly ? 'read-only' : 'read-write'} bind landed elsewhere)`);
    if (top.readOnly !== readOnly) return notMounted(`the mount at ${path} inside the sandbox is ${top.readOnly ? 'read-only' : 'read-write'}, not ${readOnly ? 'read-only' : 'read-write'}`);
    if (top.id !== mountId) return notMounted(`${path} inside the sandbox leads to another mount than the one on top at that path`);
  }
  return undefined;
}
