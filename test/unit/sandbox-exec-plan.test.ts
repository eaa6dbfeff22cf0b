import { describe, expect, it } from 'vitest';
import { rule } from '../helpers/mount-rule.js';
import { FEATURES, conformanceRows } from '../../src/backends/conformance.js';
import { loadBackend } from '../../src/backends/index.js';
import { READY_FD, START_NAME, START_SHELL, planSandboxExec, sandboxExecBackend, type SandboxExecPlan } from '../../src/backends/sandbox-exec.js';
import { SYSTEM_READ } from '../../src/backends/sbpl.js';
import type { CommandFact, HostFacts, ProtectFact } from '../../src/backends/types.js';
import { PROXY_PORT } from '../../src/backends/forwarder.js';
import type { Limits, MountRule, NetworkMode, Policy } from '../../src/profile/types.js';
import { expectIsolateError } from './expect-error.js';
import { MAC_HOST } from '../golden/synthetic-mac.js';
import { SAME_SANDBOX_LINES } from '../../src/backends/sbpl-hardening.js';

// ---- builders: everything is synthetic, nothing touches the disk ------------

const HOME = '/Users/alice';
const PROJECT = '/Users/alice/project';
const RUN_DIR = '/private/var/folders/ab/cd/T/isolate-run-7-beef';
const SOCKET_DIR = '/private/var/folders/ab/cd/T/isolate-net-7-beef';

const MOUNTS: MountRule[] = [
  rule('tmpfs', '/private/tmp', 'dir', '/tmp'),
  rule('tmpfs', HOME),
  rule('read', '/usr'),
  rule('read', '/bin'),
  rule('read', '/private/etc', 'dir', '/etc'),
  rule('write', PROJECT),
  rule('deny', `${HOME}/.ssh`),
  rule('deny', `${PROJECT}/.env`, 'file'),
];

interface PolicyOver {
  mounts?: MountRule[];
  network?: NetworkMode;
  cwd?: string;
  protect?: string[];
  env?: Partial<Policy['environment']>;
  limits?: Partial<Limits>;
  syscalls?: Policy['syscalls'];
}

function policy(over: PolicyOver = {}): Policy {
  const mode = over.network ?? 'none';
  return {
    profile: { name: 'test', sources: ['builtin:test'], description: 'test' },
    filesystem: { mounts: over.mounts ?? MOUNTS, protect: over.protect ?? ['.git/hooks', '.bashrc'], skipped: [] },
    network: { mode, allow: mode === 'filtered' ? ['registry.npmjs.org'] : [], deny: mode === 'filtered' ? ['evil.example'] : [] },
    environment: { pass: ['PATH', 'HOME', 'TMPDIR', 'LC_*'], set: {}, secrets: [], ...over.env },
    process: { cwd: over.cwd ?? PROJECT, hostname: 'isolate' },
    limits: { killAfterMs: 2000, enforce: 'rlimit', ...over.limits },
    syscalls: over.syscalls ?? { preset: 'none', deny: [], allow: [] },
    commands: { allow: [], deny: [] },
    audit: { enabled: true, log: undefined, required: false },
  };
}

const LS: CommandFact = { program: 'ls', candidates: [{ path: '/bin/ls', real: '/bin/ls', isFile: true, executable: true }] };
const FACTS: ProtectFact[] = [
  { path: `${PROJECT}/.git/hooks`, state: 'dir', pins: [`${PROJECT}/.git`] },
  { path: `${PROJECT}/.bashrc`, state: 'missing', pins: [] },
];

const CALLER_ENV = {
  PATH: '/opt/homebrew/bin:/usr/bin:/bin',
  HOME,
  TMPDIR: '/var/folders/ab/cd/T/',
  LC_ALL: 'en_US.UTF-8',
  LC_API_TOKEN: 'lc-secret-value',
  GITHUB_TOKEN: 'ghp-secret-value',
  NO_PROXY: 'internal.example',
};

function host(over: Partial<HostFacts> = {}): HostFacts {
  return {
    ...MAC_HOST,
    sandboxExec: { path: '/usr/bin/sandbox-exec', runDir: RUN_DIR },
    env: CALLER_ENV,
    protect: FACTS,
    command: LS,
    network: { socat: undefined, shell: undefined, socketDir: SOCKET_DIR },
    ...over,
  };
}

