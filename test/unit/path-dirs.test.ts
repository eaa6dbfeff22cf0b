import { describe, expect, it } from 'vitest';
import { checkPathDirs, HERE_ON_PATH, LOGIN_PATH, ON_PATH, pathDirs } from '../../src/profile/path-dirs.js';
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
    expect(pathDirs({ PATH }, '/w', ['/h'], d)).toEqual([
      { written: '/usr/bin', real: '/usr/bin', why: ON_PATH },
      { written: '/h/go/bin', real: '/h/go/bin', why: ON_PATH },
      { written: '/h/linked', real: '/h/dot/bin', why: ON_PATH },
      { written: '/h/bin', real: '/h/bin', why: LOGIN_PATH },
    ]);
  });

  it('finds ~/bin where the home really is, and none without an absolute home or a PATH', () => {
    expect(pathDirs({}, '/w', ['/home/u'], disk(['/var/home/u'], [], { '/home': '/var/home' }))).toEqual([{ written: '/home/u/bin', real: '/var/home/u/bin', why: LOGIN_PATH }]);
    expect(pathDirs({}, '/w', [undefined], disk([]))).toEqual([]);
    expect(pathDirs({}, '/w', ['relative'], disk([]))).toEqual([]);
    // HOME and the login's home (the password database's), each once.
    expect(pathDirs({}, '/w', ['/tmp/h', '/home/u', '/home/u'], disk(['/tmp/h', '/home/u']))).toEqual([
      { written: '/tmp/h/bin', real: '/tmp/h/bin', why: LOGIN_PATH },
      { written: '/home/u/bin', real: '/home/u/bin', why: LOGIN_PATH },
    ]);
  });

  it("leaves out a node_modules/.bin and the activated virtual environment's bin, whose programs every install chooses", () => {
    const d = disk(['/h/p/node_modules/.bin', '/h/p/.venv', '/h/p/.venv/bin', '/h/p/bin'], ['/h/p/.venv/pyvenv.cfg', '/h/p/.venv/bin/activate', '/h/p/pyvenv.cfg'], { '/h/nm': '/h/p/node_modules/.bin' });
    // /h/p/bin has a pyvenv.cfg beside it (a command could have left one), but VIRTUAL_ENV names another environment: still protected.
    expect(pathDirs({ PATH: '/h/p/node_modules/.bin:/h/p/.venv/bin:/h/p/bin', VIRTUAL_ENV: '/h/p/.venv' }, '/w', [], d)).toEqual([{ written: '/h/p/bin', real: '/h/p/bin', why: ON_PATH }]);
    // An environment's bin that VIRTUAL_ENV does not name (not activated, or a project's own bin/ with an activate of its own) is protected.
    expect(pathDirs({ PATH: '/h/p/.venv/bin' }, '/w', [], d)).toEqual([{ written: '/h/p/.venv/bin', real: '/h/p/.venv/bin', why: ON_PATH }]);
    expect(pathDirs({ PATH: '/h/p/.venv/bin', VIRTUAL_ENV: 'relative/.venv' }, '/w', [], d)).toEqual([{ written: '/h/p/.venv/bin', real: '/h/p/.venv/bin', why: ON_PATH }]);
    // A PATH entry of another name that leads to one (a link a command made where the PATH named a missing directory) is not the dependencies' choice.
    expect(pathDirs({ PATH: '/h/nm' }, '/w', [], d)).toEqual([{ written: '/h/nm', real: '/h/p/node_modules/.bin', why: ON_PATH }]);
  });

  it('takes a missing PATH directory, also one under directories that are missing too, where a command could make it', () => {
    const d = disk(['/', '/h', '/h/go', '/h/p', '/h/p/node_modules', '/var/h'], ['/h/p/file'], { '/h/l': '/var/h' });
    const PATH = '/h/go/bin:/h/l/bin:/h/p/file:/h/p/node_modules/.bin:/h/none/bin:/h/l/none/tools/bin:/none/bin';
    expect(pathDirs({ PATH }, '/w', [], d)).toEqual([
      { written: '/h/go/bin', real: '/h/go/bin', why: ON_PATH },
      { written: '/h/l/bin', real: '/var/h/bin', why: ON_PATH },
      { written: '/h/p/file', real: '/h/p/file', why: ON_PATH },
      { written: '/h/none/bin', real: '/h/none/bin', why: ON_PATH },
      { written: '/h/l/none/tools/bin', real: '/var/h/none/tools/bin', why: ON_PATH },
      { written: '/none/bin', real: '/none/bin', why: ON_PATH },
    ]);
  });

  it('takes a relative entry (".", an empty one, "bin") from the directory the run starts in', () => {
    const d = disk(['/h/p', '/h/p/tools'], [], {});
    expect(pathDirs({ PATH: '/usr/bin::.:tools:bin/:./tools' }, '/h/p', [], d)).toEqual([
      { written: '/h/p', real: '/h/p', why: HERE_ON_PATH },
      { written: '/h/p/tools', real: '/h/p/tools', why: HERE_ON_PATH },
      { written: '/h/p/bin', real: '/h/p/bin', why: HERE_ON_PATH },
    ]);
  });

  it("takes bash's ~/ in an entry (export PATH=\"~/go/bin:$PATH\", which bash alone honours) as the home", () => {
    const d = disk(['/h', '/h/go', '/h/go/bin'], [], {});
    expect(pathDirs({ PATH: '~/go/bin', HOME: '/h' }, '/w', [], d)).toEqual([{ written: '/h/go/bin', real: '/h/go/bin', why: ON_PATH }]);
  });

  it('keeps a ".." as written, and finds where the kernel takes it (after a link, from where the link leads)', () => {
    const d = { stat: (p: string) => (p === '/h/p/l/../tools' || p === '/h/p/l/..' ? ('dir' as const) : undefined), realpath: (p: string) => (p === '/h/p/l/../tools' ? '/elsewhere/tools' : '/elsewhere') };
    expect(pathDirs({ PATH: '/h/p/l/../tools/' }, '/w', [], d)).toEqual([{ written: '/h/p/l/../tools', real: '/elsewhere/tools', why: ON_PATH }]);
  });

  it('skips a directory it cannot look at', () => {
    const locked = (): never => {
      throw Object.assign(new Error('EACCES: permission denied'), { code: 'EACCES' });
    };
    const d = { stat: locked, realpath: (p: string) => p };
    expect(pathDirs({ PATH: '/locked/bin' }, '/w', [], d)).toEqual([]);
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

  it('refuses a PATH directory reached through a ".." inside a writable path, where the name before it could become a link', () => {
    expectIsolateError(() => checkPathDirs([{ written: '/h/p/l/../tools', real: '/h/p/tools', why: ON_PATH }], project), 'E_PROTECT_SYMLINK');
    expect(() => checkPathDirs([{ written: '/usr/lib/../bin', real: '/usr/bin', why: ON_PATH }], project)).not.toThrow();
  });

  it('refuses the directory the run starts in, when "." or an empty entry puts it on the PATH and it is writable', () => {
    const e = expectIsolateError(() => checkPathDirs([{ written: '/h/p', real: '/h/p', why: HERE_ON_PATH }], project), 'E_PATH_INVALID');
    expect(e.message).toContain('relative to the directory you are in');
  });
});
