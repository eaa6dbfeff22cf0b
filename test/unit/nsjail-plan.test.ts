/**
 * The nsjail backend's pure plan: argv and config shape, the environment
 * kept off argv, the kafel policy generated from the same seccomp rules as
 * bwrap's filter, every rlimit set explicitly, mounts in bwrap's order, and
 * the fail-closed cases.
 */
import { describe, expect, it } from 'vitest';
import { rule } from '../helpers/mount-rule.js';
import { bwrapBackend } from '../../src/backends/bwrap.js';
import { FEATURES, assertEnforceable } from '../../src/backends/conformance.js';
import { NSJAIL_VERSION_MARKERS, mountPoints, nsjailVersionFromText } from '../../src/host/facts.js';
import {
  INIT_NAME,
  INIT_SCRIPT,
  INIT_SHELL,
  LAUNCH_NAME,
  LAUNCH_SCRIPT,
  LAUNCH_SHELL,
  NSJAIL_CONFIG_FD,
  NSJAIL_FIRST_PATH_FD,
  NSJAIL_STARTED_FD,
  checkNsjailHost,
  nsjailBackend,
  timeLimitSeconds,
} from '../../src/backends/nsjail.js';
import { mapConfigEnv, parseProtoString, protoString } from '../../src/backends/nsjail-proto.js';
import { bindStandIns } from '../../src/backends/nsjail-stand-ins.js';
import { NEWER_LISTED_UP_TO, USERNS_GUARD, X32_LISTED, X32_SYSCALL_BIT, kafelPolicy, nsjailSeccompRules } from '../../src/backends/nsjail-seccomp.js';
import type { CommandFact, HostFacts, Plan } from '../../src/backends/types.js';
import { BUILTIN_NAMES } from '../../src/profile/builtin.js';
import { applyOverrides, loadMergedProfile } from '../../src/profile/load.js';
import type { Limits, MountRule, Policy } from '../../src/profile/types.js';
import { CLONE_NAMESPACE_FLAGS, ERRNO_VALUES, resolveSeccomp, type SeccompRule } from '../../src/seccomp/presets.js';
import { highestKnownSyscall, syscallName, syscallNumber, type SeccompArch } from '../../src/seccomp/syscalls.js';
import { SYNTHETIC_KERNEL_PATHS, syntheticHost, syntheticPolicy, usrBinCommand, VARS } from '../golden/synthetic.js';
import { expectIsolateError } from './expect-error.js';
import { listingsFor } from '../helpers/sealed-listings.js';
import type { SealEntry } from '../../src/backends/types.js';

// ---- builders: everything is synthetic, nothing touches the disk ------------

const HOME = '/home/user';
const PROJECT = '/home/user/project';
const NSJAIL = { path: '/usr/local/bin/nsjail', version: '>=3.5' };

const BASE_MOUNTS: MountRule[] = [
  rule('tmpfs', '/tmp'),
  rule('tmpfs', HOME),
  rule('read', '/usr'),
  rule('read', '/etc'),
  rule('read', '/usr/bin', 'dir', '/bin'),
  rule('write', PROJECT),
];

interface PolicyOver {
  mounts?: MountRule[];
  network?: Policy['network']['mode'];
  cwd?: string;
  protect?: string[];
  env?: Partial<Policy['environment']>;
  limits?: Partial<Limits>;
  syscalls?: Partial<Policy['syscalls']>;
}

function policy(over: PolicyOver = {}): Policy {
  return {
    profile: { name: 'test', sources: ['builtin:test'], description: 'test' },
    filesystem: { mounts: over.mounts ?? BASE_MOUNTS, protect: over.protect ?? ['.git/hooks'], skipped: [] },
    network: { mode: over.network ?? 'none', allow: over.network === 'filtered' ? ['example.org'] : [], deny: [] },
    environment: { pass: ['PATH', 'HOME', 'LC_*'], set: {}, secrets: [], ...over.env },
    process: { cwd: over.cwd ?? PROJECT, hostname: 'isolate' },
    limits: { killAfterMs: 2000, enforce: 'rlimit', ...over.limits },
    syscalls: { preset: 'default', deny: [], allow: [], ...over.syscalls },
    commands: { allow: [], deny: [] },
    audit: { enabled: true, log: undefined, required: false },
  };
}

const LS: CommandFact = { program: 'ls', candidates: [{ path: '/usr/bin/ls', real: '/usr/bin/ls', isFile: true, executable: true }] };

const SECRET = 'ghp-secret-value-0123456789';
const LC_VALUE = 'C.UTF-8 with "quotes", a \\ backslash\nand a newline: ünïcödé';

function host(over: Partial<HostFacts> = {}): HostFacts {
  return {
    platform: 'linux',
    arch: 'x64',
    uid: 1000,
    gid: 1000,
    bwrap: undefined,
    nsjail: NSJAIL,
    prlimit: '/usr/bin/prlimit',
    kernelPaths: SYNTHETIC_KERNEL_PATHS,
    userns: { maxUserNamespaces: 63000, unprivilegedClone: undefined, apparmorRestrict: undefined },
    env: { PATH: '/usr/local/bin:/usr/bin:/bin', HOME, LC_ALL: LC_VALUE, LC_API_TOKEN: 'lc-secret-value', GITHUB_TOKEN: SECRET },
    protect: [],
    command: LS,
    ...over,
  };
}

/** The plan on `h`, which lists the policy's sealed directories as empty unless it has listings of its own. */
function plan(p: Policy = policy(), command: readonly string[] = ['ls', '-la'], h: HostFacts = host()): Plan {
  return nsjailBackend.plan(p, command, { sealed: listingsFor(p), ...h });
}

function config(p: Plan): string {
  expect(p.inputs).toHaveLength(1);
  const input = p.inputs?.[0];
  expect(input?.fd).toBe(NSJAIL_CONFIG_FD);
  return String(input?.data);
}

/** Top-level `name: value` lines of the config (messages and multi-line strings excluded). */
function fields(p: Plan): [string, string][] {
  return config(p)
    .split('\n')
    .filter((l) => /^[a-z_0-9]+: \S/.test(l))
    .map((l) => {
      const at = l.indexOf(': ');
      return [l.slice(0, at), l.slice(at + 2)];
    });
}

function field(p: Plan, name: string): string | undefined {
  const all = fields(p).filter(([n]) => n === name);
  expect(all.length, `${name} set more than once`).toBeLessThanOrEqual(1);
  return all[0]?.[1];
}

function mountLines(p: Plan): string[] {
  return config(p)
    .split('\n')
    .filter((l) => l.startsWith('mount {'));
}

/** The kafel policy from the config. */
function policyText(p: Plan): string {
  const lines = config(p).split('\n');
  const at = lines.indexOf('seccomp_string:');
  expect(at).toBeGreaterThan(0);
  const out: string[] = [];
  for (const l of lines.slice(at + 1)) {
    if (!l.startsWith('  "')) break;
    out.push(parseProtoString(l.trim()));
  }
  return out.join('');
}

/** The command part of argv: after nsjail's `--`. */
function commandPart(p: Plan): string[] {
  return p.argv.slice(p.argv.indexOf('--') + 1);
}

// ---- host checks -----------------------------------------------------------------

