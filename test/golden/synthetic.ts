/**
 * A synthetic host for the golden plans: a typical merged-/usr Debian
 * machine as the real resolvePolicy sees it (SYNTHETIC_DISK answers its
 * stat, realpath and lstat), and fixed HostFacts. Nothing here reads this
 * machine, so the golden files are the same on every host.
 */
import { basename } from 'node:path';
import { writableRoots } from '../../src/backends/mounts.js';
import { deniedPathFacts, ownPathFacts } from '../../src/host/own-paths.js';
import type { CommandFact, HostFacts, Plan, PlanSummary, ProtectFact, SealEntry, SealFact } from '../../src/backends/types.js';
import { sealedParents } from '../../src/backends/seal.js';
import { resolvePolicy, type PathLookup, type PathVars } from '../../src/profile/resolve.js';
import type { MergedProfile, Policy } from '../../src/profile/types.js';
import { shellQuote } from '../../src/run/quote.js';
import { disassemble } from '../../src/seccomp/bpf.js';
import { expect } from 'vitest';
import { UPDATE_GOLDEN_COMMAND } from './golden-file.js';

export const VARS: PathVars = { CWD: '/home/user/project', HOME: '/home/user', TMPDIR: '/tmp' };

/** Optional paths a typical Debian host does not have; and no login session (/run/user/<uid>, whose isolate directory every run hides where it exists). */
const ABSENT_PREFIXES = ['/nix', '/snap', '/home/linuxbrew', '/lib32', '/libx32', '/run/user'];

/** Merged /usr: these are symlinks into /usr. */
const USR_LINKS: Readonly<Record<string, string>> = { '/bin': '/usr/bin', '/sbin': '/usr/sbin', '/lib': '/usr/lib', '/lib64': '/usr/lib64' };

/** Paths from the built-in profiles that name files (everything else is a directory). */
const FILES = new Set([
  '/etc/shadow',
  '/etc/gshadow',
  '/etc/shadow-',
  '/etc/gshadow-',
  '/etc/sudoers',
  '/etc/security/opasswd',
  '/etc/krb5.keytab',
]);
const HOME_FILES = new Set([
  '.netrc',
  '.npmrc',
  '.yarnrc',
  '.yarnrc.yml',
  '.pypirc',
  '.git-credentials',
  '.config/git/credentials',
  '.vault-token',
  '.cargo/credentials',
  '.cargo/credentials.toml',
  '.gem/credentials',
  '.m2/settings.xml',
  '.gradle/gradle.properties',
  '.bash_history',
  '.zsh_history',
  '.python_history',
  '.node_repl_history',
  '.psql_history',
  '.mysql_history',
  '.lesshst',
  '.viminfo',
  '.boto',
  '.s3cfg',
  '.b2_account_info',
  '.databrickscfg',
  '.config/containers/auth.json',
  '.terraformrc',
  '.pulumi/credentials.json',
  '.expo/state.json',
  '.sentryclirc',
  '.bunfig.toml',
  '.config/pypoetry/auth.toml',
  '.m2/settings-security.xml',
  '.ivy2/.credentials',
  '.sbt/.credentials',
  '.nuget/NuGet/NuGet.Config',
  '.composer/auth.json',
  '.config/composer/auth.json',
  '.pgpass',
  '.pg_service.conf',
  '.my.cnf',
  '.mylogin.cnf',
  '.dbt/profiles.yml',
  '.claude.json',
  '.claude.json.backup',
  '.claude/.credentials.json',
  '.codex/auth.json',
  '.gemini/oauth_creds.json',
  '.gemini/mcp-oauth-tokens.json',
  '.gemini/.env',
  '.aider.conf.yml',
  '.aider/oauth-keys.env',
  '.env',
  '.config/io.datasette.llm/keys.json',
  '.cache/huggingface/token',
  '.cache/huggingface/stored_tokens',
  '.huggingface/token',
  '.ollama/id_ed25519',
  '.histfile',
  '.local/share/fish/fish_history',
  '.sqlite_history',
  '.rediscli_history',
  '.dbshell',
]);

