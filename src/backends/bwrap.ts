/**
 * bubblewrap backend: policy -> bwrap argv. Pure; see types.ts.
 */
import { dirname } from 'node:path';
import { IsolateError } from '../errors.js';
import type { Limits, MountRule, Policy } from '../profile/types.js';
import { formatBytes } from '../profile/limits.js';
import { buildFilter } from '../seccomp/bpf.js';
import { describeRules, resolveSeccomp } from '../seccomp/presets.js';
import { seccompArchFromNode } from '../seccomp/syscalls.js';
import { depth, effectiveKind, governing, orderRules, protectOps } from './mounts.js';
import type { Backend, Cleanup, HostFacts, Plan, PlanSummary } from './types.js';
import { reachable } from './command.js';
import { checkUserns, linuxPlanBase, linuxPlanCommon, requireLinux } from './linux-common.js';
import { cgroupLimits } from './cgroup.js';
import { SANDBOX_NET_DIR } from '../network/forwarder.js';
import { kernelGuardOps } from './kernel-guard.js';
import { limitViews, tmpfsSize, tmpfsSummary } from './ceilings.js';

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
export function checkBwrapHost(host: HostFacts): { path: string; version: string } {
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

/** bwrap's --size for the next --tmpfs, when the profile sizes its tmpfs mounts. */
function sizeArg(policy: Policy): string[] {
  const size = tmpfsSize(policy.limits);
  return size === undefined ? [] : ['--size', String(size)];
}

/** Descriptors from 6 on carry paths opened by run/ (after args 3, status 4, seccomp 5). */
const FIRST_PATH_FD = 6;

interface MountOps {
  pathFds: { fd: number; path: string; create?: boolean }[];
  args: string[];
  cleanup: Cleanup[];
  summary: Pick<PlanSummary, 'readable' | 'writable' | 'hidden' | 'tmpfs' | 'protected' | 'placeholders' | 'notes'>;
}

/** Translate the mount rules and protected paths into bwrap arguments, in order. */
function mountArgs(policy: Policy, host: HostFacts): MountOps {
  const rules = policy.filesystem.mounts;
  const args: string[] = [];
  const cleanup: Cleanup[] = [];
  const pathFds: MountOps['pathFds'] = [];
  const summary: MountOps['summary'] = { readable: [], writable: [], hidden: [], tmpfs: [], protected: [], placeholders: [], notes: [] };

  type Op = { path: string; order: number; emit: () => void };
  const ops: Op[] = [];
  const applied: MountRule[] = [];
  const remountReadOnly: string[] = [];
  /** Paths that get a mount of their own (and so cannot be renamed inside the sandbox). */
  const bound = new Set<string>();

  for (const rule of orderRules(rules)) {
    // What governs this path from the rules applied so far (parents, weaker kinds).
    const before = governing(applied, rule.path);
    const beforeKind = before?.kind ?? 'none';
    applied.push(rule);
    if (governing(rules, rule.path) !== rule) continue; // a stronger rule at the same path wins
    switch (rule.kind) {
      case 'tmpfs':
        summary.tmpfs.push(rule.path);
        ops.push({ path: rule.path, order: 0, emit: () => args.push(...sizeArg(policy), '--tmpfs', rule.path) });
        break;
      case 'read':
      case 'write': {
        (rule.kind === 'read' ? summary.readable : summary.writable).push(rule.path);
        if (beforeKind === rule.kind && before !== undefined && before.kind === rule.kind) {
          // Already visible with the same access through a parent bind.
        } else {
          const flag = rule.kind === 'read' ? '--ro-bind' : '--bind';
          bound.add(rule.path);
          ops.push({ path: rule.path, order: 1, emit: () => args.push(flag, rule.path, rule.path) });
        }
        break;
      }
      case 'deny': {
        if (beforeKind !== 'read' && beforeKind !== 'write') {
          summary.notes.push(`${rule.path}: not visible anyway, nothing to hide`);
          break;
        }
        summary.hidden.push(rule.path);
        if (rule.type === 'dir') {
          // An empty directory, made read-only only after everything beneath it is mounted
          // (a bind inside it still needs its mount point created).
          ops.push({ path: rule.path, order: 3, emit: () => args.push('--perms', '0555', '--tmpfs', rule.path) });
          remountReadOnly.push(rule.path);
        } else {
          ops.push({ path: rule.path, order: 3, emit: () => args.push('--ro-bind', '/dev/null', rule.path) });
        }
        break;
      }
    }
  }

  // Symlinks named in the profile (/bin -> usr/bin) are recreated where the
  // sandbox owns the parent directory; inside a bind the host's link is there.
  for (const rule of rules) {
    if (rule.linkFrom === undefined || rule.kind === 'deny') continue;
    const parentKind = effectiveKind(rules, dirname(rule.linkFrom));
    if (parentKind === 'none') {
      const from = rule.linkFrom;
      ops.push({ path: from, order: 4, emit: () => args.push('--symlink', rule.path, from) });
    }
  }

  // Protected names inside writable roots: pins, protected files and placeholders (empty files run/ creates
  // for missing names) are bound from descriptors run/ opens (pathFds).
  for (const p of protectOps(rules, host.protect, bound)) {
    const fd = FIRST_PATH_FD + pathFds.length;
    if (p.kind === 'pin') {
      pathFds.push({ fd, path: p.path });
      ops.push({ path: p.path, order: 1, emit: () => args.push('--bind-fd', String(fd), p.path) });
      continue;
    }
    if (p.kind === 'placeholder') {
      summary.placeholders.push(p.path);
      cleanup.push({ removeIfPlaceholder: p.path });
      pathFds.push({ fd, path: p.path, create: true });
    } else {
      summary.protected.push(p.path);
      pathFds.push({ fd, path: p.path });
    }
    ops.push({ path: p.path, order: 2, emit: () => args.push('--ro-bind-fd', String(fd), p.path) });
  }

  ops
    .map((op, i) => ({ op, i }))
    .sort((a, b) => depth(a.op.path) - depth(b.op.path) || a.op.order - b.op.order || a.i - b.i)
    .forEach(({ op }) => op.emit());
  args.push(...kernelGuardArgs(policy, host, remountReadOnly));
  remountReadOnly.push('/dev');
  for (const path of remountReadOnly) args.push('--remount-ro', path);
  return { args, cleanup, summary, pathFds };
}

/**
 * The kernel guard (kernel-guard.ts) as bwrap arguments, after the profile's
 * mounts (a readable /sys is bound by then). A read-only path is bound from
 * the host's /proc, which shows the same settings; an empty directory is made
 * read-only with the hidden directories (`remount`).
 */
function kernelGuardArgs(policy: Policy, host: HostFacts, remount: string[]): string[] {
  const args: string[] = [];
  for (const op of kernelGuardOps(host.kernelPaths, policy.filesystem.mounts)) {
    if (op.kind === 'read-only') args.push('--ro-bind', op.path, op.path);
    else if (!op.dir) args.push('--ro-bind', '/dev/null', op.path);
    else {
      args.push('--perms', '0555', '--tmpfs', op.path);
      remount.push(op.path);
    }
  }
  return args;
}


/**
 * rlimits are applied inside the sandbox by prlimit, just before the command:
 * there, RLIMIT_NPROC counts the processes of the sandbox's own user
 * namespace (not every process the user has on the host), and it applies
 * even when isolate runs as root. Core dumps are always off.
 */
function rlimits(l: Limits, policy: Policy, host: HostFacts, cgroupPids: boolean): { prefix: string[]; summary: string[] } {
  const prlimit = host.prlimit;
  if (prlimit === undefined || !reachable(policy.filesystem.mounts, prlimit)) {
    throw new IsolateError('E_PRLIMIT_MISSING', prlimit === undefined ? 'prlimit (util-linux) is not installed; isolate needs it to apply resource limits' : `${prlimit} is not visible inside the sandbox`, {
      fix: prlimit === undefined ? 'sudo apt-get install -y util-linux' : `add --allow-read ${prlimit}`,
    });
  }
  const args = ['--core=0'];
  const summary = ['core dumps: off (RLIMIT_CORE=0)'];
  if (l.cpuSeconds !== undefined) {
    args.push(`--cpu=${l.cpuSeconds}:${l.cpuSeconds + 1}`);
    summary.push(`cpu: ${l.cpuSeconds}s per process (RLIMIT_CPU: SIGXCPU, then SIGKILL a second later)`);
  }
  if (l.memoryBytes !== undefined) {
    args.push(`--data=${l.memoryBytes}`);
    summary.push(`memory: ${formatBytes(l.memoryBytes)} of data per process (RLIMIT_DATA)`);
  }
  if (l.processes !== undefined) {
    if (host.uid === 0 && !cgroupPids) {
      throw new IsolateError('E_LIMIT_UNENFORCEABLE', 'a process limit cannot be enforced when isolate runs as root without a cgroup: the kernel exempts uid 0 from RLIMIT_NPROC', {
        detail: host.cgroup?.unusable?.reason,
        fix: 'run isolate as an ordinary user to use --processes / limits.processes, or on a host where root can use a cgroup with the pids controller',
      });
    }
    if (host.uid !== 0) {
      args.push(`--nproc=${l.processes}`);
      summary.push(`processes: ${l.processes} in the sandbox (RLIMIT_NPROC in its user namespace)`);
    }
  }
  if (l.openFiles !== undefined) {
    args.push(`--nofile=${l.openFiles}`);
    summary.push(`open files: ${l.openFiles} per process (RLIMIT_NOFILE)`);
  }
  if (l.fileSizeBytes !== undefined) {
    args.push(`--fsize=${l.fileSizeBytes}`);
    summary.push(`file size: ${formatBytes(l.fileSizeBytes)} per file (RLIMIT_FSIZE: SIGXFSZ)`);
  }
  if (l.timeoutMs !== undefined) {
    summary.push(`timeout: ${l.timeoutMs / 1000}s wall clock, by isolate (SIGTERM, SIGKILL ${l.killAfterMs / 1000}s later; exit 124)`);
  }
  return { prefix: [prlimit, ...args, '--'], summary };
}

/** The seccomp filter for this host's architecture; an architecture isolate has no table for is refused. */
function seccompFilter(policy: Policy, host: HostFacts): { program: Buffer | undefined; summary: PlanSummary['seccomp'] } {
  const resolved = resolveSeccomp(policy.syscalls);
  const rules = describeRules(resolved.rules, resolved.refuseNewer);
  if (!resolved.install) return { program: undefined, summary: { preset: resolved.preset, install: false, arch: null, rules } };
  const arch = seccompArchFromNode(host.arch);
  if (arch === undefined) {
    throw new IsolateError('E_SECCOMP_UNSUPPORTED', `isolate has no seccomp filter for the ${host.arch} architecture`, {
      fix: 'set syscalls.preset: none in the profile to run without a syscall filter (weaker isolation)',
    });
  }
  return { program: buildFilter(arch, resolved.rules, { refuseNewer: resolved.refuseNewer }), summary: { preset: resolved.preset, install: true, arch, rules } };
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
    const { env, resolved, net } = base;
    const ownNetwork = policy.network.mode !== 'host';
    const mounts = mountArgs(policy, host);
    // bwrap itself and its init inside the sandbox live in the cgroup too; so does the forwarder.
    const views = limitViews(policy.limits, host);
    const cg = cgroupLimits(views.cgroup, host, { processes: net === undefined ? 2 : 3, name: net === undefined ? 'bwrap' : 'bwrap and the network forwarder' });
    const rl = rlimits(views.rlimit, policy, host, cg.plan?.events.pids !== undefined);
    const sc = seccompFilter(policy, host);
    const inner = net === undefined ? [resolved, ...command.slice(1)] : [...net.wrapper, resolved, ...command.slice(1)];
    const commandArgv = [...rl.prefix, ...inner];

    const argv = [
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
      '--proc',
      '/proc',
      '--dev',
      '/dev',
      // /dev/shm a sized tmpfs of its own; /dev itself read-only (root in the sandbox could fill it otherwise).
      '--perms',
      '01777',
      ...sizeArg(policy),
      '--tmpfs',
      '/dev/shm',
      ...mounts.args,
      ...(net === undefined ? [] : ['--ro-bind', net.socketDir, SANDBOX_NET_DIR]),
      '--chdir',
      policy.process.cwd,
      '--json-status-fd',
      String(STATUS_FD),
      ...(sc.program === undefined ? [] : ['--seccomp', String(SECCOMP_FD)]),
      '--',
      ...commandArgv,
    ];

    return {
      backend: 'bwrap',
      backendVersion: bwrap.version,
      argv,
      pipedArgs: envAssignments(env),
      fds: { args: ARGS_FD, status: STATUS_FD },
      // bwrap passes every descriptor it has on to the command; it closes an --args descriptor after reading it.
      closeFdFlag: '--args',
      ...(sc.program === undefined ? {} : { seccomp: { fd: SECCOMP_FD, program: sc.program } }),
      ...(mounts.pathFds.length === 0 ? {} : { pathFds: mounts.pathFds }),
      ...(cg.plan === undefined ? {} : { cgroup: cg.plan }),
      ...linuxPlanCommon(policy, command, base, mounts, { limits: [...rl.summary, ...cg.summary, ...tmpfsSummary(policy.limits), ...views.notes], seccomp: sc.summary }),
    };
  },
};
