import { describe, expect, it } from 'vitest';
import { checkPathDirs, LOGIN_PATH, ON_PATH, pathDirs } from '../../src/profile/path-dirs.js';
import { rule } from '../helpers/mount-rule.js';
import { expectIsolateError } from './expect-error.js';

/** A synthetic disk: directories, files, and links (a path and where it really is). */
function disk(dirs: string[], files: string[] = [], links: Record<string, string> = {}) {
  const real = (p: string): string => {
    for (const [from, to] of Object.entries(links)) if (p === from || p.startsWith(`${from}/`)) return to + p.slice(from.length);
    return p;
  };
  return {
    stat: (p: string) => (dirs.includes(real(p)) ? ('dir' as const) : files.includes(real(p)) ? ('file' as const) : undefined),
    realpath: real,
  };
}

describe('pathDirs: the directories the host runs programs from', () => {
  it("takes the PATH's existing absolute directories once each, resolved, and ~/bin whether or not it exists", () => {
    const d = disk(['/usr/bin', '/h/go/bin', '/h/dot/bin'], ['/h/file'], { '/h/linked': '/h/dot/bin' });
    const PATH = ['/usr/bin', '', '.', 'rel/bin', '/h/go/bin/', '/h/go/bin', '/h/missing', '/h/file', '/h/linked', '/usr/bin'].join(':');
    expect(pathDirs({ PATH }, '/h', d)).toEqual([
      { written: '/usr/bin', real: '/usr/bin', why: ON_PATH },
      { written: '/h/go/bin', real: '/h/go/bin', why: ON_PATH },
      { written: '/h/linked', real: '/h/dot/bin', why: ON_PATH },
      { written: '/h/bin', real: '/h/bin', why: LOGIN_PATH },
    ]);
  });

  it('finds ~/bin where the home really is, and none without an absolute home or a PATH', () => {
    expect(pathDirs({}, '/home/u', disk(['/var/home/u'], [], { '/home': '/var/home' }))).toEqual([{ written: '/home/u/bin', real: '/var/home/u/bin', why: LOGIN_PATH }]);
    expect(pathDirs({}, undefined, disk([]))).toEqual([]);
    expect(pathDirs({}, 'relative', disk([]))).toEqual([]);
  });

  it("leaves out a node_modules/.bin and a virtual environment's bin, whose programs every install chooses", () => {
    const d = disk(['/h/p/node_modules/.bin', '/h/p/.venv/bin', '/h/p/bin'], ['/h/p/.venv/pyvenv.cfg', '/h/p/.venv/bin/activate', '/h/p/pyvenv.cfg'], { '/h/nm': '/h/p/node_modules/.bin' });
    // /h/p/bin has a pyvenv.cfg beside it (a command could have left one) but no activate inside: still protected.
    expect(pathDirs({ PATH: '/h/p/node_modules/.bin:/h/nm:/h/p/.venv/bin:/h/p/bin' }, undefined, d)).toEqual([{ written: '/h/p/bin', real: '/h/p/bin', why: ON_PATH }]);
  });

  it('skips a directory it cannot look at', () => {
    const locked = (): never => {
      throw Object.assign(new Error('EACCES: permission denied'), { code: 'EACCES' });
    };
    const d = { stat: locked, realpath: (p: string) => p };
    expect(pathDirs({ PATH: '/locked/bin' }, undefined, d)).toEqual([]);
  });
});

describe('checkPathDirs: what cannot be kept read-only is refused', () => {
  const project = [rule('read', '/usr'), rule('write', '/h/p')];

  it('passes directories inside, above and outside the writable paths', () => {
    const dirs = [
      { written: '/h/p/bin', real: '/h/p/bin', why: ON_PATH },
      { written: '/h', real: '/h', why: ON_PATH },
      { written: '/usr/bin', real: '/usr/bin', why: ON_PATH },
      { written: '/h/linked', real: '/h/p/tools', why: ON_PATH },
    ];
    expect(() => checkPathDirs(dirs, project)).not.toThrow();
  });

  it('refuses a writable path that is on the PATH itself, saying why', () => {
    const e = expectIsolateError(() => checkPathDirs([{ written: '/h/p', real: '/h/p', why: ON_PATH }], project), 'E_PATH_INVALID');
    expect(e.message).toContain('on your PATH');
    expectIsolateError(() => checkPathDirs([{ written: '/h/p', real: '/h/p', why: LOGIN_PATH }], project), 'E_PATH_INVALID');
  });

  it('refuses a PATH directory reached through a link inside a writable path', () => {
    expectIsolateError(() => checkPathDirs([{ written: '/h/p/linked', real: '/opt/tools/bin', why: ON_PATH }], project), 'E_PROTECT_SYMLINK');
  });
});
