/**
 * isolate's private runtime directory (proxy sockets, the placeholder
 * registry): where it is, that it is made 0700, and that one another user
 * owns, one open to others, or a symlink is refused (exit 125, with a fix).
 */
import { chmodSync, chownSync, lstatSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ensurePrivateDir, ensureRuntimeDir, prepareRuntimeDir, runtimeDir } from '../../src/host/runtime-dir.js';
import { checkOwnPath, hiddenOwnDirs, isolateRuntimeDirs } from '../../src/profile/own-paths.js';
import { expectIsolateError } from './expect-error.js';

const root = process.getuid?.() === 0;
let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'isolate-unit-runtime-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('where isolate\'s runtime directory is', () => {
  it('$XDG_RUNTIME_DIR/isolate when that is a directory of this user\'s, else `run` in the state directory; never the temp directory', () => {
    expect(runtimeDir({ XDG_RUNTIME_DIR: dir, HOME: '/h' })).toBe(join(dir, 'isolate'));
    expect(runtimeDir({ HOME: '/h' })).toBe('/h/.local/state/isolate/run');
    expect(runtimeDir({ HOME: '/h', XDG_STATE_HOME: '/s' })).toBe('/s/isolate/run');
    expect(runtimeDir({ XDG_RUNTIME_DIR: join(dir, 'missing'), HOME: '/h' })).toBe('/h/.local/state/isolate/run');
    expect(runtimeDir({ XDG_RUNTIME_DIR: 'relative', HOME: '/h' })).toBe('/h/.local/state/isolate/run');
    symlinkSync(dir, join(dir, 'link'));
    expect(runtimeDir({ XDG_RUNTIME_DIR: join(dir, 'link'), HOME: '/h' }), 'a symlink').toBe('/h/.local/state/isolate/run');
  });

  if (!root) console.warn("runtime-dir: skipping the other user's XDG_RUNTIME_DIR check: only root can give a directory to another user");
  it.runIf(root)('not in an $XDG_RUNTIME_DIR of another user (kept by sudo -E)', () => {
    chownSync(dir, 65534, 65534);
    expect(runtimeDir({ XDG_RUNTIME_DIR: dir, HOME: '/h' })).toBe('/h/.local/state/isolate/run');
  });

  it('every sandbox hides it: under $XDG_RUNTIME_DIR and under /run/user/<uid>, and refuses a rule that shows it', () => {
    expect(isolateRuntimeDirs({ XDG_RUNTIME_DIR: '/x' }, 1000)).toEqual(['/x/isolate', '/run/user/1000/isolate']);
    expect(isolateRuntimeDirs({ XDG_RUNTIME_DIR: 'x' }, 1000)).toEqual(['/run/user/1000/isolate']);
    const env = { HOME: '/h', XDG_RUNTIME_DIR: '/x' };
    expect(hiddenOwnDirs(env)).toEqual(expect.arrayContaining(['/h/.local/state/isolate', '/x/isolate']));
    expectIsolateError(() => checkOwnPath('read', '/x/isolate/net-1', 'r[0]', '/x/isolate/net-1', env), 'E_PATH_INVALID');
    expectIsolateError(() => checkOwnPath('read', '/x/isolate', 'r[0]', '/x/isolate', env), 'E_PATH_INVALID');
    expect(() => checkOwnPath('read', '/x', 'r[0]', '/x', env)).not.toThrow();
  });
});

describe('ensurePrivateDir', () => {
  it('makes the directory and its missing parents mode 0700, and accepts it as it is the next time', () => {
    const path = join(dir, 'state', 'isolate', 'run');
    expect(ensurePrivateDir(path)).toBe(path);
    expect(lstatSync(path).mode & 0o777).toBe(0o700);
    expect(ensurePrivateDir(path)).toBe(path);
    expect(ensureRuntimeDir({ XDG_RUNTIME_DIR: dir })).toBe(join(dir, 'isolate'));
  });

  it('refuses one open to the group or others, a symlink to a private directory, and a file (125, with a fix)', () => {
    const open = join(dir, 'open');
    mkdirSync(open);
    chmodSync(open, 0o750);
    const e = expectIsolateError(() => ensurePrivateDir(open), 'E_IO');
    expect(e.exitCode).toBe(125);
    expect(e.message).toContain('mode 0750');
    expect(e.fix).toContain(`remove ${open}`);
    const real = join(dir, 'real');
    mkdirSync(real, { mode: 0o700 });
    symlinkSync(real, join(dir, 'link'));
    expect(expectIsolateError(() => ensurePrivateDir(join(dir, 'link')), 'E_IO').message).toContain('symlink');
    writeFileSync(join(dir, 'file'), '');
    expectIsolateError(() => ensurePrivateDir(join(dir, 'file')), 'E_IO');
  });

  it.runIf(root)('refuses one another user owns', () => {
    const theirs = join(dir, 'theirs');
    mkdirSync(theirs, { mode: 0o700 });
    chownSync(theirs, 65534, 65534);
    expect(expectIsolateError(() => ensurePrivateDir(theirs), 'E_IO').message).toContain('belongs to uid 65534');
  });

  it('prepareRuntimeDir makes a missing one and never throws (a run that uses it checks it)', () => {
    prepareRuntimeDir({ XDG_RUNTIME_DIR: dir });
    expect(lstatSync(join(dir, 'isolate')).mode & 0o777).toBe(0o700);
    chmodSync(join(dir, 'isolate'), 0o755);
    expect(() => prepareRuntimeDir({ XDG_RUNTIME_DIR: dir })).not.toThrow();
    writeFileSync(join(dir, 'file'), '');
    expect(() => prepareRuntimeDir({ HOME: join(dir, 'file') }), 'a state directory that cannot be made').not.toThrow();
  });
});
