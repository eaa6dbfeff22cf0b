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
 *   has no --chdir). With a terminal of its own (terminal.ts), the helper
 *   leads that session (`--leader`): it takes a pseudo-terminal of its own
 *   as the controlling terminal and keeps the command in the launcher's
 *   process group, which is how run/ reaches the sandbox.
 * - no prlimit: rlimits are set by the start wrapper's ulimit inside the
 *   sandbox just before the command. A memory limit is refused: macOS
 *   enforces neither RLIMIT_DATA nor RLIMIT_AS.
 * - filtered network: no network namespace and no forwarder. The command
 *   reaches isolate's proxy directly on the host loopback at the run's proxy
 *   port (a random dynamic port host.ts chose, so concurrent runs do not
 *   collide; PROXY_PORT when the facts name none), the only network
 *   destination the profile allows; the proxy service says so (service.tcp),
 *   and run/ listens there, failing closed if the port is taken.
 * - no seccomp: `syscalls.preset: default` becomes Seatbelt rules covering
 *   the same ground (sbpl-hardening.ts); a profile that names Linux system
 *   calls (syscalls.deny, syscalls.allow) is refused (see conformance.ts).
 *
 * run/ does what Plan.launch asks: the run directory, the new session,
 * signals to the process group, and afterwards the denials from macOS's
 * unified log; and it makes the loopback proxy listen (service.tcp).
 */
import { IsolateError, requireCommand } from '../errors.js';
import { BYPASS_VARIABLES, PROXY_PORT, PROXY_URL, proxyEnvironment } from './forwarder.js';
import { computeEnvironment } from '../profile/environment.js';
import type { Policy } from '../profile/types.js';
import { pickCommand } from './command.js';
import { assertEnforceable } from './conformance.js';
import { isVisible, isWritable } from './mounts.js';
import { SYSTEM_READ, buildSbpl, normalizeDir, tmpfsRoles, type Sbpl, type SbplParam } from './sbpl.js';
import { READY_FD, START_NAME, START_SHELL, startWrapper } from './sandbox-exec-start.js';
import { describeHardening } from './sbpl-hardening.js';
import { planTerminal, terminalNote } from './terminal.js';
import { setupOps } from './setup-ops.js';
import { describeSetup } from './setup-plan.js';
import type { Backend, HostFacts, LaunchPlan, Plan, PlanSummary, ProxyService, SandboxExecFacts, TerminalPlan } from './types.js';

export { READY_FD, START_NAME, START_SHELL } from './sandbox-exec-start.js';

export const SANDBOX_EXEC_PATH = '/usr/bin/sandbox-exec';

/** A terminal of its own (terminal.ts): the window sizes reach the helper on this descriptor, the one after READY_FD. */
export const TERMINAL_CONTROL_FD = READY_FD + 1;

/** The filtering proxy, reached by the command over the host's loopback rather than through a mounted socket. */
export interface LoopbackProxyService extends ProxyService {
  /** Where run/ must make the proxy listen: the only destination the profile lets the command connect to. */
  tcp: { host: '127.0.0.1'; port: number };
}