/** Files of the synthetic project (relative to VARS.CWD) that golden plans hide; everything else in it is a directory. */
export const PROJECT_FILES: ReadonlySet<string> = new Set(['config/secret.json']);

/** What the golden plans hide inside the project (relative to its root): a file two directories down, a directory two down. */
export const HIDDEN_IN_PROJECT = ['config/secret.json', 'deploy/keys'] as const;

function isFile(path: string): boolean {
  if (FILES.has(path)) return true;
  if (path.startsWith(`${VARS.CWD}/`) && PROJECT_FILES.has(path.slice(VARS.CWD.length + 1))) return true;
  const home = `${VARS.HOME}/`;
  return path.startsWith(home) && HOME_FILES.has(path.slice(home.length));
}

/** A CI runner's directories beside a checkout, looked for by name around every working directory (profile/ci-dirs.ts): not on a typical host. */
const ABSENT_SUFFIXES = ['.tmp', '@tmp'];

const absent = (path: string): boolean => ABSENT_PREFIXES.some((p) => path === p || path.startsWith(`${p}/`)) || ABSENT_SUFFIXES.some((s) => path.endsWith(s));

/** Under a merged-/usr link, the path it leads to. */
function usrReal(path: string): string {
  for (const [link, target] of Object.entries(USR_LINKS)) {
    if (path === link || path.startsWith(`${link}/`)) return target + path.slice(link.length);
  }
  return path;
}

/**
 * The synthetic host's filesystem, as resolvePolicy looks at it: everything
 * a profile names exists (as a directory, or a file for the names of FILES
 * and HOME_FILES) but for the optional paths of ABSENT_PREFIXES; /bin, /sbin,
 * /lib and /lib64 are links into /usr.
 */
export const SYNTHETIC_DISK: PathLookup = {
  stat: (path) => (absent(path) ? undefined : isFile(path) ? 'file' : 'dir'),
  realpath: usrReal,
  isSymlink: (path) => USR_LINKS[path] !== undefined,
};

/** The real resolvePolicy on the synthetic host. */
export function syntheticPolicy(profile: MergedProfile): Policy {
  return resolvePolicy(profile, { vars: VARS, env: { HOME: VARS.HOME }, disk: SYNTHETIC_DISK });
}

/** The real resolvePolicy on the synthetic host, the caller's PATH naming `first` ahead of the system's directories (a direnv project's bin/). */
export function syntheticPolicyWithPath(profile: MergedProfile, first: readonly string[]): Policy {
  const PATH = [...first, HOST_ENV['PATH'] ?? ''].join(':');
  return resolvePolicy(profile, { vars: VARS, env: { HOME: VARS.HOME, PATH }, disk: SYNTHETIC_DISK });
}

/** syntheticProtect, and the policy's absolute protected paths inside the project (a directory on the PATH), as the host's search finds them. */
export function syntheticProtectWithPaths(policy: Policy): ProtectFact[] {
  const probe = { state: (path: string): ProtectFact['state'] => SYNTHETIC_DISK.stat(path) ?? 'missing', enterable: () => true };
  return [...syntheticProtect(policy), ...ownPathFacts(policy, probe)];
}

/** The project on the synthetic host: a git checkout with hooks and config; nothing else protected exists. */
const PROJECT_ENTRIES: Readonly<Record<string, ProtectFact['state']>> = { '.git': 'dir', '.git/hooks': 'dir', '.git/config': 'file' };

