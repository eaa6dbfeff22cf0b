/**
 * The one place that looks at the machine for the backends: which bwrap,
 * which kernel switches, what the protected paths and the command are on disk.
 * plan() then turns these facts into a Plan without touching anything.
 */
import { lstatSync, readdirSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { homedir, tmpdir } from 'node:os';
import { delimiter, join, resolve } from 'node:path';
import { probeSync } from '../process.js';
import { IsolateError } from '../errors.js';
import { computeEnvironment } from '../profile/environment.js';
import type { Policy } from '../profile/types.js';
import { proxyDirName } from './proxy-dir.js';
import { bundleDirName } from './oci-bundle-dir.js';
import { ociRuntimes } from './oci-runtime.js';
import { runtimeDir } from './runtime-dir.js';
import { callerOnTerminal } from './terminal.js';
import { scanProtectedAndGit } from './protect-scan.js';
import { gitConfigFacts } from './git-scrub.js';
import { unenterableDirs } from './unenterable.js';
import { mayExecute } from './access-x.js';
import { aclListing, type SandboxUser } from './acl.js';
import { readOnlyGitEntries } from './git-read-only.js';
import { homeGitEntries } from './git-home.js';
import { readRepoConfigs } from './git-repos.js';
import { hostGitPlaces } from './git-paths.js';
import { credentialStoreFiles } from './git-credential-store.js';
import { scanCacheDir } from './scan-cache-file.js';
import { onlyOwnerReaches, rootOnlyEntries } from './root-only.js';
import { sealedListings } from './sealed.js';
import { checkLauncher } from './launcher-check.js';
import type { BackendChoice, CommandFact, HostFacts, NetworkFacts, NsjailFacts, OciFacts, ProtectFact, SandboxExecFacts, UsernsFacts } from '../backends/types.js';
import { cgroupNeeds, wantsCgroup } from '../backends/cgroup.js';
import { cgroupFacts } from './cgroup.js';
import { KERNEL_GUARD_PATHS, PROC, isOtherProcEntry, type KernelPathFact } from '../backends/kernel-guard.js';
import { ensureStateDir } from './own-paths.js';
import { hiddenOwnDirs, isolateStateDir } from '../profile/own-paths.js';
import { writtenByRuns } from '../profile/earlier-runs.js';
import { DISK } from '../profile/resolve.js';
import { DEVICE_NODES, type DeviceFacts } from '../backends/devices.js';
import { SYSTEM_PATH, findSystemProgram } from './system-programs.js';

export { findSystemProgram };

function readNumber(file: string): number | undefined {
  try {
    const n = Number.parseInt(readFileSync(file, 'utf8').trim(), 10);
    return Number.isNaN(n) ? undefined : n;
  } catch {
    return undefined;
  }
}

export function usernsFacts(): UsernsFacts {
  return {
    maxUserNamespaces: readNumber('/proc/sys/user/max_user_namespaces'),
    unprivilegedClone: readNumber('/proc/sys/kernel/unprivileged_userns_clone'),
    apparmorRestrict: readNumber('/proc/sys/kernel/apparmor_restrict_unprivileged_userns'),
  };
}

/** The file a program's path finally names (python3 -> python3.11), which is what must be visible inside the sandbox. */
function realProgram(path: string | undefined): string | undefined {
  if (path === undefined) return undefined;
  try {
    return realpathSync(path);
  } catch {
    return undefined;
  }
}

/** Where macOS's /usr/bin/python3 shim finds python3: the command line tools, or the developer directory xcode-select chose. */
const DEVELOPER_PYTHONS = ['/Library/Developer/CommandLineTools/usr/bin/python3', '/private/var/db/xcode_select_link/usr/bin/python3'];

/** python3 for the terminal helper. On macOS /usr/bin/python3 runs only with the developer tools installed: without them, none. */
function terminalPython(): string | undefined {
  const python = realProgram(findSystemProgram('python3'));
  if (process.platform !== 'darwin' || python !== '/usr/bin/python3') return python;
  return DEVELOPER_PYTHONS.some((p) => realProgram(p) !== undefined) ? python : undefined;
}

/**
 * A launcher (bwrap, nsjail): the path in `variable` if it is set (then it
 * must be executable, or there is none; a relative one from where isolate
 * runs, made absolute, as the launcher starts in `/`), else the first executable `name` in
 * the system directories, then in the absolute directories of the caller's
 * PATH (a relative entry would make the choice depend on the working directory).
 */
function findLauncher(name: string, variable: string, env: Readonly<Record<string, string | undefined>>): string | undefined {
  const explicit = env[variable];
  if (explicit !== undefined && explicit !== '') return mayExecute(explicit) ? resolve(explicit) : undefined;
  for (const dir of [...SYSTEM_PATH.split(':'), ...(env['PATH'] ?? '').split(delimiter)]) {
    if (dir.startsWith('/') && mayExecute(join(dir, name))) return join(dir, name);
  }
  return undefined;
}

/** The directory of the empty stand-ins of sealed entries (run/launch/stand-ins.ts) in isolate's private runtime directory. */
const STAND_INS = 'stand-ins';

/** Where the proxy socket of a filtered run lives: a fresh directory in isolate's private runtime directory (runtime-dir.ts). */
export function networkFacts(env: Readonly<Record<string, string | undefined>>): NetworkFacts {
  const shell = ['/bin/sh', '/usr/bin/sh'].find((p) => mayExecute(p));
  return {
    socat: findSystemProgram('socat'),
    shell,
    socketDir: join(runtimeDir(env), proxyDirName()),
  };
}

/** bwrap: ISOLATE_BWRAP if set, else the first `bwrap` in the system directories or on PATH. */
export function findBwrap(env: Readonly<Record<string, string | undefined>>): string | undefined {
  return findLauncher('bwrap', 'ISOLATE_BWRAP', env);
}

/**
 * bwrap's version. Its binary embeds "bubblewrap X.Y.Z"; reading that is much
 * cheaper than starting `bwrap --version` on every run, which is the fallback.
 */
export function bwrapVersion(path: string): string | undefined {
  // Once per binary in a long-lived process (the API, the MCP server): its device, inode, size and times name it.
  const st = statSync(path, { throwIfNoEntry: false, bigint: true });
  const key = st === undefined ? undefined : `${path}\0${st.dev}:${st.ino}:${st.size}:${st.mtimeNs}:${st.ctimeNs}`;
  const known = key === undefined ? undefined : bwrapVersions.get(key);
  if (known !== undefined) return known;
  const version = readBwrapVersion(path);
  if (key !== undefined && version !== undefined) {
    if (bwrapVersions.size >= 8) bwrapVersions.clear();
    bwrapVersions.set(key, version);
  }
  return version;
}

const bwrapVersions = new Map<string, string>();

/** Forget the versions read so far: the start-up snapshot's warm-up (src/warm-up-host.ts) keeps nothing of the machine that built it. */
export function forgetBwrapVersions(): void {
  bwrapVersions.clear();
}

function readBwrapVersion(path: string): string | undefined {
  try {
    const bytes = readFileSync(path);
    const at = bytes.indexOf('bubblewrap ');
    const m = at === -1 ? null : /^bubblewrap (\d+\.\d+(?:\.\d+)?)/.exec(bytes.subarray(at, at + 32).toString('latin1'));
    if (m?.[1] !== undefined) return m[1];
  } catch {
    return undefined;
  }
  const m = /(\d+\.\d+(?:\.\d+)?)/.exec(probeSync(path, ['--version'], 5000).stdout);
  return m?.[1];
}

/** nsjail: ISOLATE_NSJAIL if set, else the first `nsjail` in the system directories or on PATH. */
export function findNsjail(env: Readonly<Record<string, string | undefined>>): string | undefined {
  return findLauncher('nsjail', 'ISOLATE_NSJAIL', env);
}

/**
 * nsjail prints no version and embeds none. Its options tell the release
 * line: each marker is an option that release added (cmdline.cc), checked
 * newest first. The option names are in the binary, so reading it is enough
 * (and much cheaper than starting it); `nsjail --help` lists the same names
 * when the binary cannot be read.
 */
export const NSJAIL_VERSION_MARKERS: readonly (readonly [marker: string, version: string])[] = [
  ['experimental_mnt', '>=3.5'],
  ['detect_cgroupv2', '>=3.3'],
  ['forward_signals', '>=3.2'],
  ['disable_tsc', '>=3.1'],
];

/** The release line of an nsjail binary from its option names, or undefined when `text` is not nsjail's. */
export function nsjailVersionFromText(text: string): string | undefined {
  if (!text.includes('seccomp_string') || !text.includes('rlimit_nofile')) return undefined;
  for (const [marker, version] of NSJAIL_VERSION_MARKERS) if (text.includes(marker)) return version;
  return '<=3.0';
}

/** Every mount point of this process's mount namespace (/proc/self/mountinfo, escapes decoded), or [] when unreadable. */
export function mountPoints(mountinfo?: string): string[] {
  let text = mountinfo;
  if (text === undefined) {
    try {
      text = readFileSync('/proc/self/mountinfo', 'utf8');
    } catch {
      return [];
    }
  }
  const out: string[] = [];
  for (const line of text.split('\n')) {
    const field = line.split(' ')[4];
    if (field === undefined || !field.startsWith('/')) continue;
    out.push(field.replace(/\\([0-7]{3})/g, (_m, oct: string) => String.fromCharCode(Number.parseInt(oct, 8))));
  }
  return [...new Set(out)];
}

/** nsjail and its release line. */
export function nsjailFacts(env: Readonly<Record<string, string | undefined>>, path = findNsjail(env)): NsjailFacts | undefined {
  if (path === undefined) return undefined;
  let version: string | undefined;
  try {
    version = nsjailVersionFromText(readFileSync(path).toString('latin1'));
  } catch {
    version = undefined;
  }
  if (version === undefined) {
    const r = probeSync(path, ['--help'], 5000);
    version = nsjailVersionFromText(`${r.stdout}${r.stderr}`);
  }
  return { path, version: version ?? 'unknown' };
}

export function bwrapFacts(env: Readonly<Record<string, string | undefined>>, path = findBwrap(env)): HostFacts['bwrap'] {
  if (path === undefined) return undefined;
  const version = bwrapVersion(path);
  return version === undefined ? undefined : { path, version, setpriv: findSystemProgram('setpriv') };
}

/**
 * Which paths of the kernel guard exist here (Linux only: elsewhere there is no /proc to guard); for `uid` 0, also
 * the other entries at the top of /proc that root owns (kernel-guard.ts), and whether only root may read each: not
 * a process's (a number), not a link (self, thread-self, mounts, net lead into a process's own). An ordinary user
 * owns none of them.
 */
export function kernelPathFacts(uid: number): KernelPathFact[] {
  if (process.platform !== 'linux') return [];
  const out: KernelPathFact[] = [];
  const add = (path: string, owned: boolean): void => {
    try {
      const st = lstatSync(path, { throwIfNoEntry: false });
      if (st === undefined) return;
      if (!owned) out.push({ path, dir: st.isDirectory() });
      else if (st.uid === uid && (st.isFile() || st.isDirectory())) out.push({ path, dir: st.isDirectory(), ownerOnly: onlyOwnerReaches(st, { uid, groups: [] }) });
    } catch {
      // unreadable here: the sandbox, with fewer rights, cannot reach it either
    }
  };
  for (const path of KERNEL_GUARD_PATHS) add(path, false);
  if (uid === 0) for (const path of procEntries()) if (isOtherProcEntry(path)) add(path, true);
  return out;
}

/** The entries at the top of /proc that are not a process's or a link. */
function procEntries(): string[] {
  try {
    return readdirSync(PROC, { withFileTypes: true })
      .filter((e) => !e.isSymbolicLink() && !/^\d+$/.test(e.name))
      .map((e) => `${PROC}/${e.name}`);
  } catch {
    return [];
  }
}


export function commandFacts(program: string, sandboxPath: string | undefined, cwd: string): CommandFact {
  const paths = program.includes('/')
    ? [resolve(cwd, program)]
    : (sandboxPath ?? SYSTEM_PATH)
        .split(':')
        .filter((d) => d.startsWith('/'))
        .map((d) => join(d, program));
  const candidates: CommandFact['candidates'] = [];
  for (const path of paths) {
    let st;
    try {
      st = statSync(path, { throwIfNoEntry: false });
    } catch {
      st = undefined;
    }
    if (st === undefined) continue;
    const real = realpathSync.native(path);
    const isFile = st.isFile();
    candidates.push({ path, real, isFile, executable: isFile && mayExecute(real) });
  }
  return { program, candidates };
}

/** Where sandbox-exec is on every macOS (sandbox-exec.ts has the same; not imported, so that Linux runs never load that backend). */
const SANDBOX_EXEC = '/usr/bin/sandbox-exec';
/** Where macOS keeps its version; reading it is cheaper than starting sw_vers. */
export const SYSTEM_VERSION_PLIST = '/System/Library/CoreServices/SystemVersion.plist';

/** ProductVersion from the text of SystemVersion.plist (an XML property list), or undefined. */
export function productVersionFromPlist(text: string): string | undefined {
  const m = /<key>ProductVersion<\/key>\s*<string>\s*([0-9][0-9A-Za-z.]*)\s*<\/string>/.exec(text);
  return m?.[1];
}

/** The macOS version: SystemVersion.plist, else `sw_vers -productVersion`. */
export function macosVersion(): string | undefined {
  try {
    const v = productVersionFromPlist(readFileSync(SYSTEM_VERSION_PLIST, 'utf8'));
    if (v !== undefined) return v;
  } catch {
    // fall back to sw_vers
  }
  const m = /^\s*([0-9][0-9A-Za-z.]*)\s*$/.exec(probeSync('/usr/bin/sw_vers', ['-productVersion'], 2000).stdout);
  return m?.[1];
}

/** The dynamic ports (RFC 6335), where the loopback proxy of a sandbox-exec run listens. */
export const DYNAMIC_PORTS = { first: 49152, last: 65535 } as const;

/**
 * The proxy port of one sandbox-exec run: random among the dynamic ports, so
 * that concurrent filtered runs do not collide on one fixed port. Not probed
 * (that cannot be done synchronously); run/ fails closed (125) if another
 * program holds it.
 */
export function randomProxyPort(): number {
  return DYNAMIC_PORTS.first + (randomBytes(2).readUInt16BE(0) % (DYNAMIC_PORTS.last - DYNAMIC_PORTS.first + 1));
}

/** The directory a sandbox-exec run directory goes in: the real path of the caller's $TMPDIR, else of os.tmpdir(), else of /tmp. */
export function runDirBase(env: Readonly<Record<string, string | undefined>>): string {
  for (const dir of [env['TMPDIR'], tmpdir(), '/tmp']) {
    if (dir === undefined || !dir.startsWith('/')) continue;
    try {
      const real = realpathSync.native(dir);
      if (statSync(real).isDirectory()) return real;
    } catch {
      // try the next
    }
  }
  return '/tmp';
}

/**
 * sandbox-exec on macOS: the program, the macOS version, a fresh (not yet
 * created) run directory, and in filtered network mode the loopback port of
 * the proxy. Undefined when the program is missing or not executable.
 */
export function sandboxExecFacts(
  env: Readonly<Record<string, string | undefined>>,
  options: { filtered: boolean; path?: string; version?: () => string | undefined },
): SandboxExecFacts | undefined {
  const path = options.path ?? SANDBOX_EXEC;
  try {
    if (!statSync(path).isFile() || !mayExecute(path)) return undefined;
  } catch {
    return undefined;
  }
  return {
    path,
    version: (options.version ?? macosVersion)(),
    runDir: join(runDirBase(env), `isolate-run-${process.pid}-${randomBytes(6).toString('hex')}`),
    ...(options.filtered ? { proxyPort: randomProxyPort() } : {}),
  };
}

/** Whether one of the host's device nodes of the sandbox's /dev belongs to `uid` (its owner needs no capability to chmod it). */
function ownsHostNode(uid: number): boolean {
  return DEVICE_NODES.some((node) => lstatSync(`/dev/${node.name}`, { throwIfNoEntry: false })?.uid === uid);
}

/**
 * A run by root on Linux, where the host's device nodes are root's (not in
 * a rootless container, where they belong to nobody): where isolate keeps
 * its private copies of them (backends/devices.ts), `dev` in root's state
 * directory, which no sandbox sees. run/device-nodes.ts checks and makes them.
 * Without an absolute XDG_STATE_HOME or HOME there is no such directory:
 * the run is refused rather than given the host's nodes.
 */
export function deviceFacts(env: Readonly<Record<string, string | undefined>>, uid: number, owns: (uid: number) => boolean = ownsHostNode): DeviceFacts | undefined {
  if (process.platform !== 'linux' || uid !== 0 || !owns(uid)) return undefined;
  const state = isolateStateDir(withHome(env));
  if (state === undefined) {
    // Without copies the sandbox would get the host's nodes, which its uid 0 owns: fail closed.
    throw new IsolateError('E_SANDBOX_SETUP', 'isolate runs as root and has no place for its copies of the device nodes (neither XDG_STATE_HOME nor HOME is an absolute path); the command was not run', {
      fix: 'set XDG_STATE_HOME (or HOME) to an absolute path, for example XDG_STATE_HOME=/var/lib/isolate',
    });
  }
  return { dir: join(state, 'dev'), mknod: findSystemProgram('mknod') };
}

export interface GatherOptions {
  env: Readonly<Record<string, string | undefined>>;
  /** Which backend was asked for: facts only it needs are gathered only for it. */
  backend?: BackendChoice;
  /** The caller asks for a terminal of its own for the command: when isolate is on one (terminal.ts), python3 is looked for. */
  terminal?: boolean;
  /** The host's mount points are wanted whatever the backend (an OCI bundle: a runtime's read-only bind leaves the mounts beneath it as they are). */
  mountPoints?: boolean;
  /** false: the sealed directories are not listed (an export, run at another time: backends/seal.ts). */
  sealed?: boolean;
}

/** `--backend oci`: the runtime that works here (or why none does), setpriv, and a fresh bundle directory. */
export function ociFacts(env: Readonly<Record<string, string | undefined>>): OciFacts {
  const runtimes = ociRuntimes();
  const usable = runtimes.find((r) => r.refused === undefined);
  return {
    runtime: usable === undefined ? undefined : { name: usable.name, path: usable.path, version: usable.version },
    refused: runtimes.flatMap((r) => (r.refused === undefined ? [] : [{ name: r.name, reason: r.refused }])),
    setpriv: findSystemProgram('setpriv'),
    bundleDir: join(runtimeDir(env), bundleDirName()),
  };
}

/**
 * The caller's environment with the home the profile's `~` is (profile/resolve.ts): HOME, or where the password
 * database puts it when HOME is unset or empty (`env -i`, a service, `sudo` without -E).
 */
function withHome(env: Readonly<Record<string, string | undefined>>): Readonly<Record<string, string | undefined>> {
  return { ...env, HOME: env['HOME'] || homedir() };
}

/** $HOME's real path, when it is an absolute path that exists. */
function realHome(env: Readonly<Record<string, string | undefined>>): string | undefined {
  const home = env['HOME'];
  try {
    return home !== undefined && home.startsWith('/') ? realpathSync.native(home) : undefined;
  } catch {
    return undefined;
  }
}

const ownGroups = (): number[] => [process.getgid?.() ?? -1, ...(process.getgroups?.() ?? [])];

/** The sandbox's user as the kernel checks it: this process's uid and groups; access control lists read by getfacl. */
const sandboxUser = (): SandboxUser => ({ uid: process.getuid?.() ?? -1, groups: ownGroups(), acl: (path) => aclListing(path, findSystemProgram('getfacl')) });

/** Linux: the directories the sandbox cannot enter on the way to the working directory and the paths the profile shows. */
function unenterableFacts(policy: Policy): Pick<HostFacts, 'unenterable'> {
  const shown = policy.filesystem.mounts.filter((r) => r.kind === 'read' || r.kind === 'write').map((r) => r.path);
  const found = unenterableDirs([policy.process.cwd, ...shown], sandboxUser());
  return found.length === 0 ? {} : { unenterable: found };
}

/** nsjail's facts, once it is known not to be one the sandbox could have changed (launcher-check.ts). */
function checkedNsjail(policy: Policy, env: Readonly<Record<string, string | undefined>>): NsjailFacts | undefined {
  const path = findNsjail(env);
  checkLauncher(launcherWritable(policy, env), 'nsjail', path);
  return nsjailFacts(env, path);
}

/** Where a launcher must not be: a path this run's sandbox, or an earlier run's in the same project, could write. */
function launcherWritable(policy: Policy, env: Readonly<Record<string, string | undefined>>): (path: string) => boolean {
  return writtenByRuns(policy.filesystem.mounts, searchedFrom(policy), hiddenOwnDirs(env), env['HOME'], (path) => DISK.stat(path));
}

/** The working directories the searches for the read-only repositories and credential stores start from: the command's, and the profile's when a run moved the command (narrow.ts). */
function searchedFrom(policy: Policy): string[] {
  const { cwd, profileCwd } = policy.process;
  return profileCwd === undefined || profileCwd === cwd ? [cwd] : [profileCwd, cwd];
}

/** Each entry once, the first found of a path. */
function uniquePaths(entries: readonly ProtectFact[]): ProtectFact[] {
  const seen = new Set<string>();
  return entries.filter((e) => {
    if (seen.has(e.path)) return false;
    seen.add(e.path);
    return true;
  });
}

export function gatherHostFacts(policy: Policy, command: readonly string[], options: GatherOptions): HostFacts {
  ensureStateDir(policy, options.env);
  const { env } = computeEnvironment(policy.environment, options.env);
  const bwrapPath = findBwrap(options.env);
  checkLauncher(launcherWritable(policy, options.env), 'bwrap', bwrapPath);
  const bwrap = bwrapFacts(options.env, bwrapPath);
  const devices = deviceFacts(options.env, process.getuid?.() ?? -1);
  // Git's own configuration, and the home searched for repositories, are those of the home the sandbox sees as `~`.
  const gitEnv = withHome(options.env);
  const gitPlaces = hostGitPlaces(gitEnv);
  const { facts: protect, gitReads } = scanProtectedAndGit(policy, { cacheDir: scanCacheDir(options.env), env: gitEnv, gitPlaces });
  // The git configuration the sandbox sees without its secrets (an export carries the cleaned copies in its bundle):
  // of the repositories in writable paths (found by the protected-name search, which read their files) and in the
  // read-only project (read now, each file not read already).
  // Searched from the working directory and, for a run moved elsewhere (narrow.ts), from the profile's too.
  const readOnly = uniquePaths(
    searchedFrom(policy).flatMap((cwd) => [
      ...readOnlyGitEntries(policy.filesystem.mounts, cwd, { cacheDir: scanCacheDir(options.env) }),
      ...homeGitEntries(policy.filesystem.mounts, cwd, realHome(gitEnv), { cacheDir: scanCacheDir(options.env) }),
    ]),
  );
  readRepoConfigs(readOnly, gitEnv, gitReads, gitPlaces);
  const gitConfigs = gitConfigFacts(policy.filesystem.mounts, gitReads.files(), sandboxUser());
  const gitCredentialStores = [...new Set(searchedFrom(policy).flatMap((cwd) => credentialStoreFiles(gitReads.files(), gitEnv, cwd)))];
  return {
    platform: process.platform,
    arch: process.arch,
    uid: process.getuid?.() ?? -1,
    gid: process.getgid?.() ?? -1,
    bwrap,
    // nsjail is looked for only when it is asked for, or when auto would fall back to it; with it the
    // host's mount points: nsjail makes only the top mount of a read-only bind read-only (setup-ops.ts, submount).
    ...(options.backend === 'nsjail' || (options.backend === 'auto' && bwrapPath === undefined) ? { nsjail: checkedNsjail(policy, options.env), mountPoints: mountPoints() } : {}),
    ...(options.mountPoints === true || options.backend === 'oci' ? { mountPoints: mountPoints() } : {}),
    ...(options.backend === 'oci' ? { oci: ociFacts(options.env) } : {}),
    userns: usernsFacts(),
    env: options.env,
    protect,
    ...(gitConfigs.length === 0 ? {} : { gitConfigs }),
    ...(gitCredentialStores.length === 0 ? {} : { gitCredentialStores }),
    command: commandFacts(command[0] ?? '', env['PATH'], policy.process.cwd),
    ...(policy.network.mode === 'filtered' ? { network: networkFacts(options.env) } : {}),
    kernelPaths: kernelPathFacts(process.getuid?.() ?? -1),
    ...(devices === undefined ? {} : { devices }),
    // The read-only parents of hidden paths, rebuilt from their listing on Linux (sandbox-exec's rules are paths).
    ...(process.platform === 'linux' && options.sealed !== false ? { sealed: sealedListings(policy, realHome(options.env)), standIns: join(runtimeDir(options.env), STAND_INS) } : {}),
    ...(process.platform === 'linux' ? unenterableFacts(policy) : {}),
    ...(process.platform === 'linux' && process.getuid?.() === 0 ? { rootOnly: rootOnlyEntries(policy, { uid: 0, groups: ownGroups(), home: realHome(options.env), cacheDir: scanCacheDir(options.env, 'root-only-cache') }) } : {}),
    prlimit: findSystemProgram('prlimit'),
    ...(options.terminal === true && callerOnTerminal() ? { terminal: { python: terminalPython() } } : {}),
    ...(wantsCgroup(policy.limits)
      ? { cgroup: cgroupFacts(cgroupNeeds(policy.limits), process.getuid?.() ?? -1) }
      : {}),
    // sandbox-exec: only on macOS, and only when it may be the backend (no cost on Linux).
    ...(process.platform === 'darwin' && (options.backend === undefined || options.backend === 'auto' || options.backend === 'sandbox-exec')
      ? { sandboxExec: sandboxExecFacts(options.env, { filtered: policy.network.mode === 'filtered' }) }
      : {}),
  };
}