function plan(over: PolicyOver = {}, hostOver: Partial<HostFacts> = {}, command: string[] = ['ls', '-la']): SandboxExecPlan {
  return planSandboxExec(policy(over), command, host(hostOver));
}

/** The host without the facts of the filtered network mode. */
function hostWithoutNetwork(): HostFacts {
  const { network: _omit, ...rest } = host();
  return rest;
}

function params(p: SandboxExecPlan): Map<string, string> {
  return new Map(p.sandboxExec.params.map((x) => [x.name, x.value]));
}

/** Profile lines (comments dropped), with the index of each. */
function lines(p: SandboxExecPlan): string[] {
  return p.sandboxExec.profile.split('\n').filter((l) => !l.startsWith(';') && l.trim() !== '');
}

/** The line index of the rule `(<action> <ops> (subpath (param "NAME")))`. */
function ruleIndex(p: SandboxExecPlan, action: 'allow' | 'deny', name: string): number {
  return lines(p).findIndex((l) => l.startsWith(`(${action} `) && (l.endsWith(`(subpath (param "${name}")))`) || l.includes(`(subpath (param "${name}")) `)));
}

function paramFor(p: SandboxExecPlan, prefix: string, value: string): string {
  const found = p.sandboxExec.params.find((x) => x.name.startsWith(`${prefix}_`) && x.value === value);
  if (found === undefined) throw new Error(`no ${prefix} parameter for ${value}`);
  return found.name;
}

// ---- tests ----------------------------------------------------------------

describe('sandbox-exec plan: the host', () => {
  it.each(['linux', 'win32', 'freebsd'] as const)('refuses to plan on %s (exit 125)', (platform) => {
    const err = expectIsolateError(() => plan({}, { platform }), 'E_BACKEND_UNSUPPORTED');
    expect(err.exitCode).toBe(125);
    expect(err.message).toContain('macOS');
  });

  it('refuses when sandbox-exec is missing', () => {
    expectIsolateError(() => plan({}, { sandboxExec: undefined }), 'E_BACKEND_MISSING');
  });

  it('refuses a git configuration with a credential in it (Seatbelt cannot show the file without it), naming the file and the way out', () => {
    const config = `${PROJECT}/.git/config`;
    const err = expectIsolateError(() => plan({}, { gitConfigs: [{ path: config, text: '' }] }), 'E_BACKEND_UNSUPPORTED');
    expect(err.exitCode).toBe(125);
    expect(err.message).toContain(`${config} holds a credential`);
    expect(err.fix).toContain('credential helper');
  });

  it('refuses a credential store a credential helper names (Seatbelt cannot hide a file the profile shows), naming the file', () => {
    const store = `${PROJECT}/.git-credentials`;
    const err = expectIsolateError(() => plan({}, { gitCredentialStores: [store] }), 'E_BACKEND_UNSUPPORTED');
    expect(err.message).toContain(store);
  });

  it('refuses an empty command', () => {
    expectIsolateError(() => plan({}, {}, []), 'E_COMMAND_EMPTY');
    expectIsolateError(() => plan({}, {}, ['']), 'E_COMMAND_EMPTY');
  });

  it('is the backend selected by name, and plans through the Backend interface', async () => {
    expect(await loadBackend('sandbox-exec')).toBe(sandboxExecBackend);
    const p = sandboxExecBackend.plan(policy(), ['ls'], host());
    expect(p.backend).toBe('sandbox-exec');
  });
});