/** scanProtected on the synthetic host, whose disk is `disk` (the project, at `cwd`, has no subdirectories but those the profile hides paths in). */
export function syntheticProtect(policy: Policy, cwd: string = VARS.CWD, disk: PathLookup = SYNTHETIC_DISK): ProtectFact[] {
  const facts: ProtectFact[] = [];
  for (const root of writableRoots(policy.filesystem.mounts)) {
    if (root !== cwd) throw new Error(`synthetic host: no layout for writable root ${root}`);
    for (const name of policy.filesystem.protect) {
      // As far as the name exists; the first missing part of it is blocked (at the top of the root).
      const segments = name.split('/');
      let end = 1;
      while (end < segments.length && PROJECT_ENTRIES[segments.slice(0, end).join('/')] === 'dir') end++;
      const rel = segments.slice(0, end).join('/');
      const pins = segments.slice(0, end - 1).map((_s, i) => `${root}/${segments.slice(0, i + 1).join('/')}`);
      if (!facts.some((f) => f.path === `${root}/${rel}`)) facts.push({ path: `${root}/${rel}`, state: PROJECT_ENTRIES[rel] ?? 'missing', pins });
    }
  }
  // The paths the profile hides in the project, as the search finds them on the synthetic disk.
  const state = (path: string): ProtectFact['state'] => disk.stat(path) ?? 'missing';
  for (const fact of deniedPathFacts(policy.filesystem.mounts, { state, enterable: () => true })) if (!facts.some((f) => f.path === fact.path)) facts.push(fact);
  return facts;
}

/** No value of the synthetic caller's secrets appears in a golden. */
export function expectNoSecretValues(text: string): void {
  for (const value of Object.values(HOST_ENV)) {
    if (value.includes('synthetic')) expect(text).not.toContain(value);
  }
}

/** The caller's environment on the synthetic host, secrets included. */
export const HOST_ENV: Readonly<Record<string, string>> = {
  PATH: '/usr/local/bin:/usr/bin:/bin',
  HOME: '/home/user',
  USER: 'user',
  LOGNAME: 'user',
  SHELL: '/bin/bash',
  LANG: 'en_US.UTF-8',
  LC_ALL: 'en_US.UTF-8',
  LC_TIME: 'en_GB.UTF-8',
  LC_SESSION_TOKEN: 'synthetic-lc-secret',
  TERM: 'xterm-256color',
  COLORTERM: 'truecolor',
  TZ: 'Europe/Berlin',
  EDITOR: 'vim',
  GITHUB_TOKEN: 'ghp_synthetic000000000000000000000000',
  AWS_SECRET_ACCESS_KEY: 'synthetic-aws-secret',
  SSH_AUTH_SOCK: '/run/user/1000/ssh-agent.sock',
  NPM_CONFIG__AUTH: 'synthetic-npm-auth',
};

/** A command found in /usr/bin (through /usr/local/bin:/usr/bin:/bin). */
export function usrBinCommand(program: string, real = `/usr/bin/${program}`): CommandFact {
  return {
    program,
    candidates: [
      { path: `/usr/bin/${program}`, real, isFile: true, executable: true },
      { path: `/bin/${program}`, real, isFile: true, executable: true },
    ],
  };
}

/** The kernel-guard paths a typical x86_64 kernel has (kernel-guard.ts). */
export const SYNTHETIC_KERNEL_PATHS: HostFacts['kernelPaths'] = [
  { path: '/proc/bus', dir: true },
  { path: '/proc/fs', dir: true },
  { path: '/proc/irq', dir: true },
  { path: '/proc/sys', dir: true },
  { path: '/proc/sysrq-trigger', dir: false },
  { path: '/proc/acpi', dir: true },
  { path: '/proc/interrupts', dir: false },
  { path: '/proc/kcore', dir: false },
  { path: '/proc/keys', dir: false },
  { path: '/proc/timer_list', dir: false },
  { path: '/proc/vmallocinfo', dir: false },
  { path: '/sys/firmware', dir: true },
];

/**
 * Besides what the rules name, what each sealed directory of the synthetic
 * host holds: files, a directory, links (one to a hidden file beside it), and
 * names with a newline, a quote and a space in them.
 */
