/**
 * nsjail backend: policy -> an nsjail configuration (protobuf text format)
 * and argv. Pure; see types.ts.
 *
 * The whole sandbox is described by one generated config, handed to nsjail
 * on a descriptor (`--config /proc/self/fd/3`, see LAUNCH_SCRIPT), so the
 * command's environment values never appear on a command line: argv carries
 * only the launch shell, nsjail's path and the command.
 *
 * What differs from bubblewrap, and how it is handled:
 * - nsjail runs the command as PID 1 of its namespace, where the kernel drops
 *   every signal without a handler (`kill $$`, SIGXCPU, SIGXFSZ). A tiny
 *   `/bin/sh` init starts the command as its child and exits with its status
 *   (128+N when a signal killed it), so signals mean what they mean on the host.
 * - nsjail's rlimit defaults are small (4 GiB address space, 1 MiB files, 32
 *   open files, 600 s CPU): every rlimit is set explicitly. nsjail sets soft =
 *   hard and counts sizes in MiB, and has no RLIMIT_DATA, so what it cannot
 *   express exactly (memory as RLIMIT_DATA, the CPU soft limit that raises
 *   SIGXCPU a second before the SIGKILL, a file size that is not whole MiB) is
 *   applied by prlimit inside the sandbox, as the bwrap backend does.
 * - nsjail has no --disable-userns: nested user namespaces are refused by
 *   seccomp rules that are always present (see USERNS_GUARD).
 * - The seccomp rules are the ones resolveSeccomp gives bwrap, written as a
 *   kafel policy by system call number from isolate's own tables.
 * - nsjail exits 255 when its own setup fails, as a command may: the init
 *   writes one byte on NSJAIL_STARTED_FD once the sandbox is set up, and
 *   waits for run/'s answer before it starts the command (Plan fds.started),
 *   so run/ can tell a setup failure (exit 125) from the command's 255.
 * - Pinned directories and protected files: run/ opens them without
 *   following symlinks just before the start (Plan.pathFds), as for bwrap,
 *   but nsjail cannot mount a descriptor: /proc/self/fd/N names a mount of
 *   the caller's mount namespace, which the kernel refuses to bind into the
 *   sandbox's (EINVAL; bwrap's --bind-fd resolves the path too). So nsjail
 *   binds them by path, and when the init reports the start run/ checks,
 *   through the init's root, that each path in the sandbox is exactly what it
 *   opened (no symlink, same device and inode) before it lets the command
 *   start (Plan.checkPathFds): a swap between its search and nsjail's mount
 *   stops the run (exit 125). The descriptors never enter the sandbox. The
 *   profile's binds (setup-ops.ts, a bind's slot) are checked so too; without
 *   the init nothing can check them, and they are bound by path unchecked.
 */
import { IsolateError } from '../errors.js';
import { formatBytes } from '../profile/limits.js';
import type { Limits, Policy } from '../profile/types.js';
import { reachable } from './command.js';
import { cgroupLimits } from './cgroup.js';
import { checkUserns, linuxPlanBase, linuxPlanCommon, requireLinux } from './linux-common.js';
import { checkEnterable } from './enterable.js';
import { refuseRootProcessLimit } from './process-limit.js';
import { limitViews, tmpfsSummary } from './ceilings.js';
import { setupMounts } from './nsjail-mounts.js';
import { renderFields, type Field } from './nsjail-proto.js';
import { nsjailSeccomp } from './nsjail-seccomp.js';
import type { SetupOp } from './setup-ops.js';
import { INIT_NAME, INIT_SHELL, initScript } from './sandbox-init.js';
import { planSetup, type PathFd } from './setup-plan.js';
import { planTerminal, terminalNote } from './terminal.js';
import type { Backend, HostFacts, NsjailFacts, Plan } from './types.js';

/** The descriptor the generated config is handed to nsjail on. */
export const NSJAIL_CONFIG_FD = 3;
export const NSJAIL_CONFIG_PATH = `/proc/self/fd/${NSJAIL_CONFIG_FD}`;
/**
 * The init writes one byte here once nsjail's setup is done and waits for
 * run/'s "go" (Plan.fds.started); the only descriptor passed into the
 * sandbox besides stdio (pass_fd), and closed before the command starts.
 */
