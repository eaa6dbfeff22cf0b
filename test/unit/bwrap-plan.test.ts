import { describe, expect, it } from 'vitest';
import { rule } from '../helpers/mount-rule.js';
import { BWRAP_MIN_VERSION, bwrapBackend, checkBwrapHost, compareVersions } from '../../src/backends/bwrap.js';
import { gateScript } from '../../src/backends/sandbox-init.js';
import { selectBackend } from '../../src/backends/index.js';
import type { CommandFact, HostFacts, Plan, ProtectFact } from '../../src/backends/types.js';
import type { MountRule, Policy } from '../../src/profile/types.js';
import { expectIsolateError } from './expect-error.js';
import { SYNTHETIC_KERNEL_PATHS } from '../golden/synthetic.js';
import { listingsFor } from '../helpers/sealed-listings.js';

// ---- builders: everything is synthetic, nothing touches the disk ------------

const HOME = '/home/user';
const PROJECT = '/home/user/project';

function policy(over: { mounts?: MountRule[]; network?: 'none' | 'host'; cwd?: string; protect?: string[]; env?: Partial<Policy['environment']>; skipped?: Policy['filesystem']['skipped'] } = {}): Policy {
  return {
    profile: { name: 'test', sources: ['builtin:test'], description: 'test' },
    filesystem: {
      mounts: over.mounts ?? [
        rule('tmpfs', '/tmp'),
        rule('tmpfs', HOME),
        rule('read', '/usr'),
        rule('read', '/etc'),
        rule('write', PROJECT),
      ],
      protect: over.protect ?? ['.git/hooks'],
      skipped: over.skipped ?? [],
    },
    network: { mode: over.network ?? 'none', allow: [], deny: [] },
    environment: { pass: ['PATH', 'HOME', 'LC_*'], set: {}, secrets: [], ...over.env },
    process: { cwd: over.cwd ?? PROJECT, hostname: 'isolate' },
    limits: { killAfterMs: 2000, enforce: 'rlimit' },
    syscalls: { preset: 'default', deny: [], allow: [] },
    commands: { allow: [], deny: [] },
    audit: { enabled: true, log: undefined, required: false },
  };
}

const LS: CommandFact = { program: 'ls', candidates: [{ path: '/usr/bin/ls', real: '/usr/bin/ls', isFile: true, executable: true }] };

function host(over: Partial<HostFacts> = {}): HostFacts {
  return {
    platform: 'linux',
    arch: 'x64',
    uid: 1000,
    gid: 1000,
    bwrap: { path: '/usr/bin/bwrap', version: '0.8.0' },
    prlimit: '/usr/bin/prlimit',
    kernelPaths: SYNTHETIC_KERNEL_PATHS,
    userns: { maxUserNamespaces: 63000, unprivilegedClone: undefined, apparmorRestrict: undefined },
    env: {
      PATH: '/usr/local/bin:/usr/bin:/bin',
      HOME,
      LC_ALL: 'C.UTF-8',
      LC_API_TOKEN: 'lc-secret-value',
      GITHUB_TOKEN: 'ghp-secret-value',
    },
    protect: [],
    command: LS,
    ...over,
  };
}

/** The plan on `h`, which lists the policy's sealed directories as empty unless it has listings of its own. */
function plan(p: Policy = policy(), command: readonly string[] = ['ls', '-la'], h: HostFacts = host()): Plan {
  return bwrapBackend.plan(p, command, { sealed: listingsFor(p), ...h });
}

/** Index of `seq` as a contiguous run inside `argv`, or -1. */
function indexOfSeq(argv: readonly string[], seq: readonly string[]): number {
  outer: for (let i = 0; i + seq.length <= argv.length; i++) {
    for (let j = 0; j < seq.length; j++) if (argv[i + j] !== seq[j]) continue outer;
    return i;
  }
  return -1;
}

function expectSeq(argv: readonly string[], seq: readonly string[]): number {
  const at = indexOfSeq(argv, seq);
  expect(at, `${JSON.stringify(seq)} not in argv:\n${argv.join(' ')}`).toBeGreaterThanOrEqual(0);
  return at;
}

function expectNoSeq(argv: readonly string[], seq: readonly string[]): void {
  expect(indexOfSeq(argv, seq), `${JSON.stringify(seq)} unexpectedly in argv:\n${argv.join(' ')}`).toBe(-1);
}

/** The sandbox setup part of argv (before `--` and the command). */
/**
 * The setup part of argv, with the descriptor binds (--bind-fd N dest: paths run/ opens without
 * following symlinks) written as the path binds they stand for, after checking each descriptor
 * names its destination.
 */
const setup = (p: Plan): string[] => {
  const argv = p.argv.slice(0, p.argv.indexOf('--'));
  const byFd = new Map((p.pathFds ?? []).map((e) => [String(e.fd), e.path]));
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] ?? '';
    if (a === '--bind-fd' || a === '--ro-bind-fd') {
      const fd = argv[i + 1] ?? '';
      const dest = argv[i + 2] ?? '';
      expect(byFd.get(fd), `descriptor ${fd} must be opened on ${dest}`).toBe(dest);
      out.push(a === '--bind-fd' ? '--bind' : '--ro-bind', dest, dest);
      i += 2;
    } else {
      out.push(a);
    }
  }
  return out;
};

// ---- checkBwrapHost ------------------------------------------------------------