describe('sandbox-exec plan: argv and the plan data', () => {
  it('is sandbox-exec -p <profile> -D NAME=value ... -- <start wrapper> <resolved command> <args>', () => {
    const p = plan({}, {}, ['ls', '-la', '--', '-p', 'a b']);
    const dashes = p.argv.indexOf('--');
    expect(p.argv.slice(0, 3)).toEqual(['/usr/bin/sandbox-exec', '-p', p.sandboxExec.profile]);
    const dArgs = p.argv.slice(3, dashes);
    expect(dArgs.length % 2).toBe(0);
    expect(dArgs.filter((_a, i) => i % 2 === 0).every((a) => a === '-D')).toBe(true);
    expect(dArgs.filter((_a, i) => i % 2 === 1)).toEqual(p.sandboxExec.params.map((x) => `${x.name}=${x.value}`));
    expect(p.argv.slice(dashes + 1)).toEqual([START_SHELL, '-c', p.argv[dashes + 3], START_NAME, '/bin/ls', '-la', '--', '-p', 'a b']);
    expect(p.command).toEqual({ program: 'ls', resolved: '/bin/ls', args: ['-la', '--', '-p', 'a b'] });
  });

  it('has only the ready descriptor, no piped arguments or cleanup steps; carries the policy limits', () => {
    const limits: Partial<Limits> = { timeoutMs: 5000 };
    const p = plan({ limits });
    expect(p.fds).toEqual({ ready: READY_FD });
    expect(p.closeFdFlag).toBeUndefined(); // libuv spawns it with POSIX_SPAWN_CLOEXEC_DEFAULT on macOS
    expect(p.pipedArgs).toEqual([]);
    expect(p.cleanup).toEqual([]);
    expect(p.seccomp).toBeUndefined();
    expect(p.inputs).toBeUndefined();
    expect(p.limits).toEqual(policy({ limits }).limits);
    expect(p.backendVersion).toBe('system');
    expect(plan({}, { sandboxExec: { path: '/usr/bin/sandbox-exec', runDir: RUN_DIR, version: '15.1' } }).backendVersion).toBe('15.1');
  });

  it('asks run/ for a new session, in the working directory, and for the private directories', () => {
    const p = plan();
    expect(p.sandboxExec.newSession).toBe(true);
    expect(p.sandboxExec.cwd).toBe(PROJECT);
    expect(p.cwd).toBe(PROJECT);
    expect(p.sandboxExec.runDir).toBe(RUN_DIR);
    expect(p.sandboxExec.dirs.map((d) => d.replaces).sort()).toEqual([HOME, '/private/tmp'].sort());
    for (const d of p.sandboxExec.dirs) expect(d.path.startsWith(`${RUN_DIR}/`)).toBe(true);
    // Nothing to create without tmpfs paths.
    expect(plan({ mounts: MOUNTS.filter((m) => m.kind !== 'tmpfs') }).sandboxExec.runDir).toBeUndefined();
  });

  it('summarises what is enforced', () => {
    const p = plan();
    expect(p.summary.readable).toEqual(expect.arrayContaining(['/usr', '/bin', '/private/etc']));
    expect(p.summary.writable).toEqual([PROJECT]);
    expect(p.summary.hidden).toEqual([`${PROJECT}/.env`]);
    expect(p.summary.notes).toContain(`${HOME}/.ssh: not visible anyway, nothing to hide`);
    expect(p.summary.protected).toEqual([`${PROJECT}/.git/hooks`, `${PROJECT}/.bashrc`]);
    expect(p.summary.placeholders).toEqual([]);
    expect(p.summary.namespaces).toEqual([]);
    expect(p.summary.seccomp).toEqual({ preset: 'none', install: false, arch: null, rules: [...SAME_SANDBOX_LINES] });
    expect(p.summary.tmpfs.some((t) => t.startsWith(`${HOME} -> ${RUN_DIR}/`) && t.endsWith('($HOME)'))).toBe(true);
  });
});

describe('sandbox-exec plan: environment', () => {
  it('starts the launcher with exactly the child environment, without secrets', () => {
    const p = plan();
    expect(p.launcherEnv).toEqual(p.childEnv);
    expect(p.launcherEnv).not.toBe(p.childEnv);
    expect(Object.keys(p.childEnv).sort()).toEqual(['HOME', 'LC_ALL', 'PATH', 'TMPDIR']);
    expect(p.withheldEnv).toEqual(['LC_API_TOKEN']);
    expect(JSON.stringify(p)).not.toContain('secret-value');
    expect(p.childEnv['PATH']).toBe(CALLER_ENV.PATH);
  });

  it('passes a secret only when named exactly', () => {
    const p = plan({ env: { pass: ['PATH', 'GITHUB_TOKEN'] } });
    expect(p.launcherEnv['GITHUB_TOKEN']).toBe('ghp-secret-value');
  });

  it('points HOME and TMPDIR at the private directories that replace the hidden home and /tmp', () => {
    const p = plan();
    const byReplaced = new Map(p.sandboxExec.dirs.map((d) => [d.replaces, d]));
    expect(p.childEnv['HOME']).toBe(byReplaced.get(HOME)?.path);
    expect(p.childEnv['TMPDIR']).toBe(byReplaced.get('/private/tmp')?.path);
    expect(byReplaced.get(HOME)?.env).toEqual(['HOME']);
    expect(byReplaced.get('/private/tmp')?.env).toEqual(['TMPDIR']);
  });

  it('leaves HOME and TMPDIR alone when they name something else the profile set, or a writable path', () => {
    const p = plan({ env: { pass: ['PATH', 'TMPDIR'], set: { HOME: '/Users/alice/project/home', TMPDIR: `${PROJECT}/tmp` } } });
    expect(p.childEnv['HOME']).toBe('/Users/alice/project/home');
    expect(p.childEnv['TMPDIR']).toBe(`${PROJECT}/tmp`);
    expect(p.sandboxExec.dirs.every((d) => d.env.length === 0)).toBe(true);
  });

  it('gives HOME even when the caller passes none, and keeps the home visible when a rule shows it', () => {
    expect(plan({ env: { pass: ['PATH'] } }).childEnv['HOME']).toMatch(new RegExp(`^${RUN_DIR}/`));
    const dev = plan({ mounts: [...MOUNTS, rule('read', HOME)] });
    expect(dev.childEnv['HOME']).toBe(HOME);
    expect(dev.sandboxExec.dirs.map((d) => d.replaces)).toEqual(['/private/tmp']);
  });
});