export const NSJAIL_STARTED_FD = 4;
/** Pinned directories, protected files and placeholders (Plan.pathFds) are handed over from this descriptor on. */
export const NSJAIL_FIRST_PATH_FD = 5;

/**
 * nsjail reads its config by opening a path, and the descriptor run/ hands
 * over is one end of a socket pair (Node's child_process pipes), which
 * cannot be opened through /proc/self/fd (ENXIO). So a POSIX shell on the
 * host reads the config from that descriptor and execs nsjail with it on a
 * real pipe, as a here-document on the same descriptor number; nsjail
 * replaces the shell, so it is still the process run/ starts and signals.
 * The command line shows neither the config nor any value from it.
 */
export const LAUNCH_SHELL = '/bin/sh';
export const LAUNCH_NAME = 'isolate-nsjail';
export const LAUNCH_SCRIPT = [
  // cat, env and setpriv (util-linux) from the system directories; env -i: nsjail starts with an
  // empty environment (a shell exports PWD, SHLVL and the like on its own). setpriv --pdeathsig:
  // nsjail gets SIGKILL when isolate dies (even by SIGKILL), and the sandbox dies with nsjail,
  // as it does with bwrap's --die-with-parent. Armed before nsjail starts, so before the init's
  // byte reaches isolate and isolate answers "go": a command never runs unarmed.
  'PATH=/usr/bin:/bin:/run/current-system/sw/bin',
  'nsjail=$1; shift',
  `exec setpriv --pdeathsig KILL env -i "$nsjail" --config ${NSJAIL_CONFIG_PATH} "$@" ${NSJAIL_CONFIG_FD}<<ISOLATE_NSJAIL_CONFIG`,
  '$(cat <&3)',
  'ISOLATE_NSJAIL_CONFIG',
].join('\n');

/** Where the documentation tells users how to get nsjail (it is not in Debian's or Ubuntu's archive). */
export const NSJAIL_INSTALL_DOC = 'docs/backends.md, section "Installing nsjail"';
export const NSJAIL_INSTALL_FIX =
  'nsjail is not packaged by Debian or Ubuntu; build it from source (' +
  NSJAIL_INSTALL_DOC +
  '):\n' +
  '  sudo apt-get install -y autoconf bison flex gcc g++ git libprotobuf-dev libnl-route-3-dev libtool make pkg-config protobuf-compiler\n' +
  '  git clone --recursive --branch 3.6 https://github.com/google/nsjail && make -C nsjail && sudo install -m 0755 nsjail/nsjail /usr/local/bin/nsjail\n' +
  'or point ISOLATE_NSJAIL at an nsjail binary, or use --backend bwrap';

/** The init (sandbox-init.ts): stderr kept on descriptor 3, the started byte on NSJAIL_STARTED_FD. */
export { INIT_NAME, INIT_SHELL } from './sandbox-init.js';
export const INIT_SCRIPT = initScript(NSJAIL_STARTED_FD, 3);

const MIB = 1024 * 1024;

// ---- host checks -----------------------------------------------------------------

/** Fail closed on anything that would stop nsjail from building the sandbox we promise. */
export function checkNsjailHost(host: Pick<HostFacts, 'platform' | 'uid' | 'nsjail' | 'userns'>): NsjailFacts {
  requireLinux(host, 'nsjail');
  const nsjail = host.nsjail;
  if (nsjail === undefined) {
    throw new IsolateError('E_BACKEND_MISSING', 'nsjail is not installed (nor named by ISOLATE_NSJAIL); refusing to run the command unsandboxed', {
      fix: NSJAIL_INSTALL_FIX,
    });
  }
  checkUserns(host, { name: 'nsjail', path: nsjail.path });
  return nsjail;
}

// ---- limits ---------------------------------------------------------------------

interface RlimitPlan {
  /** nsjail config fields, in order. */
  fields: Field[];
  /** prlimit arguments for what nsjail cannot express, or [] when nothing is left for it. */
  prlimit: string[];
  summary: string[];
}

