/**
 * Host facts: whether the sandbox could read a host file by itself. isolate
 * reads some files to show the sandbox a copy of them (a git configuration
 * without its tokens: git-scrub.ts); run by root, it reads with root's
 * capabilities, which the sandbox has not (it gets only the permission bits,
 * as unenterable.ts says). A copy of a file the sandbox could not read would
 * be what makes it readable: another user's 0600 `.git/config` would be
 * shown, and one behind another user's 0700 directory would stop the run
 * (the launcher cannot reach the copy's place).
 *
 * Only a certain "no" counts, so that a file the sandbox may read is never
 * left as it is, secrets and all: the file is another user's and neither its
 * group nor others may read it, or a directory on the way is another user's
 * and lets neither its group nor others pass. The group bits are the
 * ceiling of every access control list entry but the owner's, so no entry
 * can open such a file; a file the sandbox owns it could open by chmod.
 */
import { lstatSync } from 'node:fs';
import { dirname } from 'node:path';

/** A file's owner and permission bits. */
export interface FileAccess {
  uid: number;
  mode: number;
}

/** Neither the owner's group nor others (nor any access control list entry) may read. */
const READ_BY_GROUP_OR_OTHERS = 0o044;
/** Neither the owner's group nor others (nor any access control list entry) may pass. */
const SEARCH_BY_GROUP_OR_OTHERS = 0o011;

/** Whether the entry is another user's than `uid` and certainly grants `uid` none of `bits`. */
function closedTo(entry: FileAccess, uid: number, bits: number): boolean {
  return entry.uid !== uid && (entry.mode & bits) === 0;
}

/** Each directory above `path` (real, absolute), nearest first, to `/`. */
function dirsAbove(path: string): string[] {
  const dirs: string[] = [];
  for (let dir = dirname(path); ; dir = dirname(dir)) {
    dirs.push(dir);
    if (dir === '/' || dir === '.') return dirs;
  }
}

/** A directory on the way that the sandbox certainly cannot pass; undefined when there is none (or it cannot be told). */
function closedDirAbove(path: string, uid: number): string | undefined {
  return dirsAbove(path).find((dir) => {
    const st = lstatSync(dir, { throwIfNoEntry: false });
    return st !== undefined && st.isDirectory() && closedTo(st, uid, SEARCH_BY_GROUP_OR_OTHERS);
  });
}

/**
 * Whether a sandbox of the user `uid` might read the file at `path` (its real path), whose owner and mode were those
 * of the very file read: false only when it certainly could not (see the module's comment).
 */
export function sandboxMayRead(path: string, file: FileAccess, uid: number): boolean {
  if (closedTo(file, uid, READ_BY_GROUP_OR_OTHERS)) return false;
  try {
    return closedDirAbove(path, uid) === undefined;
  } catch {
    return true; // a directory that cannot be looked at: the copy is shown, as before
  }
}