/** A private directory standing in for a tmpfs path, and the variables of the child's environment that point to it. */
export interface ScratchDirPlan {
  path: string;
  replaces: string;
  env: string[];
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
    dirs: ScratchDirPlan[];
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

/** Fail closed anywhere but on macOS with sandbox-exec. */
export function checkSandboxExecHost(host: Pick<HostFacts, 'platform' | 'sandboxExec'>): SandboxExecFacts {
  if (host.platform !== 'darwin') {
    throw new IsolateError('E_BACKEND_UNSUPPORTED', `the sandbox-exec backend needs macOS; this is ${host.platform}`, {
      fix: 'on Linux use --backend bwrap (or nsjail)',
    });
  }
  const facts = host.sandboxExec;
  if (facts === undefined) {
    throw new IsolateError('E_BACKEND_MISSING', `${SANDBOX_EXEC_PATH} was not found; refusing to run the command unsandboxed`, {
      fix: 'sandbox-exec ships with macOS at /usr/bin/sandbox-exec; check that it exists and is executable',
    });
  }
  return facts;
}

/** The working directory: visible, or a tmpfs path (then its private replacement). */
function workingDirectory(policy: Policy, sbpl: Sbpl): string {
  const cwd = policy.process.cwd;
  if (isVisible(policy.filesystem.mounts, cwd)) return cwd;
  const stand = sbpl.scratch.find((s) => s.replaces === cwd);
  if (stand === undefined) {
    throw new IsolateError('E_PATH_INVALID', `the working directory ${cwd} is not visible inside the sandbox`, {
      fix: `add --allow-read ${cwd}, or run from a directory the profile exposes`,
    });
  }
  return stand.path;
}

/** filtered network: the proxy on the host loopback, and the child's proxy variables pointing there. */
function loopbackProxy(policy: Policy, host: HostFacts, env: Record<string, string>, port: number): LoopbackProxyService | undefined {
  if (policy.network.mode !== 'filtered') return undefined;
  const socketDir = host.network?.socketDir;
  if (socketDir === undefined) {
    throw new IsolateError('E_NETWORK_PROXY', 'network mode filtered: the host facts name no directory for the proxy; refusing to run without the filter');
  }
  for (const name of BYPASS_VARIABLES) delete env[name];
  Object.assign(env, loopbackProxyEnvironment(port));
  return {
    kind: 'proxy',
    socketDir,
    socketPath: `${socketDir}/proxy.sock`,
    // Nothing is mounted into a Seatbelt sandbox: the command connects to `tcp`.
    sandboxSocket: '',
    port,
    tcp: { host: '127.0.0.1', port },
    allow: [...policy.network.allow],
    deny: [...policy.network.deny],
  };
}

/** HOME and TMPDIR follow the tmpfs paths they named to their private replacements. */
function scratchDirs(policy: Policy, sbpl: Sbpl, host: HostFacts, env: Record<string, string>): ScratchDirPlan[] {
  const roles = tmpfsRoles(sbpl.scratch, host.env);
  const pointers = new Map<string, string[]>();
  const point = (name: string, path: string): void => {
    env[name] = path;
    pointers.set(path, [...(pointers.get(path) ?? []), name]);
  };
  if (roles.home !== undefined && (env['HOME'] === undefined || normalizeDir(env['HOME']) === roles.home.replaces)) point('HOME', roles.home.path);
  if (roles.temp !== undefined) {
    const tmpdir = normalizeDir(env['TMPDIR']);
    if (tmpdir === undefined || !isWritable(policy.filesystem.mounts, tmpdir)) point('TMPDIR', roles.temp.path);
  }
  return sbpl.scratch.map((s) => ({ path: s.path, replaces: s.replaces, env: pointers.get(s.path) ?? [] }));
}

interface SummaryParts {
  policy: Policy;
  host: HostFacts;
  sbpl: Sbpl;
  dirs: ScratchDirPlan[];
  cwd: string;
  env: Record<string, string>;
  service: LoopbackProxyService | undefined;
  limits: string[];
  terminal: TerminalPlan | undefined;
  /** The mount summary of the setup operations (setup-plan.ts): readable, writable, hidden, and their notes. */
  mounts: ReturnType<typeof describeSetup>;
}

/** What the plan enforces and how, for explain and the run report: mostly a table of fixed notes. */
function summaryOf(p: SummaryParts): PlanSummary {
  const { policy, sbpl, dirs, service } = p;
  return {
    readable: p.mounts.readable,
    writable: p.mounts.writable,
    hidden: p.mounts.hidden,
    tmpfs: dirs.map((d) => `${d.replaces} -> ${d.path}${d.env.length > 0 ? ` (${d.env.map((n) => `$${n}`).join(', ')})` : ''}`),
    // Missing names included: Seatbelt denies writes to a name whether it exists or not, so nothing is created for one.
    protected: sbpl.protect,
    placeholders: [],
    ...(p.mounts.protectedWhy === undefined ? {} : { protectedWhy: p.mounts.protectedWhy }),
    network: policy.network.mode,
    ...(service === undefined
      ? {}
      : {
          proxy: {
            allow: [...policy.network.allow],
            deny: [...policy.network.deny],
            listen: proxyUrl(service.port),
            socket: `none: the command connects to ${service.tcp.host}:${service.tcp.port} on the host, the only address the profile allows`,
          },
        }),
    env: Object.keys(p.env).sort(),
    limits: p.limits,
    seccomp: { preset: policy.syscalls.preset, install: policy.syscalls.preset === 'default', arch: null, rules: describeHardening(policy.syscalls.preset) },
    namespaces: [],
    notes: [
      'macOS has no namespaces: processes, IPC and the host name are shared with the host; signals and process information reach only processes of this sandbox',
      ...(p.terminal?.given === true
        ? ['the command runs on a pseudo-terminal of the sandbox\'s own, its controlling terminal, in the launcher\'s session and process group, which the helper leads; your terminal never enters the sandbox (no TIOCSTI into it)']
        : ['the command runs in a new session, without a controlling terminal (no TIOCSTI)']),
      ...terminalNote(p.terminal),
      `the command starts through ${START_SHELL} inside the sandbox (${START_NAME}): it sets the rlimits, if any, and writes one byte on descriptor ${READY_FD} just before it execs the command; if sandbox-exec exits without that byte (e.g. macOS rejected the profile), the run is a setup failure (exit 125), not the command's exit status`,
      ...(p.host.uid === 0 ? ['as root, the terminal the command inherits accepts no ioctls (root could inject input into it): it does not behave as a terminal'] : []),
      `readable for every program to start: ${SYSTEM_READ.map((s) => s.path).join(', ')}`,
      'hidden paths are refused (EPERM) rather than shown empty',
      ...dirs.map((d) =>
        d.env.length > 0 || d.path === p.cwd
          ? `${d.replaces}: hidden; an empty private directory for this run stands in for it`
          : `${d.replaces}: hidden; its private replacement ${d.path} is reachable only by that path`,
      ),
      ...(sbpl.pins.length > 0 ? [`kept in place, so protected names and hidden paths cannot be moved away (the directories themselves cannot be renamed, removed or changed; their contents stay writable): ${sbpl.pins.join(', ')}`] : []),
      ...(policy.network.mode === 'none' ? ['network none: loopback is denied too'] : []),
      'no hard links or clones (file-link, file-clone): they would alias hidden or protected files',
      'unix sockets: only those the profile names, and those the command creates in its private directories',
      'denied whatever the profile says: the keychains, Docker (~/.docker, /var/run/docker.sock), Launch Services and Apple Events',
      ...p.mounts.notes,
      ...policy.filesystem.skipped.map((s) => `${s.path}: skipped (${s.reason})`),
    ],
  };
}

export function planSandboxExec(policy: Policy, command: readonly string[], host: HostFacts): SandboxExecPlan {
  const facts = checkSandboxExecHost(host);
  requireCommand(command);
  // The caller checks this before plan(); checked again so that nothing this backend cannot enforce is ever ignored.
  assertEnforceable(policy, 'sandbox-exec');
  const home = normalizeDir(host.env['HOME']) ?? '/var/empty';
  const proxyPort = facts.proxyPort ?? PROXY_PORT;
  const ops = setupOps(policy, host);
  const sbpl = buildSbpl(policy, { ops, runDir: facts.runDir, home, proxyPort, terminalIoctl: host.uid !== 0 });
  const cwd = workingDirectory(policy, sbpl);
  const resolved = pickCommand(host.command, policy.filesystem.mounts);
  const { env, withheld } = computeEnvironment(policy.environment, host.env, host.credentials);
  const service = loopbackProxy(policy, host, env, proxyPort);
  const dirs = scratchDirs(policy, sbpl, host, env);
  const start = startWrapper(policy, host);
  const tty = planTerminal(host, policy.filesystem.mounts, TERMINAL_CONTROL_FD, true);
  const params = sbpl.params;
  const runDir = dirs.length > 0 ? normalizeDir(facts.runDir) : undefined;
  const argv = [facts.path, '-p', sbpl.text, ...params.flatMap((p) => ['-D', `${p.name}=${p.value}`]), '--', ...start.prefix, ...tty.prefix, resolved, ...command.slice(1)];
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
    ...(tty.plan === undefined ? {} : { terminal: tty.plan }),
    summary: summaryOf({ policy, host, sbpl, dirs, cwd, env, service, limits: start.summary, terminal: tty.plan, mounts: describeSetup(policy, ops) }),
    sandboxExec: { profile: sbpl.text, params, runDir, dirs, newSession: true, cwd },
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