describe('checkBwrapHost', () => {
  it('returns bwrap on a good host', () => {
    expect(checkBwrapHost(host())).toEqual({ path: '/usr/bin/bwrap', version: '0.8.0' });
  });

  it('bwrap missing is E_BACKEND_MISSING (fails closed)', () => {
    const err = expectIsolateError(() => checkBwrapHost(host({ bwrap: undefined })), 'E_BACKEND_MISSING');
    expect(err.message).toContain('refusing to run the command unsandboxed');
    expect(err.fix).toContain('bubblewrap');
  });

  it.each(['0.6.1', '0.7.0', '0.7.99', '0.4'])('bwrap %s is E_BACKEND_TOO_OLD', (version) => {
    const err = expectIsolateError(() => checkBwrapHost(host({ bwrap: { path: '/opt/bwrap', version } })), 'E_BACKEND_TOO_OLD');
    expect(err.message).toContain(version);
    expect(err.message).toContain('/opt/bwrap');
    expect(err.message).toContain(BWRAP_MIN_VERSION);
  });

  it.each(['0.8.0', '0.8', '0.9.0', '0.10.0', '1.0.0'])('bwrap %s is new enough', (version) => {
    expect(checkBwrapHost(host({ bwrap: { path: '/usr/bin/bwrap', version } })).version).toBe(version);
  });

  it('user.max_user_namespaces = 0 is E_USERNS_UNAVAILABLE, for root too', () => {
    const userns = { maxUserNamespaces: 0, unprivilegedClone: undefined, apparmorRestrict: undefined };
    expect(expectIsolateError(() => checkBwrapHost(host({ userns })), 'E_USERNS_UNAVAILABLE').message).toContain('max_user_namespaces');
    expectIsolateError(() => checkBwrapHost(host({ userns, uid: 0 })), 'E_USERNS_UNAVAILABLE');
  });

  it('kernel.unprivileged_userns_clone = 0 is E_USERNS_UNAVAILABLE for non-root only', () => {
    const userns = { maxUserNamespaces: 100, unprivilegedClone: 0, apparmorRestrict: undefined };
    const err = expectIsolateError(() => checkBwrapHost(host({ userns })), 'E_USERNS_UNAVAILABLE');
    expect(err.fix).toContain('unprivileged_userns_clone=1');
    expect(checkBwrapHost(host({ userns, uid: 0 })).path).toBe('/usr/bin/bwrap');
    expect(checkBwrapHost(host({ userns: { ...userns, unprivilegedClone: 1 } })).path).toBe('/usr/bin/bwrap');
  });

  it('the AppArmor restriction is E_USERNS_UNAVAILABLE for non-root, with the sysctl that lifts it (a profile alone would not make isolate start)', () => {
    const userns = { maxUserNamespaces: 100, unprivilegedClone: 1, apparmorRestrict: 1 };
    const err = expectIsolateError(
      () => checkBwrapHost(host({ userns, bwrap: { path: '/usr/local/bin/bwrap', version: '0.11.0' } })),
      'E_USERNS_UNAVAILABLE',
    );
    expect(err.message).toContain('AppArmor');
    expect(err.fix).toBe('sudo sysctl -w kernel.apparmor_restrict_unprivileged_userns=0   (persist it in /etc/sysctl.d/)');
    expect(err.detail).toContain('/usr/local/bin/bwrap');
  });

  it('the AppArmor restriction does not apply to uid 0, nor when it is 0', () => {
    expect(checkBwrapHost(host({ uid: 0, userns: { maxUserNamespaces: 100, unprivilegedClone: 1, apparmorRestrict: 1 } })).path).toBe('/usr/bin/bwrap');
    expect(checkBwrapHost(host({ userns: { maxUserNamespaces: 100, unprivilegedClone: 1, apparmorRestrict: 0 } })).path).toBe('/usr/bin/bwrap');
  });

  it.each<NodeJS.Platform>(['darwin', 'win32', 'freebsd'])('%s is E_BACKEND_UNSUPPORTED', (platform) => {
    expectIsolateError(() => checkBwrapHost(host({ platform })), 'E_BACKEND_UNSUPPORTED');
    expectIsolateError(() => checkBwrapHost(host({ platform, bwrap: undefined })), 'E_BACKEND_UNSUPPORTED');
  });

  it('plan() runs the same checks: it never returns a plan on a bad host', () => {
    expectIsolateError(() => plan(policy(), ['ls'], host({ bwrap: undefined })), 'E_BACKEND_MISSING');
    expectIsolateError(() => plan(policy(), ['ls'], host({ bwrap: { path: '/usr/bin/bwrap', version: '0.6.1' } })), 'E_BACKEND_TOO_OLD');
    expectIsolateError(
      () => plan(policy(), ['ls'], host({ userns: { maxUserNamespaces: 100, unprivilegedClone: 1, apparmorRestrict: 1 } })),
      'E_USERNS_UNAVAILABLE',
    );
  });

  it('compareVersions compares numerically, segment by segment', () => {
    expect(compareVersions('0.10.0', '0.8.0')).toBeGreaterThan(0);
    expect(compareVersions('0.8.0', '0.8')).toBe(0);
    expect(compareVersions('0.7.9', '0.8.0')).toBeLessThan(0);
    expect(compareVersions('1.0', '0.99.99')).toBeGreaterThan(0);
  });

  it('selectBackend: auto picks bwrap on linux (nsjail when only it is installed), sandbox-exec on macOS, and refuses elsewhere', () => {
    const bwrap = { path: '/usr/bin/bwrap', version: '0.8.0' };
    const nsjail = { path: '/usr/local/bin/nsjail', version: '3.4' };
    expect(selectBackend('auto', { platform: 'linux', bwrap })).toBe('bwrap');
    expect(selectBackend('auto', { platform: 'linux', bwrap, nsjail })).toBe('bwrap');
    expect(selectBackend('auto', { platform: 'linux', bwrap: undefined, nsjail })).toBe('nsjail');
    expect(selectBackend('auto', { platform: 'linux', bwrap: undefined })).toBe('bwrap');
    expect(selectBackend('auto', { platform: 'darwin', bwrap: undefined })).toBe('sandbox-exec');
    expect(selectBackend('bwrap', { platform: 'darwin', bwrap: undefined })).toBe('bwrap');
    expectIsolateError(() => selectBackend('auto', { platform: 'win32', bwrap: undefined }), 'E_BACKEND_UNSUPPORTED');
  });
});

