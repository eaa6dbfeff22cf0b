/**
 * `--backend oci`: the policy as an OCI runtime bundle (the same config.json
 * rendering as `isolate export --format oci`, oci-config.ts), started by
 * runc or crun (host/oci-runtime.ts picks the one that works here) in a
 * private bundle directory run/ writes and removes. Pure; see types.ts.
 * `auto` never selects it.
 *
 * What isolate adds around the runtime, and how:
 * - The runtime starts the command as PID 1 of its namespace: the container's
 *   process is isolate's init (sandbox-init.ts), under `setpriv --pdeathsig
 *   KILL`, so it dies with the runtime; the launcher (a POSIX shell that
 *   execs the runtime) is armed the same way, so the runtime dies with
 *   isolate, even by SIGKILL. Both are armed before the init's started byte
 *   reaches isolate: a command never runs unarmed.
 * - The runtime binds every path by name: pinned directories, protected names
 *   and placeholders (Plan.pathFds) are checked by run/ through the init's
 *   root before it answers "go" (Plan.checkPathFds), as for nsjail. The
 *   started descriptor reaches the init with `--preserve-fds`.
 * - The launcher waits for a line on LAUNCH_GO_FD before it execs the
 *   runtime, so run/ can move it into the run's cgroup first (memory and
 *   process limits: isolate's cgroup, never linux.resources, which a
 *   rootless runtime cannot apply on cgroup v1); the runtime makes the
 *   container's cgroup inside its own.
 * - The timeout, signals, the filtered network's proxy and the audit record
 *   are isolate's, as with the other backends.
 */
import { basename } from 'node:path';
import { IsolateError } from '../errors.js';
import type { Policy } from '../profile/types.js';
import { describeRules, resolveSeccomp } from '../seccomp/presets.js';
import { reachable } from './command.js';
import { cgroupLimits } from './cgroup.js';
import { limitViews, tmpfsSummary } from './ceilings.js';
import { checkUserns, linuxPlanBase, linuxPlanCommon, requireLinux } from './linux-common.js';
import { checkEnterable } from './enterable.js';
import { ROOTFS, ociConfig } from './oci-config.js';
import { nsjailSeccompRules } from './nsjail-seccomp.js';
import { ociSeccomp, type OciSeccomp } from '../seccomp/oci.js';
import { CONFIG_FILE, parents } from './oci-export.js';
import { requireSeccompArch } from '../seccomp/syscalls.js';
import { GIT_CONFIGS, ociFilesystem, SEALED_DIRS, type OciFilesystem } from './oci-mounts.js';
import { prlimitRlimits } from './prlimit.js';
import { INIT_NAME, INIT_SHELL, initScript } from './sandbox-init.js';
import { planSetup } from './setup-plan.js';
import { planTerminal, terminalNote } from './terminal.js';
import type { Backend, BundlePlan, HostFacts, OciFacts, Plan, PlanSummary } from './types.js';

/** The init's line to run/ (Plan.fds.started), passed into the container as its descriptor 3 (--preserve-fds). */
export const OCI_STARTED_FD = 3;
/** The terminal's control pipe, when given: passed into the container after the started descriptor. */
export const OCI_CONTROL_FD = 4;
/** The launcher reads one line here ("go"), sent once run/ has moved it into the run's cgroup, then closes it. */
export const LAUNCH_GO_FD = 5;
/** Pinned directories, protected files and placeholders (Plan.pathFds) are handed over from this descriptor on. */
export const OCI_FIRST_PATH_FD = 6;
/** Where the init keeps the command's stderr inside the container (closed for the command). */
const INIT_STDERR_FD = 9;
/**
 * The Go runtime's threads of `runc run` (with GOMAXPROCS=2; 8 to 10 seen), which live in the run's cgroup beside
 * the sandbox and count against pids.max: the room pids.max leaves them while the runtime starts. Before the
 * command starts, pids.max is set from the count the cgroup then holds (cgroup.ts, countedAtStart).
 */
export const RUNTIME_TASKS = 9;
/** The smallest process limit runc's own init (a Go program, in the container's cgroup until it execs the init) starts under. */
export const OCI_MIN_PROCESSES = 5;

/** A cgroup process limit too small for the runtime's own init to start: refused rather than failing at the start. */
function refuseTinyProcessLimit(processes: number | undefined, inCgroup: boolean): void {
  if (!inCgroup || processes === undefined || processes >= OCI_MIN_PROCESSES) return;
  throw new IsolateError('E_LIMIT_UNENFORCEABLE', `a process limit of ${processes} is too small for --backend oci: the runtime's own init runs in the sandbox's cgroup, with its threads, before the command starts`, {
    fix: `set --processes ${OCI_MIN_PROCESSES} or more, or use --backend bwrap`,
  });
}

export const LAUNCH_SHELL = '/bin/sh';
export const LAUNCH_NAME = 'isolate-oci';
/**
 * Waits for run/'s line, then execs the runtime: setpriv (util-linux) arms
 * it to get SIGKILL when isolate dies, env -i starts it with an empty
 * environment but GOMAXPROCS, which keeps runc's Go runtime to a few threads
 * whatever the host's CPUs (they count against the cgroup's pids.max: see
 * RUNTIME_TASKS). The arguments are the runtime's path and its own.
 */