describe('sandbox-exec plan: working directory', () => {
  it('runs in the private directory when the working directory is a tmpfs path', () => {
    const p = plan({ cwd: HOME });
    const home = p.sandboxExec.dirs.find((d) => d.replaces === HOME);
    expect(p.cwd).toBe(home?.path);
    expect(p.sandboxExec.cwd).toBe(p.cwd);
  });

  it('refuses a working directory the sandbox cannot see', () => {
    expectIsolateError(() => plan({ cwd: `${HOME}/elsewhere` }), 'E_PATH_INVALID');
    expectIsolateError(() => plan({ cwd: '/Volumes/data' }), 'E_PATH_INVALID');
  });

  it('refuses a command the sandbox cannot see (127)', () => {
    const hidden: CommandFact = { program: 'tool', candidates: [{ path: `${HOME}/bin/tool`, real: `${HOME}/bin/tool`, isFile: true, executable: true }] };
    expect(expectIsolateError(() => plan({}, { command: hidden }, ['tool']), 'E_COMMAND_NOT_FOUND').exitCode).toBe(127);
  });
});

describe('sandbox-exec plan: what the profile refuses to ignore', () => {
  it('refuses Linux system calls named in the profile, and takes the default preset as Seatbelt rules', () => {
    const err = expectIsolateError(() => plan({ syscalls: { preset: 'none', deny: ['ptrace'], allow: [] } }), 'E_BACKEND_UNSUPPORTED');
    expect(err.message).toContain('syscalls.list');
    expectIsolateError(() => plan({ syscalls: { preset: 'default', deny: [], allow: ['ptrace'] } }), 'E_BACKEND_UNSUPPORTED');
    // allow removes from a preset; with none there is nothing to remove, on any backend.
    expect(plan({ syscalls: { preset: 'none', deny: [], allow: ['ptrace'] } }).summary.seccomp.install).toBe(false);
    const p = plan({ syscalls: { preset: 'default', deny: [], allow: [] } });
    expect(p.summary.seccomp).toMatchObject({ preset: 'default', install: true, arch: null });
    expect(p.summary.seccomp.rules.join('\n')).toContain('(deny mach-priv-task-port)');
  });

  it('marks tmpfs as enforced by isolate (not refused), the preset natively, named system calls as not enforced', () => {
    const rows = new Map(conformanceRows(policy(), 'sandbox-exec').map((r) => [r.id, r]));
    expect(rows.get('filesystem.tmpfs')?.how).toBe('isolate');
    expect(rows.get('syscalls')?.how).toBe('native');
    expect(rows.get('syscalls.list')?.how).toBe('none');
    expect(rows.get('namespaces')?.how).toBe('none');
    for (const f of FEATURES) expect(f.by['sandbox-exec'].note.length).toBeGreaterThan(10);
  });

  it('refuses a protected path that is a symbolic link', () => {
    expectIsolateError(() => plan({}, { protect: [{ path: `${PROJECT}/.envrc`, state: 'symlink', pins: [] }] }), 'E_PROTECT_SYMLINK');
  });

  it('refuses a tmpfs path when the host facts have no run directory', () => {
    expectIsolateError(() => plan({}, { sandboxExec: { path: '/usr/bin/sandbox-exec' } }), 'E_SANDBOX_SETUP');
  });
});

