import { describe, expect, it } from 'vitest';
import { isolateConfigDir, isolateStateDir, ownProtectedPaths, checkOwnPath } from '../../src/profile/own-paths.js';
import { deniedPathFacts, ownPathFact, type PathState } from '../../src/host/own-paths.js';
import { rule } from '../helpers/mount-rule.js';
import { expectIsolateError } from './expect-error.js';

/** /run/user/<uid>/isolate for the user running the tests. */
const RUNTIME = process.getuid === undefined ? [] : [`/run/user/${process.getuid()}/isolate`];

describe('isolate\'s own directories and the XDG protected paths', () => {
  it('follow the XDG variables when absolute, else HOME', () => {
    expect(isolateStateDir({ HOME: '/h' })).toBe('/h/.local/state/isolate');
    expect(isolateStateDir({ HOME: '/h', XDG_STATE_HOME: '/s' })).toBe('/s/isolate');
    expect(isolateStateDir({ HOME: '/h', XDG_STATE_HOME: 'relative' })).toBe('/h/.local/state/isolate');
    expect(isolateConfigDir({ HOME: '/h', XDG_CONFIG_HOME: '/c' })).toBe('/c/isolate');
    expect(isolateConfigDir({})).toBeUndefined();
  });

  it('map protected names under .config/ and .local/share/ to where the XDG variables put them', () => {
    const names = ['.git/hooks', '.config/git', '.config/fish', '.local/share/applications'];
    expect(ownProtectedPaths({ HOME: '/h', XDG_CONFIG_HOME: '/c', XDG_DATA_HOME: '/d' }, names)).toEqual([
      '/h/.local/state/isolate',
      '/c/isolate',
      // Also where a run without the variables would look.
      '/h/.config/isolate',
      // isolate's runtime directory where the login manager puts it.
      ...RUNTIME,
      '/c/git',
      '/c/fish',
      '/d/applications',
    ]);
    expect(ownProtectedPaths({ HOME: '/h' }, ['.config/git'])).toEqual(['/h/.local/state/isolate', '/h/.config/isolate', ...RUNTIME, '/h/.config/git']);
    expect(ownProtectedPaths({ HOME: '/h', XDG_RUNTIME_DIR: '/r' }, [])).toContain('/r/isolate');
  });

  it('refuse any rule but deny at or under isolate\'s own directories', () => {
    const env = { HOME: '/h' };
    for (const kind of ['read', 'write', 'tmpfs'] as const) {
      expectIsolateError(() => checkOwnPath(kind, '/h/.config/isolate/profiles', 'r[0]', '~/.config/isolate/profiles', env), 'E_PATH_INVALID');
      expectIsolateError(() => checkOwnPath(kind, '/h/.local/state/isolate', 'r[0]', '~/.local/state/isolate', env), 'E_PATH_INVALID');
    }
    expect(() => checkOwnPath('deny', '/h/.config/isolate', 'd[0]', 'x', env)).not.toThrow();
    expect(() => checkOwnPath('write', '/h/.config', 'w[0]', 'x', env)).not.toThrow();
  });
});