const SEALED_EXTRAS: Readonly<Record<string, readonly SealEntry[]>> = {
  '/etc': [
    { name: 'hosts', type: 'file' },
    { name: 'passwd', type: 'file' },
    { name: 'apt', type: 'dir' },
    { name: 'localtime', type: 'symlink', target: '/usr/share/zoneinfo/Europe/Berlin' },
    { name: 'resolv.conf', type: 'symlink', target: '../run/systemd/resolve/stub-resolv.conf' },
  ],
  [VARS.HOME]: [
    { name: '.bashrc', type: 'file' },
    { name: 'Documents', type: 'dir' },
    { name: 'to-credentials', type: 'symlink', target: '.git-credentials' },
    { name: "it's\nodd name", type: 'file' },
  ],
};

/** The listing of each directory the policy seals: the entries leading to what its rules name, the extras (else a `settings` file). */
export function syntheticSealed(policy: Policy, disk: PathLookup = SYNTHETIC_DISK): SealFact[] {
  const rules = policy.filesystem.mounts;
  const parents = sealedParents(rules);
  return parents.map((dir) => {
    // The entry of `dir` that leads to each path the rules name beneath it.
    const named = [...new Set([...rules.map((r) => r.path), ...parents].flatMap((p) => (p.startsWith(`${dir}/`) ? [`${dir}/${p.slice(dir.length + 1).split('/')[0] ?? ''}`] : [])))];
    const entries: SealEntry[] = named.map((p) => ({ name: basename(p), type: disk.stat(p) === 'file' ? 'file' : 'dir' }));
    return { path: dir, entries: [...entries, ...(SEALED_EXTRAS[dir] ?? [{ name: 'settings', type: 'file' }])] };
  });
}

export function syntheticHost(policy: Policy, command: CommandFact): HostFacts {
  return {
    platform: 'linux',
    arch: 'x64',
    uid: 1000,
    gid: 1000,
    bwrap: { path: '/usr/bin/bwrap', version: '0.8.0', setpriv: '/usr/bin/setpriv' },
    prlimit: '/usr/bin/prlimit',
    kernelPaths: SYNTHETIC_KERNEL_PATHS,
    userns: { maxUserNamespaces: 63379, unprivilegedClone: 1, apparmorRestrict: undefined },
    env: HOST_ENV,
    protect: syntheticProtect(policy),
    command,
    sealed: syntheticSealed(policy),
    standIns: '/home/user/.local/state/isolate/run/stand-ins',
  };
}

// ---- rendering -------------------------------------------------------------------

/** How many values each bwrap option takes (an unknown option fails the golden: add it here). */
const ARITY: Readonly<Record<string, number>> = {
  '--args': 1,
  '--seccomp': 1,
  '--bind-fd': 2,
  '--ro-bind-fd': 2,
  '--ro-bind-data': 2,
  '--unshare-user': 0,
  '--unshare-ipc': 0,
  '--unshare-pid': 0,
  '--unshare-uts': 0,
  '--unshare-cgroup': 0,
  '--unshare-net': 0,
  '--disable-userns': 0,
  '--die-with-parent': 0,
  '--new-session': 0,
  '--cap-drop': 1,
  '--hostname': 1,
  '--proc': 1,
  '--dev': 1,
  '--tmpfs': 1,
  '--perms': 1,
  '--size': 1,
  '--remount-ro': 1,
  '--ro-bind': 2,
  '--ro-bind-try': 2,
  '--bind': 2,
  '--dev-bind': 2,
  '--symlink': 2,
  '--chdir': 1,
  '--json-status-fd': 1,
  '--clearenv': 0,
  '--setenv': 2,
};

/** One bwrap option and its values per line, shell-quoted; after `--`, the command one argument per line as JSON. */
export function renderArgs(args: readonly string[]): string[] {
  const lines: string[] = [];
  let i = 0;
  while (i < args.length) {
    const a = args[i] as string;
    if (a === '--') {
      // The command and its arguments as JSON strings: one per line, escapes visible.
      lines.push('--', ...args.slice(i + 1).map((x) => `    ${JSON.stringify(x)}`));
      break;
    }
    const n = ARITY[a];
    if (n === undefined) {
      if (i === 0) {
        lines.push(shellQuote(a));
        i++;
        continue;
      }
      throw new Error(`golden renderer: unknown bwrap option ${a}; add its arity to ARITY in test/golden/synthetic.ts`);
    }
    lines.push([a, ...args.slice(i + 1, i + 1 + n)].map(shellQuote).join(' '));
    i += 1 + n;
  }
  return lines;
}