describe('sandbox-exec plan: network', () => {
  it('none: everything denied, no proxy', () => {
    const p = plan({ network: 'none' });
    expect(lines(p)).toContain('(deny network*)');
    expect(lines(p)).not.toContain('(allow network*)');
    expect(p.sandboxExec.profile).not.toContain('remote tcp');
    expect(p.services).toEqual([]);
    expect(p.childEnv['HTTP_PROXY']).toBeUndefined();
    expect(p.summary.network).toBe('none');
  });

  it('host: everything but unix sockets, with name resolution', () => {
    const p = plan({ network: 'host' });
    const l = lines(p);
    const allow = l.indexOf('(allow network*)');
    expect(allow).toBeGreaterThan(-1);
    expect(l.indexOf('(deny network-outbound (remote unix-socket))')).toBeGreaterThan(allow);
    expect(p.sandboxExec.profile).toContain('(global-name "com.apple.dnssd.service")');
    expect(p.services).toEqual([]);
  });

  it('filtered: only TCP to the proxy on the loopback, a loopback proxy service, proxy variables', () => {
    const p = plan({ network: 'filtered' });
    const l = lines(p);
    const deny = l.indexOf('(deny network*)');
    expect(deny).toBeGreaterThan(-1);
    expect(l.indexOf('(allow network-outbound (remote tcp (string-append "localhost:" (param "PROXY_PORT"))))')).toBeGreaterThan(deny);
    expect(l).not.toContain('(allow network*)');
    expect(p.sandboxExec.profile).not.toContain('dnssd');
    expect(params(p).get('PROXY_PORT')).toBe(String(PROXY_PORT));
    expect(p.services).toEqual([
      {
        kind: 'proxy',
        socketDir: SOCKET_DIR,
        socketPath: `${SOCKET_DIR}/proxy.sock`,
        sandboxSocket: '',
        port: PROXY_PORT,
        tcp: { host: '127.0.0.1', port: PROXY_PORT },
        allow: ['registry.npmjs.org'],
        deny: ['evil.example'],
      },
    ]);
    expect(p.childEnv['HTTPS_PROXY']).toBe(`http://127.0.0.1:${PROXY_PORT}`);
    expect(p.childEnv['ALL_PROXY']).toBe(`socks5h://127.0.0.1:${PROXY_PORT}`);
    expect(p.childEnv['NO_PROXY']).toBeUndefined();
    expect(p.launcherEnv).toEqual(p.childEnv);
    expect(p.summary.proxy?.listen).toBe(`http://127.0.0.1:${PROXY_PORT}`);
  });

  it('filtered: the proxy port of the host facts (one per run) reaches the profile parameter, the service and the variables', () => {
    const facts = { path: '/usr/bin/sandbox-exec', runDir: RUN_DIR, proxyPort: 51234 };
    const p = plan({ network: 'filtered' }, { sandboxExec: facts });
    expect(params(p).get('PROXY_PORT')).toBe('51234');
    expect(p.argv).toContain('PROXY_PORT=51234');
    expect(p.services[0]).toMatchObject({ port: 51234, tcp: { host: '127.0.0.1', port: 51234 } });
    for (const name of ['HTTP_PROXY', 'HTTPS_PROXY', 'http_proxy', 'https_proxy', 'npm_config_proxy', 'npm_config_https_proxy', 'YARN_HTTP_PROXY', 'PIP_PROXY']) {
      expect(p.childEnv[name], name).toBe('http://127.0.0.1:51234');
    }
    expect(p.childEnv['ALL_PROXY']).toBe('socks5h://127.0.0.1:51234');
    expect(Object.values(p.childEnv).some((v) => v.includes(`:${PROXY_PORT}`))).toBe(false);
    expect(p.summary.proxy?.listen).toBe('http://127.0.0.1:51234');
    // The profile text is the same whatever the port: it reads it from the parameter.
    expect(p.sandboxExec.profile).toBe(plan({ network: 'filtered' }).sandboxExec.profile);
  });

  it('filtered without a proxy directory in the host facts is refused', () => {
    expectIsolateError(() => planSandboxExec(policy({ network: 'filtered' }), ['ls'], hostWithoutNetwork()), 'E_NETWORK_PROXY');
  });

  it('unix sockets: only those the profile names, and only for connecting', () => {
    const sock = `${HOME}/.colima/docker.sock`;
    const p = plan({ mounts: [...MOUNTS, rule('read', sock, 'other')] });
    const name = paramFor(p, 'READ', sock);
    expect(lines(p)).toContain(`(allow network-outbound (remote unix-socket (path-literal (param "${name}"))))`);
    expect(lines(p)).toContain(`(allow file-write-data (literal (param "${name}")))`);
    expect(plan().sandboxExec.profile).not.toContain('path-literal (param');
  });
});

