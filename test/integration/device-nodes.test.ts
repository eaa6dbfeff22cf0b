/**
 * The host's device nodes are out of reach: a command run by root (whose
 * sandbox user is the host's uid 0, the owner of /dev/null and the rest)
 * cannot chmod, chown or re-time them, neither by their paths in the
 * sandbox's /dev nor through a descriptor the caller handed over
 * (`< /dev/null`). Judged on the host: mode, owner and ctime of each node
 * (its mtime too, but for /dev/tty, whose mtime every write to a terminal
 * through it moves). The devices still work.
 */
import { chmodSync, chownSync, closeSync, existsSync, lchownSync, mkdirSync, mkdtempSync, openSync, renameSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as api from '../../src/index.js';
import { execute } from '../../src/run/execute.js';
import { backendCases } from '../helpers/backends.js';
import { attempts } from '../helpers/fs-fixture.js';
import { TEMP_PREFIX, homeWithProject, isolate, keyValues, runners, type Project, type Runner } from '../helpers/isolate.js';

const NODES = ['null', 'zero', 'full', 'random', 'urandom', 'tty'];
const haveSetfacl = spawnSync('sh', ['-c', 'command -v setfacl'], { encoding: 'utf8' }).status === 0;
if (!haveSetfacl) console.warn('device node checks: setfacl is not installed, so ACL changes are not tried (chmod, chown and touch are)');

/** What a change to a node would show on the host. */
function hostState(name: string): string {
  const st = statSync(`/dev/${name}`, { bigint: true });
  const mtime = name === 'tty' ? '' : ` mtime=${st.mtimeNs}`;
  return `mode=${st.mode.toString(8)} uid=${st.uid} gid=${st.gid} ctime=${st.ctimeNs}${mtime}`;
}
const hostStates = (): Record<string, string> => Object.fromEntries(NODES.map((n) => [n, hostState(n)]));

/** Should a change ever get through, the host's nodes get their mode and owner back (as root; else none can get through). */
function restoreNodes(saved: ReadonlyMap<string, { mode: number; uid: number; gid: number }>): void {
  if (process.getuid?.() !== 0) return;
  for (const [name, was] of saved) {
    const st = statSync(`/dev/${name}`);
    if ((st.mode & 0o7777) !== (was.mode & 0o7777)) chmodSync(`/dev/${name}`, was.mode & 0o7777);
    if (st.uid !== was.uid || st.gid !== was.gid) chownSync(`/dev/${name}`, was.uid, was.gid);
  }
}

/** Each change a command could try on node `name` at `path`, which the sandbox must refuse. */
function changes(name: string, path: string): Record<string, string> {
  return {
    [`chmod-${name}`]: `chmod 0600 ${path}`,
    [`chown-${name}`]: `chown 65534 ${path}`,
    [`touch-date-${name}`]: `touch -d @0 ${path}`,
    ...(haveSetfacl ? { [`acl-${name}`]: `setfacl -m u:65534:rw ${path}` } : {}),
  };
}

/**
 * touch with no time needs only write access, which everyone has on these
 * nodes: it may succeed on the sandbox's own copy of a node (a run by root),
 * but must not reach the host's. Only bubblewrap run by an ordinary user
 * binds the host's nodes themselves, which that user can re-time outside
 * any sandbox as well (docs/backends.md, "Device nodes"): not tried there.
 */
const plainTouches = (paths: readonly string[], tried: boolean): string => (tried ? paths.map((path) => `touch ${path} 2>/dev/null\n`).join('') : '');

/**
 * A project of the runner's for the tests of one describe block, and the host's nodes as they were before them,
 * put back after them should a change get through.
 */
function guardedSite(runner: Runner): { readonly p: Project } {
  const site = {} as { p: Project };
  const saved = new Map<string, { mode: number; uid: number; gid: number }>();
  beforeAll(() => {
    site.p = homeWithProject(runner);
    for (const name of NODES) saved.set(name, statSync(`/dev/${name}`));
  });
  afterAll(() => {
    restoreNodes(saved);
    site.p.cleanup();
  });
  return site;
}

describe.each(backendCases('device node checks'))('the host\'s device nodes ($label)', ({ runner, backend, backendEnv }) => {
  const site = guardedSite(runner);

  const run = (args: string[], fds?: Record<number, number>) =>
    isolate(runner, ['run', '--backend', backend, ...args], { cwd: site.p.project, env: { ...site.p.env, ...backendEnv }, ...(fds === undefined ? {} : { fds }) });
  const hostNodesShown = runner.uid !== 0 && backend === 'bwrap';

  it('cannot chmod, chown or re-time /dev/null, /dev/tty and the others', () => {
    const before = hostStates();
    const ops = Object.assign({}, ...NODES.map((n) => changes(n, `/dev/${n}`))) as Record<string, string>;
    const r = run(['--', 'sh', '-c', plainTouches(NODES.map((n) => `/dev/${n}`), !hostNodesShown) + attempts(ops)]);
    expect(r.status, r.stderr).toBe(0);
    const kv = keyValues(r.stdout);
    for (const name of Object.keys(ops)) expect(kv[name], name).toBe('blocked');
    expect(hostStates()).toEqual(before);
  });

  it('cannot change the host\'s /dev/null through the descriptors the caller handed over (< /dev/null 2> /dev/null)', () => {
    const before = hostStates();
    const input = openSync('/dev/null', 'r');
    const errors = openSync('/dev/null', 'w');
    try {
      const ops = { ...changes('stdin', '/proc/self/fd/0'), ...changes('stderr', '/proc/self/fd/2') };
      if (backend === 'oci') {
        // runc hands the container pipes of its own and copies between them and its stdio: the host's node never reaches the command.
        const r = run(['--', 'sh', '-c', 'readlink /proc/self/fd/0 /proc/self/fd/2 >&1; ' + attempts(ops)], { 0: input, 2: errors });
        expect(r.status).toBe(0);
        expect(r.stdout.split('\n').slice(0, 2).every((l) => l.startsWith('pipe:[')), r.stdout).toBe(true);
      } else {
        const r = run(['--', 'sh', '-c', plainTouches(['/proc/self/fd/0', '/proc/self/fd/2'], runner.uid === 0) + attempts(ops)], { 0: input, 2: errors });
        expect(r.status).toBe(0);
        const kv = keyValues(r.stdout);
        for (const name of Object.keys(ops)) expect(kv[name], name).toBe('blocked');
      }
    } finally {
      closeSync(input);
      closeSync(errors);
    }
    expect(hostStates()).toEqual(before);
  });

  it('the devices still work: /dev/null takes writes, /dev/zero and /dev/urandom give bytes, /dev/full is full', () => {
    const script = [
      'echo discarded > /dev/null && echo null=ok',
      'echo "zero=$(head -c 8 /dev/zero | od -An -tx1 | tr -d " \\n")"',
      'echo "urandom=$(head -c 16 /dev/urandom | wc -c)"',
      'echo "random=$(head -c 4 /dev/random | wc -c)"',
      'echo "full=$(head -c 1 /dev/zero 2>&1 >/dev/full | grep -c "No space left")"',
      'echo "dev=$(stat -c %t:%T /dev/null /dev/zero /dev/full /dev/random /dev/urandom /dev/tty | tr "\\n" " ")"',
    ].join('\n');
    const r = run(['--', 'sh', '-c', script]);
    expect(r.status, r.stderr).toBe(0);
    const kv = keyValues(r.stdout);
    expect(kv['null']).toBe('ok');
    expect(kv['zero']).toBe('0000000000000000');
    expect(kv['urandom']).toBe('16');
    expect(kv['random']).toBe('4');
    expect(kv['full']).toBe('1');
    expect(kv['dev']?.trim()).toBe('1:3 1:5 1:7 1:8 1:9 5:0');
  });
});

/** Root only: isolate makes its copies of the nodes; an ordinary user's runs never look at them. */
const asRoot = runners().find((r) => r.uid === 0);
if (asRoot === undefined) console.warn('device node copies: not checked, they are made only for a run by root and these tests do not run as root');

describe.skipIf(asRoot === undefined)('isolate\'s copies of the device nodes (as root)', () => {
  const runner = asRoot as Runner;
  const site = guardedSite(runner);

  const run = (stateHome: string) => isolate(runner, ['run', '--', 'sh', '-c', 'echo x > /dev/null && echo "null=$(stat -c %u:%t:%T /dev/null)"'], { cwd: site.p.project, env: { ...site.p.env, XDG_STATE_HOME: stateHome } });

  it('a copy that is missing, of the wrong kind, mode or number is made again before the run', () => {
    const state = join(site.p.home, 'state');
    const dev = join(state, 'isolate', 'dev');
    mkdirSync(dev, { recursive: true, mode: 0o700 });
    writeFileSync(join(dev, 'null'), 'not a device', { mode: 0o666 });
    expect(spawnSync('mknod', ['-m', '0600', join(dev, 'zero'), 'c', '1', '5']).status).toBe(0);
    expect(spawnSync('mknod', ['-m', '0666', join(dev, 'full'), 'c', '1', '3']).status).toBe(0);
    const r = run(state);
    expect(r.status, r.stderr).toBe(0);
    expect(keyValues(r.stdout)['null']).toBe('65534:1:3');
    for (const [name, rdev] of [['null', '1:3'], ['zero', '1:5'], ['full', '1:7'], ['tty', '5:0']] as const) {
      const st = statSync(join(dev, name));
      expect(st.isCharacterDevice(), name).toBe(true);
      expect(`${st.uid}:${st.gid}:${(st.mode & 0o7777).toString(8)}:${Math.floor(st.rdev / 256)}:${st.rdev % 256}`, name).toBe(`65534:65534:666:${rdev}`);
    }
  });

  it('under the Node API, no input is isolate\'s copy of /dev/null, not the host\'s', async () => {
    const before = hostStates();
    const logDir = mkdtempSync(join(tmpdir(), TEMP_PREFIX));
    try {
      const report = await api.run(['sh', '-c', attempts(changes('stdin', '/proc/self/fd/0'))], {
        callerCwd: site.p.project,
        callerEnv: { ...site.p.env, XDG_STATE_HOME: join(site.p.home, 'api-state') },
        audit: { log: join(logDir, 'audit.jsonl') },
      });
      expect(report.exitCode, report.stderr).toBe(0);
      const kv = keyValues(report.stdout ?? '');
      for (const name of Object.keys(changes('stdin', ''))) expect(kv[name], name).toBe('blocked');
    } finally {
      rmSync(logDir, { recursive: true, force: true });
    }
    expect(hostStates()).toEqual(before);
  });

  /**
   * Another run by root, with another state directory, whose profile can write this one: its command can swap
   * the copies between isolate's check and bubblewrap's mount. Played here by the run's own beforeStart, which
   * runs while the launcher waits for its arguments: the directory of the copies becomes a link to the host's /dev.
   */
  it('copies swapped for the host\'s nodes after isolate\'s check, before the launcher mounts them, do not reach the sandbox (bwrap)', async () => {
    const before = hostStates();
    const planned = await api.plan(['sh', '-c', attempts(changes('null', '/dev/null'))], {
      backend: 'bwrap',
      callerCwd: site.p.project,
      callerEnv: { ...site.p.env, XDG_STATE_HOME: join(site.p.home, 'swap-state') },
    });
    const dev = planned.plan.devices?.dir;
    if (dev === undefined) throw new Error('a plan by root without device copies');
    const swap = async (): Promise<void> => {
      renameSync(dev, `${dev}.real`);
      symlinkSync('/dev', dev);
    };
    try {
      const r = await execute(planned.plan, { stdio: 'capture', beforeStart: swap });
      expect(r.exitCode, r.stderr).toBe(0);
      const kv = keyValues(r.stdout ?? '');
      for (const name of Object.keys(changes('null', ''))) expect(kv[name], name).toBe('blocked');
    } finally {
      if (existsSync(`${dev}.real`)) {
        rmSync(dev, { force: true });
        renameSync(`${dev}.real`, dev);
      }
    }
    expect(hostStates()).toEqual(before);
  });

  /**
   * bubblewrap looks the copies up again when it mounts them, after isolate's check: whoever can rename a
   * directory on the way could swap in a symbolic link to a block device (/dev/vda) between the two. So
   * a state directory another user can change on the way to it is refused before anything is made there.
   */
  it.each([
    ['belongs to another user', (dir: string) => chownSync(dir, 65534, 65534)],
    ['is writable by everyone and not sticky', (dir: string) => chmodSync(dir, 0o777)],
  ])('a state directory on a path another user can change is refused (exit 125): one on the way %s', (_, loosen) => {
    const open = join(site.p.home, `open-${String(Math.random()).slice(2, 8)}`);
    mkdirSync(open, { mode: 0o755 });
    loosen(open);
    const r = run(join(open, 'state'));
    expect(r.status, r.stderr).toBe(125);
    expect(r.stderr).toContain('could be swapped by another user');
    expect(r.stderr).toContain(open);
    expect(r.stdout).not.toContain('null=');
    expect(existsSync(join(open, 'state', 'isolate', 'dev'))).toBe(false);
  });

  it('a symbolic link of another user\'s on the way to the state directory is refused (exit 125)', () => {
    const target = join(site.p.home, 'linked-state');
    mkdirSync(target, { mode: 0o700 });
    const link = join(site.p.home, 'state-link');
    symlinkSync(target, link);
    lchownSync(link, 65534, 65534);
    const r = run(link);
    expect(r.status, r.stderr).toBe(125);
    expect(r.stderr).toContain(`${link} is a symbolic link of uid 65534`);
    expect(existsSync(join(target, 'isolate', 'dev'))).toBe(false);
  });

  it('with neither XDG_STATE_HOME nor HOME absolute there is no place for the copies: the run is refused (exit 125), not given the host\'s nodes', () => {
    const before = hostStates();
    const runtime = join(site.p.home, 'runtime');
    mkdirSync(runtime, { mode: 0o700 });
    const profile = join(site.p.home, 'no-home.yaml');
    writeFileSync(profile, 'filesystem:\n  read: ["/usr", "/etc", "/bin", "/lib", "/lib64"]\n  write: ["${CWD}"]\n');
    const env = { PATH: '/usr/bin:/bin', HOME: 'relative-home', XDG_STATE_HOME: 'relative-state', XDG_RUNTIME_DIR: runtime };
    const r = isolate(runner, ['run', '--no-audit', '-p', profile, '--', '/usr/bin/sh', '-c', attempts(changes('full', '/dev/full'))], { cwd: site.p.project, env });
    expect(r.status, r.stdout + r.stderr).toBe(125);
    expect(r.stderr).toContain('XDG_STATE_HOME');
    expect(r.stdout).not.toContain('chmod-full');
    expect(hostStates()).toEqual(before);
  });

  it('a device of root\'s other than the six on stdout (> /dev/kmsg) is refused (exit 125): the command could chmod it', () => {
    if (!existsSync('/dev/kmsg')) {
      console.warn('a device other than the six on stdout: not checked, this host has no /dev/kmsg');
      return;
    }
    const was = statSync('/dev/kmsg');
    const kmsg = openSync('/dev/kmsg', 'w');
    try {
      const r = isolate(runner, ['run', '--', 'sh', '-c', attempts(changes('stdout', '/proc/self/fd/1'))], { cwd: site.p.project, env: site.p.env, fds: { 1: kmsg } });
      expect(r.status, r.stderr).toBe(125);
      expect(r.stderr).toContain('stdout is a device of the host\'s');
    } finally {
      closeSync(kmsg);
      const now = statSync('/dev/kmsg');
      if ((now.mode & 0o7777) !== (was.mode & 0o7777)) chmodSync('/dev/kmsg', was.mode & 0o7777);
      if (now.uid !== was.uid || now.gid !== was.gid) chownSync('/dev/kmsg', was.uid, was.gid);
      expect(`${now.mode.toString(8)} ${now.uid}:${now.gid} ${now.ctimeMs}`).toBe(`${was.mode.toString(8)} ${was.uid}:${was.gid} ${was.ctimeMs}`);
    }
  });

  it('on a filesystem mounted nodev the run is refused (exit 125) with the way out', () => {
    const dir = mkdtempSync(join(tmpdir(), TEMP_PREFIX));
    const mounted = spawnSync('mount', ['-t', 'tmpfs', '-o', 'nodev,size=64k,mode=0700', 'tmpfs', dir], { encoding: 'utf8' });
    if (mounted.status !== 0) {
      rmSync(dir, { recursive: true, force: true });
      console.warn(`nodev refusal not checked: cannot mount a tmpfs here (${mounted.stderr.trim()})`);
      return;
    }
    try {
      const r = run(dir);
      expect(r.status).toBe(125);
      expect(r.stderr).toContain('nodev');
      expect(r.stderr).toContain('XDG_STATE_HOME');
      expect(r.stdout).not.toContain('null=');
    } finally {
      spawnSync('umount', [dir]);
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
