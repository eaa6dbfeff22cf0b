/**
 * Host facts: whether the sandbox could read a host file by itself. isolate
 * reads some files to show the sandbox a copy of them (a git configuration
 * without its tokens: git-scrub.ts); run by root, it reads with root's
 * capabilities, which the sandbox has not (it gets the permission bits and
 * the access control lists, as unenterable.ts says). A copy of a file the
 * sandbox could not read would be what makes it readable: another user's
 * 0600 `.git/config` would be shown, and one behind another user's 0700
 * directory would stop the run (the launcher cannot reach the copy's place).
 *
 * Only a certain "no" counts, so that a file the sandbox may read is never
 * left as it is, secrets and all: the file is another user's, its class of
 * the permission bits (group or others) does not let the sandbox read it,
 * and no access control list does (or the group bits, every list entry's
 * ceiling, let no one read); or a directory on the way certainly keeps the
 * sandbox out. A file the sandbox owns it could open by chmod.
 */
import { lstatSync } from 'node:fs';
import { dirname } from 'node:path';
import { aclGrants, type SandboxUser } from './acl.js';
import { sandboxEnters } from './unenterable.js';

/** A file's owner, group and permission bits. */
export interface FileAccess {
  uid: number;
  gid: number;
  mode: number;
}

/** Whether the file itself may be open to the sandbox's user (false: certainly not). */
function fileMayBeRead(path: string, file: FileAccess, user: SandboxUser): boolean {
  if (file.uid === user.uid) return true;
  const bits = user.groups.includes(file.gid) ? file.mode >> 3 : file.mode;
  if ((bits & 0o4) !== 0) return true;
  if ((file.mode & 0o040) === 0) return false;
  const listing = user.acl?.(path);
  return listing === undefined || aclGrants(listing, file, user, 4) === true;
}

/** Whether each directory on the way to `path` may let the sandbox pass (false: one certainly does not). */
function wayMayBeOpen(path: string, user: SandboxUser): boolean {
  for (let dir = dirname(path); ; dir = dirname(dir)) {
    const st = lstatSync(dir, { throwIfNoEntry: false });
    if (st !== undefined && st.isDirectory() && sandboxEnters(dir, st, user) === false) return false;
    if (dir === '/' || dir === '.') return true;
  }
}

/**
 * Whether a sandbox of `user` might read the file at `path` (its real path), whose owner, group and mode were those
 * of the very file read: false only when it certainly could not (see the module's comment).
 */
export function sandboxMayRead(path: string, file: FileAccess, user: SandboxUser): boolean {
  try {
    return fileMayBeRead(path, file, user) && wayMayBeOpen(path, user);
  } catch {
    return true; // a directory that cannot be looked at: the copy is shown, as before
  }
}
