import { mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { applyOverrides, loadMergedProfile, looksLikePath, userProfileDir, type LoadContext } from '../../src/profile/load.js';
import type { MergedProfile } from '../../src/profile/types.js';
import { expectIsolateError, expectIsolateRejection } from './expect-error.js';

let dir: string;

beforeEach(() => {
  // realpath: the loader reports files by their real path (macOS-style /tmp links, bind mounts).
  dir = realpathSync(mkdtempSync(join(tmpdir(), 'isolate-load-')));
});

afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

function write(rel: string, text: string): string {
  const file = join(dir, rel);
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, text);
  return file;
}

/** A context with no HOME and no XDG_CONFIG_HOME: user profiles are never found by accident. */
function ctx(env: Record<string, string> = {}, callerCwd = dir): LoadContext {
  return { callerCwd, env };
}

const paths = (list: { path: string }[]): string[] => list.map((p) => p.path);

describe('loadMergedProfile: files', () => {
  it('loads a YAML file by path', async () => {
    const file = write(
      'p.yaml',
      [
        'description: from yaml',
        'filesystem:',
        '  read: [/usr, { path: /opt, optional: true }]',
        '  write: ["${CWD}"]',
        'network: { mode: host }',
        'environment: { pass: [PATH], set: { FOO: bar } }',
        'process: { hostname: yamlbox }',
        '',
      ].join('\n'),
    );
    const m = await loadMergedProfile(file, ctx());
    expect(m.name).toBe(file);
    expect(m.sources).toEqual([file]);
    expect(m.description).toBe('from yaml');
    expect(m.filesystem.read).toEqual([
      { path: '/usr', optional: false, from: `${file}: filesystem.read[0]` },
      { path: '/opt', optional: true, from: `${file}: filesystem.read[1]` },
    ]);
    expect(m.filesystem.write).toEqual([{ path: '${CWD}', optional: false, from: `${file}: filesystem.write[0]` }]);
    expect(m.network.mode).toBe('host');
    expect(m.environment).toEqual({ pass: ['PATH'], set: { FOO: 'bar' }, secrets: [] });
    expect(m.process).toEqual({ cwd: '${CWD}', hostname: 'yamlbox' });
  });

  it('loads a JSON file by path', async () => {
    const file = write('p.json', JSON.stringify({ filesystem: { deny: ['~/.ssh'], tmpfs: ['/tmp'] }, process: { cwd: '/srv' } }));
    const m = await loadMergedProfile(file, ctx());
    expect(m.sources).toEqual([file]);
    expect(m.filesystem.deny).toEqual([{ path: '~/.ssh', optional: false, from: `${file}: filesystem.deny[0]` }]);
    expect(paths(m.filesystem.tmpfs)).toEqual(['/tmp']);
    expect(m.process.cwd).toBe('/srv');
    // defaults when the file does not say
    expect(m.network.mode).toBe('none');
    expect(m.process.hostname).toBe('isolate');
  });

  it('resolves a relative file path against callerCwd', async () => {
    write('sub/rel.yaml', 'description: relative\n');
    const m = await loadMergedProfile('sub/rel.yaml', ctx({}, dir));
    expect(m.description).toBe('relative');
    expect(m.sources).toEqual([join(dir, 'sub/rel.yaml')]);
  });

  it('a missing profile file is E_PROFILE_NOT_FOUND naming the file', async () => {
    const err = await expectIsolateRejection(loadMergedProfile(join(dir, 'nope.yaml'), ctx()), 'E_PROFILE_NOT_FOUND');
    expect(err.message).toContain(join(dir, 'nope.yaml'));
  });
});