/** Whole seconds for nsjail's time_limit: late enough that isolate's own timeout and grace period always act first. */
export function timeLimitSeconds(l: Limits): number {
  return l.timeoutMs === undefined ? 0 : Math.ceil((l.timeoutMs + l.killAfterMs) / 1000) + 1;
}

/** The rlimit fields, prlimit arguments and summary lines as they are collected, and what the profile leaves unlimited. */
interface Collected extends RlimitPlan {
  unset: string[];
  set(name: string, v: number | 'HARD' | 'SOFT'): void;
}

function collector(): Collected {
  const c: Collected = {
    fields: [],
    prlimit: [],
    summary: ['core dumps: off (RLIMIT_CORE=0, nsjail)'],
    unset: [],
    set(name, v) {
      if (typeof v === 'number') c.fields.push([`rlimit_${name}`, v], [`rlimit_${name}_type`, { enum: 'VALUE' }]);
      else c.fields.push([`rlimit_${name}_type`, { enum: v }]);
    },
  };
  return c;
}

/** CPU: nsjail sets soft = hard, so the soft limit (SIGXCPU a second before the SIGKILL) is prlimit's. */
function cpuLimit(l: Limits, c: Collected): void {
  if (l.cpuSeconds === undefined) {
    c.set('cpu', 'HARD');
    c.unset.push('CPU time');
    return;
  }
  c.set('cpu', l.cpuSeconds + 1);
  c.prlimit.push(`--cpu=${l.cpuSeconds}:${l.cpuSeconds + 1}`);
  c.summary.push(`cpu: ${l.cpuSeconds}s per process (RLIMIT_CPU: SIGXCPU from prlimit's soft limit, then SIGKILL a second later at nsjail's hard limit)`);
}

/** File size: nsjail counts whole MiB; anything else is also set exactly by prlimit. */
function fileSizeLimit(l: Limits, c: Collected): void {
  if (l.fileSizeBytes === undefined) {
    c.set('fsize', 'HARD');
    c.unset.push('file size');
    return;
  }
  c.set('fsize', Math.ceil(l.fileSizeBytes / MIB));
  if (l.fileSizeBytes % MIB === 0) {
    c.summary.push(`file size: ${formatBytes(l.fileSizeBytes)} per file (RLIMIT_FSIZE: SIGXFSZ; nsjail)`);
  } else {
    c.prlimit.push(`--fsize=${l.fileSizeBytes}`);
    c.summary.push(`file size: ${formatBytes(l.fileSizeBytes)} per file (RLIMIT_FSIZE: SIGXFSZ; prlimit, as nsjail counts whole MiB)`);
  }
}

function rlimits(l: Limits, host: HostFacts, cgroupPids: boolean): RlimitPlan {
  refuseRootProcessLimit(l, host.uid, { pids: cgroupPids, unusableReason: host.cgroup?.unusable?.reason });
  const c = collector();
  // Address space: isolate's memory limit is on the data segment, never on address space.
  c.set('as', 'HARD');
  c.set('core', 0);
  cpuLimit(l, c);
  fileSizeLimit(l, c);
  if (l.openFiles !== undefined) {
    c.set('nofile', l.openFiles);
    c.summary.push(`open files: ${l.openFiles} per process (RLIMIT_NOFILE; nsjail)`);
  } else {
    // The caller's hard limit, which a command under bwrap could raise its soft limit to.
    c.set('nofile', 'HARD');
    c.unset.push('open files');
  }
  if (l.processes !== undefined) {
    c.set('nproc', l.processes);
    c.summary.push(`processes: ${l.processes} in the sandbox (RLIMIT_NPROC in its user namespace; nsjail)`);
  } else {
    c.set('nproc', 'HARD');
    c.unset.push('processes');
  }
  // The caller's soft limit: an unlimited stack would switch the memory layout.
  c.set('stack', 'SOFT');
  if (l.memoryBytes !== undefined) {
    c.prlimit.push(`--data=${l.memoryBytes}`);
    c.summary.push(`memory: ${formatBytes(l.memoryBytes)} of data per process (RLIMIT_DATA; prlimit, as nsjail has no RLIMIT_DATA)`);
  } else {
    c.unset.push('memory');
  }
  if (c.unset.length > 0) {
    c.summary.push(`not limited by the profile: ${c.unset.join(', ')} (each at this process's hard limit, the stack at its soft limit; never nsjail's defaults)`);
  }
  if (l.timeoutMs !== undefined) {
    c.summary.push(
      `timeout: ${l.timeoutMs / 1000}s wall clock, by isolate (exit 124; nsjail ends the sandbox with SIGKILL when isolate signals it); nsjail's time_limit ${timeLimitSeconds(l)}s as a backstop`,
    );
  }
  return { fields: c.fields, prlimit: c.prlimit, summary: c.summary };
}

