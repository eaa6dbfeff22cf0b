import { chmodSync, closeSync, existsSync, fstatSync, mkdirSync, mkdtempSync, readdirSync, readlinkSync, realpathSync, rmSync, rmdirSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { IsolateError } from '../../src/errors.js';
import { closePathFds, openPathFds } from '../../src/run/launch/path-fds.js';

describe('openPathFds: the paths bwrap binds by descriptor', () => {
  let dir: string;
  beforeEach(() => {
    dir = realpathSync(mkdtempSync(join(tmpdir(), 'isolate-pathfd-')));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('opens each path that is still what the plan saw', () => {
    mkdirSync(join(dir, 'a', '.git'), { recursive: true });
    const fds = openPathFds([{ fd: 6, path: join(dir, 'a', '.git') }]);
    expect([...fds.keys()]).toEqual([6]);
    for (const h of fds.values()) closeSync(h);
  });

  it('refuses a path that became a symlink (a swap between the search and the mount)', () => {
    mkdirSync(join(dir, 'elsewhere'));
    symlinkSync(join(dir, 'elsewhere'), join(dir, '.git'));
    expect(() => openPathFds([{ fd: 6, path: join(dir, '.git') }])).toThrow(IsolateError);
  });

  it('refuses a path reached through a directory that became a symlink', () => {
    mkdirSync(join(dir, 'real', '.git'), { recursive: true });
    symlinkSync(join(dir, 'real'), join(dir, 'sub'));
    let err: unknown;
    try {
      openPathFds([{ fd: 6, path: join(dir, 'sub', '.git') }]);
    } catch (e: unknown) {
      err = e;
    }
    expect(err).toBeInstanceOf(IsolateError);
    expect((err as IsolateError).code).toBe('E_SANDBOX_SETUP');
  });

  it('a placeholder whose directory became a symlink is refused, and nothing is made where the link leads', () => {
    mkdirSync(join(dir, 'elsewhere'));
    symlinkSync(join(dir, 'elsewhere'), join(dir, 'project'));
    const before = readdirSync('/proc/self/fd').length;
    expect(() => openPathFds([{ fd: 6, path: join(dir, 'project', '.git'), create: true }])).toThrow(/reached through a symbolic link/);
    expect(readdirSync(join(dir, 'elsewhere'))).toEqual([]);
    expect(readdirSync('/proc/self/fd').length).toBe(before);
  });

  it('a placeholder is made in its directory when no link is on the way', () => {
    mkdirSync(join(dir, 'project'));
    const fds = openPathFds([{ fd: 6, path: join(dir, 'project', '.git'), create: true }]);
    expect(statSync(join(dir, 'project', '.git')).isFile()).toBe(true);
    closePathFds(fds);
  });

  it('a directory placeholder is an empty directory of mode 0555; an empty one already there is used; one with something in it is refused', () => {
    mkdirSync(join(dir, 'project'));
    const git = join(dir, 'project', '.git');
    const fds = openPathFds([{ fd: 6, path: git, create: true, dir: true }]);
    const st = statSync(git);
    expect(st.isDirectory()).toBe(true);
    expect(st.mode & 0o777).toBe(0o555);
    expect(readdirSync(git)).toEqual([]);
    closePathFds(fds);
    // Another run's, made meanwhile: used as it is.
    closePathFds(openPathFds([{ fd: 6, path: git, create: true, dir: true }]));
    rmdirSync(git);
    mkdirSync(join(git, 'hooks'), { recursive: true });
    const before = readdirSync('/proc/self/fd').length;
    expect(() => openPathFds([{ fd: 6, path: git, create: true, dir: true }])).toThrow(/is not an empty directory of this user/);
    expect(readdirSync('/proc/self/fd').length).toBe(before);
  });

  it('a directory placeholder whose name is a link now is refused, and nothing is made where the link leads', () => {
    mkdirSync(join(dir, 'project'));
    mkdirSync(join(dir, 'elsewhere'));
    symlinkSync(join(dir, 'elsewhere'), join(dir, 'project', '.git'));
    expect(() => openPathFds([{ fd: 6, path: join(dir, 'project', '.git'), create: true, dir: true }])).toThrow(IsolateError);
    expect(readdirSync(join(dir, 'elsewhere'))).toEqual([]);
  });

  it('closes every descriptor it opened when it refuses one, the refused one included', () => {
    mkdirSync(join(dir, 'real', '.git'), { recursive: true });
    mkdirSync(join(dir, 'a', '.git'), { recursive: true });
    symlinkSync(join(dir, 'real'), join(dir, 'sub'));
    const before = readdirSync('/proc/self/fd').length;
    expect(() => openPathFds([{ fd: 6, path: join(dir, 'a', '.git') }, { fd: 7, path: join(dir, 'sub', '.git') }])).toThrow(IsolateError);
    expect(readdirSync('/proc/self/fd').length).toBe(before);
  });

  it('refuses a path that disappeared', () => {
    expect(() => openPathFds([{ fd: 6, path: join(dir, 'gone') }])).toThrow(IsolateError);
  });
});

describe('openPathFds: the entries of a sealed directory', () => {
  let dir: string;
  let standIns: string;
  beforeEach(() => {
    dir = realpathSync(mkdtempSync(join(tmpdir(), 'isolate-pathfd-')));
    standIns = join(dir, 'run', 'stand-ins');
    mkdirSync(join(dir, 'home', '.ssh'), { recursive: true });
    writeFileSync(join(dir, 'home', '.ssh', 'id_ed25519'), 'KEY');
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  /** What descriptor `fd` of `opened` names, and whether it is empty. */
  const named = (opened: Map<number, number>, fd: number): string => readlinkSync(`/proc/self/fd/${opened.get(fd) ?? -1}`);
  const open = (path: string, seal: 'file' | 'dir' | 'other', forced?: ReadonlySet<string>): Map<number, number> =>
    openPathFds([{ fd: 6, path, readOnly: true, seal }], undefined, { dir: standIns, ...(forced === undefined ? {} : { forced }) });

  it('one still as listed is opened at its path', () => {
    writeFileSync(join(dir, 'home', '.bashrc'), 'rc');
    const fds = open(join(dir, 'home', '.bashrc'), 'file');
    expect(named(fds, 6)).toBe(join(dir, 'home', '.bashrc'));
    closePathFds(fds);
    expect(existsSync(standIns), 'no stand-in made when none is needed').toBe(false);
  });

  it.each([
    ['a link to a hidden file', 'file', () => symlinkSync(join(dir, 'home', '.ssh', 'id_ed25519'), join(dir, 'home', 'entry'))],
    ['a link to a hidden directory', 'dir', () => symlinkSync(join(dir, 'home', '.ssh'), join(dir, 'home', 'entry'))],
    ['gone', 'file', (): void => undefined],
    ['a directory where a file was listed', 'file', () => mkdirSync(join(dir, 'home', 'entry'))],
    ['a file where a directory was listed', 'dir', () => writeFileSync(join(dir, 'home', 'entry'), 'x')],
  ] as const)('one that is now %s is its empty stand-in of the listed type, never what a link leads to', (_, type, make) => {
    make();
    const fds = open(join(dir, 'home', 'entry'), type);
    const standIn = join(standIns, type === 'dir' ? 'dir' : 'file');
    expect(named(fds, 6)).toBe(standIn);
    const st = fstatSync(fds.get(6) ?? -1);
    expect(type === 'dir' ? st.isDirectory() && readdirSync(standIn).length === 0 : st.isFile() && st.size === 0).toBe(true);
    closePathFds(fds);
    expect(statSync(join(dir, 'run')).mode & 0o777, 'made private').toBe(0o700);
  });

  it('one the launcher binds from its stand-in already (an OCI bundle) is the stand-in whatever is there now', () => {
    writeFileSync(join(dir, 'home', '.bashrc'), 'rc');
    const fds = open(join(dir, 'home', '.bashrc'), 'file', new Set([join(dir, 'home', '.bashrc')]));
    expect(named(fds, 6)).toBe(join(standIns, 'file'));
    closePathFds(fds);
  });

  it.each([
    ['a link to a hidden file', 'file', () => symlinkSync(join(dir, 'home', '.ssh', 'id_ed25519'), join(dir, 'home', 'entry'))],
    ['gone', 'file', (): void => undefined],
  ] as const)('one that is now %s, for a launcher that binds it by its path from a config already written, is refused before the start (exit 125)', (_, type, make) => {
    make();
    expect(() => openPathFds([{ fd: 6, path: join(dir, 'home', 'entry'), readOnly: true, seal: type }], undefined, { dir: standIns, byPath: true })).toThrow(
      expect.objectContaining({ code: 'E_SANDBOX_SETUP', message: expect.stringContaining('changed while the sandbox was being set up') }) as unknown as Error,
    );
  });

  it('one still as listed, for a launcher that binds it by its path, is opened at its path', () => {
    writeFileSync(join(dir, 'home', '.bashrc'), 'rc');
    const fds = openPathFds([{ fd: 6, path: join(dir, 'home', '.bashrc'), readOnly: true, seal: 'file' }], undefined, { dir: standIns, byPath: true });
    expect(named(fds, 6)).toBe(join(dir, 'home', '.bashrc'));
    closePathFds(fds);
  });

  it('a stand-in someone wrote into is refused, not shown (exit 125)', () => {
    open(join(dir, 'home', 'gone'), 'file').forEach((h) => closeSync(h));
    chmodSync(join(standIns, 'file'), 0o644);
    writeFileSync(join(standIns, 'file'), 'not empty');
    expect(() => open(join(dir, 'home', 'gone'), 'file')).toThrow(expect.objectContaining({ code: 'E_SANDBOX_SETUP', message: expect.stringContaining('is not empty') }) as unknown as Error);
  });

  it('one reached through a sealed directory swapped for a link is refused, as any path', () => {
    mkdirSync(join(dir, 'real'));
    writeFileSync(join(dir, 'real', '.bashrc'), 'rc');
    symlinkSync(join(dir, 'real'), join(dir, 'sub'));
    expect(() => open(join(dir, 'sub', '.bashrc'), 'file')).toThrow(expect.objectContaining({ code: 'E_SANDBOX_SETUP' }) as unknown as Error);
  });
});