describe('sandbox-exec plan: rule order (the last matching rule wins)', () => {
  it('the system comes first; every deny comes after every allow of a path that contains it', () => {
    const mounts = [...MOUNTS, rule('read', HOME), rule('deny', '/private/etc/ssh'), rule('deny', `${HOME}/.aws`)];
    const p = plan({ mounts });
    const values = params(p);
    const l = lines(p);
    const system = l.findIndex((x) => x.includes(`(subpath "${SYSTEM_READ[SYSTEM_READ.length - 1]?.path ?? ''}")`));
    const allows = [...values].filter(([n]) => /^(READ|WRITE)_/.test(n));
    const denies = [...values].filter(([n]) => /^(DENY|TMPFS)_/.test(n));
    expect(denies.length).toBeGreaterThan(3);
    for (const [allowName] of allows) expect(ruleIndex(p, 'allow', allowName)).toBeGreaterThan(system);
    for (const [denyName, denyPath] of denies) {
      const at = ruleIndex(p, 'deny', denyName);
      expect(at).toBeGreaterThan(system);
      for (const [allowName, allowPath] of allows) {
        if (denyPath === allowPath || denyPath.startsWith(`${allowPath}/`)) expect(at, `${denyName} after ${allowName}`).toBeGreaterThan(ruleIndex(p, 'allow', allowName));
      }
    }
  });

  it('a read path inside a writable one denies writes after the write allow; a path shown inside a hidden one comes after the deny', () => {
    const mounts = [rule('read', '/usr'), rule('read', '/bin'), rule('write', PROJECT), rule('read', `${PROJECT}/vendor`), rule('deny', `${HOME}/.config`), rule('read', `${HOME}/.config/tool`)];
    const p = plan({ mounts });
    const write = ruleIndex(p, 'allow', paramFor(p, 'WRITE', PROJECT));
    const vendor = paramFor(p, 'READ', `${PROJECT}/vendor`);
    expect(ruleIndex(p, 'deny', vendor)).toBeGreaterThan(write);
    expect(lines(p)[ruleIndex(p, 'deny', vendor)]).toBe(`(deny file-write* (subpath (param "${vendor}")))`);
    const hidden = ruleIndex(p, 'deny', paramFor(p, 'DENY', `${HOME}/.config`));
    expect(ruleIndex(p, 'allow', paramFor(p, 'READ', `${HOME}/.config/tool`))).toBeGreaterThan(hidden);
  });

  it('at the same path the strongest rule is the only one emitted', () => {
    const p = plan({ mounts: [rule('read', '/usr'), rule('read', '/bin'), rule('write', PROJECT), rule('read', PROJECT), rule('deny', PROJECT)], cwd: '/usr' });
    const values = [...params(p)].filter(([, v]) => v === PROJECT).map(([n]) => n);
    expect(values).toEqual(['DENY_0']);
  });

  it('the private directories, the protected names and the fixed denies come after the profile\'s paths', () => {
    const p = plan();
    const l = lines(p);
    const lastPolicyRule = Math.max(...[...params(p).keys()].filter((n) => /^(READ|WRITE|DENY|TMPFS)_/.test(n)).map((n) => Math.max(ruleIndex(p, 'allow', n), ruleIndex(p, 'deny', n))));
    const scratch = ruleIndex(p, 'allow', 'SCRATCH_0');
    const protect = l.findIndex((x) => x.includes('(param "PROTECT_0")'));
    const pins = l.indexOf('(deny file-write* (regex (param "PINS")) (regex (param "ANYCASE_PINS")))');
    const keychains = l.findIndex((x) => x.includes('(param "KEYCHAINS")'));
    expect(scratch).toBeGreaterThan(lastPolicyRule);
    expect(protect).toBeGreaterThan(scratch);
    expect(pins).toBeGreaterThan(protect);
    expect(keychains).toBeGreaterThan(pins);
    expect(l[l.length - 1]).toContain('com.apple.coreservices.appleevents');
  });
});