// ---- the backend ------------------------------------------------------------------

/** Without the init nothing reports the end of nsjail's setup, so nothing can check its mounts (by path) before the command starts. */
function checkInit(init: boolean, pathFds: readonly PathFd[]): void {
  if (init || pathFds.length === 0) return;
  const sealed = pathFds.some((e) => e.seal !== undefined);
  throw new IsolateError('E_SANDBOX_SETUP', `${INIT_SHELL} is not visible inside the sandbox, so isolate cannot check that nsjail mounted the protected paths${sealed ? ' and the entries of sealed directories' : ''} before the command starts`, {
    detail: `protected or pinned${sealed ? ', or sealed' : ''}: ${pathFds.map((e) => e.path).join(', ')}`,
    fix: `make ${INIT_SHELL} visible inside the sandbox (e.g. --allow-read /bin), or use --backend bwrap`,
  });
}

/** prlimit inside the sandbox, for what nsjail cannot set, when something is left for it. */
function prlimitPrefix(rl: RlimitPlan, host: HostFacts, rules: Policy['filesystem']['mounts']): string[] {
  if (rl.prlimit.length === 0) return [];
  const prlimit = host.prlimit;
  if (prlimit === undefined || !reachable(rules, prlimit)) {
    throw new IsolateError(
      'E_PRLIMIT_MISSING',
      prlimit === undefined ? 'prlimit (util-linux) is not installed; isolate needs it for the limits nsjail cannot set (memory, the CPU soft limit)' : `${prlimit} is not visible inside the sandbox`,
      { fix: prlimit === undefined ? 'sudo apt-get install -y util-linux' : `add --allow-read ${prlimit}` },
    );
  }
  return [prlimit, ...rl.prlimit, '--'];
}

function notes(init: boolean): string[] {
  return [
    ...(init
      ? []
      : [
          `${INIT_SHELL} is not visible inside the sandbox, so the command runs as PID 1 of its namespace: signals it has no handler for (including SIGXCPU and SIGXFSZ from the limits) do not end it`,
          `without the init, exit status 255 may be nsjail's own setup failure as well as the command's`,
        ]),
    '/proc is mounted read-only',
    'signals: SIGINT, SIGTERM and SIGHUP sent to isolate end the sandbox at once (nsjail kills it; the command cannot handle them); SIGQUIT is not passed on',
  ];
}

interface ConfigParts {
  policy: Policy;
  host: HostFacts;
  env: Record<string, string>;
  init: boolean;
  /** The terminal's control descriptor, passed into the sandbox. */
  control: number | undefined;
  rlimits: Field[];
  ops: readonly SetupOp[];
  seccomp: string;
}

/** The whole sandbox as nsjail's config. Every value is an escaped literal: nothing from the profile or the environment can add a line. */
function nsjailConfig(c: ConfigParts): string {
  const { policy, host } = c;
  const config: Field[] = [
    ['name', 'isolate'],
    ['mode', { enum: 'ONCE' }],
    ['hostname', policy.process.hostname],
    ['cwd', policy.process.cwd],
    ['time_limit', timeLimitSeconds(policy.limits)],
    ['log_level', { enum: 'ERROR' }],
    ['nice_level', 0],
    ['keep_env', false],
    // PWD as bwrap sets it: the directory the command starts in.
    ...Object.entries({ ...c.env, PWD: policy.process.cwd }).map(([name, value]): Field => ['envar', `${name}=${value}`]),
    ['keep_caps', false],
    ['skip_setsid', false],
    ['disable_no_new_privs', false],
    // The init's line to run/; every other descriptor nsjail has (the config, Plan.pathFds) is closed in the sandbox.
    ...(c.init ? [['pass_fd', NSJAIL_STARTED_FD] as Field] : []),
    ...(c.control === undefined ? [] : [['pass_fd', c.control] as Field]),
    ...c.rlimits,
    ['clone_newnet', policy.network.mode !== 'host'],
    ['clone_newuser', true],
    ['clone_newns', true],
    ['clone_newpid', true],
    ['clone_newipc', true],
    ['clone_newuts', true],
    ['clone_newcgroup', true],
    ['uidmap', [['inside_id', String(host.uid)], ['outside_id', String(host.uid)], ['count', 1]]],
    ['gidmap', [['inside_id', String(host.gid)], ['outside_id', String(host.gid)], ['count', 1]]],
    ['mount_proc', false],
    ...setupMounts(c.ops),
    ['seccomp_string', { text: c.seccomp }],
  ];
  return `# generated by isolate\n${renderFields(config, '').join('\n')}\n`;
}