export const LAUNCH_SCRIPT = [
  'PATH=/usr/bin:/bin:/usr/sbin:/sbin:/run/current-system/sw/bin',
  `read -r go <&${LAUNCH_GO_FD} && [ "$go" = go ] || exit 125`,
  `exec ${LAUNCH_GO_FD}<&-`,
  'exec setpriv --pdeathsig KILL env -i GOMAXPROCS=2 "$@"',
].join('\n');

export const OCI_INSTALL_FIX = 'sudo apt-get install -y runc   (or crun, on a host with a unified or legacy cgroup layout)';

type UsableRuntime = NonNullable<OciFacts['runtime']>;

/**
 * With the run's cgroup, the container must stay inside it (its limits count only what is in it). runc makes the
 * container's cgroup inside its own; crun on a cgroup v1 host makes it at the root of each hierarchy, outside, so
 * it is told to make none (`--cgroup-manager=disabled`: the container stays in the cgroup crun runs in). run/
 * checks where the init is before the command starts (CgroupPlan.initInside), whatever the runtime did.
 */
function cgroupManager(runtime: UsableRuntime, cgroup: boolean): string[] {
  return cgroup && runtime.name === 'crun' ? ['--cgroup-manager=disabled'] : [];
}

/** Fail closed when no runtime can start the bundle here: never fall back to another backend. */
export function checkOciHost(host: Pick<HostFacts, 'platform' | 'uid' | 'userns' | 'oci'>): { oci: OciFacts; runtime: UsableRuntime } {
  requireLinux(host, 'oci');
  const oci = host.oci;
  const runtime = oci?.runtime;
  if (oci === undefined || runtime === undefined) {
    const refused = (oci?.refused ?? []).map((r) => `${r.name}: ${r.reason}`);
    throw new IsolateError('E_BACKEND_MISSING', `no OCI runtime that works on this host is installed (runc or crun); refusing to run the command unsandboxed`, {
      ...(refused.length === 0 ? {} : { detail: refused.join('\n') }),
      fix: OCI_INSTALL_FIX,
    });
  }
  checkUserns(host, { name: runtime.name, path: runtime.path });
  return { oci, runtime };
}

/** The init and setpriv must be inside the sandbox: without them nothing waits for isolate's check, and nothing dies with the runtime. */
function checkInit(policy: Policy, oci: OciFacts): string {
  const rules = policy.filesystem.mounts;
  const missing = [INIT_SHELL, ...(oci.setpriv === undefined ? [] : [oci.setpriv])].filter((p) => !reachable(rules, p));
  if (oci.setpriv === undefined) {
    throw new IsolateError('E_BACKEND_MISSING', 'setpriv (util-linux) is not installed; the oci backend needs it so that the sandbox dies with the runtime', { fix: 'sudo apt-get install -y util-linux' });
  }
  if (missing.length > 0) {
    throw new IsolateError('E_SANDBOX_SETUP', `${missing.join(' and ')} ${missing.length === 1 ? 'is' : 'are'} not visible inside the sandbox; the oci backend runs its init with them (it waits for isolate's mount check, and dies with the runtime)`, {
      fix: `make them visible inside the sandbox (e.g. --allow-read ${missing.join(' --allow-read ')}), or use --backend bwrap`,
    });
  }
  return oci.setpriv;
}

/**
 * linux.seccomp: the profile's rules (the export's rendering, seccomp/oci.ts)
 * plus nsjail's user-namespace guard for the calls the profile leaves alone,
 * always installed: a runtime has no --disable-userns, and the guard is what
 * keeps nested user namespaces off, also with syscalls.preset: none.
 */
function ociRunSeccomp(policy: Policy, host: HostFacts): { config: OciSeccomp; summary: PlanSummary['seccomp'] } {
  const resolved = resolveSeccomp(policy.syscalls);
  const arch = requireSeccompArch(host.arch, {
    detail: 'with --backend oci the filter is always installed: it also keeps nested user namespaces off',
    fix: 'use --backend bwrap, which can run without a syscall filter (syscalls.preset: none)',
  });
  const config = ociSeccomp({ ...resolved, rules: nsjailSeccompRules(resolved.rules), install: true }, [arch]);
  if (config === undefined) throw new Error('seccomp: the OCI rules are always installed');
  return { config, summary: { preset: resolved.preset, install: true, arch, rules: describeRules(resolved.rules, resolved.refuseNewer) } };
}

