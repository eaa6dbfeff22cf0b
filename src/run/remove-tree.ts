/**
 * Removing a directory tree that a sandbox may still be changing (the run
 * directory of Plan.launch.runDir, see removeTree), without ever following a
 * symbolic link.
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, closeSync, constants as fsConstants, fchmodSync, fstatSync, lstatSync, openSync, readdirSync, renameSync, rmdirSync, statSync, unlinkSync, type Stats } from 'node:fs';
import { dirname, join } from 'node:path';
import { errnoCode } from '../errors.js';
import { O_PATH } from './fd-paths.js';

const O_DIR = fsConstants.O_RDONLY | fsConstants.O_DIRECTORY | fsConstants.O_NOFOLLOW;
/** Deeper than this the walk leaves what is there (each level holds a descriptor). */
const REMOVE_MAX_DEPTH = 512;
/** Times a directory is read and emptied again when something reappears in it. */
const REMOVE_PASSES = 4;

let fdPaths: boolean | undefined;
/**
 * Linux: /proc/self/fd/N names the very directory descriptor N was opened on,
 * wherever it is now and whatever its old path leads to, so `/proc/self/fd/N/name`
 * works as the *at() calls node lacks. Checked once.
 */
function fdRelativePaths(): boolean {
  if (fdPaths !== undefined) return fdPaths;
  fdPaths = false;
  try {
    const fd = openSync('/', O_DIR);
    try {
      const a = fstatSync(fd);
      const b = statSync(`/proc/self/fd/${fd}/.`);
      fdPaths = a.dev === b.dev && a.ino === b.ino;
    } finally {
      closeSync(fd);
    }
  } catch {
    // no /proc: paths are joined (see removeTree)
  }
  return fdPaths;
}

interface WalkDir {
  fd: number;
  /** Its path (Buffer: names need not be UTF-8), for path mode and for the chain check. */
  path: Buffer;
  dev: number;
  ino: number;
}

const SLASH = Buffer.from('/');

/** A walk that removes a tree without ever following a symbolic link. */
class TreeRemover {
  private readonly stack: WalkDir[] = [];

  constructor(
    /** Paths through /proc/self/fd (race-free); else joined paths, safe only in a tree nobody else changes. */
    private readonly fdRelative: boolean,
    private readonly rootDev: number,
  ) {}

  private at(dir: WalkDir, name: Buffer): Buffer {
    return Buffer.concat([this.fdRelative ? Buffer.from(`/proc/self/fd/${dir.fd}`) : dir.path, SLASH, name]);
  }

  /** Path mode: every directory on the way is still the one opened (narrows, does not close, the window: see removeTree). */
  private chainIntact(): boolean {
    if (this.fdRelative) return true;
    for (const dir of this.stack) {
      let st: Stats | undefined;
      try {
        st = lstatSync(dir.path, { throwIfNoEntry: false });
      } catch {
        return false;
      }
      if (st === undefined || !st.isDirectory() || st.dev !== dir.dev || st.ino !== dir.ino) return false;
    }
    return true;
  }

  /**
   * Open the directory `path` that lstat showed as `seen`, without following a
   * link, and only if it is still that directory (dev, ino). A directory the
   * command made unreadable is given back its owner's rwx first: on Linux
   * through an O_PATH descriptor checked the same way (chmod of
   * /proc/self/fd/N changes exactly that inode); in path mode by path, after
   * checking that it is still that directory (no lchmod: nothing else is ever
   * chmod-ed, links are never touched).
   */
  openDir(path: Buffer, seen: Stats): number | undefined {
    const same = (st: Stats): boolean => st.isDirectory() && st.dev === seen.dev && st.ino === seen.ino;
    let fd: number;
    try {
      fd = openSync(path, O_DIR);
    } catch (e: unknown) {
      if (errnoCode(e) !== 'EACCES') return undefined;
      try {
        if (this.fdRelative) {
          const handle = openSync(path, O_PATH | fsConstants.O_DIRECTORY | fsConstants.O_NOFOLLOW);
          try {
            if (!same(fstatSync(handle))) return undefined;
            chmodSync(`/proc/self/fd/${handle}`, 0o700);
          } finally {
            closeSync(handle);
          }
        } else {
          const st = lstatSync(path, { throwIfNoEntry: false });
          if (st === undefined || !same(st) || !this.chainIntact()) return undefined;
          chmodSync(path, 0o700);
        }
        fd = openSync(path, O_DIR);
      } catch {
        return undefined;
      }
    }
    try {
      const st = fstatSync(fd);
      if (!same(st)) {
        closeSync(fd);
        return undefined;
      }
      // Search and write permission, to remove its entries: on the descriptor just checked.
      if ((st.mode & 0o700) !== 0o700) fchmodSync(fd, 0o700);
      return fd;
    } catch {
      closeSync(fd);
      return undefined;
    }
  }

  /** Remove everything in `dir` (opened and checked); whether it is empty now. */
  empty(dir: WalkDir): boolean {
    this.stack.push(dir);
    try {
      for (let pass = 0; pass < REMOVE_PASSES; pass++) {
        let names: Buffer[];
        try {
          names = readdirSync(this.fdRelative ? `/proc/self/fd/${dir.fd}` : dir.path, { encoding: 'buffer' });
        } catch {
          return false;
        }
        if (names.length === 0) return true;
        for (const name of names) this.removeEntry(dir, name);
      }
      return false;
    } finally {
      this.stack.pop();
    }
  }

