/**
 * Whether the sandbox could read a host file by itself (host/sandbox-reach.ts),
 * which decides whether isolate shows a copy of a git configuration it read:
 * only a certain "no" keeps the copy out. The files' owners and modes are
 * given as read; the directories are made in a temp dir and judged as root's
 * sandbox judges them (by their bits), owned by a user the test is not.
 */
import { chmodSync, chownSync, mkdirSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { sandboxMayRead } from '../../src/host/sandbox-reach.js';

const root = { uid: 0, groups: [0] };
const OTHER = 4242;
const file = (uid: number, gid: number, mode: number) => ({ uid, gid, mode: 0o100000 | mode });
let dir: string;
beforeEach(() => {
  dir = realpathSync(mkdtempSync(join(tmpdir(), 'isolate-sandbox-reach-')));
  chmodSync(dir, 0o711); // passable by all, as the directories above a project usually are
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('sandboxMayRead', () => {
  it('no for another user\'s file its class may not read (0600, 0640 outside its group, 0000); yes for its own, whatever its mode', () => {
    const path = join(dir, 'config');
    writeFileSync(path, '');
    const noList = { ...root, acl: () => 'user::rw-\ngroup::r--\nother::---\n' }; // getfacl's listing of a file with no extended list
    for (const mode of [0o600, 0o640, 0o000, 0o400]) expect(sandboxMayRead(path, file(OTHER, OTHER, mode), noList), mode.toString(8)).toBe(false);
    for (const mode of [0o600, 0o000]) expect(sandboxMayRead(path, file(0, 0, mode), root)).toBe(true);
  });

  it('yes where its class may read: others\', or the group\'s when it is in the group', () => {
    const path = join(dir, 'config');
    writeFileSync(path, '');
    expect(sandboxMayRead(path, file(OTHER, OTHER, 0o604), root)).toBe(true);
    expect(sandboxMayRead(path, file(OTHER, 0, 0o640), root)).toBe(true);
  });

  it('an access control list decides where the group bits (its mask) let someone read: yes when it opens the file, or cannot be read', () => {
    const path = join(dir, 'config');
    writeFileSync(path, '');
    const listing = (entry: string) => ({ ...root, acl: () => `user::rw-\n${entry}\ngroup::---\nmask::r--\nother::---\n` });
    expect(sandboxMayRead(path, file(OTHER, OTHER, 0o640), listing('user:0:r--'))).toBe(true);
    expect(sandboxMayRead(path, file(OTHER, OTHER, 0o640), listing('user:1:r--'))).toBe(false);
    expect(sandboxMayRead(path, file(OTHER, OTHER, 0o640), { ...root, acl: () => undefined })).toBe(true);
    // No mask with r: no entry can open it, and no list is read.
    expect(sandboxMayRead(path, file(OTHER, OTHER, 0o600), { ...root, acl: () => { throw new Error('not asked'); } })).toBe(false);
  });

  it('no behind a directory of another user\'s that the sandbox cannot pass; yes once its others may', () => {
    const gate = join(dir, 'gate');
    mkdirSync(gate);
    const path = join(gate, 'config');
    writeFileSync(path, '');
    if (process.getuid?.() === 0) chownSync(gate, OTHER, OTHER); // else the test's own uid is not root's
    chmodSync(gate, 0o700);
    expect(sandboxMayRead(path, file(0, 0, 0o644), root)).toBe(false);
    chmodSync(gate, 0o701);
    expect(sandboxMayRead(path, file(0, 0, 0o644), root)).toBe(true);
  });
});
