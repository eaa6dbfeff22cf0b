/**
 * sandbox-exec (Seatbelt) backend: policy -> SBPL profile, -D parameters and
 * argv. Pure; see types.ts, and sbpl.ts for the profile itself.
 *
 *   /usr/bin/sandbox-exec -p <profile> -D NAME=value ... -- /bin/sh -c <start script> isolate-start <command> [args...]
 *
 * sandbox-exec applies the profile to itself and execs the start wrapper,
 * which execs the command, so the environment sandbox-exec is started with is
 * the command's (launcherEnv === childEnv) and its exit status is the
 * command's, except when sandbox-exec fails itself: macOS rejects the profile
 * or a parameter, or refuses to run the wrapper. It then prints
 * `sandbox-exec: ...` and exits with a status of its own (65, 71) that a
 * command may exit with as well. So the command starts through a tiny
 * /bin/sh wrapper inside the sandbox (startWrapper) that applies the rlimits
 * and writes one byte on READY_FD just before it execs the command
 * (Plan.fds.ready); if the launcher exits without that byte, run/ reports a
 * setup failure (exit 125) instead of its status. One way: nothing is
 * checked between the sandbox's start and the command's (there are no mounts
 * to compare, unlike nsjail's fds.started), so the wrapper does not wait
 * for an answer and the run costs no round trip.
 *
 * What macOS cannot do as bubblewrap does, and what the plan does instead:
 * - tmpfs: no per-process mounts. Each governing tmpfs path is hidden, and a
 *   fresh private directory under the run directory stands in for it; HOME
 *   and TMPDIR point there when the tmpfs path is the home or a temp
 *   directory, and so does the working directory when it is a tmpfs path.
 *   run/ creates the directories before the run and removes them after
 *   (Plan.launch.runDir).
 * - no new session flag: the plan asks run/ to start sandbox-exec in a new
 *   session (Plan.launch.reach: process-group), so the command has no controlling
 *   terminal to inject input into (TIOCSTI), and in plan.cwd (sandbox-exec
 *   has no --chdir).
 * - no prlimit: rlimits are set by the start wrapper's ulimit inside the
 *   sandbox just before the command. A memory limit is refused: macOS
 *   enforces neither RLIMIT_DATA nor RLIMIT_AS.
 * - filtered network: no network namespace and no forwarder. The command
 *   reaches isolate's proxy directly on the host loopback at the run's proxy
 *   port (a random dynamic port host.ts chose, so concurrent runs do not
 *   collide; PROXY_PORT when the facts name none), the only network
 *   destination the profile allows; the proxy service says so (service.tcp),
 *   and run/ listens there, failing closed if the port is taken.
 * - no seccomp: a profile that asks for a syscall filter is refused (see
 *   conformance.ts); set `syscalls: { preset: none }` to use this backend.
 *
 * run/ does what Plan.launch asks: the run directory, the new session,
 * signals to the process group, and afterwards the denials from macOS's
 * unified log; and it makes the loopback proxy listen (service.tcp).
 */
import { IsolateError } from '../errors.js';
import { BYPASS_VARIABLES, PROXY_PORT, PROXY_URL, proxyEnvironment } from '../network/forwarder.js';
import { computeEnvironment } from '../profile/environment.js';
import { formatBytes } from '../profile/limits.js';
import type { MountRule, Policy } from '../profile/types.js';
import { pickCommand, reachable } from './command.js';
import { assertEnforceable } from './conformance.js';
import { effectiveKind, governing, isVisible, orderRules } from './mounts.js';
import { SYSTEM_READ, buildSbpl, normalizeDir, tmpfsRoles, type Sbpl, type SbplParam } from './sbpl.js';
import type { Backend, HostFacts, LaunchPlan, Plan, PlanSummary, ProxyService } from './types.js';

export const SANDBOX_EXEC_PATH = '/usr/bin/sandbox-exec';
/** The shell of the start wrapper: it applies the rlimits inside the sandbox and reports the start. */
export const START_SHELL = '/bin/sh';
/** The start wrapper's $0 (what error messages of the shell and ps show). */
export const START_NAME = 'isolate-start';
/**
 * The start wrapper writes one byte on this descriptor just before it execs
 * the command, then closes it (Plan.fds.ready). A socket run/ passes to
 * sandbox-exec, which the wrapper inherits: writing to an inherited
 * descriptor is no open, and Seatbelt does not check it (see sbpl.ts).
 */