function notes(runtime: UsableRuntime, bundleDir: string): string[] {
  return [
    `runtime: ${runtime.name} ${runtime.version ?? ''} (${runtime.path}), with its state in the run's bundle directory ${bundleDir} (mode 0700), removed after the run`.replace('  ', ' '),
    'the sandbox\'s uid 0 is you, with no capability (a rootless runtime can map no other id): `id` shows root',
    '/dev: the runtime\'s device nodes, each made read-only (chmod and touch refused; a runtime run by root binds the host\'s)',
    'nested user namespaces: refused by seccomp rules that are always installed (CLONE_NEWUSER in clone and unshare), whatever the profile\'s syscall rules',
    'signals: SIGINT, SIGTERM and SIGHUP sent to isolate go to the sandbox\'s processes; the init passes on the command\'s status',
  ];
}

/** The bundle: config.json, the rootfs with its links, the sealed directories' stand-ins with theirs (oci-mounts.ts). */
function bundlePlan(oci: OciFacts, runtime: UsableRuntime, config: string, fs: Pick<OciFilesystem, 'links' | 'sealed' | 'sealEntries' | 'files'>): BundlePlan {
  const dirs = [ROOTFS, ...new Set(fs.links.flatMap((l) => parents(l.path))), ...(fs.sealed.length === 0 ? [] : [SEALED_DIRS]), ...fs.sealed.map((s) => s.dir), ...(fs.files.length === 0 ? [] : [GIT_CONFIGS])];
  return {
    dir: oci.bundleDir,
    configFile: CONFIG_FILE,
    config,
    dirs,
    links: [...fs.links.map((l) => ({ path: `${ROOTFS}${l.path}`, target: l.target })), ...fs.sealed.flatMap((s) => s.links)],
    sealEntries: fs.sealEntries,
    ...(fs.files.length === 0 ? {} : { files: fs.files }),
    stateDir: `${oci.bundleDir}/state`,
    name: basename(oci.bundleDir),
    runtime: runtime.path,
  };
}

export const ociBackend: Backend = {
  name: 'oci',
  plan(policy, command, host): Plan {
    const { oci, runtime } = checkOciHost(host);
    const setpriv = checkInit(policy, oci);
    const base = linuxPlanBase(policy, command, host);
    checkEnterable(policy, host, 'sandbox-view');
    const { resolved, net } = base;
    // The runtime's device nodes are made read-only (oci-mounts.ts); isolate's copies are for the launcher's stdio only.
    const { devices: _copies, ...view } = host;
    const setup = planSetup(policy, view, OCI_FIRST_PATH_FD);
    const views = limitViews(policy.limits, host);
    const forwarder = net === undefined ? 0 : 1;
    const cg = cgroupLimits(views.cgroup, host, {
      processes: RUNTIME_TASKS + 1 + forwarder,
      name: `${runtime.name}'s threads and the init`,
      countedAtStart: { later: forwarder, name: 'the network forwarder' },
      makesCgroups: true,
    });
    refuseTinyProcessLimit(views.cgroup.processes, cg.plan?.events.pids !== undefined);
    // The runtime would set config.json's rlimits on its own init (a Go program) before it starts ours: prlimit sets them just before the command.
    const rl = prlimitRlimits(views.rlimit, policy, host, cg.plan?.events.pids !== undefined);
    const tty = planTerminal(host, policy.filesystem.mounts, OCI_CONTROL_FD);
    const init = [setpriv, '--pdeathsig', 'KILL', INIT_SHELL, '-c', initScript(OCI_STARTED_FD, INIT_STDERR_FD), INIT_NAME];
    const args = [...init, ...tty.prefix, ...rl.prefix, ...(net === undefined ? [] : net.wrapper), resolved, ...command.slice(1)];
    const fs = ociFilesystem(setup.ops, 'self', oci.bundleDir);
    const sc = ociRunSeccomp(policy, host);
    const config = ociConfig({ policy, host, args, env: base.env, namespaces: base.namespaces, fs, rlimits: undefined, resources: false, seccomp: sc.config });
    const bundle = bundlePlan(oci, runtime, `${JSON.stringify(config, null, 2)}\n`, fs);
    const preserve = tty.plan?.given === true ? 2 : 1;
    return {
      backend: 'oci',
      backendVersion: `${runtime.name} ${runtime.version ?? 'unknown'}`,
      argv: [LAUNCH_SHELL, '-c', LAUNCH_SCRIPT, LAUNCH_NAME, runtime.path, ...cgroupManager(runtime, cg.plan !== undefined), '--root', bundle.stateDir, 'run', '--bundle', bundle.dir, '--preserve-fds', String(preserve), bundle.name],
      pipedArgs: [],
      fds: { started: OCI_STARTED_FD },
      inputs: [{ fd: LAUNCH_GO_FD, data: 'go\n' }],
      ...(setup.pathFds.length === 0 ? {} : { pathFds: setup.pathFds, checkPathFds: true }),
      ...(cg.plan === undefined ? {} : { cgroup: cg.plan }),
      ...(tty.plan === undefined ? {} : { terminal: tty.plan }),
      bundle,
      ...linuxPlanCommon(policy, command, base, setup, {
        limits: [...rl.summary, ...cg.summary, ...tmpfsSummary(policy.limits), ...views.notes],
        seccomp: sc.summary,
        notes: [...notes(runtime, bundle.dir), ...terminalNote(tty.plan)],
      }),
    };
  },
};