// ---- the plan ------------------------------------------------------------------

describe('plan: process and namespaces', () => {
  it('starts bwrap with the hardening flags', () => {
    const p = plan();
    expect(p.argv[0]).toBe('/usr/bin/bwrap');
    expect(p.backend).toBe('bwrap');
    expect(p.backendVersion).toBe('0.8.0');
    const s = setup(p);
    for (const flag of ['--unshare-user', '--unshare-pid', '--unshare-ipc', '--unshare-uts', '--unshare-cgroup', '--disable-userns', '--die-with-parent', '--new-session']) {
      expect(s, flag).toContain(flag);
    }
    expectSeq(s, ['--cap-drop', 'ALL']);
    expectSeq(s, ['--hostname', 'isolate']);
    expectSeq(s, ['--proc', '/proc']);
    expectSeq(s, ['--dev', '/dev']);
    expectSeq(s, ['--args', '3']);
    expectSeq(s, ['--json-status-fd', '4']);
    expect(p.fds).toEqual({ args: 3, status: 4, gate: 6 });
    // bwrap hands the command every descriptor it has: it closes the caller's on --args (run/inherited-fds.ts)
    expect(p.closeFdFlag).toBe('--args');
    // never the catch-all that would leave the host's namespaces shared
    expect(s).not.toContain('--share-net');
    expect(s).not.toContain('--unshare-all');
  });

  it('starts bwrap under setpriv --pdeathsig KILL when setpriv is installed: bwrap dies with isolate from its first instruction', () => {
    const p = plan(policy(), ['ls'], host({ bwrap: { path: '/usr/bin/bwrap', version: '0.8.0', setpriv: '/usr/bin/setpriv' } }));
    expect(p.argv.slice(0, 6)).toEqual(['/usr/bin/setpriv', '--pdeathsig', 'KILL', '--', '/usr/bin/bwrap', '--args']);
    expect(p.launcherAt).toBe(4);
    // without setpriv, bwrap is started as before (its own --die-with-parent only)
    const bare = plan(policy(), ['ls'], host());
    expect(bare.argv[0]).toBe('/usr/bin/bwrap');
    expect(bare.launcherAt).toBeUndefined();
  });

  it('--unshare-net only when the network mode is none', () => {
    const none = plan(policy({ network: 'none' }));
    expect(setup(none)).toContain('--unshare-net');
    expect(none.summary.network).toBe('none');
    expect(none.summary.namespaces).toContain('net');

    const hostNet = plan(policy({ network: 'host' }));
    expect(hostNet.argv).not.toContain('--unshare-net');
    expect(hostNet.summary.network).toBe('host');
    expect(hostNet.summary.namespaces).not.toContain('net');
    expect(hostNet.summary.namespaces).toEqual(['user', 'pid', 'ipc', 'uts', 'cgroup', 'mount']);
  });

  it('ends with chdir, the status fd, -- and the resolved command with its arguments verbatim, behind the gate that waits for isolate\'s go', () => {
    const args = ['-la', '--help', '', 'a b', "'q'", '$HOME', '--', 'new\nline'];
    const p = plan(policy(), ['ls', ...args]);
    const dd = p.argv.indexOf('--');
    expect(p.argv.slice(dd - 6)).toEqual(['--chdir', PROJECT, '--json-status-fd', '4', '--seccomp', '5', '--', '/usr/bin/sh', '-c', gateScript(6), 'isolate-gate', '/usr/bin/prlimit', '--core=0', '--', '/usr/bin/ls', ...args]);
    expect(p.fds).toEqual({ args: 3, status: 4, gate: 6 });
    expect(p.command).toEqual({ program: 'ls', resolved: '/usr/bin/ls', args });
    expect(p.cwd).toBe(PROJECT);
  });

  it('an empty command is E_COMMAND_EMPTY', () => {
    expectIsolateError(() => plan(policy(), []), 'E_COMMAND_EMPTY');
    expectIsolateError(() => plan(policy(), ['']), 'E_COMMAND_EMPTY');
  });

  it('a command with more arguments than bubblewrap parses is a usage error that names the limit, not a failed set-up', () => {
    const fits = plan(policy(), ['ls', ...Array<string>(100).fill('f')]);
    const room = 9000 - (fits.argv.length - fits.argv.indexOf('/usr/bin/bwrap') - 1) - fits.pipedArgs.length + 100;
    expect(plan(policy(), ['ls', ...Array<string>(room).fill('f')]).argv.at(-1)).toBe('f');
    const err = expectIsolateError(() => plan(policy(), ['ls', ...Array<string>(room + 1).fill('f')]), 'E_USAGE');
    expect(err.message).toContain('9000');
    expect(err.fix).toMatch(/file|standard input/);
  });

  it('an argument or an environment entry longer than Linux passes to a program is a usage error naming which', () => {
    expect(plan(policy(), ['ls', 'a'.repeat(131071)]).argv.at(-1)).toHaveLength(131071);
    const arg = expectIsolateError(() => plan(policy(), ['ls', 'x', 'a'.repeat(131072)]), 'E_USAGE');
    expect(arg.message).toMatch(/argument 2 of the command is 131072 bytes/);
    const multi = expectIsolateError(() => plan(policy(), ['ls', 'é'.repeat(65536)]), 'E_USAGE');
    expect(multi.message).toMatch(/argument 1 of the command is 131072 bytes/);
    const env = expectIsolateError(() => plan(policy({ env: { set: { BIG: 'v'.repeat(131068) } } }), ['ls']), 'E_USAGE');
    expect(env.message).toMatch(/the environment variable BIG is 131072 bytes/);
    expect(env.message).not.toContain('vvvv');
  });

  it('does not modify the policy or the host facts', () => {
    const pol = policy();
    const h = host({ protect: [{ path: `${PROJECT}/.git/hooks`, state: 'dir', pins: [`${PROJECT}/.git`] }] });
    const before = structuredClone({ pol, h });
    bwrapBackend.plan(pol, ['ls'], h);
    expect({ pol, h }).toEqual(before);
  });

  it('is deterministic: the order of the policy rules does not change argv', () => {
    const pol = policy();
    const reversed = policy({ mounts: [...pol.filesystem.mounts].reverse() });
    expect(plan(reversed).argv).toEqual(plan(pol).argv);
  });
});

