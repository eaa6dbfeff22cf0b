import { closeSync, mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { IsolateError } from '../../src/errors.js';
import { openPathFds } from '../../src/run/launch/path-fds.js';

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

  it('refuses a path that disappeared', () => {
    expect(() => openPathFds([{ fd: 6, path: join(dir, 'gone') }])).toThrow(IsolateError);
  });
});