describe('loadMergedProfile: extends', () => {
  it('extends a built-in by name (default -> strict)', async () => {
    const m = await loadMergedProfile('default', ctx());
    expect(m.name).toBe('default');
    expect(m.sources).toEqual(['builtin:strict', 'builtin:default']);
    expect(paths(m.filesystem.write)).toEqual(['${CWD}']);
    expect(paths(m.filesystem.read)).toContain('/usr');
    expect(paths(m.filesystem.tmpfs)).toEqual(['/tmp', '/var/tmp', '~']);
    expect(m.filesystem.protect).toContain('.git/hooks');
    expect(m.network.mode).toBe('none');
    expect(m.environment.pass).toContain('LC_*');
  });

  it('dev -> default -> strict: lists keep the base first, network is overridden', async () => {
    const m = await loadMergedProfile('dev', ctx());
    expect(m.sources).toEqual(['builtin:strict', 'builtin:default', 'builtin:dev']);
    const read = paths(m.filesystem.read);
    expect(read.indexOf('/usr')).toBeLessThan(read.indexOf('~'));
    expect(read.at(-1)).toBe('/run/systemd/resolve');
    expect(m.filesystem.read.find((r) => r.path === '~')?.from).toBe('builtin:dev: filesystem.read[0]');
    expect(m.network.mode).toBe('host');
  });

  it('a user file extends a built-in name', async () => {
    const file = write('mine.yaml', 'extends: strict\nfilesystem:\n  write: [/srv/data]\n');
    const m = await loadMergedProfile(file, ctx());
    expect(m.sources).toEqual(['builtin:strict', file]);
    expect(paths(m.filesystem.write)).toEqual(['/srv/data']);
    expect(paths(m.filesystem.read)).toContain('/etc');
  });

  it('extends a relative path, resolved against the extending file (not callerCwd)', async () => {
    const base = write('profiles/base/base.yaml', 'description: base\nfilesystem: { read: [/base] }\n');
    const child = write('profiles/child.yaml', 'extends: base/base.yaml\nfilesystem: { read: [/child] }\n');
    const elsewhere = join(dir, 'elsewhere');
    mkdirSync(elsewhere);
    const m = await loadMergedProfile(child, ctx({}, elsewhere));
    expect(m.sources).toEqual([base, child]);
    expect(paths(m.filesystem.read)).toEqual(['/base', '/child']);
    expect(m.description).toBe('base');
  });

  it('extends ../ paths relative to the extending file', async () => {
    const base = write('base.yaml', 'filesystem: { read: [/base] }\n');
    const child = write('nested/child.yaml', 'extends: ../base.yaml\n');
    const m = await loadMergedProfile(child, ctx());
    expect(m.sources).toEqual([base, child]);
  });

  it('a missing extends target names the extending file', async () => {
    const child = write('child.yaml', 'extends: ./missing.yaml\n');
    const err = await expectIsolateRejection(loadMergedProfile(child, ctx()), 'E_PROFILE_NOT_FOUND');
    expect(err.message).toContain('missing.yaml');
    expect(err.message).toContain(`extends in ${child}`);
  });

  it('merge rule: lists append without duplicates (parent first), scalars override, set merges with the child winning', async () => {
    const parent = write(
      'parent.yaml',
      [
        'description: parent',
        'filesystem:',
        '  read: [/usr, /etc]',
        '  write: [/w1]',
        '  deny: [~/.ssh]',
        '  tmpfs: [/tmp]',
        '  protect: [.git/hooks, .bashrc]',
        'network: { mode: host }',
        'environment:',
        '  pass: [PATH, HOME]',
        '  set: { A: parent-a, B: parent-b }',
        '  secrets: ["*_PEM"]',
        'process: { cwd: /parent, hostname: parent }',
        '',
      ].join('\n'),
    );
    const child = write(
      'child.yaml',
      [
        'extends: ./parent.yaml',
        'description: child',
        'filesystem:',
        '  read: [/etc, /opt]',
        '  write: [/w2, /w1]',
        '  deny: [~/.aws, ~/.ssh]',
        '  protect: [.bashrc, .envrc]',
        'network: { mode: none }',
        'environment:',
        '  pass: [HOME, TERM]',
        '  set: { B: child-b, C: child-c }',
        '  secrets: ["*_PEM", "*_CERT"]',
        'process: { cwd: /child }',
        '',
      ].join('\n'),
    );
    const m = await loadMergedProfile(child, ctx());
    expect(m.sources).toEqual([parent, child]);
    expect(paths(m.filesystem.read)).toEqual(['/usr', '/etc', '/opt']);
    // the duplicate keeps the parent's entry (and where it came from)
    expect(m.filesystem.read[1]?.from).toBe(`${parent}: filesystem.read[1]`);
    expect(m.filesystem.read[2]?.from).toBe(`${child}: filesystem.read[1]`);
    expect(paths(m.filesystem.write)).toEqual(['/w1', '/w2']);
    expect(paths(m.filesystem.deny)).toEqual(['~/.ssh', '~/.aws']);
    expect(paths(m.filesystem.tmpfs)).toEqual(['/tmp']);
    expect(m.filesystem.protect).toEqual(['.git/hooks', '.bashrc', '.envrc']);
    expect(m.environment.pass).toEqual(['PATH', 'HOME', 'TERM']);
    expect(m.environment.set).toEqual({ A: 'parent-a', B: 'child-b', C: 'child-c' });
    expect(m.environment.secrets).toEqual(['*_PEM', '*_CERT']);
    expect(m.description).toBe('child');
    expect(m.network.mode).toBe('none');
    expect(m.process).toEqual({ cwd: '/child', hostname: 'parent' });
  });

  it('a child that says nothing inherits every scalar from its parent', async () => {
    write('parent.yaml', 'description: parent\nnetwork: { mode: host }\nprocess: { cwd: /p, hostname: ph }\n');
    const child = write('child.yaml', 'extends: parent.yaml\n');
    const m = await loadMergedProfile(child, ctx());
    expect(m.description).toBe('parent');
    expect(m.network.mode).toBe('host');
    expect(m.process).toEqual({ cwd: '/p', hostname: 'ph' });
  });

  it('a -> b -> a is E_PROFILE_CYCLE with the chain in the message', async () => {
    const a = write('a.yaml', 'extends: ./b.yaml\n');
    const b = write('b.yaml', 'extends: ./a.yaml\n');
    const err = await expectIsolateRejection(loadMergedProfile(a, ctx()), 'E_PROFILE_CYCLE');
    expect(err.message).toContain(`${a} -> ${b} -> ${a}`);
  });

  it('a profile extending itself is E_PROFILE_CYCLE', async () => {
    const self = write('self.yaml', 'extends: self.yaml\n');
    const err = await expectIsolateRejection(loadMergedProfile(self, ctx()), 'E_PROFILE_CYCLE');
    expect(err.message).toContain(`${self} -> ${self}`);
  });

  it('a cycle through a symlinked file name is still detected (files are compared by real path)', async () => {
    const a = write('a.yaml', 'extends: ./link.yaml\n');
    symlinkSync(a, join(dir, 'link.yaml'));
    await expectIsolateRejection(loadMergedProfile(a, ctx()), 'E_PROFILE_CYCLE');
  });

  it('records where the symbolic links on the way to each file lie: the file itself, a directory, and links inside a link\'s target', async () => {
    write('real/base.yaml', 'filesystem: { read: [/base] }\n');
    write('real/top.yaml', 'extends: ../via-dir/base.yaml\n');
    symlinkSync('real', join(dir, 'via-dir'));
    symlinkSync('real/top.yaml', join(dir, 'top-link.yaml'));
    symlinkSync('top-link.yaml', join(dir, 'link-to-link.yaml'));
    const m = await loadMergedProfile(join(dir, 'link-to-link.yaml'), ctx());
    expect(m.sources).toEqual([join(dir, 'real/base.yaml'), join(dir, 'real/top.yaml')]);
    expect(new Set(m.links)).toEqual(new Set([join(dir, 'via-dir'), join(dir, 'link-to-link.yaml'), join(dir, 'top-link.yaml')]));
    // Without links, none are recorded.
    expect((await loadMergedProfile(join(dir, 'real/base.yaml'), ctx())).links).toBeUndefined();
  });

  it('a file named in the working directory that a link there takes out of it is refused, as -p and in extends, naming the link and the file', async () => {
    const own = write('home/.config/isolate/profiles/work.yaml', 'environment: { pass: [WORK_TOKEN] }\n');
    const project = join(dir, 'project');
    write('project/isolate.yaml', 'extends: ./base.yaml\n');
    symlinkSync('../home/.config/isolate/profiles/work.yaml', join(project, 'base.yaml'));
    const e = await expectIsolateRejection(loadMergedProfile('./isolate.yaml', ctx({}, project)), 'E_PROFILE_INVALID');
    expect(e.message).toBe(`profile file ${join(project, 'base.yaml')} is in the working directory, but reached through the symbolic link ${join(project, 'base.yaml')} it is ${own}, outside it (extends in ${join(project, 'isolate.yaml')})`);
    await expectIsolateRejection(loadMergedProfile('./base.yaml', ctx({}, project)), 'E_PROFILE_INVALID');
    // The same file named by its real path, a link that stays in the working directory, and a link run from elsewhere, load.
    write('project/isolate.yaml', `extends: ${own}\n`);
    symlinkSync('isolate.yaml', join(project, 'alias.yaml'));
    expect(paths((await loadMergedProfile('./alias.yaml', ctx({}, project))).environment.pass.map((path) => ({ path })))).toEqual(['WORK_TOKEN']);
    expect((await loadMergedProfile(join(project, 'base.yaml'), ctx({}, join(dir, 'home')))).sources).toEqual([own]);
  });

  it('a diamond (two files extending the same base at different times) is not a cycle', async () => {
    write('base.yaml', 'filesystem: { read: [/base] }\n');
    write('mid.yaml', 'extends: base.yaml\nfilesystem: { read: [/mid] }\n');
    const top = write('top.yaml', 'extends: mid.yaml\nfilesystem: { read: [/top, /base] }\n');
    const m = await loadMergedProfile(top, ctx());
    expect(paths(m.filesystem.read)).toEqual(['/base', '/mid', '/top']);
  });
});