describe('plan: environment', () => {
  it('bwrap itself starts with an empty environment', () => {
    expect(plan().launcherEnv).toEqual({});
  });

  it('pipedArgs start with --clearenv and carry the child environment', () => {
    const p = plan();
    expect(p.pipedArgs[0]).toBe('--clearenv');
    expect(p.childEnv).toEqual({ PATH: '/usr/local/bin:/usr/bin:/bin', HOME, LC_ALL: 'C.UTF-8' });
    expectSeq(p.pipedArgs, ['--setenv', 'PATH', '/usr/local/bin:/usr/bin:/bin']);
    expectSeq(p.pipedArgs, ['--setenv', 'HOME', HOME]);
    expectSeq(p.pipedArgs, ['--setenv', 'LC_ALL', 'C.UTF-8']);
    expect(p.pipedArgs).toHaveLength(1 + 3 * 3);
    expect(p.withheldEnv).toEqual(['LC_API_TOKEN']);
    expect(p.summary.env).toEqual(['HOME', 'LC_ALL', 'PATH']);
  });

  it('environment values never appear on the command line (the host process list)', () => {
    const p = plan(policy({ env: { pass: ['PATH', 'GITHUB_TOKEN'], set: { FIXED: 'fixed-value' } } }));
    expect(p.childEnv).toMatchObject({ GITHUB_TOKEN: 'ghp-secret-value', FIXED: 'fixed-value' });
    expect(p.argv).not.toContain('--setenv');
    expect(p.argv).not.toContain('--clearenv');
    expect(p.argv.join('\n')).not.toContain('ghp-secret-value');
    expect(p.argv.join('\n')).not.toContain('fixed-value');
    expectSeq(p.pipedArgs, ['--setenv', 'GITHUB_TOKEN', 'ghp-secret-value']);
    expectSeq(p.pipedArgs, ['--setenv', 'FIXED', 'fixed-value']);
  });

  it('an empty pass list gives just --clearenv', () => {
    const p = plan(policy({ env: { pass: [] } }));
    expect(p.pipedArgs).toEqual(['--clearenv']);
    expect(p.childEnv).toEqual({});
  });
});

