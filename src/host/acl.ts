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

/** The sandbox's user as the kernel checks it: its uid and groups, and how to read an access control list. */
export interface SandboxUser {
  uid: number;
  groups: readonly number[];
  /** A path's access control list as getfacl lists it (aclListing); undefined when it cannot be told. */
  acl?: (path: string) => string | undefined;
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
export function aclGrants(listing: string, owner: { uid: number; gid: number }, who: SandboxUser, bit: number): boolean | undefined {
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

/** The path's access control list as getfacl lists it (numeric); undefined without getfacl or when it lists nothing. */
export function aclListing(path: string, getfacl: string | undefined): string | undefined {
  if (getfacl === undefined) return undefined;
  const listing = probeSync(getfacl, ['--numeric', '--omit-header', '--absolute-names', '--', path], 5000).stdout;
  return listing === '' ? undefined : listing;
}
