/**
 * Whether the sandbox could read a host file by itself (host/sandbox-reach.ts),
 * which decides whether isolate shows a copy of a git configuration it read:
 * only a certain "no" keeps the copy out. Modes are set on temp dirs only; the
 * owners are the test's own user and uid 4242 (a user the test is not), told
 * apart by the uid passed, so no file changes hands.
 */
import { chmodSync, mkdirSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { sandboxMayRead } from '../../src/host/sandbox-reach.js';

const me = process.getuid?.() ?? 0;
const other = me + 4242;
let dir: string;
beforeEach(() => {
  dir = realpathSync(mkdtempSync(join(tmpdir(), 'isolate-sandbox-reach-')));
});
afterEach(() => {
  chmodSync(dir, 0o700);
  rmSync(dir, { recursive: true, force: true });
});

describe('sandboxMayRead', () => {
  it('no for another user\'s file that neither its group nor others may read (0600, 0700, 0000); yes for the user\'s own, whatever its mode', () => {
    const file = join(dir, 'config');
    writeFileSync(file, '');
    for (const mode of [0o600, 0o700, 0o000, 0o400]) expect(sandboxMayRead(file, { uid: other, mode: 0o100000 | mode }, me), mode.toString(8)).toBe(false);
    for (const mode of [0o600, 0o000]) expect(sandboxMayRead(file, { uid: me, mode: 0o100000 | mode }, me)).toBe(true);
  });

  it('yes where the group or others may read: the group bits are the ceiling of any access control list entry', () => {
    const file = join(dir, 'config');
    writeFileSync(file, '');
    for (const mode of [0o640, 0o604, 0o644]) expect(sandboxMayRead(file, { uid: other, mode: 0o100000 | mode }, me), mode.toString(8)).toBe(true);
  });

  it('no behind a directory of another user\'s that neither its group nor others may pass; a directory of the user\'s own does not count', () => {
    chmodSync(dir, 0o711); // the temp dir itself passable by all, as /tmp's directories usually are
    mkdirSync(join(dir, 'git'));
    const file = join(dir, 'git', 'config');
    writeFileSync(file, '');
    chmodSync(join(dir, 'git'), 0o700);
    // The directory is the test's own: passable by chmod.
    expect(sandboxMayRead(file, { uid: other, mode: 0o100644 }, me)).toBe(true);
    // Seen as another user's (the uid passed is not its owner's): closed.
    expect(sandboxMayRead(file, { uid: other, mode: 0o100644 }, other)).toBe(false);
    chmodSync(join(dir, 'git'), 0o710);
    expect(sandboxMayRead(file, { uid: other, mode: 0o100644 }, other)).toBe(true);
  });
});