describe('sandbox-exec plan: terminals', () => {
  const TTYS = '(regex "^/dev/ttys[0-9]+$")';
  const OWN_PTY = `(require-all ${TTYS} (extension "com.apple.sandbox.pty"))`;

  it('termios ioctls on the inherited terminal, which cannot be opened again; the command cannot open other terminals', () => {
    const l = lines(plan());
    expect(l).toContain(`  ${TTYS})`);
    expect(l).toContain(`(allow file-read* file-test-existence file-write* ${OWN_PTY})`);
    // /dev/tty is the opener's controlling terminal: in the session the launcher leads (never yours), none, or the terminal helper's own.
    expect(l).toContain('  (literal "/dev/tty")');
    expect(plan().sandboxExec.newSession).toBe(true);
    expect(l.some((x) => x.startsWith('(allow file-read') && x.includes(TTYS) && !x.includes('extension'))).toBe(false);
  });

  it('as root, ioctls only on the pseudo-terminals the command creates (root could inject input)', () => {
    const p = plan({}, { uid: 0 });
    const ioctl = p.sandboxExec.profile.slice(p.sandboxExec.profile.indexOf('(allow file-ioctl'));
    expect(ioctl.slice(0, ioctl.indexOf('))\n') + 2)).toContain(OWN_PTY);
    expect(lines(p)).not.toContain(`  ${TTYS})`);
    expect(p.summary.notes.some((n) => n.startsWith('as root'))).toBe(true);
  });
});

describe('sandbox-exec plan: protected names', () => {
  it('denies writing each protected path, existing or not, and pins every writable directory above it', () => {
    const p = plan({ mounts: [...MOUNTS, rule('write', HOME)] });
    const v = params(p);
    expect(v.get('PROTECT_0')).toBe(`${PROJECT}/.git/hooks`);
    expect(v.get('PROTECT_1')).toBe(`${PROJECT}/.bashrc`);
    expect(lines(p)).toContain('(deny file-write* (literal (param "PROTECT_1")) (subpath (param "PROTECT_1")) (regex (param "ANYCASE_PROTECT_1")))');
    expect(new RegExp(v.get('ANYCASE_PROTECT_1') ?? '^$').test(`${PROJECT}/.BashRC`)).toBe(true);
    const pins = new RegExp(v.get('PINS') ?? '^$');
    for (const dir of [`${PROJECT}/.git`, PROJECT, HOME]) expect(pins.test(dir), dir).toBe(true);
    for (const dir of ['/Users', '/', `${PROJECT}/.git/hooks`, `${PROJECT}/src`]) expect(pins.test(dir), dir).toBe(false);
    expect(p.cleanup).toEqual([]);
  });

  it('pins the writable directories above a path a rule hides (isolate\'s own directory), which is not a protected name', () => {
    const state = `${PROJECT}/.state/isolate`;
    const p = plan({ mounts: [...MOUNTS, rule('deny', state)] }, { protect: [{ path: state, state: 'dir', pins: [`${PROJECT}/.state`] }] });
    const v = params(p);
    expect([...v.entries()].filter(([n, x]) => n.startsWith('PROTECT_') && x === state)).toEqual([]);
    const pins = new RegExp(v.get('PINS') ?? '^$');
    for (const dir of [`${PROJECT}/.state`, PROJECT]) expect(pins.test(dir), dir).toBe(true);
    for (const dir of [state, `${PROJECT}/src`]) expect(pins.test(dir), dir).toBe(false);
  });

  it('ignores facts outside writable paths, and emits nothing when nothing is protected', () => {
    const p = plan({}, { protect: [{ path: '/usr/.bashrc', state: 'missing', pins: [] }] });
    expect(p.sandboxExec.profile).not.toContain('PROTECT_');
    expect(p.sandboxExec.profile).not.toContain('PINS');
  });
});