describe('plan: mounts', () => {
  it('mounts a tmpfs home first, then binds the project inside it', () => {
    const s = setup(plan());
    const tmpfsHome = expectSeq(s, ['--tmpfs', HOME]);
    const bindProject = expectSeq(s, ['--bind', PROJECT, PROJECT]);
    expect(tmpfsHome).toBeLessThan(bindProject);
    expectSeq(s, ['--ro-bind', '/usr', '/usr']);
    expectSeq(s, ['--ro-bind', '/etc', '/etc']);
    expectSeq(s, ['--tmpfs', '/tmp']);
    // proc and dev come before any mount from the profile
    expect(expectSeq(s, ['--dev', '/dev'])).toBeLessThan(expectSeq(s, ['--tmpfs', '/tmp']));
  });

  it('summarises what is readable, writable and private', () => {
    const p = plan();
    expect(p.summary.readable.sort()).toEqual(['/etc', '/usr']);
    expect(p.summary.writable).toEqual([PROJECT]);
    expect(p.summary.tmpfs.sort()).toEqual([HOME, '/tmp']);
    expect(p.summary.hidden).toEqual([]);
  });

  /** Index after the last mount-building operation (bind, tmpfs, symlink). */
  const lastMountOp = (s: string[]): number =>
    Math.max(...['--bind', '--ro-bind', '--tmpfs', '--symlink'].map((f) => s.lastIndexOf(f)));

  it('a denied directory inside a readable tree becomes an empty tmpfs in its sealed parent, remounted read-only last', () => {
    const p = plan(policy({ mounts: [...policy().filesystem.mounts, rule('deny', '/etc/ssh', 'dir')] }));
    const s = setup(p);
    const deny = expectSeq(s, ['--perms', '0555', '--tmpfs', '/etc/ssh']);
    expect(expectSeq(s, ['--perms', '0755', '--tmpfs', '/etc'])).toBeLessThan(deny);
    expectNoSeq(s, ['--ro-bind', '/etc', '/etc']);
    const remount = expectSeq(s, ['--remount-ro', '/etc/ssh']);
    expect(remount).toBeGreaterThan(lastMountOp(s));
    // Once each, the hidden directory and its sealed parent; the kernel guard's hidden /proc directories, /dev and the root are remounted too.
    expect(s.filter((a, i) => a === '--remount-ro' && s[i + 1] !== '/dev' && s[i + 1] !== '/' && !(s[i + 1] ?? '').startsWith('/proc/')).length).toBe(2);
    expect(expectSeq(s, ['--remount-ro', '/etc'])).toBeGreaterThan(lastMountOp(s));
    expect(p.summary.hidden).toEqual(['/etc/ssh']);
  });

  it('the root, bwrap\'s own tmpfs without a size, is remounted read-only after every other setup argument', () => {
    for (const network of ['none', 'host'] as const) {
      const p = plan(policy({ network }));
      const s = p.argv.slice(0, p.argv.indexOf('--chdir'));
      expect(s.slice(-2), network).toEqual(['--remount-ro', '/']);
    }
  });

  it('a writable path inside a denied directory is mounted before the directory is made read-only', () => {
    const mounts = [rule('read', '/usr'), rule('read', '/srv'), rule('deny', '/srv/data'), rule('write', '/srv/data/out')];
    const s = setup(plan(policy({ mounts, cwd: '/srv' })));
    const hide = expectSeq(s, ['--perms', '0555', '--tmpfs', '/srv/data']);
    const bind = expectSeq(s, ['--bind', '/srv/data/out', '/srv/data/out']);
    const remount = expectSeq(s, ['--remount-ro', '/srv/data']);
    expect(hide).toBeLessThan(bind);
    expect(bind).toBeLessThan(remount);
  });

  it('a denied file (or other non-directory) is covered with /dev/null', () => {
    const p = plan(
      policy({
        mounts: [...policy().filesystem.mounts, rule('deny', '/etc/shadow', 'file'), rule('deny', `${PROJECT}/agent.sock`, 'other')],
      }),
    );
    const s = setup(p);
    expect(expectSeq(s, ['--tmpfs', '/etc'])).toBeLessThan(expectSeq(s, ['--ro-bind', '/dev/null', '/etc/shadow']));
    expect(expectSeq(s, ['--bind', PROJECT, PROJECT])).toBeLessThan(expectSeq(s, ['--ro-bind', '/dev/null', `${PROJECT}/agent.sock`]));
    expect(p.summary.hidden.sort()).toEqual(['/etc/shadow', `${PROJECT}/agent.sock`]);
  });

  it('a deny that is not visible anyway is left out, with a note', () => {
    const p = plan(policy({ mounts: [...policy().filesystem.mounts, rule('deny', `${HOME}/.ssh`), rule('deny', '/var/secret', 'file')] }));
    expect(p.argv.join(' ')).not.toContain(`${HOME}/.ssh`);
    expect(p.argv).not.toContain('/var/secret');
    expect(p.summary.hidden).toEqual([]);
    expect(p.summary.notes).toContain(`${HOME}/.ssh: not visible anyway, nothing to hide`);
    expect(p.summary.notes).toContain('/var/secret: not visible anyway, nothing to hide');
  });

  it('a readable path inside a readable tree needs no second bind', () => {
    const p = plan(policy({ mounts: [...policy().filesystem.mounts, rule('read', '/usr/share')] }));
    expect(p.argv).not.toContain('/usr/share');
    expect(p.summary.readable).toContain('/usr/share');
  });

  it('a readable path inside a writable one is bound read-only after it', () => {
    const dist = `${PROJECT}/dist`;
    const s = setup(plan(policy({ mounts: [...policy().filesystem.mounts, rule('read', dist)] })));
    expect(expectSeq(s, ['--bind', PROJECT, PROJECT])).toBeLessThan(expectSeq(s, ['--ro-bind', dist, dist]));
  });

  it('a writable path inside a readable one is bound read-write after it', () => {
    const out = '/etc/out';
    const s = setup(plan(policy({ mounts: [...policy().filesystem.mounts, rule('write', out)] })));
    expect(expectSeq(s, ['--ro-bind', '/etc', '/etc'])).toBeLessThan(expectSeq(s, ['--bind', out, out]));
  });

  it('at the same path write beats read, and read beats tmpfs', () => {
    const p = plan(policy({ mounts: [rule('read', '/usr'), rule('tmpfs', HOME), rule('read', HOME), rule('read', PROJECT), rule('write', PROJECT)] }));
    const s = setup(p);
    expectSeq(s, ['--ro-bind', HOME, HOME]);
    expectNoSeq(s, ['--tmpfs', HOME]);
    expectSeq(s, ['--bind', PROJECT, PROJECT]);
    expectNoSeq(s, ['--ro-bind', PROJECT, PROJECT]);
    expect(p.summary.tmpfs).toEqual([]);
    expect(p.summary.writable).toEqual([PROJECT]);
  });

  it('deny beats write at the same path', () => {
    const p = plan(policy({ mounts: [rule('read', '/usr'), rule('read', '/srv'), rule('write', '/srv/x'), rule('deny', '/srv/x')], cwd: '/srv' }));
    const s = setup(p);
    expectNoSeq(s, ['--bind', '/srv/x', '/srv/x']);
    expectSeq(s, ['--tmpfs', '/srv/x']);
    expectSeq(s, ['--remount-ro', '/srv/x']);
  });

  it('recreates merged-/usr symlinks (/bin -> /usr/bin) where the sandbox owns the parent', () => {
    const mounts = [...policy().filesystem.mounts, rule('read', '/usr/bin', 'dir', '/bin'), rule('read', '/usr/lib', 'dir', '/lib')];
    const s = setup(plan(policy({ mounts })));
    const link = expectSeq(s, ['--symlink', '/usr/bin', '/bin']);
    expectSeq(s, ['--symlink', '/usr/lib', '/lib']);
    expect(expectSeq(s, ['--ro-bind', '/usr', '/usr'])).toBeLessThan(link);
    // the target is visible through /usr, so it is not bound again
    expectNoSeq(s, ['--ro-bind', '/usr/bin', '/usr/bin']);
  });

  it('does not recreate a symlink whose parent is already visible from the host', () => {
    // e.g. /usr/lib64 -> lib on some distributions: /usr is bound, so the host's link is there
    const mounts = [...policy().filesystem.mounts, rule('read', '/usr/lib', 'dir', '/usr/lib64')];
    const p = plan(policy({ mounts }));
    expect(p.argv).not.toContain('--symlink');
    expect(p.argv).not.toContain('/usr/lib64');
  });

  it('lists skipped paths as notes', () => {
    const p = plan(policy({ skipped: [{ path: '/nix/store', reason: 'read: optional and does not exist' }] }));
    expect(p.summary.notes).toContain('/nix/store: skipped (read: optional and does not exist)');
  });
});

