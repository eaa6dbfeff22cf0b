/**
 * Host facts: what a POSIX access control list grants a user who has no
 * capabilities, as the kernel decides it (acl(5), "ACCESS CHECK
 * ALGORITHM"): the owner by the owner's entry; a user with an entry of their
 * own by it; else a user of the owning group or of a group with an entry by
 * those entries; else others. Every entry but the owner's and others' is
 * limited by the mask. Read from getfacl's numeric listing, and looked at
 * only where the permission bits alone would keep root's sandbox out
 * (unenterable.ts): an ordinary user's access(2) reads the list itself.
 */
import { probeSync } from '../process.js';

export interface AclUser {
  uid: number;
  groups: readonly number[];
}

interface Entry {
  tag: string;
  id: string;
  perm: number;
}

/** `rwx`, `r-x`, ... as bits (4, 2, 1). */
const permBits = (perm: string): number => (perm[0] === 'r' ? 4 : 0) | (perm[1] === 'w' ? 2 : 0) | (perm[2] === 'x' ? 1 : 0);

/** The entries of getfacl's numeric listing (`user:1000:r-x`, `mask::rwx`; comments and `#effective` notes left out). */
export function aclEntries(listing: string): Entry[] {
  return listing.split('\n').flatMap((line) => {
    const m = /^(user|group|mask|other):([^:]*):([r-][w-][x-])/.exec(line);
    return m === null ? [] : [{ tag: m[1] as string, id: m[2] as string, perm: permBits(m[3] as string) }];
  });
}

/**
 * Whether the list grants `who` the permission `bit` (4 read, 2 write, 1 search) on an entry owned by `owner`;
 * undefined when the listing is no extended list (no mask: the permission bits say it all).
 */
export function aclGrants(listing: string, owner: { uid: number; gid: number }, who: AclUser, bit: number): boolean | undefined {
  const entries = aclEntries(listing);
  const mask = entries.find((e) => e.tag === 'mask');
  if (mask === undefined) return undefined;
  const has = (e: Entry | undefined, masked: boolean): boolean => e !== undefined && (e.perm & (masked ? mask.perm : 7) & bit) !== 0;
  if (who.uid === owner.uid) return has(entries.find((e) => e.tag === 'user' && e.id === ''), false);
  const named = entries.find((e) => e.tag === 'user' && e.id === String(who.uid));
  if (named !== undefined) return has(named, true);
  const groups = entries.filter((e) => e.tag === 'group' && (e.id === '' ? who.groups.includes(owner.gid) : who.groups.includes(Number(e.id))));
  if (groups.length > 0) return groups.some((e) => has(e, true));
  return has(entries.find((e) => e.tag === 'other'), false);
}

/** The directory's access control list as getfacl lists it (numeric); undefined without getfacl, empty when it fails. */
export function aclListing(path: string, getfacl: string | undefined): string | undefined {
  if (getfacl === undefined) return undefined;
  return probeSync(getfacl, ['--numeric', '--omit-header', '--absolute-names', '--', path], 5000).stdout;
}