export const READY_FD = 3;
/**
 * `ulimit -n` below this many descriptors comes after the byte: to redirect
 * printf's output the shell first saves its own stdout on a descriptor of 10
 * or more (dash, zsh; bash needs 5), which such a limit forbids. A limit this
 * small only lowers the caller's, which cannot fail; a larger one may exceed
 * the hard limit or kern.maxfilesperproc, and is set before the byte, so that
 * its failure is reported as a setup failure.
 */
const NOFILE_BEFORE_READY = 64;
/** ulimit -f counts 512-byte blocks in POSIX sh (bash as sh, dash, zsh). */
const FSIZE_BLOCK = 512;

/**
 * What host.ts gathers for this backend on macOS, in HostFacts.sandboxExec.
 * `runDir` and `version` extend the `{ path }` of types.ts.
 */
export interface SandboxExecFacts {
  path: string;
  /**
   * A fresh directory for this run, not yet created, as a real path (on
   * macOS: under realpath($TMPDIR), e.g. /private/var/folders/../T/isolate-run-<pid>-<random>).
   * Needed when the profile has tmpfs paths.
   */
  runDir?: string | undefined;
  /** The macOS version (sw_vers -productVersion), for the report. */
  version?: string | undefined;
  /**
   * filtered network: the loopback port the proxy listens on for this run,
   * chosen by host.ts among the dynamic ports so that concurrent runs do not
   * collide (PROXY_PORT when absent). It reaches the profile as the
   * PROXY_PORT parameter, and the proxy variables of the environment.
   */
  proxyPort?: number | undefined;
}

/** The filtering proxy, reached by the command over the host's loopback rather than through a mounted socket. */
export interface LoopbackProxyService extends ProxyService {
  /** Where run/ must make the proxy listen: the only destination the profile lets the command connect to. */
  tcp: { host: '127.0.0.1'; port: number };
}

export interface SandboxExecPlan extends Plan {
  backend: 'sandbox-exec';
  sandboxExec: {
    /** The SBPL profile (also argv[2]). */
    profile: string;
    /** The -D parameters, in argv order. */
    params: SbplParam[];
    /**
     * run/ creates this directory (mode 0700; it must not exist yet), then
     * each of `dirs` (0700), before starting the sandbox, and removes it with
     * everything in it after the run, however the run ends. Undefined when
     * there is nothing to create.
     */
    runDir: string | undefined;
    /** Private directories standing in for tmpfs paths, and the variables of the child's environment that point to them. */
    dirs: { path: string; replaces: string; env: string[] }[];
    /** Start the launcher in a new session (setsid: node's spawn with detached: true), so the command has no controlling terminal. */
    newSession: true;
    /** The directory to start the launcher in (sandbox-exec cannot change directory itself); equals plan.cwd. */
    cwd: string;
  };
}

/** The proxy's URL on the host loopback. */
function proxyUrl(port: number): string {
  return PROXY_URL.replace(`127.0.0.1:${PROXY_PORT}`, `127.0.0.1:${port}`);
}

/** The proxy variables of forwarder.ts, pointing at `port` on the host loopback instead of PROXY_PORT. */
export function loopbackProxyEnvironment(port: number): Record<string, string> {
  const from = `127.0.0.1:${PROXY_PORT}`;
  const to = `127.0.0.1:${port}`;
  return Object.fromEntries(Object.entries(proxyEnvironment()).map(([name, value]) => [name, value.split(from).join(to)]));
}

function sandboxExecFacts(host: HostFacts): SandboxExecFacts | undefined {
  return host.sandboxExec as SandboxExecFacts | undefined;
}

/** Fail closed anywhere but on macOS with sandbox-exec. */
export function checkSandboxExecHost(host: HostFacts): SandboxExecFacts {
  if (host.platform !== 'darwin') {
    throw new IsolateError('E_BACKEND_UNSUPPORTED', `the sandbox-exec backend needs macOS; this is ${host.platform}`, {
      fix: 'on Linux use --backend bwrap (or nsjail)',
    });
  }
  const facts = sandboxExecFacts(host);
  if (facts === undefined) {
    throw new IsolateError('E_BACKEND_MISSING', `${SANDBOX_EXEC_PATH} was not found; refusing to run the command unsandboxed`, {
      fix: 'sandbox-exec ships with macOS at /usr/bin/sandbox-exec; check that it exists and is executable',
    });
  }
  return facts;
}

/** Validated whole numbers only ever reach the wrapper script. */
function count(n: number, what: string): number {
  if (!Number.isSafeInteger(n) || n < 0) throw new IsolateError('E_LIMIT_INVALID', `${what}: ${n} is not a whole number`);
  return n;
}