export const nsjailBackend: Backend = {
  name: 'nsjail',
  plan(policy, command, host): Plan {
    const nsjail = checkNsjailHost(host);
    const base = linuxPlanBase(policy, command, host);
    checkEnterable(policy, host, 'host-paths');
    const { env, resolved, net } = base;
    const rules = policy.filesystem.mounts;
    const setup = planSetup(policy, host, NSJAIL_FIRST_PATH_FD);
    const init = reachable(rules, INIT_SHELL);
    // Without the init nothing can check the profile's binds either: they are bound by their paths, unchecked, as before.
    const pathFds = init ? setup.pathFds : setup.pathFds.filter((e) => e.bind !== true);
    checkInit(init, pathFds);
    // nsjail's own process and its init (PID 1 in the sandbox) live in isolate's cgroup beside the command (and the forwarder, for filtered network).
    const launcher = ['nsjail', ...(init ? ['its init'] : []), ...(net === undefined ? [] : ['the network forwarder'])];
    const views = limitViews(policy.limits, host);
    const cg = cgroupLimits(views.cgroup, host, { processes: launcher.length, name: launcher.length === 1 ? 'nsjail' : `${launcher.slice(0, -1).join(', ')} and ${launcher.at(-1) ?? ''}` });
    const rl = rlimits(views.rlimit, host, cg.plan?.events.pids !== undefined);
    // The terminal's control pipe follows the path descriptors, and is passed into the sandbox.
    const tty = planTerminal(host, rules, NSJAIL_FIRST_PATH_FD + pathFds.length);
    const prefix = [...(init ? [INIT_SHELL, '-c', INIT_SCRIPT, INIT_NAME] : []), ...tty.prefix, ...prlimitPrefix(rl, host, rules), ...(net === undefined ? [] : net.wrapper)];
    const sc = nsjailSeccomp(policy, host);
    const control = tty.plan?.given === true ? tty.plan.controlFd : undefined;
    const config = nsjailConfig({ policy, host, env, init, control, rlimits: rl.fields, ops: setup.ops, seccomp: sc.policy });
    return {
      backend: 'nsjail',
      backendVersion: nsjail.version,
      argv: [LAUNCH_SHELL, '-c', LAUNCH_SCRIPT, LAUNCH_NAME, nsjail.path, '--', ...prefix, resolved, ...command.slice(1)],
      pipedArgs: [],
      fds: init ? { started: NSJAIL_STARTED_FD } : {},
      inputs: [{ fd: NSJAIL_CONFIG_FD, data: config, ...(pathFds.some((e) => e.seal !== undefined) ? { sealedBinds: true as const } : {}) }],
      ...(pathFds.length === 0 ? {} : { pathFds, ...(init ? { checkPathFds: true } : {}) }),
      ...(cg.plan === undefined ? {} : { cgroup: cg.plan }),
      ...(tty.plan === undefined ? {} : { terminal: tty.plan }),
      ...linuxPlanCommon(policy, command, base, setup, {
        limits: [...rl.summary, ...cg.summary, ...tmpfsSummary(policy.limits), ...views.notes, 'nsjail\'s own cgroup options: not used (isolate makes the cgroup)'],
        seccomp: sc.summary,
        notes: [...sc.notes, ...notes(init), ...terminalNote(tty.plan)],
      }),
    };
  },
};