describe('loadMergedProfile: names', () => {
  it('an unknown profile name is E_PROFILE_NOT_FOUND', async () => {
    const err = await expectIsolateRejection(loadMergedProfile('no-such-profile', ctx()), 'E_PROFILE_NOT_FOUND');
    expect(err.message).toContain('no-such-profile');
    expect(err.fix).toContain('default');
  });

  it('a name with characters that are not allowed is E_PROFILE_NOT_FOUND', async () => {
    await expectIsolateRejection(loadMergedProfile('bad name', ctx()), 'E_PROFILE_NOT_FOUND');
  });

  it('finds a user profile in $XDG_CONFIG_HOME/isolate/profiles/<name>.yaml', async () => {
    const xdg = join(dir, 'xdg');
    const file = write('xdg/isolate/profiles/mine.yaml', 'extends: default\ndescription: mine\n');
    const m = await loadMergedProfile('mine', ctx({ XDG_CONFIG_HOME: xdg, HOME: join(dir, 'home') }));
    expect(m.name).toBe('mine');
    expect(m.description).toBe('mine');
    expect(m.sources).toEqual(['builtin:strict', 'builtin:default', file]);
  });

  it('finds a user profile as .json too', async () => {
    const xdg = join(dir, 'xdg');
    const file = write('xdg/isolate/profiles/j.json', '{"description":"json user profile"}');
    const m = await loadMergedProfile('j', ctx({ XDG_CONFIG_HOME: xdg }));
    expect(m.sources).toEqual([file]);
  });

  it('falls back to $HOME/.config/isolate/profiles without XDG_CONFIG_HOME', async () => {
    const home = join(dir, 'home');
    const file = write('home/.config/isolate/profiles/h.yaml', 'description: home\n');
    const m = await loadMergedProfile('h', ctx({ HOME: home }));
    expect(m.sources).toEqual([file]);
    expect(userProfileDir({ HOME: home })).toBe(join(home, '.config/isolate/profiles'));
    expect(userProfileDir({ HOME: home, XDG_CONFIG_HOME: '/x' })).toBe('/x/isolate/profiles');
    expect(userProfileDir({})).toBeUndefined();
  });

  it('a user profile can be named in extends', async () => {
    const xdg = join(dir, 'xdg');
    write('xdg/isolate/profiles/team.yaml', 'filesystem: { read: [/team] }\n');
    const child = write('child.yaml', 'extends: team\n');
    const m = await loadMergedProfile(child, ctx({ XDG_CONFIG_HOME: xdg }));
    expect(paths(m.filesystem.read)).toEqual(['/team']);
  });

  it('the unknown-name error says where it looked', async () => {
    const xdg = join(dir, 'xdg');
    const err = await expectIsolateRejection(loadMergedProfile('ghost', ctx({ XDG_CONFIG_HOME: xdg })), 'E_PROFILE_NOT_FOUND');
    expect(err.detail).toContain(join(xdg, 'isolate/profiles/ghost.yaml'));
  });

  it('looksLikePath: slashes and profile extensions', () => {
    expect(looksLikePath('./x')).toBe(true);
    expect(looksLikePath('p.yaml')).toBe(true);
    expect(looksLikePath('p.YML')).toBe(true);
    expect(looksLikePath('p.json')).toBe(true);
    expect(looksLikePath('default')).toBe(false);
    expect(looksLikePath('my.profile')).toBe(false);
  });
});