/** pipedArgs with every variable's value replaced by <value:NAME>. */
export function redactPiped(piped: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < piped.length; i++) {
    const a = piped[i] as string;
    if (a === '--setenv') {
      const name = piped[i + 1] ?? '';
      out.push('--setenv', name, `<value:${name}>`);
      i += 2;
    } else {
      out.push(a);
    }
  }
  return out;
}

/** A titled list for a golden file, `(none)` when empty. */
export function list(title: string, items: readonly string[]): string[] {
  return [`${title}:`, ...(items.length === 0 ? ['  (none)'] : items.map((x) => `  ${x}`))];
}

/** The summary's filesystem lists, as every backend's golden file shows them (sandbox-exec makes no placeholders). */
export function pathLists(s: PlanSummary, placeholders = true): string[] {
  return [
    ...list('readable', s.readable),
    ...list('writable', s.writable),
    ...list('hidden', s.hidden),
    ...list('tmpfs', s.tmpfs),
    ...list('protected', s.protected),
    ...(placeholders ? list('placeholders', s.placeholders) : []),
  ];
}

/** What a plan withholds and leaves to run/ besides the launch: the withheld names, the clean-up, and (where shown) the services. */
export function asideLists(plan: Plan, services: boolean): string[] {
  return [
    ...list('withheld env', plan.withheldEnv),
    ...list('cleanup', plan.cleanup.map((c) => `remove placeholder ${c.removeIfPlaceholder}`)),
    ...(services ? list('services', plan.services.map((svc) => `${svc.kind} ${svc.socketPath} -> ${svc.sandboxSocket} (port ${svc.port}; allow ${svc.allow.join(' ')}; deny ${svc.deny.join(' ')})`)) : []),
  ];
}

export function renderPlan(title: string, plan: Plan): string {
  const s = plan.summary;
  const lines = [
    `# ${title}`,
    '# Synthetic host (uid 1000, bwrap 0.8.0, merged /usr, project at /home/user/project).',
    `# Regenerate after an intended change: ${UPDATE_GOLDEN_COMMAND}`,
    '',
    `backend: ${plan.backend} ${plan.backendVersion}`,
    `command: ${plan.command.program} -> ${plan.command.resolved}`,
    `cwd: ${plan.cwd}`,
    `fds: args=${plan.fds.args} status=${plan.fds.status}`,
    ...(plan.standIns === undefined ? [] : [`stand-ins of sealed entries: ${plan.standIns}`]),
    `launcherEnv: ${JSON.stringify(plan.launcherEnv)}`,
    '',
    '== argv ==',
    // The program that starts the launcher (setpriv) on a line of its own, then the launcher's options.
    ...(plan.launcherAt === undefined ? [] : [plan.argv.slice(0, plan.launcherAt).map(shellQuote).join(' ')]),
    ...renderArgs(plan.argv.slice(plan.launcherAt ?? 0)),
    '',
    `== pipedArgs (fd ${plan.fds.args}) ==`,
    ...renderArgs(redactPiped(plan.pipedArgs)),
    '',
    ...(plan.seccomp === undefined
      ? ['== seccomp: none ==', '']
      : [`== seccomp (fd ${plan.seccomp.fd}, ${plan.seccomp.program.length / 8} instructions) ==`, ...disassemble(plan.seccomp.program, { arch: 'x86_64' }), '']),
    ...asideLists(plan, false),
    '',
    '== summary ==',
    ...pathLists(s),
    `network: ${s.network}`,
    ...list('limits', s.limits),
    ...list('env', s.env),
    `namespaces: ${s.namespaces.join(' ')}`,
    ...list('notes', s.notes),
  ];
  return `${lines.join('\n')}\n`;
}