describe('sandbox-exec plan: the start wrapper and resource limits', () => {
  const after = (p: SandboxExecPlan): string[] => p.argv.slice(p.argv.indexOf('--') + 1);

  it('without limits, the wrapper only writes the ready byte, closes the descriptor and execs the command', () => {
    const p = plan();
    expect(after(p)).toEqual([START_SHELL, '-c', `printf . >&${READY_FD} || exit 125\nexec ${READY_FD}>&-\nexec "$@"`, START_NAME, '/bin/ls', '-la']);
    expect(p.fds).toEqual({ ready: READY_FD });
    expect(p.summary.notes.some((n) => n.includes(`one byte on descriptor ${READY_FD}`))).toBe(true);
  });

  it('applies rlimits with ulimit in /bin/sh before the ready byte, the command as "$@"', () => {
    const p = plan({ limits: { cpuSeconds: 10, openFiles: 256, fileSizeBytes: 100 * 1024 * 1024 + 100, processes: 50 } });
    const a = after(p);
    expect(a[0]).toBe(START_SHELL);
    expect(a[1]).toBe('-c');
    expect(a[2]).toBe(
      [
        'ulimit -c 0 && ulimit -S -t 10 && ulimit -H -t 11 && ulimit -u 50 && ulimit -n 256 && ulimit -f 204800 || { echo \'isolate: cannot apply the resource limits\' >&2; exit 125; }',
        `printf . >&${READY_FD} || exit 125`,
        `exec ${READY_FD}>&-`,
        'exec "$@"',
      ].join('\n'),
    );
    expect(a.slice(3)).toEqual([START_NAME, '/bin/ls', '-la']);
  });

  it('a small open-files limit comes after the byte (the shell needs a spare descriptor to redirect printf)', () => {
    const p = plan({ limits: { openFiles: 8, cpuSeconds: 5 } });
    expect(after(p)[2]).toBe(
      [
        'ulimit -c 0 && ulimit -S -t 5 && ulimit -H -t 6 || { echo \'isolate: cannot apply the resource limits\' >&2; exit 125; }',
        `printf . >&${READY_FD} || exit 125`,
        `exec ${READY_FD}>&-`,
        'ulimit -n 8 || { echo \'isolate: cannot apply the resource limits\' >&2; exit 125; }',
        'exec "$@"',
      ].join('\n'),
    );
    expect(after(plan({ limits: { openFiles: 64 } }))[2]).toContain('ulimit -c 0 && ulimit -n 64 ||');
  });

  it('puts nothing of the command, the environment or the paths into the script', () => {
    const evil = ['ls', '$(touch /tmp/pwned)', '`id`', "'; exit 0; '", '"$@"', '\nexec sh'];
    const p = plan({ limits: { openFiles: 32 }, env: { set: { EVIL: '$(id)' } } }, {}, evil);
    const script = after(p)[2] ?? '';
    expect(script).toMatch(/^[a-z0-9 &|{}'.:>;\n$@"-]+$/);
    for (const bit of ['touch', '`', '$(', 'EVIL', 'sh']) expect(script).not.toContain(bit);
    expect(after(p).slice(3)).toEqual([START_NAME, '/bin/ls', ...evil.slice(1)]);
  });

  it('refuses what macOS cannot enforce: memory, cgroups, a process limit as root', () => {
    expectIsolateError(() => plan({ limits: { memoryBytes: 1 << 30 } }), 'E_LIMIT_UNENFORCEABLE');
    expectIsolateError(() => plan({ limits: { enforce: 'cgroup' } }), 'E_BACKEND_UNSUPPORTED'); // the conformance table: macOS has no cgroups
    expectIsolateError(() => plan({ limits: { processes: 10 } }, { uid: 0 }), 'E_LIMIT_UNENFORCEABLE');
  });

  it('refuses to plan when /bin/sh is not readable in the sandbox, with or without limits (fail closed)', () => {
    const mounts = MOUNTS.filter((m) => m.path !== '/bin');
    const ls: CommandFact = { program: 'ls', candidates: [{ path: '/usr/bin/ls', real: '/usr/bin/ls', isFile: true, executable: true }] };
    const err = expectIsolateError(() => plan({ mounts }, { command: ls }), 'E_SANDBOX_SETUP');
    expect(err.message).toContain(START_SHELL);
    expect(err.fix).toBe('add --allow-read /bin');
    expectIsolateError(() => plan({ mounts, limits: { openFiles: 64 } }, { command: ls }), 'E_SANDBOX_SETUP');
    expectIsolateError(() => plan({ mounts: [...MOUNTS, rule('deny', '/bin/sh', 'file')] }), 'E_SANDBOX_SETUP');
  });
});