  private removeEntry(dir: WalkDir, name: Buffer): void {
    const path = this.at(dir, name);
    if (!this.chainIntact()) return;
    let st: Stats | undefined;
    try {
      st = lstatSync(path, { throwIfNoEntry: false });
    } catch {
      return;
    }
    if (st === undefined) return;
    if (!st.isDirectory()) {
      // A symbolic link is an entry like any other: unlink removes the link, never what it names.
      try {
        unlinkSync(path);
      } catch {
        // it changed (the next pass sees what it is now), or cannot be removed
      }
      return;
    }
    // Another file system mounted here is not the run directory's to empty.
    if (st.dev !== this.rootDev || this.stack.length >= REMOVE_MAX_DEPTH) return;
    const fd = this.openDir(path, st);
    if (fd === undefined) return;
    let emptied: boolean;
    try {
      emptied = this.empty({ fd, path: Buffer.concat([dir.path, SLASH, name]), dev: st.dev, ino: st.ino });
    } finally {
      closeSync(fd);
    }
    if (!emptied || !this.chainIntact()) return;
    try {
      rmdirSync(path);
    } catch {
      // not empty again, or no longer a directory: the next pass sees
    }
  }
}

/** Remove the directory `path` and everything in it with TreeRemover; the error code when something stays. */
function removeWalk(path: string, fdRelative: boolean): string | undefined {
  const seen = lstatSync(path, { throwIfNoEntry: false });
  if (seen === undefined) return undefined;
  if (!seen.isDirectory()) {
    // Not what isolate created (it was replaced): remove the name only.
    try {
      unlinkSync(path);
      return undefined;
    } catch (e: unknown) {
      return errnoCode(e) ?? String(e);
    }
  }
  const remover = new TreeRemover(fdRelative, seen.dev);
  const root = Buffer.from(path);
  const fd = remover.openDir(root, seen);
  if (fd === undefined) return 'ECHANGED';
  try {
    if (!remover.empty({ fd, path: root, dev: seen.dev, ino: seen.ino })) return 'ENOTEMPTY';
  } finally {
    closeSync(fd);
  }
  try {
    rmdirSync(path);
    return undefined;
  } catch (e: unknown) {
    return errnoCode(e) ?? String(e);
  }
}

export interface RemoveTreeOptions {
  /** Nothing of the sandbox can be running (it never started): the tree changes under nobody's hands. */
  quiet?: boolean;
  /**
   * Whether the sandbox may write at `renamedTo` (see runDirWritable); when
   * absent, it is assumed it may. Matters without /proc (macOS): see removeTree.
   */
  sandboxMayWrite?: (renamedTo: string) => boolean;
  /** Use /proc/self/fd paths when they work (default); false forces path mode (tests). */
  fdRelative?: boolean;
}

/**
 * Remove the run directory `path` and everything in it, without ever
 * following a symbolic link, also against a process of the sandbox that is
 * still running: one that left the process group (setsid) outlives the run
 * and may keep swapping its directories for links to, say, ~ while they are
 * removed (rmSync's recursion follows such a swap: it reads and deletes
 * through the path again).
 *
 * 1. The run directory is renamed to a fresh sibling. The profile lets the
 *    sandbox write only in the private directories, by their paths under the
 *    run directory (sbpl.ts: `(allow ... file-write* (subpath SCRATCH_n))`),
 *    and under the policy's write paths. Seatbelt checks each operation
 *    against the path the file has at that moment (also an operation
 *    relative to a working directory or descriptor inside the tree), so
 *    after the rename a sibling that no WRITE rule covers is outside every
 *    rule that allows a write, and `(deny default)` refuses every further
 *    change of the tree by the sandbox. The run directory lives in
 *    realpath($TMPDIR), which no built-in profile makes writable;
 *    runDirWritable checks the plan's WRITE parameters. (Not run on a Mac by
 *    this project.)
 * 2. The tree is removed by a walk that opens each directory with
 *    O_NOFOLLOW|O_DIRECTORY, checks that the descriptor is the directory
 *    lstat saw (dev, ino) before descending, unlinks links and files as
 *    entries (unlink never follows the last component), and chmods only
 *    directories it has opened and checked. On Linux every operation goes
 *    through /proc/self/fd/N/<name>, relative to a checked descriptor, so
 *    even a tree that is still being changed is removed without following a
 *    link (the racing test runs this). macOS has no such paths and node no
 *    *at() calls: the walk joins paths and checks every directory on the way
 *    before each change, which narrows the window but cannot close it. It
 *    relies on step 1 having frozen the tree; when the sandbox may still
 *    write it (it could not be renamed, or the sibling is writable), the tree
 *    is left where it is rather than risk files outside it.
 *
 * Returns the error code when something stays.
 */
export function removeTree(path: string, options: RemoveTreeOptions = {}): string | undefined {
  const fdRelative = options.fdRelative ?? fdRelativePaths();
  const renamed = join(dirname(path), `isolate-removing-${process.pid}-${randomBytes(6).toString('hex')}`);
  let target = renamed;
  try {
    renameSync(path, renamed);
  } catch (e: unknown) {
    if (errnoCode(e) === 'ENOENT') return undefined;
    if (!fdRelative && options.quiet !== true) return errnoCode(e) ?? String(e);
    target = path;
  }
  const frozen = options.quiet === true || (target === renamed && options.sandboxMayWrite?.(renamed) === false);
  if (!fdRelative && !frozen) return 'ESANDBOXWRITABLE';
  try {
    return removeWalk(target, fdRelative);
  } catch (e: unknown) {
    return errnoCode(e) ?? String(e);
  }
}