describe('plan: protected paths', () => {
  const hooks: ProtectFact = { path: `${PROJECT}/.git/hooks`, state: 'dir', pins: [`${PROJECT}/.git`] };
  const config: ProtectFact = { path: `${PROJECT}/.git/config`, state: 'file', pins: [`${PROJECT}/.git`] };
  const bashrc: ProtectFact = { path: `${PROJECT}/.bashrc`, state: 'missing', pins: [] };

  it('an existing protected path is bound read-only onto itself, after the writable bind', () => {
    const p = plan(policy(), ['ls'], host({ protect: [hooks, config] }));
    const s = setup(p);
    const root = expectSeq(s, ['--bind', PROJECT, PROJECT]);
    const pin = expectSeq(s, ['--bind', `${PROJECT}/.git`, `${PROJECT}/.git`]);
    const ro = expectSeq(s, ['--ro-bind', hooks.path, hooks.path]);
    expectSeq(s, ['--ro-bind', config.path, config.path]);
    expect(root).toBeLessThan(pin);
    expect(pin).toBeLessThan(ro);
    expect(p.summary.protected.sort()).toEqual([config.path, hooks.path]);
    expect(p.cleanup).toEqual([]);
  });

  it('pins each directory once, even when several protected paths share it', () => {
    const s = setup(plan(policy(), ['ls'], host({ protect: [hooks, config] })));
    const pins = s.filter((a, i) => a === '--bind' && s[i + 1] === `${PROJECT}/.git`);
    expect(pins).toHaveLength(1);
  });

  it('a missing protected path gets a placeholder run/ creates, bound read-only from its descriptor, and a cleanup entry', () => {
    const p = plan(policy(), ['ls'], host({ protect: [bashrc] }));
    const s = setup(p);
    const fd = p.pathFds?.find((e) => e.path === bashrc.path);
    expect(fd).toEqual({ fd: expect.any(Number) as number, path: bashrc.path, readOnly: true, create: true });
    // setup() shows a bind from a descriptor as a bind of its path.
    expect(expectSeq(s, ['--bind', PROJECT, PROJECT])).toBeLessThan(expectSeq(s, ['--ro-bind', bashrc.path, bashrc.path]));
    expectSeq(p.argv, ['--ro-bind-fd', String(fd?.fd), bashrc.path]);
    expectNoSeq(s, ['--ro-bind', '/dev/null', bashrc.path]);
    expect(p.cleanup).toEqual([{ removeIfPlaceholder: bashrc.path }]);
    expect(p.summary.placeholders).toEqual([bashrc.path]);
    expect(p.summary.protected).toEqual([]);
  });

  it('a protected symlink is E_PROTECT_SYMLINK', () => {
    const link: ProtectFact = { path: `${PROJECT}/.envrc`, state: 'symlink', pins: [] };
    const err = expectIsolateError(() => plan(policy(), ['ls'], host({ protect: [link] })), 'E_PROTECT_SYMLINK');
    expect(err.message).toContain(link.path);
  });

  it('protected facts outside writable paths are ignored (read-only already)', () => {
    const ro: ProtectFact = { path: '/etc/.bashrc', state: 'missing', pins: [] };
    const roLink: ProtectFact = { path: '/usr/.envrc', state: 'symlink', pins: [] };
    const p = plan(policy(), ['ls'], host({ protect: [ro, roLink] }));
    expect(p.argv).not.toContain('/etc/.bashrc');
    expect(p.cleanup).toEqual([]);
  });

  it('does not pin a directory twice when a mount rule already binds it', () => {
    // tmpfs + write at the same path: write wins, and because the tmpfs is applied first it needs its own bind.
    const sub = `${PROJECT}/sub`;
    const fact: ProtectFact = { path: `${sub}/.git/hooks`, state: 'dir', pins: [sub, `${sub}/.git`] };
    const mounts = [...policy().filesystem.mounts, rule('tmpfs', sub), rule('write', sub)];
    const s = setup(plan(policy({ mounts }), ['ls'], host({ protect: [fact] })));
    expect(s.filter((a, i) => a === '--bind' && s[i + 1] === sub)).toHaveLength(1);
    expectSeq(s, ['--bind', `${sub}/.git`, `${sub}/.git`]);
  });

  it('pins a nested writable root that has no bind of its own', () => {
    // `--allow-write ./sub` inside a writable project: sub needs no bind of its own, but it is an
    // ancestor of a protected path, so it must become a mount point (or the sandbox can rename it
    // away and put an unprotected sub/.git in its place on the host).
    const sub = `${PROJECT}/sub`;
    const fact: ProtectFact = { path: `${sub}/.git/hooks`, state: 'dir', pins: [sub, `${sub}/.git`] };
    const s = setup(plan(policy({ mounts: [...policy().filesystem.mounts, rule('write', sub)] }), ['ls'], host({ protect: [fact] })));
    expect(s.filter((a, i) => a === '--bind' && s[i + 1] === sub)).toHaveLength(1);
    expectSeq(s, ['--bind', `${sub}/.git`, `${sub}/.git`]);
    expect(expectSeq(s, ['--bind', sub, sub])).toBeLessThan(expectSeq(s, ['--bind', `${sub}/.git`, `${sub}/.git`]));
  });

  it('a denied path that is also protected ends up hidden (deny is applied last)', () => {
    const ssh = `${PROJECT}/.ssh`;
    const p = plan(policy({ mounts: [...policy().filesystem.mounts, rule('deny', ssh)] }), ['ls'], host({ protect: [{ path: ssh, state: 'dir', pins: [] }] }));
    const s = setup(p);
    expect(p.summary.hidden).toEqual([ssh]);
    // the read-only bind of the protected directory (if any) is covered by the empty tmpfs
    const hide = expectSeq(s, ['--perms', '0555', '--tmpfs', ssh]);
    const protectBind = indexOfSeq(s, ['--ro-bind', ssh, ssh]);
    expect(protectBind).toBeLessThan(hide);
    expectSeq(s, ['--remount-ro', ssh]);
  });
});