/**
 * The start wrapper: /bin/sh inside the sandbox, which sets the rlimits with
 * ulimit, writes one byte on READY_FD (so run/ knows sandbox-exec has applied
 * the profile and started it), closes the descriptor (the command never
 * holds it) and execs the command. It fails closed: if a limit cannot be set
 * or the byte cannot be written, it exits 125 before the command starts, and
 * run/, without the byte, reports a setup failure. Only constants and whole
 * numbers from the resolved limits are in the script; the command arrives as
 * "$@".
 */
export function startWrapper(policy: Policy, host: HostFacts): { prefix: string[]; summary: string[] } {
  const l = policy.limits;
  if (l.enforce === 'cgroup') {
    throw new IsolateError('E_CGROUP_UNAVAILABLE', 'the profile requires cgroup enforcement of its limits (limits.enforce: cgroup), which macOS does not have', {
      fix: 'remove limits.enforce (or set it to rlimit) to run with rlimits',
    });
  }
  if (l.memoryBytes !== undefined) {
    throw new IsolateError('E_LIMIT_UNENFORCEABLE', 'a memory limit cannot be enforced with sandbox-exec: macOS enforces neither RLIMIT_DATA nor RLIMIT_AS', {
      fix: 'remove --memory / limits.memory to run on macOS, or run on Linux (bwrap)',
    });
  }
  /** Set before the byte: a failure is a setup failure. */
  const steps: string[] = [];
  /** Set after it: only a small open-files limit (NOFILE_BEFORE_READY). */
  const late: string[] = [];
  const summary: string[] = [];
  if (l.cpuSeconds !== undefined) {
    const s = count(l.cpuSeconds, 'limits.cpu');
    steps.push(`ulimit -S -t ${s}`, `ulimit -H -t ${s + 1}`);
    summary.push(`cpu: ${s}s per process (RLIMIT_CPU: SIGXCPU, then SIGKILL a second later)`);
  }
  if (l.processes !== undefined) {
    if (host.uid === 0) {
      throw new IsolateError('E_LIMIT_UNENFORCEABLE', 'a process limit cannot be enforced when isolate runs as root: the kernel exempts uid 0 from RLIMIT_NPROC', {
        fix: 'run isolate as an ordinary user to use --processes / limits.processes',
      });
    }
    const n = count(l.processes, 'limits.processes');
    steps.push(`ulimit -u ${n}`);
    summary.push(`processes: ${n} (RLIMIT_NPROC; on macOS it counts all of your processes, not only the sandbox's)`);
  }
  if (l.openFiles !== undefined) {
    const n = count(l.openFiles, 'limits.openFiles');
    (n < NOFILE_BEFORE_READY ? late : steps).push(`ulimit -n ${n}`);
    summary.push(`open files: ${n} per process (RLIMIT_NOFILE)`);
  }
  if (l.fileSizeBytes !== undefined) {
    const blocks = Math.floor(count(l.fileSizeBytes, 'limits.fileSize') / FSIZE_BLOCK);
    steps.push(`ulimit -f ${blocks}`);
    summary.push(`file size: ${formatBytes(blocks * FSIZE_BLOCK)} per file (RLIMIT_FSIZE in ${FSIZE_BLOCK}-byte blocks, rounded down: SIGXFSZ)`);
  }
  if (l.timeoutMs !== undefined) {
    summary.push(`timeout: ${l.timeoutMs / 1000}s wall clock, by isolate (SIGTERM, SIGKILL ${l.killAfterMs / 1000}s later; exit 124)`);
  }
  if (l.ceilings !== undefined) summary.push('ceilings (tmpfs size, processes, memory of the whole sandbox): not applied on macOS (no per-process mounts, no cgroups, and RLIMIT_NPROC counts all of your processes)');
  if (!reachable(policy.filesystem.mounts, START_SHELL)) {
    throw new IsolateError(
      'E_SANDBOX_SETUP',
      `the sandbox-exec backend starts the command through ${START_SHELL} inside the sandbox (it applies the resource limits and tells isolate that sandbox-exec has set the sandbox up), and the profile does not make ${START_SHELL} readable`,
      { fix: 'add --allow-read /bin' },
    );
  }
  if (steps.length + late.length === 0) summary.unshift('core dumps: the caller\'s RLIMIT_CORE (0 on macOS unless raised)');
  else {
    steps.unshift('ulimit -c 0');
    summary.unshift('core dumps: off (RLIMIT_CORE=0)');
  }
  const fail = "|| { echo 'isolate: cannot apply the resource limits' >&2; exit 125; }";
  const script = [
    ...(steps.length > 0 ? [`${steps.join(' && ')} ${fail}`] : []),
    `printf . >&${READY_FD} || exit 125`,
    `exec ${READY_FD}>&-`,
    ...(late.length > 0 ? [`${late.join(' && ')} ${fail}`] : []),
    'exec "$@"',
  ].join('\n');
  return { prefix: [START_SHELL, '-c', script, START_NAME], summary };
}