describe('loadMergedProfile: bad files', () => {
  it('malformed YAML is E_PROFILE_PARSE with the line number', async () => {
    const file = write('bad.yaml', 'description: ok\nfilesystem:\n  read: [/usr\n  write: x\n');
    const err = await expectIsolateRejection(loadMergedProfile(file, ctx()), 'E_PROFILE_PARSE');
    expect(err.message).toContain(file);
    expect(err.message).toMatch(/line \d+/);
  });

  it('duplicate YAML keys are E_PROFILE_PARSE at the duplicate line', async () => {
    const file = write('dup.yaml', 'description: a\nnetwork: { mode: none }\ndescription: b\n');
    const err = await expectIsolateRejection(loadMergedProfile(file, ctx()), 'E_PROFILE_PARSE');
    expect(err.message).toContain('line 3');
  });

  it('malformed JSON is E_PROFILE_PARSE naming the file', async () => {
    const file = write('bad.json', '{"description": "x",}');
    const err = await expectIsolateRejection(loadMergedProfile(file, ctx()), 'E_PROFILE_PARSE');
    expect(err.message).toContain(file);
    expect(err.message).toContain('JSON');
  });

  it('an invalid profile is E_PROFILE_INVALID with the file and the key path', async () => {
    const file = write('invalid.yaml', 'filesystem:\n  wrte: [/x]\n');
    const err = await expectIsolateRejection(loadMergedProfile(file, ctx()), 'E_PROFILE_INVALID');
    expect(err.message).toContain(file);
    expect(err.message).toContain('filesystem.wrte');
    expect(err.message).toContain('unknown key');
  });

  it('every further issue is in the detail', async () => {
    const file = write('invalid.json', JSON.stringify({ network: { mode: 'wifi' }, filesystem: { read: ['rel'] } }));
    const err = await expectIsolateRejection(loadMergedProfile(file, ctx()), 'E_PROFILE_INVALID');
    const all = `${err.message}\n${err.detail ?? ''}`;
    expect(all).toContain(`${file}: network.mode`);
    expect(all).toContain(`${file}: filesystem.read[0]`);
  });

  it('origins: the file that last set process.cwd, audit.log and network.mode, or the flag', async () => {
    const parent = write('parent.yaml', 'process: { cwd: /p }\naudit: { log: /p/a.jsonl }\nnetwork: { mode: host }\n');
    const child = write('child.yaml', 'extends: parent.yaml\nprocess: { cwd: /c }\n');
    const m = await loadMergedProfile(child, ctx());
    expect(m.origins).toEqual({ 'process.cwd': `${child}: process.cwd`, 'audit.log': `${parent}: audit.log`, 'network.mode': `${parent}: network.mode` });
    expect(applyOverrides(m, { cwd: 'x', net: 'none' }, ctx()).origins).toEqual({ ...m.origins, 'process.cwd': '--cwd', 'network.mode': '--net' });
  });

  it('thousands of issues: the first 20 are listed, then how many more', async () => {
    const file = write('many.yaml', `filesystem:\n  read:\n${Array.from({ length: 3000 }, (_, i) => `    - relative${i}`).join('\n')}\n`);
    const err = await expectIsolateRejection(loadMergedProfile(file, ctx()), 'E_PROFILE_INVALID');
    expect(err.message).toContain(`${file}: filesystem.read[0]: `);
    const detail = (err.detail ?? '').split('\n');
    expect(detail).toHaveLength(20);
    expect(detail[18]).toContain('filesystem.read[19]');
    expect(detail[19]).toBe('... and 2980 more');
  });

  it('an invalid extended file is reported by its own name', async () => {
    const base = write('base.yaml', 'process: { cwd: relative }\n');
    const child = write('child.yaml', 'extends: base.yaml\n');
    const err = await expectIsolateRejection(loadMergedProfile(child, ctx()), 'E_PROFILE_INVALID');
    expect(err.message).toContain(`${base}: process.cwd`);
  });
});