describe('plan: the command', () => {
  const cand = (path: string, real: string | undefined, isFile = true, executable = true): CommandFact['candidates'][number] => ({
    path,
    real,
    isFile,
    executable,
  });

  it('not found anywhere is E_COMMAND_NOT_FOUND with exit 127', () => {
    const err = expectIsolateError(() => plan(policy(), ['nope'], host({ command: { program: 'nope', candidates: [] } })), 'E_COMMAND_NOT_FOUND');
    expect(err.exitCode).toBe(127);
    expect(err.message).toContain('nope');
  });

  it('found only on the host (not visible in the sandbox) is 127, with the --allow-read hint', () => {
    const command: CommandFact = { program: 'tool', candidates: [cand('/opt/tool/bin/tool', '/opt/tool/bin/tool')] };
    const err = expectIsolateError(() => plan(policy(), ['tool'], host({ command })), 'E_COMMAND_NOT_FOUND');
    expect(err.exitCode).toBe(127);
    expect(err.fix).toContain('--allow-read /opt/tool/bin/tool');
  });

  it('visible but not executable is E_COMMAND_NOT_EXECUTABLE with exit 126', () => {
    const command: CommandFact = { program: './run.sh', candidates: [cand(`${PROJECT}/run.sh`, `${PROJECT}/run.sh`, true, false)] };
    const err = expectIsolateError(() => plan(policy(), ['./run.sh'], host({ command })), 'E_COMMAND_NOT_EXECUTABLE');
    expect(err.exitCode).toBe(126);
    expect(err.message).toContain(`${PROJECT}/run.sh`);
  });

  it('a visible directory of that name is 126 unless a later candidate is executable', () => {
    const dirOnly: CommandFact = { program: 'x', candidates: [cand(`${PROJECT}/bin/x`, `${PROJECT}/bin/x`, false, false)] };
    expect(expectIsolateError(() => plan(policy(), ['x'], host({ command: dirOnly })), 'E_COMMAND_NOT_EXECUTABLE').exitCode).toBe(126);
    const thenFile: CommandFact = { program: 'x', candidates: [...dirOnly.candidates, cand('/usr/bin/x', '/usr/bin/x')] };
    expect(plan(policy(), ['x'], host({ command: thenFile })).command.resolved).toBe('/usr/bin/x');
  });

  it('skips a candidate that is not visible in the sandbox and takes the next', () => {
    const command: CommandFact = {
      program: 'python3',
      candidates: [cand('/opt/py/bin/python3', '/opt/py/bin/python3'), cand('/usr/bin/python3', '/usr/bin/python3.11')],
    };
    const p = plan(policy(), ['python3', '-V'], host({ command }));
    expect(p.command.resolved).toBe('/usr/bin/python3');
    expect(p.argv.slice(-2)).toEqual(['/usr/bin/python3', '-V']);
  });

  it('skips a candidate in a denied directory', () => {
    const command: CommandFact = {
      program: 'tool',
      candidates: [cand(`${PROJECT}/secret/tool`, `${PROJECT}/secret/tool`), cand('/usr/bin/tool', '/usr/bin/tool')],
    };
    const p = plan(policy({ mounts: [...policy().filesystem.mounts, rule('deny', `${PROJECT}/secret`)] }), ['tool'], host({ command }));
    expect(p.command.resolved).toBe('/usr/bin/tool');
  });

  it('keeps the name it was found under (argv[0] matters to multi-call binaries)', () => {
    const mounts = [...policy().filesystem.mounts, rule('read', '/usr/bin', 'dir', '/bin')];
    const command: CommandFact = { program: 'sh', candidates: [cand('/bin/sh', '/usr/bin/dash')] };
    expect(plan(policy({ mounts }), ['sh'], host({ command })).command.resolved).toBe('/bin/sh');
  });

  it('skips a candidate whose own path is hidden in the sandbox even when its target is visible', () => {
    // ~/.local/bin/python3 -> /usr/bin/python3.11: the target is readable, but the home is an empty
    // tmpfs inside the sandbox, so the path bwrap would execute does not exist there.
    const command: CommandFact = {
      program: 'python3',
      candidates: [cand(`${HOME}/.local/bin/python3`, '/usr/bin/python3.11'), cand('/usr/bin/python3', '/usr/bin/python3.11')],
    };
    const p = plan(policy(), ['python3'], host({ command }));
    expect(p.command.resolved).toBe('/usr/bin/python3');
  });
});

