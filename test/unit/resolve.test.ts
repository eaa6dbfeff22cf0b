import { execFileSync } from 'node:child_process';
import { linkSync, mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { expandPath, pathVars, resolvePolicy, type PathLookup, type PathVars } from '../../src/profile/resolve.js';
import type { MergedProfile, MountRule, Policy, SourcedPath } from '../../src/profile/types.js';
import { expectIsolateError } from './expect-error.js';

const VARS: PathVars = { CWD: '/home/user/project', HOME: '/home/user', TMPDIR: '/var/tmp/u' };

function profile(fs: Partial<MergedProfile['filesystem']>, cwd = '${CWD}'): MergedProfile {
  return {
    name: 'test',
    sources: ['test.yaml'],
    description: 'a test profile',
    filesystem: { read: [], write: [], deny: [], tmpfs: [], protect: [], ...fs },
    network: { mode: 'none', allow: [], deny: [] },
    environment: { pass: ['PATH'], set: { A: '1' }, secrets: ['*_PEM'] },
    process: { cwd, hostname: 'box' },
    limits: {},
    syscalls: { preset: 'default', deny: [], allow: [] },
    commands: { allow: [], deny: [] },
    audit: { enabled: true, log: undefined, required: false },
    origins: {},
  };
}

describe('expandPath', () => {
  it.each([
    ['~', '/home/user'],
    ['~/x', '/home/user/x'],
    ['~/.config/gh', '/home/user/.config/gh'],
    ['${CWD}', '/home/user/project'],
    ['${CWD}/sub', '/home/user/project/sub'],
    ['${HOME}', '/home/user'],
    ['${HOME}/.ssh', '/home/user/.ssh'],
    ['${TMPDIR}', '/var/tmp/u'],
    ['${TMPDIR}/cache', '/var/tmp/u/cache'],
    ['/usr', '/usr'],
    ['/usr/', '/usr'],
    ['/a//b/./c/', '/a/b/c'],
    ['/', '/'],
  ])('%s -> %s', (raw, expected) => {
    expect(expandPath(raw, VARS, 'test')).toBe(expected);
  });

  it('does not expand ~ in the middle of a path', () => {
    expect(expandPath('/srv/~/x', VARS, 'test')).toBe('/srv/~/x');
  });

  it('does not interpret $ replacement patterns in variable values', () => {
    const vars: PathVars = { CWD: "/w/$&/$'/$1", HOME: '/h', TMPDIR: '/t' };
    expect(expandPath('${CWD}/x', vars, 'test')).toBe("/w/$&/$'/$1/x");
  });

  it('an unknown ${X} is E_PATH_INVALID naming where it came from', () => {
    const err = expectIsolateError(() => expandPath('${XDG_DATA}/x', VARS, 'p.yaml: filesystem.read[3]'), 'E_PATH_INVALID');
    expect(err.message).toContain('p.yaml: filesystem.read[3]');
    expect(err.message).toContain('${XDG_DATA}');
  });

  it('a relative path is E_PATH_INVALID', () => {
    const err = expectIsolateError(() => expandPath('relative/dir', VARS, '--allow-read[0]'), 'E_PATH_INVALID');
    expect(err.message).toContain('--allow-read[0]');
    expect(err.message).toContain('relative/dir');
  });

  it('a variable that expands to a relative path is E_PATH_INVALID', () => {
    expectIsolateError(() => expandPath('${CWD}', { ...VARS, CWD: 'rel' }, 'x'), 'E_PATH_INVALID');
  });
});

describe('pathVars', () => {
  it('takes HOME and TMPDIR from the environment, with fallbacks', () => {
    expect(pathVars('/c', { HOME: '/h', TMPDIR: '/t' }, '/fallback')).toEqual({ CWD: '/c', HOME: '/h', TMPDIR: '/t' });
    expect(pathVars('/c', {}, '/fallback')).toEqual({ CWD: '/c', HOME: '/fallback', TMPDIR: '/tmp' });
    expect(pathVars('/c', { HOME: '', TMPDIR: '' }, '/fallback')).toEqual({ CWD: '/c', HOME: '/fallback', TMPDIR: '/tmp' });
  });
});

describe('resolvePolicy (on a temp directory)', () => {
  let root: string;
  let vars: PathVars;

  beforeEach(() => {
    root = realpathSync(mkdtempSync(join(tmpdir(), 'isolate-resolve-')));
    for (const d of ['home', 'home/project', 'real', 'real/inner', 'tmp']) mkdirSync(join(root, d));
    writeFileSync(join(root, 'real/file.txt'), 'x');
    symlinkSync(join(root, 'real'), join(root, 'link'));
    symlinkSync('real/file.txt', join(root, 'filelink'));
    vars = { CWD: join(root, 'home/project'), HOME: join(root, 'home'), TMPDIR: join(root, 'tmp') };
  });

  afterEach(() => {
    rmSync(root, { recursive: true, force: true });
  });

  const sp = (path: string, from: string, optional = false): SourcedPath => ({ path, optional, from });

  const find = (mounts: MountRule[], kind: MountRule['kind'], requested: string): MountRule => {
    const m = mounts.find((r) => r.kind === kind && r.requested === requested);
    if (m === undefined) throw new Error(`no ${kind} mount for ${requested}: ${JSON.stringify(mounts)}`);
    return m;
  };

  it('resolves plain directories and files, with their types and no linkFrom', () => {
    const p = resolvePolicy(
      profile({ read: [sp(join(root, 'real'), 'r[0]'), sp(join(root, 'real/file.txt'), 'r[1]')], write: [sp('${CWD}', 'w[0]')] }),
      { vars },
    );
    expect(p.filesystem.mounts).toEqual([
      { kind: 'read', path: join(root, 'real'), requested: join(root, 'real'), type: 'dir' },
      { kind: 'read', path: join(root, 'real/file.txt'), requested: join(root, 'real/file.txt'), type: 'file' },
      { kind: 'write', path: join(root, 'home/project'), requested: join(root, 'home/project'), type: 'dir' },
    ]);
    expect(p.filesystem.skipped).toEqual([]);
  });

  it('a file that is neither a directory nor a regular file (a FIFO) is type "other"', () => {
    execFileSync('mkfifo', [join(root, 'fifo')]);
    const p = resolvePolicy(profile({ read: [sp(join(root, 'fifo'), 'r[0]')], write: [sp('${CWD}', 'w[0]')] }), { vars });
    expect(find(p.filesystem.mounts, 'read', join(root, 'fifo')).type).toBe('other');
  });

  it("refuses rules that would expose the host's /proc or /dev, directly or through a symlink, and a writable /sys", () => {
    symlinkSync('/proc/self', join(root, 'to-proc'));
    const refused: ['read' | 'write' | 'tmpfs', string][] = [
      ['read', '/proc'],
      ['read', '/proc/self/environ'],
      ['write', '/dev'],
      ['read', '/dev/null'],
      ['tmpfs', '/dev/shm'],
      ['read', join(root, 'to-proc')],
      ['write', '/sys'],
      ['tmpfs', '/sys/fs'],
    ];
    for (const [kind, path] of refused) {
      const rules = { write: [sp('${CWD}', 'w[0]')], [kind]: [sp(path, `${kind}[0]`)] };
      const err = expectIsolateError(() => resolvePolicy(profile(rules), { vars }), 'E_PATH_INVALID');
      expect(err.message).toContain(`${kind}[0]`);
    }
  });

  it('a readable /sys and a hidden path under /proc are not refused', () => {
    const p = resolvePolicy(profile({ read: [sp('/sys', 'r[0]')], deny: [sp('/proc/cpuinfo', 'd[0]')], write: [sp('${CWD}', 'w[0]')] }), { vars });
    expect(find(p.filesystem.mounts, 'read', '/sys').type).toBe('dir');
    expect(find(p.filesystem.mounts, 'deny', '/proc/cpuinfo').type).toBe('file');
  });

  it('resolves a symlinked directory to its real path and records linkFrom', () => {
    const p = resolvePolicy(profile({ read: [sp(join(root, 'link'), 'r[0]'), sp('${CWD}', 'r[1]')] }), { vars });
    expect(find(p.filesystem.mounts, 'read', join(root, 'link'))).toEqual({
      kind: 'read',
      path: join(root, 'real'),
      requested: join(root, 'link'),
      type: 'dir',
      linkFrom: join(root, 'link'),
    });
  });

  it('resolves a relative symlink to a file', () => {
    const p = resolvePolicy(profile({ read: [sp(join(root, 'filelink'), 'r[0]'), sp('${CWD}', 'r[1]')] }), { vars });
    expect(find(p.filesystem.mounts, 'read', join(root, 'filelink'))).toMatchObject({
      path: join(root, 'real/file.txt'),
      type: 'file',
      linkFrom: join(root, 'filelink'),
    });
  });

  it('a path below a symlinked directory resolves to the real path', () => {
    const p = resolvePolicy(profile({ write: [sp(join(root, 'link/inner'), 'w[0]'), sp('${CWD}', 'w[1]')] }), { vars });
    expect(find(p.filesystem.mounts, 'write', join(root, 'link/inner')).path).toBe(join(root, 'real/inner'));
  });

  it('a missing writable path is E_PATH_MISSING naming the file and key path it came from', () => {
    const missing = join(root, 'nope');
    const err = expectIsolateError(
      () => resolvePolicy(profile({ write: [sp(missing, '/etc/isolate/p.yaml: filesystem.write[2]')] }), { vars }),
      'E_PATH_MISSING',
    );
    expect(err.message).toContain('/etc/isolate/p.yaml: filesystem.write[2]');
    expect(err.message).toContain(missing);
    expect(err.message).toContain('writable');
    expect(err.fix).toContain('optional: true');
  });

  it('a missing readable path is E_PATH_MISSING too', () => {
    const err = expectIsolateError(
      () => resolvePolicy(profile({ read: [sp('${HOME}/gone', '--allow-read[0]')] }), { vars }),
      'E_PATH_MISSING',
    );
    expect(err.message).toContain('--allow-read[0]');
    expect(err.message).toContain(join(root, 'home/gone'));
  });

  it('a path through a file (ENOTDIR) counts as missing', () => {
    expectIsolateError(
      () => resolvePolicy(profile({ read: [sp(join(root, 'real/file.txt/x'), 'r[0]')] }), { vars }),
      'E_PATH_MISSING',
    );
  });

  it('an optional missing path is skipped and listed', () => {
    const p = resolvePolicy(
      profile({ read: [sp('/nonexistent-isolate-test/x', 'r[0]', true), sp('${CWD}', 'r[1]')], write: [sp('${HOME}/opt', 'w[0]', true)] }),
      { vars },
    );
    expect(p.filesystem.mounts.map((m) => m.requested)).toEqual([join(root, 'home/project')]);
    expect(p.filesystem.skipped).toEqual([
      { path: '/nonexistent-isolate-test/x', reason: 'read: optional and does not exist' },
      { path: join(root, 'home/opt'), reason: 'write: optional and does not exist' },
    ]);
  });

  it('an optional path that exists is mounted', () => {
    const p = resolvePolicy(profile({ read: [sp(join(root, 'real'), 'r[0]', true), sp('${CWD}', 'r[1]')] }), { vars });
    expect(find(p.filesystem.mounts, 'read', join(root, 'real')).path).toBe(join(root, 'real'));
  });

  it('a missing deny is skipped (nothing to hide); an existing one is kept', () => {
    const p = resolvePolicy(
      profile({ read: [sp('${CWD}', 'r[0]')], deny: [sp('~/.ssh', 'd[0]'), sp(join(root, 'real/file.txt'), 'd[1]')] }),
      { vars },
    );
    expect(p.filesystem.skipped).toEqual([{ path: join(root, 'home/.ssh'), reason: 'deny: does not exist, nothing to hide' }]);
    expect(find(p.filesystem.mounts, 'deny', join(root, 'real/file.txt')).type).toBe('file');
  });

  it('a hidden file with another name (a hard link) is E_PATH_INVALID naming the rule; a hidden directory is not refused', () => {
    linkSync(join(root, 'real/file.txt'), join(root, 'home/project/notes.txt'));
    const hide = (path: string) => () => resolvePolicy(profile({ read: [sp('${CWD}', 'r[0]')], deny: [sp(path, 'd[0]')] }), { vars });
    expect(expectIsolateError(hide(join(root, 'real/file.txt')), 'E_PATH_INVALID').message).toContain(`d[0]: the hidden file ${join(root, 'real/file.txt')} has 1 other name`);
    expect(hide(join(root, 'real'))().filesystem.mounts.some((m) => m.kind === 'deny')).toBe(true);
  });

  it('tmpfs of a missing path resolves the real path of its parent', () => {
    const p = resolvePolicy(
      profile({ read: [sp('${CWD}', 'r[0]')], tmpfs: [sp(join(root, 'link/new'), 't[0]'), sp(join(root, 'link/a/b'), 't[1]')] }),
      { vars },
    );
    expect(find(p.filesystem.mounts, 'tmpfs', join(root, 'link/new'))).toMatchObject({ path: join(root, 'real/new'), type: 'dir' });
    expect(find(p.filesystem.mounts, 'tmpfs', join(root, 'link/a/b')).path).toBe(join(root, 'real/a/b'));
  });

  it('tmpfs of an existing path resolves it; of a symlink records linkFrom', () => {
    const p = resolvePolicy(profile({ read: [sp('${CWD}', 'r[0]')], tmpfs: [sp('${TMPDIR}', 't[0]'), sp(join(root, 'link'), 't[1]')] }), {
      vars,
    });
    const tmp = find(p.filesystem.mounts, 'tmpfs', join(root, 'tmp'));
    expect(tmp.path).toBe(join(root, 'tmp'));
    expect(tmp.linkFrom).toBeUndefined();
    expect(find(p.filesystem.mounts, 'tmpfs', join(root, 'link'))).toMatchObject({ path: join(root, 'real'), linkFrom: join(root, 'link') });
  });

  it('orders mounts tmpfs, read, write, deny as the merged profile lists them', () => {
    const p = resolvePolicy(
      profile({
        deny: [sp(join(root, 'real/inner'), 'd[0]')],
        write: [sp('${CWD}', 'w[0]')],
        read: [sp(join(root, 'real'), 'r[0]')],
        tmpfs: [sp('~', 't[0]')],
      }),
      { vars },
    );
    expect(p.filesystem.mounts.map((m) => m.kind)).toEqual(['tmpfs', 'read', 'write', 'deny']);
  });

  it('refuses to expose the root directory (directly or through a symlink), but a deny of / is not refused', () => {
    expectIsolateError(() => resolvePolicy(profile({ read: [sp('/', 'r[0]')] }), { vars }), 'E_PATH_INVALID');
    symlinkSync('/', join(root, 'rootlink'));
    const err = expectIsolateError(() => resolvePolicy(profile({ write: [sp(join(root, 'rootlink'), 'p.yaml: filesystem.write[0]')] }), { vars }), 'E_PATH_INVALID');
    expect(err.message).toContain('p.yaml: filesystem.write[0]');
    const p = resolvePolicy(profile({ read: [sp('${CWD}', 'r[0]')], deny: [sp('/', 'd[0]')] }), { vars });
    expect(p.filesystem.mounts.some((m) => m.kind === 'deny' && m.path === '/')).toBe(true);
  });

  it('a symlink loop is E_PATH_INVALID naming where the path came from', () => {
    symlinkSync(join(root, 'loop-b'), join(root, 'loop-a'));
    symlinkSync(join(root, 'loop-a'), join(root, 'loop-b'));
    const err = expectIsolateError(() => resolvePolicy(profile({ read: [sp(join(root, 'loop-a'), 'p.yaml: filesystem.read[0]')] }), { vars }), 'E_PATH_INVALID');
    expect(err.message).toBe(`p.yaml: filesystem.read[0]: ${join(root, 'loop-a')}: too many levels of symbolic links`);
  });

  it('a name longer than the filesystem allows is E_PATH_INVALID naming where it came from (read, deny and tmpfs alike)', () => {
    const long = join(root, 'x'.repeat(300));
    for (const kind of ['read', 'deny', 'tmpfs'] as const) {
      const err = expectIsolateError(() => resolvePolicy(profile({ [kind]: [sp(long, `p.yaml: filesystem.${kind}[0]`)] }), { vars }), 'E_PATH_INVALID');
      expect(err.message).toMatch(new RegExp(`^p\\.yaml: filesystem\\.${kind}\\[0\\]: ".*" \\(\\d+ characters\\): the path or a name in it is too long$`));
    }
  });

  it('process.cwd and audit.log errors name the file and key that set them', () => {
    const merged = (cwd: string, log: string): MergedProfile => ({
      ...profile({}, cwd),
      audit: { enabled: true, log, required: false },
      origins: { 'process.cwd': '/p/web.yaml: process.cwd', 'audit.log': '/p/web.yaml: audit.log' },
    });
    const missing = expectIsolateError(() => resolvePolicy(merged(join(root, 'nope'), '/tmp/a.jsonl'), { vars }), 'E_PATH_MISSING');
    expect(missing.message).toBe(`/p/web.yaml: process.cwd: working directory ${join(root, 'nope')} is not an existing directory`);
    const cwdVar = expectIsolateError(() => resolvePolicy(merged('${NOPE}', '/tmp/a.jsonl'), { vars }), 'E_PATH_INVALID');
    expect(cwdVar.message).toBe('/p/web.yaml: process.cwd: unknown variable ${NOPE} in "${NOPE}"');
    const logVar = expectIsolateError(() => resolvePolicy(merged('${CWD}', '${cwd}/a.jsonl'), { vars }), 'E_PATH_INVALID');
    expect(logVar.message).toBe('/p/web.yaml: audit.log: unknown variable ${cwd} in "${cwd}/a.jsonl"');
  });

  it('domain rules with network.mode host name where the mode was set', () => {
    const merged: MergedProfile = { ...profile({}), network: { mode: 'host', allow: ['example.com'], deny: [] }, origins: { 'network.mode': '--net' } };
    const err = expectIsolateError(() => resolvePolicy(merged, { vars }), 'E_NETWORK_RULE');
    expect(err.message).toMatch(/^--net: network\.allow\/network\.deny are set but network\.mode is host/);
  });

  it('an unknown variable in a profile path is E_PATH_INVALID naming its source', () => {
    const err = expectIsolateError(() => resolvePolicy(profile({ read: [sp('${NOPE}/x', 'p.yaml: filesystem.read[0]')] }), { vars }), 'E_PATH_INVALID');
    expect(err.message).toContain('p.yaml: filesystem.read[0]');
  });

  it('the working directory is resolved to its real path', () => {
    const p = resolvePolicy(profile({ read: [sp(join(root, 'real'), 'r[0]')] }, join(root, 'link/inner')), { vars });
    expect(p.process.cwd).toBe(join(root, 'real/inner'));
  });

  it('a missing or non-directory working directory is E_PATH_MISSING', () => {
    expectIsolateError(() => resolvePolicy(profile({}, join(root, 'nope')), { vars }), 'E_PATH_MISSING');
    expectIsolateError(() => resolvePolicy(profile({}, join(root, 'real/file.txt')), { vars }), 'E_PATH_MISSING');
  });

  it('copies profile metadata, network, environment and protect into the policy', () => {
    const merged = profile({ read: [sp('${CWD}', 'r[0]')], protect: ['.git/hooks'] });
    const p = resolvePolicy(merged, { vars });
    expect(p.profile).toEqual({ name: 'test', sources: ['test.yaml'], description: 'a test profile' });
    expect(p.network).toEqual({ mode: 'none', allow: [], deny: [] });
    expect(p.environment).toEqual({ pass: ['PATH'], set: { A: '1' }, secrets: ['*_PEM'] });
    expect(p.filesystem.protect).toEqual(['.git/hooks']);
    expect(p.process.hostname).toBe('box');
    // the policy owns its lists
    p.environment.pass.push('X');
    p.filesystem.protect.push('y');
    expect(merged.environment.pass).toEqual(['PATH']);
    expect(merged.filesystem.protect).toEqual(['.git/hooks']);
  });
});

describe('resolvePolicy: the audit log is hidden wherever it is', () => {
  const vars: PathVars = { CWD: '/synthetic-only/project', HOME: '/synthetic-only', TMPDIR: '/synthetic-only/tmp' };
  const files = new Set(['/synthetic-only/logs/a.jsonl', '/synthetic-only/logs/a.jsonl.head', '/synthetic-only/logs/b.jsonl', '/synthetic-only/project/c.jsonl']);
  const disk: PathLookup = { stat: (p) => (files.has(p) ? 'file' : p.startsWith('/synthetic-only') && !p.includes('.') && !p.endsWith('@tmp') ? 'dir' : undefined), realpath: (p) => p, isSymlink: () => false };
  const readHome = (log?: string): MergedProfile => ({
    ...profile({ read: [{ path: '/synthetic-only', optional: false, from: 'r' }], write: [{ path: '/synthetic-only/project', optional: false, from: 'w' }] }, '/synthetic-only/project'),
    audit: { enabled: true, log, required: false },
  });
  const hidden = (p: Policy): string[] => p.filesystem.mounts.filter((m) => m.kind === 'deny').map((m) => m.path);

  it('the profile\'s audit.log and its head file, when they exist', () => {
    expect(hidden(resolvePolicy(readHome('/synthetic-only/logs/a.jsonl'), { vars, disk }))).toEqual(['/synthetic-only/logs/a.jsonl', '/synthetic-only/logs/a.jsonl.head']);
  });

  it('the log a run names (--audit-log) besides the profile\'s, even when the run records nothing', () => {
    for (const enabled of [undefined, false]) {
      const p = resolvePolicy(readHome('/synthetic-only/logs/a.jsonl'), { vars, disk, audit: { enabled, log: '/synthetic-only/logs/b.jsonl' } });
      expect(hidden(p)).toEqual(['/synthetic-only/logs/b.jsonl', '/synthetic-only/logs/a.jsonl', '/synthetic-only/logs/a.jsonl.head']);
    }
  });

  it('a log a run names inside a writable path is refused when the run records, as the profile\'s is', () => {
    const err = expectIsolateError(() => resolvePolicy(readHome(), { vars, disk, audit: { log: '/synthetic-only/project/c.jsonl' } }), 'E_PATH_INVALID');
    expect(err.message).toContain('--audit-log');
    expect(hidden(resolvePolicy(readHome(), { vars, disk, audit: { enabled: false, log: '/synthetic-only/project/c.jsonl' } }))).toEqual(['/synthetic-only/project/c.jsonl']);
  });
});

describe('resolvePolicy: a CI runner\'s files found by the checkout\'s place', () => {
  const vars: PathVars = { CWD: '/synthetic-only', HOME: '/synthetic-only', TMPDIR: '/synthetic-only/tmp' };
  const disk: PathLookup = { stat: (p) => (p.startsWith('/synthetic-only') && !/[.@]tmp$/.test(p) ? 'dir' : undefined), realpath: (p) => p, isSymlink: () => false };
  const hidden = (p: Policy): string[] => p.filesystem.mounts.filter((m) => m.kind === 'deny').map((m) => m.path);

  it('by the working directory the run has (a profile\'s process.cwd), not only where isolate was started', () => {
    const checkout = '/synthetic-only/work/repo/repo';
    const p = resolvePolicy(profile({ read: [{ path: '/synthetic-only', optional: false, from: 'r' }] }, checkout), { vars, disk, env: {} });
    expect(p.process.cwd).toBe(checkout);
    expect(hidden(p)).toContain('/synthetic-only/work/_temp');
  });
});

describe('resolvePolicy: profile files reached through symbolic links', () => {
  const disk: PathLookup = { stat: () => 'dir', realpath: (p) => p, isSymlink: () => false };
  const vars: PathVars = { CWD: '/synthetic-only/project', HOME: '/synthetic-only', TMPDIR: '/synthetic-only/tmp' };
  const withLinks = (links: string[]): MergedProfile => ({
    ...profile({ write: [{ path: '/synthetic-only/project', optional: false, from: 'w' }] }, '/synthetic-only/project'),
    sources: ['/synthetic-only/shared/isolate.yaml'],
    links,
  });

  it('a link inside a writable path is refused (E_PROTECT_SYMLINK), naming the link and the real file', () => {
    const err = expectIsolateError(() => resolvePolicy(withLinks(['/synthetic-only/project/isolate.yaml']), { vars, disk }), 'E_PROTECT_SYMLINK');
    expect(err.message).toContain('/synthetic-only/project/isolate.yaml');
    expect(err.fix).toContain('/synthetic-only/shared/isolate.yaml');
  });

  it('a link the sandbox cannot change is not', () => {
    expect(resolvePolicy(withLinks(['/synthetic-only/elsewhere']), { vars, disk }).profile.sources).toEqual(['/synthetic-only/shared/isolate.yaml']);
  });
});

describe('resolvePolicy on a described filesystem (ResolveContext.disk)', () => {
  const sp = (path: string, optional = false): SourcedPath => ({ path, optional, from: optional ? 'o' : 'r' });
  const merged = (read: string[], optional: string[] = []): MergedProfile =>
    profile({ read: [...read.map((p) => sp(p)), ...optional.map((p) => sp(p, true))], tmpfs: [sp('/synthetic-only/tmp')] }, '/synthetic-only/project');
  /** /synthetic-only exists only here; /bin is a link to /synthetic-only/usr/bin; /synthetic-only/passwd is a file. */
  const disk: PathLookup = {
    stat: (p) => (p === '/synthetic-only/passwd' ? 'file' : p === '/' || p === '/bin' || p.startsWith('/synthetic-only') ? (p.includes('missing') || /[.@]tmp$/.test(p) ? undefined : 'dir') : undefined),
    realpath: (p) => (p === '/bin' ? '/synthetic-only/usr/bin' : p),
    isSymlink: (p) => p === '/bin',
  };
  const vars: PathVars = { CWD: '/synthetic-only/project', HOME: '/synthetic-only', TMPDIR: '/synthetic-only/tmp' };

  it('looks at every path through it, never at this machine', () => {
    const p = resolvePolicy(merged(['/bin', '/synthetic-only/passwd'], ['/usr']), { vars, disk });
    expect(p.filesystem.mounts).toEqual([
      { kind: 'tmpfs', path: '/synthetic-only/tmp', requested: '/synthetic-only/tmp', type: 'dir' },
      { kind: 'read', path: '/synthetic-only/usr/bin', requested: '/bin', type: 'dir', linkFrom: '/bin' },
      { kind: 'read', path: '/synthetic-only/passwd', requested: '/synthetic-only/passwd', type: 'file' },
      // isolate's own directories exist there too, so they are hidden.
      { kind: 'deny', path: '/synthetic-only/.local/state/isolate', requested: '/synthetic-only/.local/state/isolate', type: 'dir' },
      { kind: 'deny', path: '/synthetic-only/.config/isolate', requested: '/synthetic-only/.config/isolate', type: 'dir' },
    ]);
    // /usr exists on this machine, but not on the described one.
    expect(p.filesystem.skipped).toEqual([{ path: '/usr', reason: 'read: optional and does not exist' }]);
    expect(p.process.cwd).toBe('/synthetic-only/project');
    expectIsolateError(() => resolvePolicy(merged(['/synthetic-only/missing']), { vars, disk }), 'E_PATH_MISSING');
  });
});

describe('resolvePolicy: a rule named through a symbolic link the sandbox can write (rule-links.ts)', () => {
  const sp = (path: string): SourcedPath => ({ path, optional: false, from: `filesystem[${path}]` });
  /** /p is the project; /p/.env -> .env.local, /p/config -> deploy/config, and /opt/site -> /p/site -> /srv/site (a link in a link's target). */
  const LINKS: Record<string, string> = { '/p/.env': '.env.local', '/p/config': 'deploy/config', '/opt/site': '/p/site', '/p/site': '/srv/site', '/opt/docs': '/srv/docs', '/bin': '/usr/bin' };
  const real = (p: string): string => {
    for (const [from, to] of Object.entries(LINKS)) {
      if (p === from || p.startsWith(`${from}/`)) return real(join(to.startsWith('/') ? to : join(from, '..', to)) + p.slice(from.length));
    }
    return p;
  };
  const disk: PathLookup = {
    stat: (p) => (/\.env|secrets\.yml/.test(p) ? 'file' : 'dir'),
    realpath: real,
    isSymlink: (p) => LINKS[p] !== undefined,
    readlink: (p) => LINKS[p] ?? '',
  };
  const vars: PathVars = { CWD: '/p', HOME: '/h', TMPDIR: '/tmp' };
  const resolve = (fs: Partial<MergedProfile['filesystem']>) => resolvePolicy(profile({ write: [sp('/p')], ...fs }), { vars, disk });

  it.each([
    ['a hidden file', { deny: [sp('/p/.env')] }, '/p/.env'],
    ['a hidden file under a linked directory', { deny: [sp('/p/config/secrets.yml')] }, '/p/config'],
    ['a readable path', { read: [sp('/p/config')] }, '/p/config'],
    ['a tmpfs', { tmpfs: [sp('/p/config/cache')] }, '/p/config'],
    ['a path through a link in a link\'s target', { read: [sp('/opt/site')] }, '/p/site'],
  ])('%s is refused, naming the link', (_what, fs, link) => {
    const e = expectIsolateError(() => resolve(fs), 'E_PATH_INVALID');
    expect(e.message).toContain(`through the symbolic link ${link},`);
  });

  it('a rule of a built-in profile, which the user cannot rename, is refused with a fix they can make', () => {
    const builtin: SourcedPath = { path: '/p/.env', optional: false, from: 'builtin:strict: filesystem.deny[0]' };
    const e = expectIsolateError(() => resolve({ deny: [builtin] }), 'E_PATH_INVALID');
    expect(e.message).toContain('builtin:strict: filesystem.deny[0]: /p/.env is reached through the symbolic link /p/.env, inside a path the sandbox can write');
    expect(e.fix).not.toContain('name the path without the link');
    expect(e.fix).toContain('replace the link /p/.env with what it points to');
  });

  it('a link outside every writable path, or the real path itself, is resolved as before', () => {
    const p = resolve({ read: [sp('/bin'), sp('/opt/docs')], deny: [sp('/p/.env.local'), sp('/p/deploy/config/secrets.yml')] });
    expect(p.filesystem.mounts.map((m) => [m.kind, m.path])).toEqual(
      expect.arrayContaining([['read', '/usr/bin'], ['read', '/srv/docs'], ['deny', '/p/.env.local'], ['deny', '/p/deploy/config/secrets.yml']]),
    );
  });
});

describe('resolvePolicy: a rule in the working directory that a link takes out of it (rule-links.ts)', () => {
  const sp = (path: string): SourcedPath => ({ path, optional: false, from: `filesystem[${path}]` });
  /** /p is the project (read-only, as under strict): /p/docs/logo.png -> /h/.ssh/id_ed25519, /p/out -> /h/.config/autostart, /p/vendor -> /p/third_party/vendor. */
  const LINKS: Record<string, string> = { '/p/docs/logo.png': '/h/.ssh/id_ed25519', '/p/out': '/h/.config/autostart', '/p/vendor': 'third_party/vendor' };
  const real = (p: string): string => {
    for (const [from, to] of Object.entries(LINKS)) {
      if (p === from || p.startsWith(`${from}/`)) return real(join(to.startsWith('/') ? to : join(from, '..', to)) + p.slice(from.length));
    }
    return p;
  };
  const disk: PathLookup = {
    stat: (p) => (/\.png|id_ed25519/.test(p) ? 'file' : 'dir'),
    realpath: real,
    isSymlink: (p) => LINKS[p] !== undefined,
    readlink: (p) => LINKS[p] ?? '',
  };
  const vars: PathVars = { CWD: '/p', HOME: '/h', TMPDIR: '/tmp' };
  const resolve = (fs: Partial<MergedProfile['filesystem']>) => resolvePolicy(profile({ read: [sp('/p')], ...fs }), { vars, disk });

  it.each([
    ['a readable file', { read: [sp('${CWD}/docs/logo.png')] }, '/p/docs/logo.png', '/h/.ssh/id_ed25519'],
    ['a writable directory', { write: [sp('${CWD}/out')] }, '/p/out', '/h/.config/autostart'],
    ['a path below the link', { write: [sp('/p/out/session')] }, '/p/out', '/h/.config/autostart/session'],
  ])('%s is refused, naming the link and where it leads', (_what, fs, link, target) => {
    const e = expectIsolateError(() => resolve(fs), 'E_PATH_INVALID');
    expect(e.message).toContain(`through the symbolic link ${link}`);
    expect(e.message).toContain(target);
    expect(e.fix).toContain(target);
  });

  it('a link that stays in the working directory, a hidden path or a tmpfs through a link, and the real path named itself, are resolved as before', () => {
    const p = resolve({ read: [sp('/p/vendor'), sp('/h/.ssh/id_ed25519')], deny: [sp('/p/docs/logo.png')], tmpfs: [sp('/p/out')] });
    expect(p.filesystem.mounts.map((m) => [m.kind, m.path])).toEqual(
      expect.arrayContaining([['read', '/p/third_party/vendor'], ['read', '/h/.ssh/id_ed25519'], ['deny', '/h/.ssh/id_ed25519'], ['tmpfs', '/h/.config/autostart']]),
    );
  });
});

describe('resolvePolicy: ~/bin of the home a login starts in', () => {
  const disk: PathLookup = { stat: (p) => (p.startsWith('/synthetic-only') && !p.endsWith('/bin') ? 'dir' : undefined), realpath: (p) => p, isSymlink: () => false };

  it('is protected also when HOME names another directory (a login reads the password database, not HOME)', () => {
    const vars: PathVars = { CWD: '/synthetic-only/home/u', HOME: '/synthetic-only/agent-home', TMPDIR: '/synthetic-only/tmp' };
    const writable = profile({ write: [{ path: '${CWD}', optional: false, from: 'w' }] });
    const p = resolvePolicy(writable, { vars, disk, env: { PATH: '/usr/bin' }, loginHome: '/synthetic-only/home/u' });
    expect(p.filesystem.protectPaths).toContain('/synthetic-only/home/u/bin');
    expect(p.filesystem.protectPaths).toContain('/synthetic-only/agent-home/bin');
  });
});