describe('applyOverrides', () => {
  const base = async (): Promise<MergedProfile> => loadMergedProfile('strict', ctx());
  const c: LoadContext = { callerCwd: '/home/user/project', env: {} };

  it('resolves a relative --allow-read against callerCwd and keeps ~ and ${...} for expansion', async () => {
    const m = applyOverrides(await base(), { read: ['sub/dir', '../sibling', '/abs', '~/x', '${HOME}/y'] }, c);
    const added = m.filesystem.read.filter((r) => r.from.startsWith('--allow-read'));
    expect(added).toEqual([
      { path: '/home/user/project/sub/dir', optional: false, from: '--allow-read[0]' },
      { path: '/home/user/sibling', optional: false, from: '--allow-read[1]' },
      { path: '/abs', optional: false, from: '--allow-read[2]' },
      { path: '~/x', optional: false, from: '--allow-read[3]' },
      { path: '${HOME}/y', optional: false, from: '--allow-read[4]' },
    ]);
  });

  it('appends --allow-write and --deny after the profile entries, without duplicates', async () => {
    const start = await base();
    const m = applyOverrides(start, { write: ['out'], deny: ['~/.ssh', '/secret'] }, c);
    expect(paths(m.filesystem.write)).toEqual(['/home/user/project/out']);
    expect(m.filesystem.write[0]?.from).toBe('--allow-write[0]');
    expect(paths(m.filesystem.deny).slice(0, -1)).toEqual(paths(start.filesystem.deny));
    expect(paths(m.filesystem.deny).at(-1)).toBe('/secret');
    expect(paths(m.filesystem.deny).filter((p) => p === '~/.ssh')).toHaveLength(1);
  });

  it('a path flag with a character that does not show, or a space at an end, is E_PATH_INVALID naming the flag', async () => {
    const b = await base();
    expect(expectIsolateError(() => applyOverrides(b, { deny: ['~/.ssh', '${CWD}/.env\u200b'] }, c), 'E_PATH_INVALID').message).toMatch(/^--deny\[1\]: .*U\+200B/);
    expectIsolateError(() => applyOverrides(b, { read: ['/data '] }, c), 'E_PATH_INVALID');
    expectIsolateError(() => applyOverrides(b, { write: ['out\u202e'] }, c), 'E_PATH_INVALID');
    expect(applyOverrides(b, { read: ['My Documents/notes'] }, c).filesystem.read.at(-1)?.path).toBe('/home/user/project/My Documents/notes');
  });

  it('an empty path is E_PATH_INVALID', async () => {
    const b = await base();
    expectIsolateError(() => applyOverrides(b, { read: [''] }, c), 'E_PATH_INVALID');
  });

  it('--env NAME=VALUE with a NUL byte in the value (possible through the API) is E_ENV_INVALID', async () => {
    const b = await base();
    const err = expectIsolateError(() => applyOverrides(b, { env: ['FOO=x\0--bind\0/\0/mnt'] }, c), 'E_ENV_INVALID');
    expect(err.message).toBe('--env FOO: a value may not contain a NUL byte');
  });

  it('--env NAME passes, --env NAME=VALUE sets (the value may contain = or be empty)', async () => {
    const m = applyOverrides(await base(), { env: ['GITHUB_TOKEN', 'FOO=bar', 'EQ=a=b', 'EMPTY='] }, c);
    expect(m.environment.pass.at(-1)).toBe('GITHUB_TOKEN');
    expect(m.environment.pass).not.toContain('FOO');
    expect(m.environment.set).toEqual({ FOO: 'bar', EQ: 'a=b', EMPTY: '' });
  });

  it('--env does not duplicate a name the profile already passes', async () => {
    const start = await base();
    const m = applyOverrides(start, { env: ['PATH'] }, c);
    expect(m.environment.pass).toEqual(start.environment.pass);
  });

  it.each(['1ABC', 'MY VAR', 'A-B=1', '=value', 'LC_*', ''])('--env %j is E_ENV_INVALID', async (item) => {
    const b = await base();
    expectIsolateError(() => applyOverrides(b, { env: [item] }, c), 'E_ENV_INVALID');
  });

  it('--net overrides the profile network mode', async () => {
    const start = await base();
    expect(start.network.mode).toBe('none');
    expect(applyOverrides(start, { net: 'host' }, c).network.mode).toBe('host');
    expect(applyOverrides(await loadMergedProfile('dev', ctx()), { net: 'none' }, c).network.mode).toBe('none');
  });

  it('--cwd is resolved against callerCwd; without it the profile cwd stays', async () => {
    const start = await base();
    expect(applyOverrides(start, { cwd: 'sub' }, c).process.cwd).toBe('/home/user/project/sub');
    expect(applyOverrides(start, { cwd: '/srv/x' }, c).process.cwd).toBe('/srv/x');
    expect(applyOverrides(start, {}, c).process.cwd).toBe('${CWD}');
  });

  it('does not modify the profile it is given', async () => {
    const start = await base();
    const snapshot = structuredClone(start);
    applyOverrides(start, { read: ['/a'], write: ['/b'], deny: ['/c'], env: ['X', 'Y=1'], net: 'host', cwd: '/d' }, c);
    expect(start).toEqual(snapshot);
  });

  it('no overrides: the profile comes back equal', async () => {
    const start = await base();
    expect(applyOverrides(start, {}, c)).toEqual(start);
  });
});
