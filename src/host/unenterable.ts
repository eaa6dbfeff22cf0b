/**
 * Host facts: the directories the sandbox cannot enter on the way to the
 * working directory and to each path the profile shows. The launcher sets
 * the sandbox up in a user namespace and the command runs without
 * capabilities, so neither has any over the host's files: even root gets
 * only the owner, group or other permission bits (scan-walk.ts,
 * sandboxMayEnter; an ordinary user's own access check, which reads access
 * control lists too). A project in another user's 0700 directory, run by root,
 * can be neither mounted nor used. plan() refuses such a run and names the
 * directory (backends/enterable.ts); the launcher would fail on it with a
 * message about a descriptor.
 */
import { lstatSync, type Stats } from 'node:fs';
import { mayExecute } from './access-x.js';
import type { UnenterableFact } from '../backends/types.js';
import { sandboxCanEnter, sandboxMayEnter } from './scan-walk.js';
import { aclGrants, type SandboxUser } from './acl.js';

type Self = SandboxUser;

/** `/a/b` -> `/`, `/a`, `/a/b`. */
function waysTo(path: string): string[] {
  const parts = path.split('/').filter((p) => p !== '');
  return ['/', ...parts.map((_p, i) => `/${parts.slice(0, i + 1).join('/')}`)];
}

/**
 * Whether the sandbox can enter the directory. An ordinary user's access(2) is the sandbox's own check, access
 * control lists included (a project shared by `setfacl -m u:me:x`); root's passes everything (its capabilities,
 * which the sandbox has not), so for root the permission bits decide, and where they say no, an access control
 * list that lets root in (`setfacl -m u:root:x`): only a list whose mask (the group bits) has the x bit can.
 * undefined: such a list may be there, and cannot be read (no getfacl).
 */
export function sandboxEnters(dir: string, st: Stats, self: Self): boolean | undefined {
  if (self.uid !== 0) return mayExecute(dir); // an ordinary user's own access check, ACLs included
  if (sandboxCanEnter(st.mode, st.uid, st.gid, self)) return true;
  if (!sandboxMayEnter(dir, st, self)) return false; // no access control list could let root in
  const listing = self.acl?.(dir);
  return listing === undefined ? undefined : aclGrants(listing, st, self, 1) === true;
}


/** The directory as a fact when the sandbox cannot enter it; null when it can, or it is not a directory there. */
function blocked(dir: string, self: Self): UnenterableFact | null {
  try {
    const st = lstatSync(dir, { throwIfNoEntry: false });
    if (st === undefined || !st.isDirectory() || sandboxEnters(dir, st, self) === true) return null;
    return { path: dir, uid: st.uid, mode: st.mode & 0o7777 };
  } catch {
    return null;
  }
}

/** For each of `paths` (absolute, real), the first directory on the way to it, itself included, that the sandbox cannot enter. */
export function unenterableDirs(paths: readonly string[], self: Self): UnenterableFact[] {
  const known = new Map<string, UnenterableFact | null>();
  const found = new Map<string, UnenterableFact>();
  for (const path of paths) {
    for (const dir of waysTo(path)) {
      let fact = known.get(dir);
      if (fact === undefined) known.set(dir, (fact = blocked(dir, self)));
      if (fact === null) continue;
      found.set(dir, fact);
      break;
    }
  }
  return [...found.values()];
}