describe('ownPathFact: what protects an absolute path inside a writable root', () => {
  const probe = (states: Record<string, PathState>, closed: string[] = []) => ({
    state: (p: string): PathState => states[p] ?? 'missing',
    enterable: (p: string) => !closed.includes(p),
  });

  it('the path itself when it exists, with the directories on the way pinned', () => {
    const p = probe({ '/h/.config': 'dir', '/h/.config/git': 'dir' });
    expect(ownPathFact('/h', '/h/.config/git', p)).toEqual({ path: '/h/.config/git', state: 'dir', pins: ['/h/.config'] });
  });

  it('the topmost missing directory on the way, so the command cannot create the path', () => {
    expect(ownPathFact('/h', '/h/.config/isolate', probe({}))).toEqual({ path: '/h/.config', state: 'missing', pins: [] });
    expect(ownPathFact('/h', '/h/.config/isolate', probe({ '/h/.config': 'dir' }))).toEqual({ path: '/h/.config/isolate', state: 'missing', pins: ['/h/.config'] });
  });

  it('a file or a symbolic link on the way (a link is then refused by protectOps)', () => {
    expect(ownPathFact('/h', '/h/.config/git', probe({ '/h/.config': 'file' }))).toEqual({ path: '/h/.config', state: 'file', pins: [] });
    expect(ownPathFact('/h', '/h/.config/git', probe({ '/h/.config': 'symlink' }))).toEqual({ path: '/h/.config', state: 'symlink', pins: [] });
  });

  it('a directory on the way the sandbox cannot enter: its owner could open it (chmod), so it is kept as it is', () => {
    expect(ownPathFact('/h', '/h/.config/git', probe({ '/h/.config': 'dir' }, ['/h/.config']))).toEqual({ path: '/h/.config', state: 'dir', pins: [] });
  });

  it('nothing when isolate cannot look at the path', () => {
    expect(ownPathFact('/h', '/h/.config/git', probe({ '/h/.config': 'inaccessible' }))).toBeUndefined();
  });
});

describe('deniedPathFacts: the directories above a hidden path inside a writable root', () => {
  const probe = (states: Record<string, PathState>, closed: string[] = []) => ({
    state: (p: string): PathState => states[p] ?? 'missing',
    enterable: (p: string) => !closed.includes(p),
  });
  const TREE: Record<string, PathState> = { '/p/config': 'dir', '/p/config/secret.txt': 'file', '/p/deep': 'dir', '/p/deep/a': 'dir', '/p/deep/a/vault': 'dir', '/p/top.key': 'file' };
  const rules = [rule('write', '/p'), rule('deny', '/p/config/secret.txt', 'file'), rule('deny', '/p/deep/a/vault'), rule('deny', '/p/top.key', 'file'), rule('deny', '/etc/shadow', 'file')];

  it('each hidden path (file or directory) inside a writable root, with every directory on the way; none outside', () => {
    expect(deniedPathFacts(rules, probe(TREE))).toEqual([
      { path: '/p/config/secret.txt', state: 'file', pins: ['/p/config'] },
      { path: '/p/deep/a/vault', state: 'dir', pins: ['/p/deep', '/p/deep/a'] },
      // Directly in the root: a mount point of its own, nothing to pin.
      { path: '/p/top.key', state: 'file', pins: [] },
    ]);
  });

  it('one fact per writable root that holds the path (a writable directory inside another)', () => {
    const nested = [rule('write', '/p'), rule('write', '/p/deep'), rule('deny', '/p/deep/a/vault')];
    expect(deniedPathFacts(nested, probe(TREE))).toEqual([
      { path: '/p/deep/a/vault', state: 'dir', pins: ['/p/deep', '/p/deep/a'] },
      { path: '/p/deep/a/vault', state: 'dir', pins: ['/p/deep/a'] },
    ]);
  });

  it('a path gone since the profile was resolved keeps the directories that are left; none is blocked where one went missing', () => {
    const left = { '/p/config': 'dir', '/p/deep': 'file', '/p/top.key': 'file' } as const;
    expect(deniedPathFacts(rules, probe(left))).toEqual([
      { path: '/p/config/secret.txt', state: 'missing', pins: ['/p/config'] },
      { path: '/p/top.key', state: 'file', pins: [] },
    ]);
  });

  it('a symbolic link on the way is reported (protectOps refuses it); a path the sandbox cannot reach needs nothing', () => {
    expect(deniedPathFacts(rules, probe({ ...TREE, '/p/config': 'symlink' }))).toContainEqual({ path: '/p/config', state: 'symlink', pins: [] });
    expect(deniedPathFacts(rules, probe(TREE, ['/p/deep', '/p/config'])).map((f) => f.path)).toEqual(['/p/top.key']);
  });
});
