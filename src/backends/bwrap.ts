/**
 * bubblewrap backend: policy -> bwrap argv. Pure; see types.ts.
 */
import { IsolateError } from '../errors.js';
import type { Policy } from '../profile/types.js';
import { compiledFilter, resolvedSeccomp } from '../seccomp/compiled.js';
import { requireSeccompArch } from '../seccomp/syscalls.js';
import type { Backend, HostFacts, Plan, PlanSummary } from './types.js';
import { checkUserns, linuxPlanBase, linuxPlanCommon, requireLinux } from './linux-common.js';
import { checkEnterable } from './enterable.js';
import { prlimitRlimits } from './prlimit.js';
import { cgroupLimits } from './cgroup.js';
import { limitViews, tmpfsSummary } from './ceilings.js';
import { DEVICE_NODES, nodePath } from './devices.js';
import { DEV_SHM, DEV_SHM_MODE, HIDDEN_DIR_MODE, type SetupOp } from './setup-ops.js';
import { SEALED_DIR_MODE } from './seal.js';
import { planSetup } from './setup-plan.js';
import { planTerminal, terminalNote } from './terminal.js';
import { reachable } from './command.js';
import { requireBwrapArgCount } from './arg-limits.js';
import { GATE_NAME, INIT_SHELL, gateScript } from './sandbox-init.js';

export const BWRAP_MIN_VERSION = '0.8.0';
const ARGS_FD = 3;
const STATUS_FD = 4;
const SECCOMP_FD = 5;