describe('checkNsjailHost', () => {
  it('returns nsjail on a good host', () => {
    expect(checkNsjailHost(host())).toEqual(NSJAIL);
  });

  it('nsjail missing is E_BACKEND_MISSING with the build-from-source instructions', () => {
    const err = expectIsolateError(() => checkNsjailHost(host({ nsjail: undefined })), 'E_BACKEND_MISSING');
    expect(err.message).toContain('refusing to run the command unsandboxed');
    expect(err.fix).toContain('build it from source');
    expect(err.fix).toContain('docs/backends.md, section "Installing nsjail"');
    expect(err.fix).toContain('libprotobuf-dev libnl-route-3-dev');
    expect(err.fix).toContain('git clone --recursive');
    expect(err.fix).toContain('ISOLATE_NSJAIL');
    const { nsjail: _omit, ...without } = host();
    void _omit;
    expectIsolateError(() => checkNsjailHost(without as HostFacts), 'E_BACKEND_MISSING');
  });

  it.each<NodeJS.Platform>(['darwin', 'win32', 'freebsd'])('%s is E_BACKEND_UNSUPPORTED, with or without nsjail', (platform) => {
    expectIsolateError(() => checkNsjailHost(host({ platform })), 'E_BACKEND_UNSUPPORTED');
    expectIsolateError(() => checkNsjailHost(host({ platform, nsjail: undefined })), 'E_BACKEND_UNSUPPORTED');
  });

  it('user namespace switches: disabled is E_USERNS_UNAVAILABLE (the AppArmor refusal names nsjail, and the sysctl that lifts it)', () => {
    expectIsolateError(() => checkNsjailHost(host({ uid: 0, userns: { maxUserNamespaces: 0, unprivilegedClone: undefined, apparmorRestrict: undefined } })), 'E_USERNS_UNAVAILABLE');
    expectIsolateError(() => checkNsjailHost(host({ userns: { maxUserNamespaces: 10, unprivilegedClone: 0, apparmorRestrict: undefined } })), 'E_USERNS_UNAVAILABLE');
    expect(checkNsjailHost(host({ uid: 0, userns: { maxUserNamespaces: 10, unprivilegedClone: 0, apparmorRestrict: 1 } }))).toEqual(NSJAIL);
    const err = expectIsolateError(
      () => checkNsjailHost(host({ nsjail: { path: '/opt/nsjail/bin/nsjail', version: '>=3.5' }, userns: { maxUserNamespaces: 10, unprivilegedClone: 1, apparmorRestrict: 1 } })),
      'E_USERNS_UNAVAILABLE',
    );
    expect(err.message).toContain('nsjail');
    expect(err.detail).toContain('/opt/nsjail/bin/nsjail');
    expect(err.fix).toContain('kernel.apparmor_restrict_unprivileged_userns=0');
  });

  it('plan() runs the same checks: it never returns a plan on a bad host', () => {
    expectIsolateError(() => plan(policy(), ['ls'], host({ nsjail: undefined })), 'E_BACKEND_MISSING');
    expectIsolateError(() => plan(policy(), ['ls'], host({ platform: 'darwin' })), 'E_BACKEND_UNSUPPORTED');
  });

  it('reads the release line from the option names nsjail has', () => {
    const base = 'seccomp_string rlimit_nofile';
    expect(nsjailVersionFromText(`${base} experimental_mnt use_pasta detect_cgroupv2 forward_signals disable_tsc`)).toBe('>=3.5');
    expect(nsjailVersionFromText(`${base} detect_cgroupv2 forward_signals disable_tsc`)).toBe('>=3.3');
    expect(nsjailVersionFromText(`${base} forward_signals disable_tsc`)).toBe('>=3.2');
    expect(nsjailVersionFromText(`${base} disable_tsc`)).toBe('>=3.1');
    expect(nsjailVersionFromText(base)).toBe('<=3.0');
    expect(nsjailVersionFromText('#!/bin/sh\nexec something')).toBeUndefined();
    expect(NSJAIL_VERSION_MARKERS.map(([, v]) => v)).toEqual(['>=3.5', '>=3.3', '>=3.2', '>=3.1']);
  });
});

// ---- argv and config --------------------------------------------------------------

