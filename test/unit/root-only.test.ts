/**
 * What a run by root could read under a read-only path only as the owner:
 * the mode rule, which directories are searched, and the search on a real
 * tree with its cache (as the caller's own user, which the rule takes as a
 * parameter).
 */
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MAX_ROOT_ONLY, onlyOwnerReaches, ownPath, readOnlyRoots, rootOnlyEntries } from '../../src/host/root-only.js';
import type { MountRule, Policy } from '../../src/profile/types.js';

const self = { uid: 0, groups: [0] };
const entry = (mode: number, uid: number, gid: number, kind: 'dir' | 'file' | 'socket') => ({ mode, uid, gid, isDirectory: () => kind === 'dir', isFile: () => kind === 'file' });

describe('onlyOwnerReaches', () => {
  it('a file only its owner or group may read', () => {
    expect(onlyOwnerReaches(entry(0o600, 0, 0, 'file'), self)).toBe(true);
    expect(onlyOwnerReaches(entry(0o640, 7, 0, 'file'), self)).toBe(true); // root's group
    expect(onlyOwnerReaches(entry(0o644, 0, 0, 'file'), self)).toBe(false);
    expect(onlyOwnerReaches(entry(0o700, 7, 0, 'file'), self)).toBe(false); // another owner, no group bits: unreadable anyway
    expect(onlyOwnerReaches(entry(0o600, 7, 7, 'file'), self)).toBe(false);
  });
  it('a directory only its owner may enter, a socket only its owner may write', () => {
    expect(onlyOwnerReaches(entry(0o700, 0, 0, 'dir'), self)).toBe(true);
    expect(onlyOwnerReaches(entry(0o754, 0, 0, 'dir'), self)).toBe(true);
    expect(onlyOwnerReaches(entry(0o755, 0, 0, 'dir'), self)).toBe(false);
    expect(onlyOwnerReaches(entry(0o711, 0, 0, 'dir'), self)).toBe(false);
    expect(onlyOwnerReaches(entry(0o660, 0, 0, 'socket'), self)).toBe(true);
    expect(onlyOwnerReaches(entry(0o666, 0, 0, 'socket'), self)).toBe(false);
  });
});

const rule = (kind: MountRule['kind'], path: string, type: MountRule['type'] = 'dir'): MountRule => ({ kind, path, requested: path, type });

describe('readOnlyRoots', () => {
  it('each read-only directory but the working directory, outermost only', () => {
    const rules = [rule('read', '/usr'), rule('read', '/usr/local'), rule('read', '/etc'), rule('read', '/work/p'), rule('write', '/opt'), rule('read', '/etc/hosts', 'file')];
    expect(readOnlyRoots(rules, ownPath('/work/p', undefined))).toEqual(['/etc', '/usr/local']);
  });
  it('leaves /usr to its packages but searches /usr/local, also below / and in place of a rule inside it', () => {
    expect(readOnlyRoots([rule('read', '/')], ownPath('/work/p', undefined))).toEqual(['/', '/usr/local']);
    expect(readOnlyRoots([rule('read', '/usr'), rule('read', '/usr/share'), rule('read', '/usr/local/etc')], ownPath('/work/p', undefined))).toEqual(['/usr/local']);
    expect(readOnlyRoots([rule('read', '/usr'), rule('deny', '/usr/local')], ownPath('/work/p', undefined))).toEqual([]);
  });
  it('nothing of the home directory is searched', () => {
    expect(readOnlyRoots([rule('read', '/root'), rule('read', '/root/.config/x'), rule('read', '/etc')], ownPath('/work/p', '/root'))).toEqual(['/etc']);
  });
  it('a working directory or home at / leaves the system directories searched', () => {
    expect(readOnlyRoots([rule('read', '/'), rule('read', '/etc')], ownPath('/', '/'))).toEqual(['/etc']);
  });
});

describe('rootOnlyEntries on a real tree', () => {
  let base: string;
  beforeEach(() => {
    base = mkdtempSync(join(tmpdir(), 'isolate-it-rootonly-'));
  });
  afterEach(() => rmSync(base, { recursive: true, force: true }));

  const me = { uid: process.getuid?.() ?? 0, groups: [] as number[] };
  const policy = (cwd: string, ...rules: MountRule[]): Policy => ({ filesystem: { mounts: rules }, process: { cwd } }) as unknown as Policy;
  // A clock far ahead: every directory counts as settled, so listings are kept and reused.
  const later = () => ({ bootId: 'b', wallMs: Date.now() + 3_600_000, offsetMs: 0 });

  it('finds root-only files and directories, skips the project and paths of other rules, and sees a new one through the cache', () => {
    const sys = join(base, 'sys');
    mkdirSync(join(sys, 'a/b/private'), { recursive: true });
    mkdirSync(join(sys, 'project'));
    mkdirSync(join(sys, 'rw'));
    chmodSync(join(sys, 'a/b/private'), 0o700);
    writeFileSync(join(sys, 'a/key'), 'k', { mode: 0o600 });
    writeFileSync(join(sys, 'a/b/public'), 'p', { mode: 0o644 });
    writeFileSync(join(sys, 'project/own.key'), 'o', { mode: 0o600 });
    writeFileSync(join(sys, 'rw/state'), 's', { mode: 0o600 });
    const cacheDir = join(base, 'cache');
    const p = policy(join(sys, 'project'), rule('read', sys), rule('read', join(sys, 'project')), rule('write', join(sys, 'rw')));
    const find = () => rootOnlyEntries(p, { ...me, cacheDir, clock: later }).sort((x, y) => x.path.localeCompare(y.path));
    const first = find();
    expect(first).toEqual([
      { path: join(sys, 'a/b/private'), dir: true },
      { path: join(sys, 'a/key'), dir: false },
    ]);
    expect(find()).toEqual(first); // from the cache
    writeFileSync(join(sys, 'a/b/new.key'), 'n', { mode: 0o600 });
    expect(find().map((f) => f.path)).toContain(join(sys, 'a/b/new.key'));
  });

  it('refuses the run (E_SANDBOX_SETUP) rather than hide more entries than a sandbox can mount', () => {
    const many = join(base, 'many');
    mkdirSync(many);
    for (let i = 0; i <= MAX_ROOT_ONLY; i++) writeFileSync(join(many, `k${i}`), '', { mode: 0o600 });
    expect(() => rootOnlyEntries(policy(join(base, 'elsewhere'), rule('read', many)), { ...me, cacheDir: undefined })).toThrow(
      expect.objectContaining({ code: 'E_SANDBOX_SETUP', message: expect.stringContaining(`hide ${MAX_ROOT_ONLY + 1} entries`) as string }),
    );
  });

  it("does not search the kernel's file systems (sysfs has thousands of root-only attributes)", () => {
    if (process.platform !== 'linux' || me.uid !== 0) {
      console.warn('root-only search of /sys skipped: only root owns its root-only attributes (run the tests as root)');
      return;
    }
    expect(rootOnlyEntries(policy(base, rule('read', '/sys'), rule('read', '/proc')), { ...me, cacheDir: undefined })).toEqual([]);
  });
});