export function compareVersions(a: string, b: string): number {
  const pa = a.split('.').map((n) => Number.parseInt(n, 10) || 0);
  const pb = b.split('.').map((n) => Number.parseInt(n, 10) || 0);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

/** Fail closed on anything that would stop bwrap from building the sandbox we promise. */
export function checkBwrapHost(host: Pick<HostFacts, 'platform' | 'uid' | 'bwrap' | 'userns'>): NonNullable<HostFacts['bwrap']> {
  requireLinux(host, 'bwrap');
  const bwrap = host.bwrap;
  if (bwrap === undefined) {
    throw new IsolateError('E_BACKEND_MISSING', 'bubblewrap (bwrap) is not installed; refusing to run the command unsandboxed', {
      fix: 'sudo apt-get install -y bubblewrap   (Fedora: sudo dnf install bubblewrap; Arch: sudo pacman -S bubblewrap)',
    });
  }
  if (compareVersions(bwrap.version, BWRAP_MIN_VERSION) < 0) {
    throw new IsolateError(
      'E_BACKEND_TOO_OLD',
      `bubblewrap ${bwrap.version} at ${bwrap.path} is too old: ${BWRAP_MIN_VERSION} or newer is needed to disable nested user namespaces`,
      { fix: 'install bubblewrap 0.8.0 or newer (Debian 12, Ubuntu 24.04 and later ship it)' },
    );
  }
  checkUserns(host, { name: 'bwrap', path: bwrap.path });
  return bwrap;
}

/**
 * What starts bwrap: `setpriv --pdeathsig KILL` (util-linux) when installed.
 * bwrap's --die-with-parent is armed only once bwrap has parsed its
 * arguments and cloned the sandbox's first process; an isolate killed
 * before that (SIGKILL while bwrap starts on a loaded machine) left a bwrap
 * that outlived it, whose first process then waited forever for the release
 * its dead parent never sent, holding the project's descriptors and the
 * caller's stdout and stderr. setpriv arms the same signal before bwrap's
 * first instruction. What remains, isolate killed between bwrap's clone and
 * that release, the next run ends (run/orphaned-launchers.ts). Without
 * setpriv, bwrap is started as before (docs/backends.md). The sandbox's own
 * init arms the signal later still, after its setup: the command waits
 * behind a gate until it has (gateScript, sandbox-init.ts).
 */
function dieWithIsolate(setpriv: string | undefined): string[] {
  return setpriv === undefined ? [] : [setpriv, '--pdeathsig', 'KILL', '--'];
}

/** The gate's socket (gateScript): below 10, which is as far as a POSIX shell's redirections reach. */
const GATE_FD = 6;

/** Where the gate's shell may be: /bin/sh, or where a merged /usr keeps it when a profile reads /usr but not /bin. */
const GATE_SHELLS = [INIT_SHELL, '/usr/bin/sh'];

/** The gate before the command (sandbox-init.ts): its shell must be inside the sandbox, or nothing keeps the command from outliving a killed isolate. */
function gate(policy: Policy): string[] {
  const shell = GATE_SHELLS.find((path) => reachable(policy.filesystem.mounts, path));
  if (shell === undefined) {
    throw new IsolateError('E_SANDBOX_SETUP', `${INIT_SHELL} is not visible inside the sandbox; bwrap starts the command behind a gate run by it, so that the sandbox dies with isolate`, {
      fix: 'make it visible inside the sandbox (e.g. --allow-read /bin --allow-read /usr)',
    });
  }
  return [shell, '-c', gateScript(GATE_FD), GATE_NAME];
}

/** Descriptors from 7 on carry paths opened by run/ (after args 3, status 4, seccomp 5, the gate 6). */
const FIRST_PATH_FD = 7;

const sizeArg = (size: number | undefined): string[] => (size === undefined ? [] : ['--size', String(size)]);

/**
 * isolate's copies of the device nodes bound over those --dev binds from the
 * host (devices.ts): --dev-bind, as a bind of a device must not be nodev
 * (--bind-fd is). From the descriptors run/ opened and checked (Plan.deviceFd),
 * which bwrap reaches as /proc/self/fd/N: the path it mounts is where that
 * very inode is at the moment (bwrap resolves it as it does --bind-fd's),
 * not where the copies' path led when isolate checked them. bwrap closes only
 * the descriptors of its --bind-fd options before the command starts: each
 * descriptor is also bound, read-only, under /dev/shm, which the tmpfs
 * mounted there next covers, so that bwrap closes it.
 */
function privateNodes(dev: string, nodes: string | undefined, firstFd: number | undefined): string[] {
  if (nodes === undefined) return [];
  if (firstFd === undefined) return DEVICE_NODES.flatMap((node) => ['--dev-bind', nodePath(nodes, node), `${dev}/${node.name}`]);
  const binds = DEVICE_NODES.flatMap((node, i) => ['--dev-bind', `/proc/self/fd/${firstFd + i}`, `${dev}/${node.name}`]);
  const closes = DEVICE_NODES.flatMap((node, i) => ['--ro-bind-fd', String(firstFd + i), `${DEV_SHM}/${node.name}`]);
  return [...binds, ...closes];
}

/**
 * The setup operations (setup-ops.ts) as bwrap arguments, one by one in
 * their order: bwrap applies its arguments in the order given, as one list of
 * setup ops of its own.
 */
export function setupArgs(ops: readonly SetupOp[], deviceFd?: number, gitConfigFd?: number): string[] {
  return ops.flatMap((op): string[] => {
    switch (op.kind) {
      case 'proc':
        return ['--proc', op.path];
      case 'dev':
        return ['--dev', op.path, ...privateNodes(op.path, op.nodes, deviceFd), '--perms', DEV_SHM_MODE, ...sizeArg(op.shmSize), '--tmpfs', DEV_SHM];
      case 'tmpfs':
        return [...sizeArg(op.size), '--tmpfs', op.path];
      case 'bind':
        // From the descriptor run/ opened without following a link (Plan.pathFds), when it has one; bwrap checks its mount against it.
        if (op.slot !== undefined) return [op.readOnly ? '--ro-bind-fd' : '--bind-fd', String(FIRST_PATH_FD + op.slot), op.path];
        return [op.readOnly ? '--ro-bind' : '--bind', op.path, op.path];
      case 'kernel-read-only':
        // Bound from the host's /proc, which shows the same settings.
        return ['--ro-bind', op.path, op.path];
      case 'seal':
        return ['--perms', SEALED_DIR_MODE, '--tmpfs', op.path];
      case 'seal-bind':
        // From the descriptor run/ opened without following a link (or its empty stand-in): bwrap checks its mount against it.
        return ['--ro-bind-fd', String(FIRST_PATH_FD + op.slot), op.path];
      case 'submount':
        // bwrap's --ro-bind makes every mount beneath it read-only itself.
        return [];
      case 'pin':
        return ['--bind-fd', String(FIRST_PATH_FD + op.slot), op.path];
      case 'protect':
      case 'placeholder':
        return ['--ro-bind-fd', String(FIRST_PATH_FD + op.slot), op.path];
      case 'git-config':
        // The text from a pipe (Plan.inputs), copied by bwrap into a file of the sandbox's own and bound read-only: never the host's file.
        if (gitConfigFd === undefined) throw new IsolateError('E_INTERNAL', `internal error: ${op.path} is shown without its secrets and the plan has no descriptor for it`);
        return ['--perms', '0444', '--ro-bind-data', String(gitConfigFd + op.index), op.path];
      case 'hide':
      case 'kernel-mask':
        return op.dir ? ['--perms', HIDDEN_DIR_MODE, '--tmpfs', op.path] : ['--ro-bind', '/dev/null', op.path];
      case 'symlink':
        return ['--symlink', op.target, op.path];
      case 'read-only':
        return ['--remount-ro', op.path];
      case 'socket-dir':
        return ['--ro-bind', op.source, op.path];
    }
  });
}

/** The seccomp filter for this host's architecture; an architecture isolate has no table for is refused. */
function seccompFilter(policy: Policy, host: HostFacts): { program: Buffer | undefined; summary: PlanSummary['seccomp'] } {
  const { resolved, lines: rules } = resolvedSeccomp(policy.syscalls);
  if (!resolved.install) return { program: undefined, summary: { preset: resolved.preset, install: false, arch: null, rules } };
  const arch = requireSeccompArch(host.arch, { fix: 'set syscalls.preset: none in the profile to run without a syscall filter (weaker isolation)' });
  return { program: compiledFilter(policy.syscalls, arch), summary: { preset: resolved.preset, install: true, arch, rules } };
}

function envAssignments(env: Record<string, string>): string[] {
  const out: string[] = ['--clearenv'];
  for (const [name, value] of Object.entries(env)) out.push('--setenv', name, value);
  return out;
}

export const bwrapBackend: Backend = {
  name: 'bwrap',
  plan(policy, command, host): Plan {
    const bwrap = checkBwrapHost(host);
    const base = linuxPlanBase(policy, command, host);
    checkEnterable(policy, host, 'host-paths');
    const { env, resolved, net } = base;
    const ownNetwork = policy.network.mode !== 'host';
    const setup = planSetup(policy, host, FIRST_PATH_FD);
    // bwrap itself and its init inside the sandbox live in the cgroup too; so does the forwarder.
    const views = limitViews(policy.limits, host);
    const cg = cgroupLimits(views.cgroup, host, { processes: net === undefined ? 2 : 3, name: net === undefined ? 'bwrap' : 'bwrap and the network forwarder' });
    const rl = prlimitRlimits(views.rlimit, policy, host, cg.plan?.events.pids !== undefined);
    const sc = seccompFilter(policy, host);
    const inner = net === undefined ? [resolved, ...command.slice(1)] : [...net.wrapper, resolved, ...command.slice(1)];
    // The device copies' descriptors follow the path descriptors; the terminal's control pipe follows them.
    const deviceFd = host.devices === undefined ? undefined : FIRST_PATH_FD + setup.pathFds.length;
    const tty = planTerminal(host, policy.filesystem.mounts, FIRST_PATH_FD + setup.pathFds.length + (deviceFd === undefined ? 0 : DEVICE_NODES.length));
    const commandArgv = [...gate(policy), ...tty.prefix, ...rl.prefix, ...inner];
    // The texts of git configuration shown without its secrets follow the terminal's descriptor.
    const gitConfigFd = FIRST_PATH_FD + setup.pathFds.length + (deviceFd === undefined ? 0 : DEVICE_NODES.length) + 1;
    const gitConfigs = setup.ops.flatMap((op) => (op.kind === 'git-config' ? [{ fd: gitConfigFd + op.index, data: op.text, gitConfig: op.path }] : []));

    const guard = dieWithIsolate(bwrap.setpriv);
    const argv = [
      ...guard,
      bwrap.path,
      '--args',
      String(ARGS_FD),
      '--unshare-user',
      '--unshare-ipc',
      '--unshare-pid',
      '--unshare-uts',
      '--unshare-cgroup',
      ...(ownNetwork ? ['--unshare-net'] : []),
      '--disable-userns',
      '--die-with-parent',
      '--new-session',
      '--cap-drop',
      'ALL',
      '--hostname',
      policy.process.hostname,
      ...setupArgs(setup.ops, deviceFd, gitConfigFd),
      '--chdir',
      policy.process.cwd,
      '--json-status-fd',
      String(STATUS_FD),
      ...(sc.program === undefined ? [] : ['--seccomp', String(SECCOMP_FD)]),
      '--',
      ...commandArgv,
    ];
    const pipedArgs = envAssignments(env);
    requireBwrapArgCount(argv.length - guard.length - 1 + pipedArgs.length, command);

    return {
      backend: 'bwrap',
      backendVersion: bwrap.version,
      argv,
      pipedArgs,
      fds: { args: ARGS_FD, status: STATUS_FD, gate: GATE_FD },
      // bwrap passes every descriptor it has on to the command; it closes an --args descriptor after reading it.
      closeFdFlag: '--args',
      ...(guard.length === 0 ? {} : { launcherAt: guard.length }),
      // bwrap reads --seccomp after its mounts, just before the command (Plan.seccomp.afterSetup).
      ...(sc.program === undefined ? {} : { seccomp: { fd: SECCOMP_FD, program: sc.program, afterSetup: true } }),
      ...(setup.pathFds.length === 0 ? {} : { pathFds: setup.pathFds }),
      ...(gitConfigs.length === 0 ? {} : { inputs: gitConfigs }),
      ...(deviceFd === undefined ? {} : { deviceFd }),
      ...(cg.plan === undefined ? {} : { cgroup: cg.plan }),
      ...(tty.plan === undefined ? {} : { terminal: tty.plan }),
      ...linuxPlanCommon(policy, command, base, setup, {
        limits: [...rl.summary, ...cg.summary, ...tmpfsSummary(policy.limits), ...views.notes],
        seccomp: sc.summary,
        notes: terminalNote(tty.plan),
      }),
    };
  },
};