describe('plan: argv and config', () => {
  it('argv: a host shell hands the config to nsjail, then the init, then the resolved command verbatim', () => {
    const args = ['-la', '--help', '', 'a b', "'q'", '$HOME', '--', 'new\nline'];
    const p = plan(policy(), ['ls', ...args]);
    expect(p.argv).toEqual([LAUNCH_SHELL, '-c', LAUNCH_SCRIPT, LAUNCH_NAME, NSJAIL.path, '--', INIT_SHELL, '-c', INIT_SCRIPT, INIT_NAME, '/usr/bin/ls', ...args]);
    expect(p.backend).toBe('nsjail');
    expect(p.backendVersion).toBe(NSJAIL.version);
    expect(p.command).toEqual({ program: 'ls', resolved: '/usr/bin/ls', args });
    expect(p.cwd).toBe(PROJECT);
  });

  it('the launch script reads the config from fd 3 and execs nsjail with --config on that descriptor', () => {
    expect(LAUNCH_SCRIPT).toContain('exec setpriv --pdeathsig KILL env -i "$nsjail" --config /proc/self/fd/3 "$@" 3<<'); // nsjail dies with isolate
    expect(LAUNCH_SCRIPT).toContain('$(cat <&3)');
    expect(LAUNCH_SCRIPT).not.toMatch(/\bexport\b/); // PATH for cat only: nsjail's own environment stays empty
    // The delimiter is unquoted: the here-document is expanded (that is what reads fd 3).
    expect(LAUNCH_SCRIPT).not.toMatch(/<<['"]/);
  });

  it('the init keeps stderr for the command only, reports the start on fd 4, waits for "go", closes fd 4, and exits with the command\'s status', () => {
    expect(NSJAIL_STARTED_FD).toBe(4);
    expect(INIT_SCRIPT).toBe('exec 3>&2 2>&-; printf . >&4; read -r go <&4 && [ "$go" = go ] || exit 125; exec 4>&-; (exec "$@" 2>&3 3>&-); exit $?');
  });

  it('hands the config on fd 3 and reads the start on fd 4: no args pipe, no status pipe, no BPF program', () => {
    const p = plan();
    expect(p.fds).toEqual({ started: NSJAIL_STARTED_FD });
    expect(p.closeFdFlag).toBeUndefined(); // nsjail closes every descriptor but pass_fd itself
    expect(p.pipedArgs).toEqual([]);
    expect(p.seccomp).toBeUndefined();
    expect(p.inputs?.map((i) => i.fd)).toEqual([3]);
    expect(p.launcherEnv).toEqual({});
    // The profile's binds, opened by run/ and checked in the sandbox as the protected names are (a link swapped in is refused).
    expect(p.pathFds).toEqual([
      { fd: 5, path: '/etc', readOnly: true, bind: true },
      { fd: 6, path: '/usr', readOnly: true, bind: true },
      { fd: 7, path: PROJECT, readOnly: false, bind: true },
    ]);
    expect(p.checkPathFds).toBe(true);
    // Only the start descriptor is passed into the sandbox (nsjail closes every other one before the init).
    expect(fields(p).filter(([n]) => n === 'pass_fd')).toEqual([['pass_fd', '4']]);
  });

  it('pins and protected files: run/ opens them (the paths and order of bwrap\'s --bind-fd), nsjail binds the paths, run/ checks the mounts', () => {
    const protect = [
      { path: `${PROJECT}/.git/hooks`, state: 'dir' as const, pins: [`${PROJECT}/.git`] },
      { path: `${PROJECT}/.git/config`, state: 'file' as const, pins: [`${PROJECT}/.git`] },
      { path: `${PROJECT}/.bashrc`, state: 'missing' as const, pins: [] },
      { path: `${PROJECT}/sub/.git/hooks`, state: 'dir' as const, pins: [`${PROJECT}/sub`, `${PROJECT}/sub/.git`] },
    ];
    const pol = policy({ protect: ['.git/hooks', '.git/config', '.bashrc'] });
    const h = host({ protect });
    const p = plan(pol, ['ls'], h);
    const paths = [`${PROJECT}/.git`, `${PROJECT}/.git/hooks`, `${PROJECT}/.git/config`, `${PROJECT}/.bashrc`, `${PROJECT}/sub`, `${PROJECT}/sub/.git`, `${PROJECT}/sub/.git/hooks`];
    // Pins are bound read-write, protected names read-only: run/ checks the mount at each path has that flag.
    // The missing .bashrc gets a placeholder run/ creates first.
    const readOnly = [false, true, true, true, false, false, true];
    const binds = [['/etc', true], ['/usr', true], [PROJECT, false]] as const;
    expect(p.pathFds).toEqual([
      ...paths.map((path, i) => ({ fd: NSJAIL_FIRST_PATH_FD + i, path, readOnly: readOnly[i], ...(i === 3 ? { create: true } : {}) })),
      // The profile's binds last.
      ...binds.map(([path, ro], i) => ({ fd: NSJAIL_FIRST_PATH_FD + paths.length + i, path, readOnly: ro, bind: true })),
    ]);
    expect(p.checkPathFds).toBe(true);
    expect(p.fds).toEqual({ started: NSJAIL_STARTED_FD });
    const bw = bwrapBackend.plan(pol, ['ls'], { sealed: listingsFor(pol), ...h, bwrap: { path: '/usr/bin/bwrap', version: '0.8.0' } });
    expect(p.pathFds?.map((e) => e.path)).toEqual(bw.pathFds?.map((e) => e.path));
    // The descriptors never enter the sandbox: only the start descriptor is passed.
    expect(fields(p).filter(([n]) => n === 'pass_fd')).toEqual([['pass_fd', '4']]);
    expect(commandPart(p)).toEqual([INIT_SHELL, '-c', INIT_SCRIPT, INIT_NAME, '/usr/bin/ls']);
    // nsjail cannot bind a descriptor of another mount namespace (EINVAL): the mounts name the paths.
    const lines = mountLines(p);
    expect(lines).toContain(`mount { src: "${PROJECT}/.git" dst: "${PROJECT}/.git" is_bind: true rw: true is_dir: true nosuid: true nodev: true }`);
    expect(lines).toContain(`mount { src: "${PROJECT}/.git/hooks" dst: "${PROJECT}/.git/hooks" is_bind: true rw: false is_dir: true nosuid: true nodev: true }`);
    expect(lines.filter((l) => l.includes('is_bind: true') && l.includes('/proc/self/fd'))).toEqual([]);
  });

  it('without the init nothing is passed into the sandbox, the start cannot be told, and the summary says so', () => {
    const p = plan(policy({ mounts: [rule('read', '/usr'), rule('write', PROJECT)] }), ['ls'], host());
    expect(p.fds).toEqual({});
    expect(p.checkPathFds).toBeUndefined();
    expect(p.pathFds).toBeUndefined();
    expect(fields(p).filter(([n]) => n === 'pass_fd')).toEqual([]);
    expect(commandPart(p)).toEqual(['/usr/bin/ls']);
    const notes = p.summary.notes.join('\n');
    expect(notes).toMatch(/exit status 255 may be nsjail's own setup failure/);
  });

  it('without the init, protected paths in a writable root are refused: nothing could check nsjail\'s mounts before the command starts', () => {
    const h = host({ protect: [{ path: `${PROJECT}/.git/hooks`, state: 'dir', pins: [`${PROJECT}/.git`] }] });
    const e = expectIsolateError(() => plan(policy({ mounts: [rule('read', '/usr'), rule('write', PROJECT)] }), ['ls'], h), 'E_SANDBOX_SETUP');
    expect(e.exitCode).toBe(125);
    expect(e.message).toBe('/bin/sh is not visible inside the sandbox, so isolate cannot check that nsjail mounted the protected paths before the command starts');
    expect(e.detail).toBe(`protected or pinned: ${PROJECT}/.git, ${PROJECT}/.git/hooks`);
    expect(e.fix).toMatch(/--allow-read \/bin/);
    // A protected file alone (no pin) is refused as well, and so is a missing one (its placeholder is checked the same way).
    const file = host({ protect: [{ path: `${PROJECT}/.bashrc`, state: 'file', pins: [] }] });
    expectIsolateError(() => plan(policy({ mounts: [rule('read', '/usr'), rule('write', PROJECT)] }), ['ls'], file), 'E_SANDBOX_SETUP');
    const missing = host({ protect: [{ path: `${PROJECT}/.bashrc`, state: 'missing', pins: [] }] });
    expectIsolateError(() => plan(policy({ mounts: [rule('read', '/usr'), rule('write', PROJECT)] }), ['ls'], missing), 'E_SANDBOX_SETUP');
    // With /bin/sh visible the same protection plans, and is checked.
    expect(plan(policy(), ['ls'], h).checkPathFds).toBe(true);
  });

  it('mode ONCE, quiet logging, no kept capabilities, no_new_privs kept, setsid, every namespace', () => {
    const p = plan();
    expect(field(p, 'mode')).toBe('ONCE');
    expect(field(p, 'log_level')).toBe('ERROR');
    expect(field(p, 'keep_caps')).toBe('false');
    expect(field(p, 'disable_no_new_privs')).toBe('false');
    expect(field(p, 'skip_setsid')).toBe('false');
    expect(field(p, 'keep_env')).toBe('false');
    expect(field(p, 'hostname')).toBe('"isolate"');
    expect(field(p, 'cwd')).toBe(`"${PROJECT}"`);
    expect(field(p, 'nice_level')).toBe('0');
    expect(config(p)).not.toMatch(/^cap: /m);
    for (const ns of ['net', 'user', 'ns', 'pid', 'ipc', 'uts', 'cgroup']) expect(field(p, `clone_new${ns}`), ns).toBe('true');
    expect(field(p, 'clone_newtime')).toBeUndefined();
    expect(p.summary.namespaces).toEqual(['user', 'pid', 'ipc', 'uts', 'cgroup', 'mount', 'net']);
    // Nothing on argv that would weaken it either.
    for (const bad of ['--keep_caps', '--disable_no_new_privs', '--skip_setsid', '--keep_env', '-e', '--disable_clone_newnet', '-N', '--cap']) expect(p.argv).not.toContain(bad);
    // Only fields nsjail 3.0 already has (older configs must not fail on unknown fields).
    for (const newer of ['forward_signals', 'rlimit_memlock', 'rlimit_rtprio', 'rlimit_msgqueue', 'disable_tsc', 'user_net', 'clone_newtime']) {
      expect(config(p)).not.toMatch(new RegExp(`^${newer}`, 'm'));
    }
  });

  it('the same uid and gid inside', () => {
    const p = plan(policy(), ['ls'], host({ uid: 1234, gid: 567 }));
    expect(config(p)).toContain('uidmap { inside_id: "1234" outside_id: "1234" count: 1 }');
    expect(config(p)).toContain('gidmap { inside_id: "567" outside_id: "567" count: 1 }');
    const root = plan(policy(), ['ls'], host({ uid: 0, gid: 0 }));
    expect(config(root)).toContain('uidmap { inside_id: "0" outside_id: "0" count: 1 }');
  });

  it('network host: no new network namespace; none and filtered: one', () => {
    const hostNet = plan(policy({ network: 'host' }));
    expect(field(hostNet, 'clone_newnet')).toBe('false');
    expect(hostNet.summary.namespaces).toEqual(['user', 'pid', 'ipc', 'uts', 'cgroup', 'mount']);
    expect(field(plan(policy({ network: 'none' })), 'clone_newnet')).toBe('true');
    const filtered = plan(policy({ network: 'filtered' }), ['ls'], host({ network: { socat: '/usr/bin/socat', shell: '/bin/sh', socketDir: '/tmp/isolate-net-x' } }));
    expect(field(filtered, 'clone_newnet')).toBe('true');
  });

  it('an empty command is E_COMMAND_EMPTY; a hidden working directory is E_PATH_INVALID', () => {
    expectIsolateError(() => plan(policy(), []), 'E_COMMAND_EMPTY');
    expectIsolateError(() => plan(policy(), ['']), 'E_COMMAND_EMPTY');
    expectIsolateError(() => plan(policy({ cwd: '/srv/elsewhere' })), 'E_PATH_INVALID');
  });

  it('the command is resolved as for bwrap: 127 when not found, 126 when not executable', () => {
    const missing: CommandFact = { program: 'nope', candidates: [] };
    expect(expectIsolateError(() => plan(policy(), ['nope'], host({ command: missing })), 'E_COMMAND_NOT_FOUND').exitCode).toBe(127);
    const notExec: CommandFact = { program: 'x', candidates: [{ path: '/usr/bin/x', real: '/usr/bin/x', isFile: true, executable: false }] };
    expect(expectIsolateError(() => plan(policy(), ['x'], host({ command: notExec })), 'E_COMMAND_NOT_EXECUTABLE').exitCode).toBe(126);
  });

  it('does not modify the policy or the host facts, and is deterministic', () => {
    const pol = policy();
    const h = host({ protect: [{ path: `${PROJECT}/.git/hooks`, state: 'dir', pins: [`${PROJECT}/.git`] }] });
    const before = structuredClone({ pol, h });
    const a = nsjailBackend.plan(pol, ['ls'], h);
    expect({ pol, h }).toEqual(before);
    const reversed = policy({ mounts: [...pol.filesystem.mounts].reverse() });
    const b = nsjailBackend.plan(reversed, ['ls'], h);
    expect(b.argv).toEqual(a.argv);
    expect(config(b)).toEqual(config(a));
  });

  it('without /bin/sh in the sandbox the command runs as PID 1, and the summary says what that means', () => {
    const p = plan(policy({ mounts: [rule('read', '/usr'), rule('write', PROJECT)] }));
    expect(commandPart(p)).toEqual(['/usr/bin/ls', '-la']);
    expect(p.summary.notes.join('\n')).toMatch(/runs as PID 1/);
  });
});

// ---- environment -----------------------------------------------------------------

describe('plan: environment', () => {
  it('the values are in the config only: never on argv, and nsjail itself starts with an empty environment', () => {
    const p = plan(policy({ env: { pass: ['PATH', 'HOME', 'LC_*', 'GITHUB_TOKEN'] } }));
    expect(p.childEnv).toEqual({ PATH: '/usr/local/bin:/usr/bin:/bin', HOME, LC_ALL: LC_VALUE, GITHUB_TOKEN: SECRET });
    const argv = p.argv.join('\0');
    for (const value of [SECRET, LC_VALUE, 'lc-secret-value', '/usr/local/bin:/usr/bin:/bin']) expect(argv).not.toContain(value);
    expect(p.launcherEnv).toEqual({});
    const envars = config(p)
      .split('\n')
      .filter((l) => l.startsWith('envar: '))
      .map((l) => parseProtoString(l.slice('envar: '.length)));
    expect(envars).toEqual([`GITHUB_TOKEN=${SECRET}`, `HOME=${HOME}`, `LC_ALL=${LC_VALUE}`, 'PATH=/usr/local/bin:/usr/bin:/bin', `PWD=${PROJECT}`]);
  });

  it('secret-looking names are withheld from wildcards', () => {
    const p = plan();
    expect(p.withheldEnv).toEqual(['LC_API_TOKEN']);
    expect(config(p)).not.toContain('lc-secret-value');
    expect(config(p)).not.toContain(SECRET);
    expect(p.summary.env).toEqual(['HOME', 'LC_ALL', 'PATH']);
  });

  it('PWD is the working directory, as bwrap sets it, and not part of the reported environment', () => {
    const p = plan(policy(), ['ls'], host({ env: { PWD: '/caller/pwd', PATH: '/usr/bin' } }));
    expect(config(p)).toContain(`envar: "PWD=${PROJECT}"`);
    expect(config(p)).not.toContain('/caller/pwd');
    expect(p.childEnv['PWD']).toBeUndefined();
  });

  it('mapConfigEnv rewrites exactly the values (for explain and golden files)', () => {
    const p = plan(policy({ env: { pass: ['PATH', 'HOME', 'LC_*', 'GITHUB_TOKEN'] } }));
    const redacted = mapConfigEnv(config(p), (name) => `$${name}`);
    for (const value of [SECRET, LC_VALUE]) expect(redacted).not.toContain(value);
    expect(redacted).toContain('envar: "GITHUB_TOKEN=$GITHUB_TOKEN"');
    expect(redacted.replace(/^envar: .*\n/gm, '')).toEqual(config(p).replace(/^envar: .*\n/gm, ''));
    expect(mapConfigEnv(config(p), (_n, v) => v)).toEqual(config(p));
  });

  it('nothing from the profile or the environment can add a line to the config', () => {
    const evil = 'x"\nkeep_caps: true\ndisable_no_new_privs: true\n#';
    const pol = policy({ env: { pass: ['PATH', 'EVIL'], set: { [`SET`]: evil } } });
    pol.process.hostname = evil;
    pol.profile.name = evil;
    const p = plan(pol, ['ls'], host({ env: { PATH: '/usr/bin', EVIL: evil } }));
    const lines = config(p).split('\n');
    expect(lines.filter((l) => /^(keep_caps|disable_no_new_privs): /.test(l))).toEqual(['keep_caps: false', 'disable_no_new_privs: false']);
    expect(lines.filter((l) => l.startsWith('envar: ')).map((l) => parseProtoString(l.slice(7)))).toEqual([`EVIL=${evil}`, 'PATH=/usr/bin', `SET=${evil}`, `PWD=${PROJECT}`]);
    expect(field(p, 'hostname')).toBe(protoString(evil));
  });

  it('protoString escapes quotes, backslashes, newlines and non-ASCII bytes, and round-trips', () => {
    for (const s of ['', 'plain', 'a "b" c', 'back\\slash', 'new\nline', 'tab\there', '\u0001\u007f', 'ünïcödé ✓ 🎉', "it's $HOME `x`"]) {
      const lit = protoString(s);
      expect(lit).toMatch(/^"[\x20-\x7e]*"$/);
      expect(parseProtoString(lit)).toBe(s);
    }
    expect(protoString('a"b\\c\nd')).toBe('"a\\"b\\\\c\\nd"');
    expect(protoString('é')).toBe('"\\303\\251"');
  });
});

// ---- seccomp ---------------------------------------------------------------------

/** SYSCALL[n] entries of a kafel policy, in order, with their errno and condition (x32 rows excluded). */
function kafelEntries(text: string, arch: SeccompArch): { name: string; errno: number; cond: string | undefined }[] {
  const out: { name: string; errno: number; cond: string | undefined }[] = [];
  let errno = -1;
  for (const line of text.split('\n')) {
    const block = /^ {2}ERRNO\((\d+)\) \{/.exec(line);
    if (block?.[1] !== undefined) errno = Number(block[1]);
    const m = /^ {4}SYSCALL\[(\d+)\](?:\(([a0-9, ]+)\) \{ (.*) \})?,? \/\/ (\S+)$/.exec(line);
    if (m?.[1] === undefined) continue;
    const name = syscallName(arch, Number(m[1]));
    expect(name, `number ${m[1]}`).toBe(m[4]);
    out.push({ name: name ?? '?', errno, cond: m[3] });
  }
  return out;
}

function expectedEntries(rules: readonly SeccompRule[], arch: SeccompArch): { name: string; errno: number }[] {
  return rules.filter((r) => syscallNumber(arch, r.syscall) !== undefined).map((r) => ({ name: r.syscall, errno: ERRNO_VALUES[r.errno] }));
}

describe('plan: seccomp as a kafel policy', () => {
  it('is generated from resolveSeccomp, the same rules bwrap compiles, in the same order', () => {
    const p = plan();
    const text = policyText(p);
    const rules = resolveSeccomp(policy().syscalls).rules;
    // The default preset already names unshare, clone and clone3: no guard rule is added.
    expect(nsjailSeccompRules(rules)).toEqual(rules);
    expect(kafelEntries(text, 'x86_64').map(({ name, errno }) => ({ name, errno }))).toEqual(expectedEntries(rules, 'x86_64'));
    expect(text).toMatch(/^USE isolate DEFAULT ALLOW$/m);
    expect(text.startsWith('// Generated by isolate')).toBe(true);
    expect(p.summary.seccomp).toMatchObject({ preset: 'default', install: true, arch: 'x86_64' });
    expect(p.summary.seccomp.rules).toHaveLength(rules.length + 1); // and the line on calls newer than the tables
  });

  it('uses ERRNO(1) and ERRNO(38) only, with DEFAULT ALLOW: nothing is killed', () => {
    const text = policyText(plan());
    const actions = [...text.matchAll(/\b(ALLOW|KILL\w*|DENY|TRAP|TRACE|LOG|USER_NOTIF|ERRNO)\b(\(\d+\))?/g)].map((m) => `${m[1]}${m[2] ?? ''}`);
    expect(new Set(actions)).toEqual(new Set(['ERRNO(1)', 'ERRNO(38)', 'ALLOW']));
  });

  it('argument conditions compare the low 32 bits: TIOCSTI/TIOCLINUX, the clone namespace flags, personality', () => {
    const entries = kafelEntries(policyText(plan()), 'x86_64');
    const cond = (name: string): string | undefined => entries.find((e) => e.name === name)?.cond;
    expect(cond('ioctl')).toBe('(a1 & 0xffffffff) == 0x5412 || (a1 & 0xffffffff) == 0x541c');
    expect(cond('clone')).toBe(`(a0 & 0x${(Object.values(CLONE_NAMESPACE_FLAGS).reduce((a, b) => (a | b) >>> 0, 0)).toString(16)}) != 0`);
    expect(cond('clone')).toBe('(a0 & 0x7e020000) != 0');
    expect(cond('personality')).toBe(
      '(a0 & 0xffffffff) != 0x0 && (a0 & 0xffffffff) != 0x8 && (a0 & 0xffffffff) != 0x20000 && (a0 & 0xffffffff) != 0x20008 && (a0 & 0xffffffff) != 0xffffffff',
    );
    expect(cond('ptrace')).toBeUndefined();
    // Every declared argument list reaches the argument tested.
    expect(policyText(plan())).toContain('SYSCALL[16](a0, a1) {');
    expect(policyText(plan())).toContain('SYSCALL[135](a0) {');
  });

  it('x86_64: every x32 number from 0x40000000 is refused with EPERM, as the BPF filter refuses them', () => {
    const text = policyText(plan());
    const x32 = [...text.matchAll(/SYSCALL\[0x([0-9a-f]+)\]/g)].map((m) => Number.parseInt(m[1] ?? '', 16));
    expect(x32).toEqual(Array.from({ length: X32_LISTED }, (_, i) => X32_SYSCALL_BIT + i));
    const block = text.slice(text.indexOf('x32 ABI'), text.lastIndexOf('ERRNO(', text.indexOf('newer than isolate')));
    expect(text.slice(text.lastIndexOf('ERRNO(', text.indexOf('x32 ABI')), text.indexOf('x32 ABI'))).toBe('ERRNO(1) { // ');
    expect(block).not.toContain('ERRNO(38)');
  });

  it('every number above the tables, up to NEWER_LISTED_UP_TO, is refused with ENOSYS, as the BPF filter refuses them', () => {
    for (const arch of ['x86_64', 'aarch64'] as const) {
      const text = kafelPolicy(resolveSeccomp({ preset: 'default' }).rules, arch, true);
      const block = text.slice(text.indexOf('newer than isolate'));
      expect(text.slice(text.lastIndexOf('ERRNO(', text.indexOf('newer than isolate')), text.indexOf('newer than isolate'))).toBe('ERRNO(38) { // ');
      const numbers = [...block.matchAll(/SYSCALL\[(\d+)\]/g)].map((m) => Number(m[1]));
      expect(numbers).toEqual(Array.from({ length: NEWER_LISTED_UP_TO - highestKnownSyscall(arch) }, (_, i) => highestKnownSyscall(arch) + 1 + i));
    }
  });

  it('aarch64: numbers from the aarch64 table, no x32 block; names the architecture lacks are skipped', () => {
    const rules = resolveSeccomp({ preset: 'default' }).rules;
    const text = kafelPolicy(rules, 'aarch64');
    expect(text).not.toContain('0x40000000');
    const entries = kafelEntries(text, 'aarch64');
    expect(entries.map(({ name, errno }) => ({ name, errno }))).toEqual(expectedEntries(rules, 'aarch64'));
    for (const gone of ['iopl', 'ioperm', 'uselib']) expect(entries.map((e) => e.name)).not.toContain(gone);
    expect(plan(policy(), ['ls'], host({ arch: 'arm64' })).summary.seccomp.arch).toBe('aarch64');
  });

  it('follows the profile: allow removes a rule, deny adds an unconditional EPERM', () => {
    const p = plan(policy({ syscalls: { allow: ['ptrace'], deny: ['chroot', 'ioctl'] } }));
    const entries = kafelEntries(policyText(p), 'x86_64');
    const names = entries.map((e) => e.name);
    expect(names).not.toContain('ptrace');
    expect(entries.find((e) => e.name === 'chroot')).toEqual({ name: 'chroot', errno: 1, cond: undefined });
    expect(entries.find((e) => e.name === 'ioctl')).toEqual({ name: 'ioctl', errno: 1, cond: undefined });
    expect(names.filter((n) => n === 'ioctl')).toHaveLength(1);
  });

  it('keeps nested user namespaces off even with preset none or unshare allowed (nsjail has no --disable-userns)', () => {
    const none = plan(policy({ syscalls: { preset: 'none' } }));
    const entries = kafelEntries(policyText(none), 'x86_64');
    expect(entries.map(({ name, errno }) => ({ name, errno }))).toEqual([
      { name: 'unshare', errno: 1 },
      { name: 'clone', errno: 1 },
      { name: 'clone3', errno: 38 },
    ]);
    expect(entries[0]?.cond).toBe(`(a0 & 0x${(CLONE_NAMESPACE_FLAGS['CLONE_NEWUSER'] ?? 0).toString(16)}) != 0`);
    expect(none.summary.seccomp.install).toBe(true);
    expect(none.summary.seccomp.preset).toBe('none');
    expect(none.summary.notes.join('\n')).toContain('unshare, clone, clone3 refused as shown even where the profile allows them');

    const allowUnshare = plan(policy({ syscalls: { allow: ['unshare'] } }));
    const u = kafelEntries(policyText(allowUnshare), 'x86_64').filter((e) => e.name === 'unshare');
    expect(u).toEqual([{ name: 'unshare', errno: 1, cond: '(a0 & 0x10000000) != 0' }]);
    expect(USERNS_GUARD.map((g) => g.syscall)).toEqual(['unshare', 'clone', 'clone3']);
  });

  it('an architecture without tables is E_SECCOMP_UNSUPPORTED', () => {
    expectIsolateError(() => plan(policy(), ['ls'], host({ arch: 'riscv64' })), 'E_SECCOMP_UNSUPPORTED');
  });

  it('the policy sits in one seccomp_string field, one literal per line', () => {
    const text = config(plan());
    expect(text.match(/^seccomp_string:/gm)).toHaveLength(1);
    expect(text).not.toMatch(/^seccomp_policy_file/m);
  });
});

// ---- limits ----------------------------------------------------------------------

describe('plan: rlimits and the time limit', () => {
  it('without limits every rlimit is still set, none to nsjail\'s defaults, and prlimit is not needed', () => {
    const p = plan();
    expect(fields(p).filter(([n]) => n.startsWith('rlimit_'))).toEqual([
      ['rlimit_as_type', 'HARD'],
      ['rlimit_core', '0'],
      ['rlimit_core_type', 'VALUE'],
      ['rlimit_cpu_type', 'HARD'],
      ['rlimit_fsize_type', 'HARD'],
      ['rlimit_nofile_type', 'HARD'],
      ['rlimit_nproc_type', 'HARD'],
      ['rlimit_stack_type', 'SOFT'],
    ]);
    expect(field(p, 'disable_rl')).toBeUndefined();
    expect(commandPart(p)).not.toContain('/usr/bin/prlimit');
    expect(field(p, 'time_limit')).toBe('0');
    // prlimit is only needed for what nsjail cannot express.
    expect(plan(policy(), ['ls', '-la'], host({ prlimit: undefined })).argv).toEqual(p.argv);
    expect(p.summary.limits.join('\n')).toContain('not limited by the profile: CPU time, file size, open files, processes, memory');
  });

  it('open files and processes: nsjail sets them exactly', () => {
    const p = plan(policy({ limits: { openFiles: 256, processes: 64 } }));
    expect(field(p, 'rlimit_nofile')).toBe('256');
    expect(field(p, 'rlimit_nofile_type')).toBe('VALUE');
    expect(field(p, 'rlimit_nproc')).toBe('64');
    expect(field(p, 'rlimit_nproc_type')).toBe('VALUE');
    expect(commandPart(p)).not.toContain('/usr/bin/prlimit');
  });

  it('file size: whole MiB by nsjail; anything else also by prlimit, exactly', () => {
    const mib = plan(policy({ limits: { fileSizeBytes: 3 * 1024 * 1024 } }));
    expect(field(mib, 'rlimit_fsize')).toBe('3');
    expect(commandPart(mib)).not.toContain('/usr/bin/prlimit');
    const odd = plan(policy({ limits: { fileSizeBytes: 100 * 1024 } }));
    expect(field(odd, 'rlimit_fsize')).toBe('1');
    const cmd = commandPart(odd);
    expect(cmd.slice(cmd.indexOf('/usr/bin/prlimit'))).toEqual(['/usr/bin/prlimit', '--fsize=102400', '--', '/usr/bin/ls', '-la']);
  });

  it('CPU: the hard limit (SIGKILL) by nsjail, the soft limit (SIGXCPU a second earlier) by prlimit', () => {
    const p = plan(policy({ limits: { cpuSeconds: 10 } }));
    expect(field(p, 'rlimit_cpu')).toBe('11');
    expect(field(p, 'rlimit_cpu_type')).toBe('VALUE');
    expect(commandPart(p)).toContain('--cpu=10:11');
  });

  it('memory is RLIMIT_DATA, as with bwrap: by prlimit, never RLIMIT_AS', () => {
    const p = plan(policy({ limits: { memoryBytes: 512 * 1024 * 1024 } }));
    expect(commandPart(p)).toContain(`--data=${512 * 1024 * 1024}`);
    expect(field(p, 'rlimit_as')).toBeUndefined();
    expect(field(p, 'rlimit_as_type')).toBe('HARD');
  });

  it('prlimit comes after the init and before the command (and before the network forwarder)', () => {
    const p = plan(policy({ network: 'filtered', limits: { memoryBytes: 1024 * 1024 } }), ['ls'], host({ network: { socat: '/usr/bin/socat', shell: '/bin/sh', socketDir: '/tmp/isolate-net-x' } }));
    const cmd = commandPart(p);
    expect(cmd.slice(0, 4)).toEqual([INIT_SHELL, '-c', INIT_SCRIPT, INIT_NAME]);
    expect(cmd.slice(4, 7)).toEqual(['/usr/bin/prlimit', `--data=${1024 * 1024}`, '--']);
    expect(cmd[7]).toBe('/bin/sh');
    expect(cmd[10]).toBe('isolate-net');
    expect(cmd.slice(11)).toEqual(['/usr/bin/ls']);
  });

  it('prlimit missing or hidden when it is needed is E_PRLIMIT_MISSING', () => {
    expectIsolateError(() => plan(policy({ limits: { memoryBytes: 1024 } }), ['ls'], host({ prlimit: undefined })), 'E_PRLIMIT_MISSING');
    expectIsolateError(() => plan(policy({ limits: { cpuSeconds: 1 } }), ['ls'], host({ prlimit: '/opt/util/prlimit' })), 'E_PRLIMIT_MISSING');
  });

  it('a process limit as root is refused, as with bwrap; so is cgroup enforcement', () => {
    expectIsolateError(() => plan(policy({ limits: { processes: 10 } }), ['ls'], host({ uid: 0 })), 'E_LIMIT_UNENFORCEABLE');
    expect(field(plan(policy({ limits: { processes: 10 } })), 'rlimit_nproc')).toBe('10');
    expectIsolateError(() => plan(policy({ limits: { enforce: 'cgroup' } })), 'E_CGROUP_UNAVAILABLE');
    expect(config(plan())).not.toMatch(/^(cgroup_|use_cgroupv2|detect_cgroupv2)/m);
  });

  it('cgroup pids.max: the profile\'s number for the command, plus nsjail, its init and the forwarder (each when there is one)', () => {
    const cg = { cgroup: { version: 2 as const, parents: { memory: '/c', pids: '/c' }, name: 'isolate-1-a' } };
    const net = { network: { socat: '/usr/bin/socat', shell: '/bin/sh', socketDir: '/tmp/isolate-net-x' } };
    const noSh = [rule('read', '/usr'), rule('write', PROJECT)];
    const pidsMax = (p: Plan): string | undefined => p.cgroup?.writes.find((w) => w.file === '/c/isolate-1-a/pids.max')?.value;
    const line = (p: Plan): string | undefined => p.summary.limits.find((l) => l.startsWith('processes: 5 processes'));
    const cases: [Plan, string, string][] = [
      // nsjail, and the init (/bin/sh as PID 1) that starts the command.
      [plan(policy({ limits: { processes: 5 } }), ['ls'], host(cg)), '7', 'counting 2 of nsjail and its init\'s own'],
      [plan(policy({ network: 'filtered', limits: { processes: 5 } }), ['ls'], host({ ...cg, ...net })), '8', 'counting 3 of nsjail, its init and the network forwarder\'s own'],
      // Without /bin/sh in the sandbox there is no init: the command is PID 1.
      [plan(policy({ mounts: noSh, limits: { processes: 5 } }), ['ls'], host(cg)), '6', 'counting 1 of nsjail\'s own'],
    ];
    for (const [p, max, counting] of cases) {
      expect(pidsMax(p)).toBe(max);
      expect(line(p)).toContain(`pids.max ${max}, ${counting}`);
    }
    // The same as root (where the cgroup is the only process limit).
    expect(pidsMax(plan(policy({ limits: { processes: 5 } }), ['ls'], host({ ...cg, uid: 0, gid: 0 })))).toBe('7');
  });

  it('time_limit: 0 without a timeout; with one, a backstop after isolate\'s own timeout and grace period', () => {
    expect(timeLimitSeconds({ killAfterMs: 2000, enforce: 'rlimit' })).toBe(0);
    for (const [timeoutMs, killAfterMs, expected] of [
      [1000, 2000, 4],
      [1500, 2000, 5],
      [90_000, 2000, 93],
      [500, 0, 2],
    ] as const) {
      const l: Limits = { timeoutMs, killAfterMs, enforce: 'rlimit' };
      expect(timeLimitSeconds(l)).toBe(expected);
      expect(timeLimitSeconds(l) * 1000).toBeGreaterThanOrEqual(timeoutMs + killAfterMs + 1000);
      expect(field(plan(policy({ limits: { timeoutMs, killAfterMs } })), 'time_limit')).toBe(String(expected));
    }
  });
});

// ---- mounts ----------------------------------------------------------------------

/** The fields of one `mount { ... }` line of the config. */
function mountFields(line: string): Map<string, string> {
  const fields = new Map<string, string>();
  for (const m of line.matchAll(/(\w+): ("(?:[^"\\]|\\.)*"|\S+)/g)) fields.set(m[1] ?? '', m[2]?.startsWith('"') === true ? parseProtoString(m[2]) : (m[2] ?? ''));
  return fields;
}

/**
 * The config's mounts after the minimal /dev, read back into bwrap's syntax,
 * to compare with what bwrap's plan does: both render one list of setup
 * operations, and this checks, from their output alone, that neither drops,
 * reorders or changes one.
 */
function nsjailAsBwrapArgs(p: Plan): string[] {
  const lines = mountLines(p);
  const args: string[] = [];
  const remount: string[] = [];
  for (const line of lines.slice(lines.findIndex((l) => l.includes('dst: "/dev/ptmx"')) + 1)) {
    const f = mountFields(line);
    const dst = f.get('dst') ?? '';
    const options = new Map((f.get('options') ?? '').split(',').map((o) => o.split('=') as [string, string]));
    if (f.get('fstype') === 'tmpfs' && f.get('rw') === 'false') {
      args.push('--perms', options.get('mode') ?? '', '--tmpfs', dst);
      remount.push(dst);
    } else if (f.get('fstype') === 'tmpfs') args.push(...(options.has('size') ? ['--size', options.get('size') ?? ''] : []), '--tmpfs', dst);
    else if (f.get('is_symlink') === 'true') args.push('--symlink', f.get('src') ?? '', dst);
    else if (f.get('mandatory') === 'false') args.push('--ro-bind-try', f.get('src') ?? '', dst);
    else args.push(f.get('rw') === 'true' ? '--bind' : '--ro-bind', f.get('src') ?? '', dst);
  }
  return [...args, ...remount.flatMap((path) => ['--remount-ro', path])];
}

/**
 * The mount part of a bwrap plan: after --dev /dev and its /dev/shm, up to
 * --chdir (net mounts, the final read-only /dev and root excluded: nsjail's
 * system mounts, and nsjail makes its own root read-only).
 */
function bwrapMounts(p: Plan): string[] {
  const start = p.argv.indexOf('/dev/shm') + 1;
  const end = p.argv.indexOf('--chdir');
  const raw = p.argv.slice(start, end);
  for (const system of ['/dev', '/']) {
    const readOnly = raw.findIndex((a, i) => a === '--remount-ro' && raw[i + 1] === system);
    if (readOnly !== -1) raw.splice(readOnly, 2);
  }
  // Descriptor binds (run/ opens the path without following symlinks) mean the same path bind.
  const part: string[] = [];
  for (let i = 0; i < raw.length; i++) {
    const a = raw[i] ?? '';
    if (a === '--bind-fd' || a === '--ro-bind-fd') {
      const dest = raw[i + 2] ?? '';
      part.push(a === '--bind-fd' ? '--bind' : '--ro-bind', dest, dest);
      i += 2;
    } else {
      part.push(a);
    }
  }
  const net = part.indexOf('/run/isolate');
  return net === -1 ? part : part.slice(0, net - 2);
}

function bothPlans(pol: Policy, given: HostFacts = host()): { ns: Plan; bw: Plan } {
  const h = { sealed: listingsFor(pol, { '/etc': SEALED_ETC }), standIns: '/run/user/1000/isolate/stand-ins', ...given };
  const bh = { ...h, bwrap: { path: '/usr/bin/bwrap', version: '0.8.0' } };
  return { ns: nsjailBackend.plan(pol, ['ls'], h), bw: bwrapBackend.plan(pol, ['ls'], bh) };
}

/** What /etc holds when it is sealed: a file, a directory, a link, a socket. */
const SEALED_ETC: SealEntry[] = [
  { name: 'hosts', type: 'file' },
  { name: 'apt', type: 'dir' },
  { name: 'localtime', type: 'symlink', target: '/usr/share/zoneinfo/UTC' },
  { name: 'agent.sock', type: 'other' },
];

describe('plan: sealed entries that changed since the listing', () => {
  it("the config is marked for run/ to bind them from stand-ins, and each entry's bind is one run/ can point at its stand-in", () => {
    const { ns } = bothPlans(policy({ mounts: [...BASE_MOUNTS, rule('deny', '/etc/shadow', 'file')] }));
    const input = ns.inputs?.[0];
    expect(input?.sealedBinds).toBe(true);
    const sealedPaths = (ns.pathFds ?? []).flatMap((e) => (e.seal === undefined ? [] : [e.path]));
    expect(sealedPaths.length).toBeGreaterThan(0);
    const before = String(input?.data).split('\n');
    const after = bindStandIns(String(input?.data), new Map(sealedPaths.map((p) => [p, '/run/stand-in']))).split('\n');
    const changed = after.filter((line, i) => line !== before[i]);
    expect(changed).toHaveLength(sealedPaths.length);
    for (const line of changed) expect(line).toMatch(/^mount \{ src: "\/run\/stand-in" dst: ".*" is_bind: true rw: false /);
  });

  it('a plan that seals nothing leaves the config unmarked', () => {
    const ns = nsjailBackend.plan(policy(), ['ls'], { ...host(), sealed: listingsFor(policy()) });
    if ((ns.pathFds ?? []).some((e) => e.seal !== undefined)) throw new Error('the test needs a plan without sealed entries');
    expect(ns.inputs?.[0]?.sealedBinds).toBeUndefined();
  });
});

describe('plan: mounts in bwrap\'s order and meaning', () => {
  const cases: [string, Policy, Partial<HostFacts>][] = [
    ['tmpfs home, project inside', policy(), {}],
    ['deny dir inside a read tree, write inside the deny', policy({ mounts: [rule('read', '/usr'), rule('read', '/srv'), rule('deny', '/srv/secret'), rule('write', '/srv/secret/out'), rule('write', PROJECT), rule('tmpfs', HOME)] }), {}],
    ['deny files and other', policy({ mounts: [...BASE_MOUNTS, rule('deny', '/etc/shadow', 'file'), rule('deny', '/etc/sock', 'other'), rule('deny', `${HOME}/.ssh`)] }), {}],
    ['same-path precedence', policy({ mounts: [rule('read', '/srv'), rule('write', '/srv'), rule('tmpfs', '/srv'), rule('read', '/srv/a'), rule('write', PROJECT), rule('read', '/usr'), rule('tmpfs', HOME)] }), {}],
    [
      'protected names, pins and placeholders',
      policy({ protect: ['.git/hooks', '.git/config', '.bashrc'] }),
      {
        protect: [
          { path: `${PROJECT}/.git/hooks`, state: 'dir', pins: [`${PROJECT}/.git`] },
          { path: `${PROJECT}/.git/config`, state: 'file', pins: [`${PROJECT}/.git`] },
          { path: `${PROJECT}/.bashrc`, state: 'missing', pins: [] },
          { path: `${PROJECT}/sub/.git/hooks`, state: 'dir', pins: [`${PROJECT}/sub`, `${PROJECT}/sub/.git`] },
        ],
      },
    ],
  ];

  it.each(cases)('%s', (_title, pol, over) => {
    const { ns, bw } = bothPlans(pol, host(over));
    expect(nsjailAsBwrapArgs(ns)).toEqual(bwrapMounts(bw));
    expect(ns.cleanup).toEqual(bw.cleanup);
    for (const key of ['readable', 'writable', 'hidden', 'tmpfs', 'protected', 'placeholders'] as const) expect(ns.summary[key], key).toEqual(bw.summary[key]);
  });

  it.each([...BUILTIN_NAMES])('built-in profile %s on the synthetic host', async (name) => {
    const ctx = { callerCwd: VARS.CWD, env: { HOME: VARS.HOME } };
    for (const overrides of [{}, { net: 'host' as const }, { deny: [`${VARS.CWD}/secrets`] }]) {
      const pol = syntheticPolicy(applyOverrides(await loadMergedProfile(name, ctx), overrides, ctx));
      const h = { ...syntheticHost(pol, usrBinCommand('ls')), nsjail: NSJAIL };
      const { ns, bw } = bothPlans(pol, h);
      expect(nsjailAsBwrapArgs(ns)).toEqual(bwrapMounts(bw));
      expect(ns.summary.notes.slice(0, bw.summary.notes.length)).toEqual(bw.summary.notes);
    }
  });

  it('system mounts first: /proc (read-only), a minimal /dev as bwrap --dev builds it, its device nodes read-only', () => {
    const lines = mountLines(plan());
    expect(lines.slice(0, 16)).toEqual([
      'mount { dst: "/proc" fstype: "proc" rw: false is_dir: true nosuid: true nodev: true noexec: true }',
      'mount { dst: "/dev" fstype: "tmpfs" rw: false is_dir: true options: "mode=0755" nosuid: true nodev: true }',
      'mount { src: "/dev/null" dst: "/dev/null" is_bind: true rw: false is_dir: false nosuid: true nodev: false }',
      'mount { src: "/dev/zero" dst: "/dev/zero" is_bind: true rw: false is_dir: false nosuid: true nodev: false }',
      'mount { src: "/dev/full" dst: "/dev/full" is_bind: true rw: false is_dir: false nosuid: true nodev: false }',
      'mount { src: "/dev/random" dst: "/dev/random" is_bind: true rw: false is_dir: false nosuid: true nodev: false }',
      'mount { src: "/dev/urandom" dst: "/dev/urandom" is_bind: true rw: false is_dir: false nosuid: true nodev: false }',
      'mount { src: "/dev/tty" dst: "/dev/tty" is_bind: true rw: false is_dir: false nosuid: true nodev: false }',
      'mount { dst: "/dev/shm" fstype: "tmpfs" rw: true is_dir: true nosuid: true nodev: true }',
      'mount { dst: "/dev/pts" fstype: "devpts" rw: true is_dir: true options: "newinstance,ptmxmode=0666,mode=620" nosuid: true noexec: true }',
      'mount { src: "/proc/self/fd" dst: "/dev/fd" is_symlink: true }',
      'mount { src: "/proc/self/fd/0" dst: "/dev/stdin" is_symlink: true }',
      'mount { src: "/proc/self/fd/1" dst: "/dev/stdout" is_symlink: true }',
      'mount { src: "/proc/self/fd/2" dst: "/dev/stderr" is_symlink: true }',
      'mount { src: "pts/ptmx" dst: "/dev/ptmx" is_symlink: true }',
      'mount { dst: "/tmp" fstype: "tmpfs" rw: true is_dir: true nosuid: true nodev: true }',
    ]);
    expect(field(plan(), 'mount_proc')).toBe('false');
  });

  it('every mount is nosuid, and nodev but for the device nodes of /dev, as bwrap mounts them', () => {
    const lines = mountLines(plan(policy({ mounts: [...BASE_MOUNTS, rule('deny', '/etc/shadow', 'file')] }), ['ls'], host({ protect: [{ path: `${PROJECT}/.bashrc`, state: 'missing', pins: [] }] })));
    for (const line of lines.filter((l) => !l.includes('is_symlink'))) {
      expect(line, line).toContain('nosuid: true');
      const device = /src: "\/dev\/(null|zero|full|random|urandom|tty)" dst: "\/dev\//.test(line);
      if (line.includes('devpts')) expect(line).toContain('noexec: true');
      else expect(line, line).toContain(device ? 'nodev: false' : 'nodev: true');
    }
    expect(lines.filter((l) => l.includes('nodev: false'))).toHaveLength(6);
  });

  it('hidden paths: directories an empty read-only tmpfs (0555), files /dev/null, over a target that exists or one made in a sealed parent', () => {
    const p = plan(policy({ mounts: [...BASE_MOUNTS, rule('deny', '/etc/shadow', 'file'), rule('deny', '/etc/ssh'), rule('deny', `${PROJECT}/key.pem`, 'file')] }));
    const lines = mountLines(p);
    expect(lines).toContain('mount { dst: "/etc/ssh" fstype: "tmpfs" rw: false is_dir: true options: "mode=0555" nosuid: true nodev: true }');
    // In the sealed /etc (an empty tmpfs) nsjail makes the mount point: an empty file of its own, no host file opened.
    expect(lines).toContain('mount { dst: "/etc" fstype: "tmpfs" rw: false is_dir: true options: "mode=0755" nosuid: true nodev: true }');
    expect(lines).toContain('mount { src: "/dev/null" dst: "/etc/shadow" is_bind: true rw: false is_dir: false nosuid: true nodev: true }');
    // is_dir: true on an existing file (a writable parent is not sealed): nsjail must not open it (unreadable to a user) to "create" it.
    expect(lines).toContain(`mount { src: "/dev/null" dst: "${PROJECT}/key.pem" is_bind: true rw: false is_dir: true nosuid: true nodev: true }`);
    expect(p.summary.hidden).toEqual(['/etc/shadow', '/etc/ssh', `${PROJECT}/key.pem`]);
  });

  it('targets nsjail must create are created as what they are; existing ones are never opened', () => {
    const pol = policy({
      // /bin: the init's shell (without it the protected file would be refused).
      mounts: [rule('tmpfs', HOME), rule('read', '/usr'), rule('read', '/bin'), rule('read', `${HOME}/.gitconfig`, 'file'), rule('write', PROJECT), rule('read', `${PROJECT}/data.bin`, 'file')],
      protect: ['.bashrc', '.git/config'],
    });
    const p = plan(pol, ['ls'], host({ protect: [{ path: `${PROJECT}/.bashrc`, state: 'missing', pins: [] }, { path: `${PROJECT}/.git/config`, state: 'file', pins: [`${PROJECT}/.git`] }] }));
    const lines = mountLines(p);
    // In the home tmpfs the file does not exist yet: created as a file.
    expect(lines).toContain(`mount { src: "${HOME}/.gitconfig" dst: "${HOME}/.gitconfig" is_bind: true rw: false is_dir: false nosuid: true nodev: true }`);
    // Inside the project bind it is the host's file: left alone.
    expect(lines).toContain(`mount { src: "${PROJECT}/data.bin" dst: "${PROJECT}/data.bin" is_bind: true rw: false is_dir: true nosuid: true nodev: true }`);
    // A placeholder is an empty file run/ creates (and removes), bound onto itself; an existing protected file is left alone.
    expect(lines).toContain(`mount { src: "${PROJECT}/.bashrc" dst: "${PROJECT}/.bashrc" is_bind: true rw: false is_dir: true nosuid: true nodev: true }`);
    expect(lines).toContain(`mount { src: "${PROJECT}/.git/config" dst: "${PROJECT}/.git/config" is_bind: true rw: false is_dir: true nosuid: true nodev: true }`);
    expect(lines).toContain(`mount { src: "${PROJECT}/.git" dst: "${PROJECT}/.git" is_bind: true rw: true is_dir: true nosuid: true nodev: true }`);
    expect(p.cleanup).toEqual([{ removeIfPlaceholder: `${PROJECT}/.bashrc` }]);
  });

  it('mounts nested under a read-only path are bound read-only too (nsjail remounts only the top one)', () => {
    const pol = policy({ mounts: [...BASE_MOUNTS, rule('deny', '/etc/ssh')] });
    const nested = ['/', '/proc', '/etc/hosts', '/usr/lib/modules', '/etc/ssh/keys', `${PROJECT}/cache`, `${HOME}/fuse`, '/usr', '/etc'];
    const p = plan(pol, ['ls'], host({ mountPoints: nested }));
    const lines = mountLines(p);
    const rebinds = lines.filter((l) => l.includes('mandatory: false'));
    expect(rebinds).toEqual([
      'mount { src: "/etc/hosts" dst: "/etc/hosts" is_bind: true rw: false is_dir: true nosuid: true nodev: true mandatory: false }',
      'mount { src: "/usr/lib/modules" dst: "/usr/lib/modules" is_bind: true rw: false is_dir: true nosuid: true nodev: true mandatory: false }',
    ]);
    // After the bind they sit in (depth order), and noted.
    expect(lines.indexOf(rebinds[0] ?? '')).toBeGreaterThan(lines.findIndex((l) => l.includes('dst: "/etc" ')));
    expect(p.summary.notes).toContain('/etc/hosts: a mount inside a read-only path, made read-only too');
    // A read rule that needs no bind of its own (its parent is read already) still gets one when it is a mount.
    const lib = plan(policy({ mounts: [...BASE_MOUNTS, rule('read', '/usr/lib')] }), ['ls'], host({ mountPoints: ['/usr/lib', '/usr'] }));
    expect(mountLines(lib).filter((l) => l.includes('mandatory: false'))).toEqual([
      'mount { src: "/usr/lib" dst: "/usr/lib" is_bind: true rw: false is_dir: true nosuid: true nodev: true mandatory: false }',
    ]);
    // Without mount facts nothing changes; bwrap's --ro-bind makes the mounts beneath it read-only itself.
    expect(mountLines(plan(pol, ['ls'], host()))).toEqual(mountLines(plan(pol, ['ls'], host({ mountPoints: [] }))));
    const bh = { bwrap: { path: '/usr/bin/bwrap', version: '0.8.0' } };
    const sealed = listingsFor(pol);
    expect(bwrapBackend.plan(pol, ['ls'], host({ ...bh, mountPoints: nested, sealed })).argv).toEqual(bwrapBackend.plan(pol, ['ls'], host({ ...bh, sealed })).argv);
  });

  it('reads the mount points from mountinfo, octal escapes decoded', () => {
    const info = [
      '22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw',
      '35 22 0:30 / /proc rw,nosuid shared:12 - proc proc rw',
      '40 22 8:1 /var/lib/docker/x/hosts /etc/hosts rw,relatime - ext4 /dev/sda1 rw',
      '41 22 0:44 / /home/user/my\\040files rw - fuse.sshfs host: rw',
      '',
    ].join('\n');
    expect(mountPoints(info)).toEqual(['/', '/proc', '/etc/hosts', '/home/user/my files']);
  });

  it('a protected symlink is E_PROTECT_SYMLINK', () => {
    expectIsolateError(() => plan(policy(), ['ls'], host({ protect: [{ path: `${PROJECT}/.bashrc`, state: 'symlink', pins: [] }] })), 'E_PROTECT_SYMLINK');
  });

  it('filtered: the socket directory read-only at /run/isolate after the profile\'s mounts, the forwarder before the command', () => {
    const h = host({ network: { socat: '/usr/bin/socat', shell: '/bin/sh', socketDir: '/run/user/1000/isolate-net-abc' } });
    const p = plan(policy({ network: 'filtered', env: { pass: ['PATH', 'NO_PROXY'] } }), ['ls'], host({ ...h, env: { ...h.env, NO_PROXY: '*' } }));
    const lines = mountLines(p);
    expect(lines[lines.length - 1]).toBe('mount { src: "/run/user/1000/isolate-net-abc" dst: "/run/isolate" is_bind: true rw: false is_dir: true nosuid: true nodev: true }');
    expect(p.services).toEqual([
      { kind: 'proxy', socketDir: '/run/user/1000/isolate-net-abc', socketPath: '/run/user/1000/isolate-net-abc/proxy.sock', sandboxSocket: '/run/isolate/proxy.sock', port: 3128, allow: ['example.org'], deny: [] },
    ]);
    expect(p.childEnv['HTTPS_PROXY']).toBe('http://127.0.0.1:3128');
    expect(p.childEnv['NO_PROXY']).toBeUndefined();
    const bw = bwrapBackend.plan(policy({ network: 'filtered' }), ['ls'], { ...h, bwrap: { path: '/usr/bin/bwrap', version: '0.8.0' } });
    // The forwarder's shell, after the gate's (bwrap starts the command behind it).
    const wrapper = bw.argv.slice(bw.argv.indexOf('/bin/sh', bw.argv.indexOf('isolate-gate')), bw.argv.indexOf('isolate-net') + 1);
    const cmd = commandPart(p);
    expect(cmd.slice(cmd.indexOf('isolate-net') - 3, cmd.indexOf('isolate-net') + 1)).toEqual(wrapper);
  });

  it('filtered without socat (or without a visible shell) is E_FORWARDER_MISSING', () => {
    expectIsolateError(() => plan(policy({ network: 'filtered' }), ['ls'], host({ network: { socat: undefined, shell: '/bin/sh', socketDir: '/tmp/x' } })), 'E_FORWARDER_MISSING');
    expectIsolateError(() => plan(policy({ network: 'filtered' }), ['ls'], host({ network: { socat: '/opt/socat', shell: '/bin/sh', socketDir: '/tmp/x' } })), 'E_FORWARDER_MISSING');
    expectIsolateError(() => plan(policy({ network: 'filtered' }), ['ls'], host({ network: { socat: '/usr/bin/socat', shell: undefined, socketDir: '/tmp/x' } })), 'E_FORWARDER_MISSING');
  });
});

// ---- conformance -----------------------------------------------------------------

describe('conformance table: nsjail', () => {
  it('enforces every feature (nothing is "none"), so no built-in profile is refused', async () => {
    for (const f of FEATURES) expect(f.by.nsjail.how, f.id).not.toBe('none');
    const ctx = { callerCwd: VARS.CWD, env: { HOME: VARS.HOME } };
    for (const name of BUILTIN_NAMES) {
      const pol = syntheticPolicy(applyOverrides(await loadMergedProfile(name, ctx), {}, ctx));
      expect(() => assertEnforceable(pol, 'nsjail')).not.toThrow();
    }
  });

  it('describes what the backend really does', () => {
    const note = (id: string): string => FEATURES.find((f) => f.id === id)?.by.nsjail.note ?? '';
    expect(note('environment')).toMatch(/pipe/);
    expect(note('environment')).not.toMatch(/-E\b/);
    expect(note('syscalls')).toMatch(/kafel/);
    expect(note('namespaces')).toMatch(/--disable-userns/);
    expect(note('limits.rlimits')).toMatch(/RLIMIT_DATA/);
    expect(note('filesystem.read')).toMatch(/nested/);
    expect(FEATURES.find((f) => f.id === 'limits.timeout')?.by.nsjail.how).toBe('isolate');
  });
});
