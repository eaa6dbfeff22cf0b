/**
 * What an access control list grants a user without capabilities (host/acl.ts),
 * as the kernel decides it: from getfacl's numeric listings, written here.
 */
import { describe, expect, it } from 'vitest';
import { aclGrants } from '../../src/host/acl.js';

const owner = { uid: 1000, gid: 1000 };
const root = { uid: 0, groups: [0] };
const listing = (...entries: string[]): string => `${entries.join('\n')}\n\n`;

describe('aclGrants', () => {
  it('a named entry for the user, within the mask, decides (getfacl\'s #effective note is only a note)', () => {
    expect(aclGrants(listing('user::rwx', 'user:0:--x', 'group::---', 'mask::--x', 'other::---'), owner, root, 1)).toBe(true);
    expect(aclGrants(listing('user::rwx', 'user:0:--x\t#effective:---', 'group::---', 'mask::r--', 'other::---'), owner, root, 1)).toBe(false);
    // A named entry that denies is final: the groups are not asked.
    expect(aclGrants(listing('user::rwx', 'user:0:---', 'group::--x', 'mask::--x', 'other::--x'), { uid: 1000, gid: 0 }, root, 1)).toBe(false);
  });

  it('the user\'s groups next: the owning group\'s entry and named ones, any of them, within the mask; else others', () => {
    expect(aclGrants(listing('user::rwx', 'group::---', 'group:0:r-x', 'mask::r-x', 'other::---'), owner, root, 1)).toBe(true);
    expect(aclGrants(listing('user::rwx', 'group::---', 'group:5:r-x', 'mask::r-x', 'other::---'), owner, root, 1)).toBe(false);
    expect(aclGrants(listing('user::rwx', 'group::---', 'group:5:r-x', 'mask::r-x', 'other::--x'), owner, root, 1)).toBe(true);
  });

  it('no extended list (no mask): undefined, the permission bits say it all; the owner by the owner\'s entry', () => {
    expect(aclGrants(listing('user::rwx', 'group::---', 'other::---'), owner, root, 1)).toBeUndefined();
    expect(aclGrants('', owner, root, 1)).toBeUndefined();
    expect(aclGrants(listing('user::rw-', 'user:0:--x', 'group::---', 'mask::--x', 'other::---'), { uid: 0, gid: 0 }, root, 1)).toBe(false);
  });
});
