/**
 * The directories of the host's service sockets (profile/socket-dirs.ts):
 * a read or write rule that is one of them, or holds one, is refused with
 * the path and a fix; a path inside them, a private copy and a hidden one
 * are not. Paths only; nothing is looked up.
 */
import { describe, expect, it } from 'vitest';
import type { IsolateError } from '../../src/errors.js';
import { checkSocketDir, ownSocketDirs, socketDirShown } from '../../src/profile/socket-dirs.js';
import { expectIsolateError } from './expect-error.js';

const OWN = ownSocketDirs({ XDG_RUNTIME_DIR: '/var/lib/user-runtime/1000/' }, () => undefined);

function refusal(kind: 'read' | 'write', real: string): IsolateError {
  return expectIsolateError(() => checkSocketDir(kind, real, 'p.yaml: filesystem.read[0]', '${CWD}', OWN), 'E_PATH_INVALID');
}

describe('socket directories', () => {
  it.each([
    ['/tmp', '/tmp'],
    ['/var/tmp', '/var/tmp'],
    ['/run', '/run'],
    ['/var/run', '/var/run'],
    ['/run/user', '/run/user'],
    ['/run/user/1000', '/run/user/1000'],
    ['/var/lib/user-runtime/1000', '/var/lib/user-runtime/1000'],
    ['/private/tmp', '/private/tmp'],
    // A directory that holds one shows it whole too.
    ['/var', '/var/tmp'],
    ['/private', '/private/tmp'],
  ])('%s shows %s', (real, dir) => {
    expect(socketDirShown(real, OWN)).toBe(dir);
  });

  it.each(['/tmp/project', '/run/systemd/resolve', '/run/user/1000/app.sock', '/var/lib', '/var/lib/user-runtime', '/home/me', '/usr', '/etc'])('%s is not one', (real) => {
    expect(socketDirShown(real, OWN)).toBeUndefined();
  });

  it('a read or write rule at one is E_PATH_INVALID naming the rule, the path and a fix', () => {
    for (const kind of ['read', 'write'] as const) {
      const e = refusal(kind, '/run/user/1000');
      expect(e.message).toBe('p.yaml: filesystem.read[0]: "${CWD}" is /run/user/1000, where the host\'s services keep their sockets (ssh-agent, tmux, X11, D-Bus, Docker); a command that connects to one acts outside the sandbox, so isolate will not show it whole');
      expect(e.fix).toContain('--allow-read /run/user/1000/<name>');
    }
    const above = refusal('read', '/var');
    expect(above.message).toContain('"${CWD}" is /var, which holds /var/tmp, where');
    expect(above.fix).toContain('name the directories the command needs inside /var instead (--allow-read /var/<name>)');
  });

  it('a private copy (tmpfs) or a hidden path (deny) of one is not refused', () => {
    for (const kind of ['tmpfs', 'deny'] as const) expect(() => checkSocketDir(kind, '/tmp', 'p.yaml: filesystem.tmpfs[0]', '/tmp', OWN)).not.toThrow();
  });

  it('without XDG_RUNTIME_DIR only /run/user/<uid> is a runtime directory', () => {
    expect(socketDirShown('/var/lib/user-runtime/1000', [])).toBeUndefined();
    expect(socketDirShown('/run/user/0', [])).toBe('/run/user/0');
  });

  it("the caller's $TMPDIR and $XDG_RUNTIME_DIR are theirs by their real paths (macOS: /var/folders is /private/var/folders), else as written", () => {
    const real = (p: string): string | undefined => (p.startsWith('/var/folders/') ? `/private${p}` : undefined);
    const own = ownSocketDirs({ TMPDIR: '/var/folders/xy/abc/T/', XDG_RUNTIME_DIR: '/home/me//.run/' }, real);
    expect(own).toEqual(['/home/me/.run', '/private/var/folders/xy/abc/T']);
    expect(socketDirShown('/private/var/folders/xy/abc/T', own)).toBe('/private/var/folders/xy/abc/T');
    expect(socketDirShown('/private/var/folders/xy/abc/T/project', own)).toBeUndefined();
    expect(socketDirShown('/home/me/.run', own)).toBe('/home/me/.run');
    // Relative or root values name nothing of the caller's.
    expect(ownSocketDirs({ TMPDIR: 'tmp', XDG_RUNTIME_DIR: '/' }, () => undefined)).toEqual([]);
  });
});