/** The summary's hidden paths: deny rules that hide something visible (as the bwrap backend counts them). */
function hiddenPaths(rules: readonly MountRule[]): { hidden: string[]; notes: string[] } {
  const hidden: string[] = [];
  const notes: string[] = [];
  const applied: MountRule[] = [];
  for (const rule of orderRules(rules)) {
    const before = governing(applied, rule.path)?.kind ?? 'none';
    applied.push(rule);
    if (rule.kind !== 'deny' || governing(rules, rule.path) !== rule) continue;
    if (before === 'read' || before === 'write') hidden.push(rule.path);
    else notes.push(`${rule.path}: not visible anyway, nothing to hide`);
  }
  return { hidden, notes };
}

export function planSandboxExec(policy: Policy, command: readonly string[], host: HostFacts): SandboxExecPlan {
  const facts = checkSandboxExecHost(host);
  if (command.length === 0 || command[0] === '') {
    throw new IsolateError('E_COMMAND_EMPTY', 'no command given', { fix: 'isolate run [options] -- <command> [args...]' });
  }
  // The caller checks this before plan(); checked again so that nothing this backend cannot enforce is ever ignored.
  assertEnforceable(policy, 'sandbox-exec');
  const rules = policy.filesystem.mounts;
  const home = normalizeDir(host.env['HOME']) ?? '/var/empty';
  const proxyPort = facts.proxyPort ?? PROXY_PORT;
  const sbpl: Sbpl = buildSbpl(policy, { protect: host.protect, runDir: facts.runDir, home, proxyPort, terminalIoctl: host.uid !== 0 });

  // Working directory: visible, or a tmpfs path (then its private replacement).
  let cwd = policy.process.cwd;
  if (!isVisible(rules, cwd)) {
    const stand = sbpl.scratch.find((s) => s.replaces === cwd);
    if (stand === undefined) {
      throw new IsolateError('E_PATH_INVALID', `the working directory ${policy.process.cwd} is not visible inside the sandbox`, {
        fix: `add --allow-read ${policy.process.cwd}, or run from a directory the profile exposes`,
      });
    }
    cwd = stand.path;
  }

  const resolved = pickCommand(host.command, rules);
  const { env, withheld } = computeEnvironment(policy.environment, host.env);

  let service: LoopbackProxyService | undefined;
  if (policy.network.mode === 'filtered') {
    const socketDir = host.network?.socketDir;
    if (socketDir === undefined) {
      throw new IsolateError('E_NETWORK_PROXY', 'network mode filtered: the host facts name no directory for the proxy; refusing to run without the filter');
    }
    for (const name of BYPASS_VARIABLES) delete env[name];
    Object.assign(env, loopbackProxyEnvironment(proxyPort));
    service = {
      kind: 'proxy',
      socketDir,
      socketPath: `${socketDir}/proxy.sock`,
      // Nothing is mounted into a Seatbelt sandbox: the command connects to `tcp`.
      sandboxSocket: '',
      port: proxyPort,
      tcp: { host: '127.0.0.1', port: proxyPort },
      allow: [...policy.network.allow],
      deny: [...policy.network.deny],
    };
  }

  // HOME and TMPDIR follow the tmpfs paths they named to their private replacements.
  const roles = tmpfsRoles(sbpl.scratch, host.env);
  const pointers = new Map<string, string[]>();
  const point = (name: string, path: string): void => {
    env[name] = path;
    pointers.set(path, [...(pointers.get(path) ?? []), name]);
  };
  if (roles.home !== undefined && (env['HOME'] === undefined || normalizeDir(env['HOME']) === roles.home.replaces)) point('HOME', roles.home.path);
  if (roles.temp !== undefined) {
    const tmpdir = normalizeDir(env['TMPDIR']);
    if (tmpdir === undefined || effectiveKind(rules, tmpdir) !== 'write') point('TMPDIR', roles.temp.path);
  }

  const start = startWrapper(policy, host);
  const params = sbpl.params;
  const argv = [
    facts.path,
    '-p',
    sbpl.text,
    ...params.flatMap((p) => ['-D', `${p.name}=${p.value}`]),
    '--',
    ...start.prefix,
    resolved,
    ...command.slice(1),
  ];

  const dirs = sbpl.scratch.map((s) => ({ path: s.path, replaces: s.replaces, env: pointers.get(s.path) ?? [] }));
  const { hidden, notes: hiddenNotes } = hiddenPaths(rules);
  const summary: PlanSummary = {
    readable: sbpl.rules.filter((r) => r.kind === 'read').map((r) => r.path),
    writable: sbpl.rules.filter((r) => r.kind === 'write').map((r) => r.path),
    hidden,
    tmpfs: dirs.map((d) => `${d.replaces} -> ${d.path}${d.env.length > 0 ? ` (${d.env.map((n) => `$${n}`).join(', ')})` : ''}`),
    protected: sbpl.protect,
    placeholders: [],
    network: policy.network.mode,
    ...(service === undefined
      ? {}
      : {
          proxy: {
            allow: [...policy.network.allow],
            deny: [...policy.network.deny],
            listen: proxyUrl(proxyPort),
            socket: `none: the command connects to ${service.tcp.host}:${service.tcp.port} on the host, the only address the profile allows`,
          },
        }),
    env: Object.keys(env).sort(),
    limits: start.summary,
    seccomp: { preset: policy.syscalls.preset, install: false, arch: null, rules: [] },
    namespaces: [],
    notes: [
      'macOS has no namespaces: processes, IPC and the host name are shared with the host; signals and process information reach only processes of this sandbox',
      'the command runs in a new session, without a controlling terminal (no TIOCSTI)',
      `the command starts through ${START_SHELL} inside the sandbox (${START_NAME}): it sets the rlimits, if any, and writes one byte on descriptor ${READY_FD} just before it execs the command; if sandbox-exec exits without that byte (e.g. macOS rejected the profile), the run is a setup failure (exit 125), not the command's exit status`,
      ...(host.uid === 0 ? ['as root, the terminal the command inherits accepts no ioctls (root could inject input into it): it does not behave as a terminal'] : []),
      `readable for every program to start: ${SYSTEM_READ.map((s) => s.path).join(', ')}`,
      'hidden paths are refused (EPERM) rather than shown empty',
      ...dirs.map((d) =>
        d.env.length > 0 || d.path === cwd
          ? `${d.replaces}: hidden; an empty private directory for this run stands in for it`
          : `${d.replaces}: hidden; its private replacement ${d.path} is reachable only by that path`,
      ),
      ...(sbpl.pins.length > 0 ? [`kept in place, so protected names cannot be moved away (the directories themselves cannot be renamed, removed or changed; their contents stay writable): ${sbpl.pins.join(', ')}`] : []),
      ...(policy.network.mode === 'none' ? ['network none: loopback is denied too'] : []),
      'no hard links or clones (file-link, file-clone): they would alias hidden or protected files',
      'unix sockets: only those the profile names, and those the command creates in its private directories',
      'denied whatever the profile says: the keychains, Docker (~/.docker, /var/run/docker.sock), Launch Services and Apple Events',
      ...hiddenNotes,
      ...policy.filesystem.skipped.map((s) => `${s.path}: skipped (${s.reason})`),
    ],
  };

  const runDir = dirs.length > 0 ? normalizeDir(facts.runDir) : undefined;
  return {
    backend: 'sandbox-exec',
    backendVersion: facts.version ?? 'system',
    argv,
    pipedArgs: [],
    fds: { ready: READY_FD },
    launcherEnv: { ...env },
    childEnv: env,
    withheldEnv: withheld,
    command: { program: command[0] ?? '', resolved, args: command.slice(1) },
    cwd,
    cleanup: [],
    services: service === undefined ? [] : [service],
    launch: launchPlan(cwd, runDir, dirs, params),
    limits: policy.limits,
    summary,
    sandboxExec: {
      profile: sbpl.text,
      params,
      runDir,
      dirs,
      newSession: true,
      cwd,
    },
  };
}

/** What run/ does around sandbox-exec (Plan.launch): its directory, the process group, the run directory, the denials. */
function launchPlan(cwd: string, runDir: string | undefined, dirs: SandboxExecPlan['sandboxExec']['dirs'], params: readonly SbplParam[]): LaunchPlan {
  const sandboxWrites = params.filter((p) => /^WRITE_\d+$/.test(p.name)).map((p) => p.value);
  return {
    cwd,
    reach: 'process-group',
    // No run directory with private directories to put in it: run/ refuses the plan (run/run-dir.ts).
    ...(dirs.length > 0 ? { runDir: { path: runDir ?? '', dirs: dirs.map((d) => d.path), sandboxWrites } } : {}),
    denials: 'macos-unified-log',
  };
}

export const sandboxExecBackend: Backend = {
  name: 'sandbox-exec',
  plan: planSandboxExec,
};