describe('plan: working directory', () => {
  it('a working directory that is not visible is E_PATH_INVALID', () => {
    const err = expectIsolateError(() => plan(policy({ cwd: '/srv/elsewhere' })), 'E_PATH_INVALID');
    expect(err.message).toContain('/srv/elsewhere');
    expect(err.fix).toContain('--allow-read /srv/elsewhere');
  });

  it('a denied working directory is E_PATH_INVALID when no tmpfs is above it', () => {
    const mounts = [rule('read', '/usr'), rule('write', '/srv/project'), rule('deny', '/srv/project')];
    expectIsolateError(() => plan(policy({ mounts, cwd: '/srv/project' })), 'E_PATH_INVALID');
  });

  it('a denied working directory is E_PATH_INVALID even when a tmpfs further up contains it', () => {
    // The project sits in the tmpfs home; `--deny .` (or a deny above the cwd) governs the cwd, so the
    // command would start in an empty directory (or bwrap would fail to chdir into a missing one).
    const denyProject = [...policy().filesystem.mounts, rule('deny', PROJECT)];
    expectIsolateError(() => plan(policy({ mounts: denyProject, cwd: PROJECT })), 'E_PATH_INVALID');
    const denySecret = [...policy().filesystem.mounts, rule('deny', `${PROJECT}/secret`)];
    expectIsolateError(() => plan(policy({ mounts: denySecret, cwd: `${PROJECT}/secret/x` })), 'E_PATH_INVALID');
  });

  it('a working directory inside a private tmpfs is allowed', () => {
    const p = plan(policy({ cwd: `${HOME}` }));
    expect(p.cwd).toBe(HOME);
    expectSeq(p.argv, ['--chdir', HOME]);
  });

  it('a read-only working directory is allowed', () => {
    expect(plan(policy({ cwd: '/etc' })).cwd).toBe('/etc');
  });
});

describe('plan: the kernel guard', () => {
  it('keeps the host-wide parts of /proc read-only and hides the rest, after the profile mounts, whoever runs isolate', () => {
    for (const uid of [0, 1000]) {
      const s = setup(plan(policy(), ['ls'], host({ uid })));
      const proc = expectSeq(s, ['--proc', '/proc']);
      expect(expectSeq(s, ['--ro-bind', '/proc/sys', '/proc/sys'])).toBeGreaterThan(proc);
      expect(expectSeq(s, ['--ro-bind', '/proc/sysrq-trigger', '/proc/sysrq-trigger'])).toBeGreaterThan(proc);
      expect(expectSeq(s, ['--ro-bind', '/dev/null', '/proc/keys'])).toBeGreaterThan(proc);
      const acpi = expectSeq(s, ['--perms', '0555', '--tmpfs', '/proc/acpi']);
      expect(expectSeq(s, ['--remount-ro', '/proc/acpi'])).toBeGreaterThan(acpi);
    }
  });

  it('acts only on what this kernel has, and on /sys only when the profile makes it visible', () => {
    const none = setup(plan(policy(), ['ls'], host({ kernelPaths: [{ path: '/proc/sys', dir: true }] })));
    expect(none.filter((a) => a.startsWith('/proc/'))).toEqual(['/proc/sys', '/proc/sys']);
    expect(setup(plan(policy())).join(' ')).not.toContain('/sys/firmware');
    const withSys = setup(plan(policy({ mounts: [...policy().filesystem.mounts, rule('read', '/sys')] })));
    expect(expectSeq(withSys, ['--perms', '0555', '--tmpfs', '/sys/firmware'])).toBeGreaterThan(expectSeq(withSys, ['--ro-bind', '/sys', '/sys']));
  });
});
