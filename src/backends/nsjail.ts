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
 *   stops the run (exit 125). The descriptors never enter the sandbox.
 */
import { dirname } from 'node:path';
import { IsolateError } from '../errors.js';
import { formatBytes } from '../profile/limits.js';
import type { Limits, MountRule, Policy } from '../profile/types.js';
import { CLONE_NAMESPACE_FLAGS, ERRNO_VALUES, describeRules, resolveSeccomp, type ArgCondition, type SeccompRule } from '../seccomp/presets.js';
import { highestKnownSyscall, seccompArchFromNode, syscallNumber, type SeccompArch } from '../seccomp/syscalls.js';
import { SANDBOX_NET_DIR } from '../network/forwarder.js';
import { reachable } from './command.js';
import { cgroupLimits } from './cgroup.js';
import { checkUserns, linuxPlanBase, linuxPlanCommon, requireLinux } from './linux-common.js';
import { depth, effectiveKind, governing, orderRules, protectOps } from './mounts.js';
import { kernelGuardOps } from './kernel-guard.js';
import { limitViews, tmpfsSize, tmpfsSummary } from './ceilings.js';
import type { Backend, Cleanup, HostFacts, Plan, PlanSummary } from './types.js';

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

/** Where README tells users how to get nsjail (it is not in Debian's or Ubuntu's archive). */
export const NSJAIL_INSTALL_DOC = 'README.md, section "Installing nsjail"';
export const NSJAIL_INSTALL_FIX =
  'nsjail is not packaged by Debian or Ubuntu; build it from source (' +
  NSJAIL_INSTALL_DOC +
  '):\n' +
  '  sudo apt-get install -y autoconf bison flex gcc g++ git libprotobuf-dev libnl-route-3-dev libtool make pkg-config protobuf-compiler\n' +
  '  git clone --recursive --branch 3.6 https://github.com/google/nsjail && make -C nsjail && sudo install -m 0755 nsjail/nsjail /usr/local/bin/nsjail\n' +
  'or point ISOLATE_NSJAIL at an nsjail binary, or use --backend bwrap';

/**
 * The init that runs as PID 1: it keeps the caller's stderr on descriptor 3
 * for the command and closes its own (so a shell's "Terminated" notices never
 * reach the user), runs the command as its child in a subshell that execs it,
 * and exits with the command's status: 128+N when signal N killed it.
 *
 * First it tells run/ the sandbox is set up (one byte on NSJAIL_STARTED_FD)
 * and waits for its "go" (sent after run/ has checked the mounts of
 * Plan.pathFds); without it (a mount was swapped, or isolate is gone) it
 * exits 125 and the command never runs. It closes the descriptor before
 * starting the command.
 */
export const INIT_SHELL = '/bin/sh';
export const INIT_NAME = 'isolate-init';
export const INIT_SCRIPT = `exec 3>&2 2>&-; printf . >&${NSJAIL_STARTED_FD}; read -r go <&${NSJAIL_STARTED_FD} && [ "$go" = go ] || exit 125; exec ${NSJAIL_STARTED_FD}>&-; (exec "$@" 2>&3 3>&-); exit $?`;

const MIB = 1024 * 1024;

// ---- host checks -----------------------------------------------------------------

/**
 * What nsjailFacts (host.ts) gathers: HostFacts['nsjail'] plus the host's
 * mount points, for the mounts nested under read-only paths (see planMounts).
 */
export interface NsjailFacts {
  path: string;
  version: string;
  mountPoints?: readonly string[];
}

/** Fail closed on anything that would stop nsjail from building the sandbox we promise. */
export function checkNsjailHost(host: HostFacts): { path: string; version: string } {
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

// ---- mounts ------------------------------------------------------------------------

/**
 * One mount, independent of the backend's syntax. `exists`: the target is
 * already there when this mount is made (a host file seen through a parent
 * bind); otherwise the backend creates it as a `dir` or a file.
 */
export type MountOp =
  | { op: 'tmpfs'; path: string; readOnly: boolean; mode?: string; size?: number }
  | { op: 'devpts'; path: string }
  | { op: 'bind'; src: string; dst: string; readOnly: boolean; dir: boolean; exists: boolean; device?: true; optional?: true }
  | { op: 'symlink'; target: string; link: string };

export interface MountPlan {
  ops: MountOp[];
  cleanup: Cleanup[];
  /**
   * Pinned directories (read-write), protected files and placeholders
   * (read-only), bound by path: run/ opens them (creating the placeholders)
   * and checks the mounts against them (Plan.pathFds).
   */
  pathFds: { fd: number; path: string; readOnly: boolean; create?: boolean }[];
  summary: Pick<PlanSummary, 'readable' | 'writable' | 'hidden' | 'tmpfs' | 'protected' | 'placeholders' | 'notes'>;
}

/**
 * The mount rules and protected paths as an ordered list of mounts: the same
 * mounts, in the same order and with the same meaning, as the bwrap backend's
 * arguments (the order rule: shallower paths first; at one depth tmpfs, then
 * binds, then protected names, then hidden paths, then symlinks). A hidden
 * directory is an empty tmpfs made read-only after everything beneath it is
 * mounted; nsjail remounts read-only mounts after the whole tree is built.
 */
export function planMounts(policy: Policy, host: HostFacts, nestedMounts: readonly string[] = []): MountPlan {
  const rules = policy.filesystem.mounts;
  const cleanup: Cleanup[] = [];
  const pathFds: MountPlan['pathFds'] = [];
  const summary: MountPlan['summary'] = { readable: [], writable: [], hidden: [], tmpfs: [], protected: [], placeholders: [], notes: [] };

  type Pending = { path: string; order: number; op: MountOp };
  const pending: Pending[] = [];
  const applied: MountRule[] = [];
  const bound = new Set<string>();

  for (const rule of orderRules(rules)) {
    const before = governing(applied, rule.path);
    const beforeKind = before?.kind ?? 'none';
    applied.push(rule);
    if (governing(rules, rule.path) !== rule) continue; // a stronger rule at the same path wins
    const seenThroughParent = beforeKind === 'read' || beforeKind === 'write';
    switch (rule.kind) {
      case 'tmpfs':
        summary.tmpfs.push(rule.path);
        pending.push({ path: rule.path, order: 0, op: { op: 'tmpfs', path: rule.path, readOnly: false, ...sized(policy) } });
        break;
      case 'read':
      case 'write': {
        (rule.kind === 'read' ? summary.readable : summary.writable).push(rule.path);
        if (beforeKind === rule.kind) break; // already visible with the same access through a parent bind
        bound.add(rule.path);
        pending.push({
          path: rule.path,
          order: 1,
          op: { op: 'bind', src: rule.path, dst: rule.path, readOnly: rule.kind === 'read', dir: rule.type === 'dir', exists: seenThroughParent },
        });
        break;
      }
      case 'deny': {
        if (!seenThroughParent) {
          summary.notes.push(`${rule.path}: not visible anyway, nothing to hide`);
          break;
        }
        summary.hidden.push(rule.path);
        pending.push({
          path: rule.path,
          order: 3,
          op:
            rule.type === 'dir'
              ? { op: 'tmpfs', path: rule.path, readOnly: true, mode: '0555' }
              : { op: 'bind', src: '/dev/null', dst: rule.path, readOnly: true, dir: false, exists: true },
        });
        break;
      }
    }
  }

  // Symlinks named in the profile (/bin -> usr/bin) are recreated where the
  // sandbox owns the parent directory; inside a bind the host's link is there.
  for (const rule of rules) {
    if (rule.linkFrom === undefined || rule.kind === 'deny') continue;
    if (effectiveKind(rules, dirname(rule.linkFrom)) === 'none') {
      pending.push({ path: rule.linkFrom, order: 4, op: { op: 'symlink', target: rule.path, link: rule.linkFrom } });
    }
  }

  // Host mounts nested under a read-only path: a recursive bind carries them
  // over with their own flags, so each is bound read-only onto itself (bwrap
  // remounts them read-only; like bwrap, one the sandbox cannot reach is
  // skipped: nothing in it is reachable either).
  for (const mp of [...nestedMounts].sort()) {
    if (mp === '/' || bound.has(mp) || effectiveKind(rules, mp) !== 'read') continue;
    summary.notes.push(`${mp}: a mount inside a read-only path, made read-only too`);
    pending.push({ path: mp, order: 1, op: { op: 'bind', src: mp, dst: mp, readOnly: true, dir: true, exists: true, optional: true } });
  }

  // Protected names inside writable roots (bound by path; run/ checks the mounts against the descriptors in pathFds).
  for (const p of protectOps(rules, host.protect, bound)) {
    if (p.kind === 'placeholder') {
      // An empty file run/ creates just before the start (pathFds create), then bound read-only like an existing one.
      summary.placeholders.push(p.path);
      cleanup.push({ removeIfPlaceholder: p.path });
      pathFds.push({ fd: NSJAIL_FIRST_PATH_FD + pathFds.length, path: p.path, readOnly: true, create: true });
      pending.push({ path: p.path, order: 2, op: { op: 'bind', src: p.path, dst: p.path, readOnly: true, dir: false, exists: true } });
    } else if (p.kind === 'pin') {
      pathFds.push({ fd: NSJAIL_FIRST_PATH_FD + pathFds.length, path: p.path, readOnly: false });
      pending.push({ path: p.path, order: 1, op: { op: 'bind', src: p.path, dst: p.path, readOnly: false, dir: true, exists: true } });
    } else {
      summary.protected.push(p.path);
      pathFds.push({ fd: NSJAIL_FIRST_PATH_FD + pathFds.length, path: p.path, readOnly: true });
      pending.push({ path: p.path, order: 2, op: { op: 'bind', src: p.path, dst: p.path, readOnly: true, dir: p.dir, exists: true } });
    }
  }

  const ops = pending
    .map((p, i) => ({ p, i }))
    .sort((a, b) => depth(a.p.path) - depth(b.p.path) || a.p.order - b.p.order || a.i - b.i)
    .map(({ p }) => p.op);
  return { ops: [...ops, ...kernelGuardMounts(policy, host)], cleanup, pathFds, summary };
}

/** The size of the sandbox's writable tmpfs mounts, when the profile sets one (a limit or a ceiling). */
function sized(policy: Policy): { size?: number } {
  const size = tmpfsSize(policy.limits);
  return size === undefined ? {} : { size };
}

/** The minimal /dev bwrap's --dev builds, and /proc. Mounted before the profile's mounts. */
function systemMounts(policy: Policy): MountOp[] {
  const devices = ['null', 'zero', 'full', 'random', 'urandom', 'tty'].map(
    (d): MountOp => ({ op: 'bind', src: `/dev/${d}`, dst: `/dev/${d}`, readOnly: false, dir: false, exists: false, device: true }),
  );
  return [
    { op: 'tmpfs', path: '/dev', readOnly: true, mode: '0755' },
    ...devices,
    { op: 'tmpfs', path: '/dev/shm', readOnly: false, ...sized(policy) },
    { op: 'devpts', path: '/dev/pts' },
    { op: 'symlink', target: '/proc/self/fd', link: '/dev/fd' },
    { op: 'symlink', target: '/proc/self/fd/0', link: '/dev/stdin' },
    { op: 'symlink', target: '/proc/self/fd/1', link: '/dev/stdout' },
    { op: 'symlink', target: '/proc/self/fd/2', link: '/dev/stderr' },
    { op: 'symlink', target: 'pts/ptmx', link: '/dev/ptmx' },
  ];
}

/**
 * The kernel guard (kernel-guard.ts) as nsjail mounts, after the profile's,
 * the same mounts as bwrap's: nsjail mounts the whole of /proc read-only, and
 * the read-only binds keep that so should it ever change.
 */
function kernelGuardMounts(policy: Policy, host: HostFacts): MountOp[] {
  return kernelGuardOps(host.kernelPaths, policy.filesystem.mounts).map((op): MountOp => {
    if (op.kind === 'read-only') return { op: 'bind', src: op.path, dst: op.path, readOnly: true, dir: op.dir, exists: true };
    return op.dir ? { op: 'tmpfs', path: op.path, readOnly: true, mode: '0555' } : { op: 'bind', src: '/dev/null', dst: op.path, readOnly: true, dir: false, exists: true };
  });
}

// ---- seccomp as a kafel policy --------------------------------------------------------

/**
 * Nested user namespaces stay off, as bwrap's --disable-userns keeps them off,
 * even when the profile's syscall rules leave these calls alone (preset none,
 * or `allow: [unshare]`). A rule for the same system call from the profile
 * takes precedence.
 */
export const USERNS_GUARD: readonly SeccompRule[] = Object.freeze([
  {
    syscall: 'unshare',
    errno: 'EPERM',
    when: { kind: 'mask-any', arg: 0, mask: CLONE_NAMESPACE_FLAGS['CLONE_NEWUSER'] ?? 0x10000000 },
    reason: 'nested user namespaces stay off (nsjail has no --disable-userns)',
    source: 'preset',
  },
  {
    syscall: 'clone',
    errno: 'EPERM',
    when: { kind: 'mask-any', arg: 0, mask: CLONE_NAMESPACE_FLAGS['CLONE_NEWUSER'] ?? 0x10000000 },
    reason: 'nested user namespaces stay off (nsjail has no --disable-userns)',
    source: 'preset',
  },
  {
    syscall: 'clone3',
    errno: 'ENOSYS',
    reason: 'its flags cannot be checked, so nested user namespaces could not be kept off; glibc falls back to clone',
    source: 'preset',
  },
] satisfies SeccompRule[]);

/** x86_64: every x32-ABI system call number (0x40000000 | nr) is refused, as isolate's BPF filter does. */
export const X32_SYSCALL_BIT = 0x40000000;
/** How many x32 numbers are listed: the kernel's x32 table is far smaller (it ends below 0x40000000 + 600). */
export const X32_LISTED = 1024;

const hex = (n: number): string => `0x${n.toString(16)}`;
const LOW32 = '0xffffffff';

function kafelCondition(when: ArgCondition): string {
  const v = `(a${when.arg} & ${LOW32})`;
  switch (when.kind) {
    case 'equals-any':
      return when.values.map((x) => `${v} == ${hex(x >>> 0)}`).join(' || ');
    case 'mask-any':
      return `(a${when.arg} & ${hex(when.mask >>> 0)}) != 0`;
    case 'not-in':
      return when.values.map((x) => `${v} != ${hex(x >>> 0)}`).join(' && ');
  }
}

/**
 * The rules as a kafel policy: one action block per run of rules with the
 * same errno, in rule order; every system call named by its number on `arch`
 * from isolate's tables (the numbers the BPF filter uses; kafel's own name
 * tables differ between versions), its name in a comment. Arguments are
 * compared on their low 32 bits. Calls that do not exist on `arch` are
 * skipped, as the BPF filter skips them.
 */
export function kafelPolicy(rules: readonly SeccompRule[], arch: SeccompArch, refuseNewer = false): string {
  type Entry = { code: string; comment: string };
  const blocks: { errno: number; note?: string; entries: Entry[] }[] = [];
  for (const rule of rules) {
    const nr = syscallNumber(arch, rule.syscall);
    if (nr === undefined) continue;
    const errno = ERRNO_VALUES[rule.errno];
    let code = `SYSCALL[${nr}]`;
    if (rule.when !== undefined) {
      const args = Array.from({ length: rule.when.arg + 1 }, (_, i) => `a${i}`).join(', ');
      code += `(${args}) { ${kafelCondition(rule.when)} }`;
    }
    const entry = { code, comment: rule.syscall };
    const last = blocks[blocks.length - 1];
    if (last !== undefined && last.errno === errno && last.note === undefined) last.entries.push(entry);
    else blocks.push({ errno, entries: [entry] });
  }
  if (arch === 'x86_64') {
    const entries: Entry[] = [];
    for (let i = 0; i < X32_LISTED; i += 8) {
      const row = Array.from({ length: 8 }, (_, j) => `SYSCALL[${hex(X32_SYSCALL_BIT + i + j)}]`);
      entries.push({ code: row.join(', '), comment: '' });
    }
    blocks.push({ errno: ERRNO_VALUES.EPERM, note: `x32 ABI (${hex(X32_SYSCALL_BIT)} | nr): refused wholesale`, entries });
  }
  if (refuseNewer) blocks.push({ errno: ERRNO_VALUES.ENOSYS, note: 'newer than isolate\'s tables (kafel compares numbers one by one)', entries: newerEntries(arch) });
  const lines = ['// Generated by isolate from its seccomp rules: first match wins, everything else is allowed.', 'POLICY isolate {'];
  blocks.forEach((block, b) => {
    lines.push(`  ERRNO(${block.errno}) {${block.note === undefined ? '' : ` // ${block.note}`}`);
    block.entries.forEach((e, i) => {
      const sep = i < block.entries.length - 1 ? ',' : '';
      lines.push(`    ${e.code}${sep}${e.comment === '' ? '' : ` // ${e.comment}`}`);
    });
    lines.push(`  }${b < blocks.length - 1 ? ',' : ''}`);
  });
  lines.push('}', 'USE isolate DEFAULT ALLOW');
  return `${lines.join('\n')}\n`;
}

/** System call numbers above isolate's tables, up to this one, are listed for kafel (no kernel has numbers near it yet). */
export const NEWER_LISTED_UP_TO = 1023;

function newerEntries(arch: SeccompArch): { code: string; comment: string }[] {
  const entries: { code: string; comment: string }[] = [];
  for (let nr = highestKnownSyscall(arch) + 1; nr <= NEWER_LISTED_UP_TO; nr += 8) {
    const row = Array.from({ length: Math.min(8, NEWER_LISTED_UP_TO + 1 - nr) }, (_, j) => `SYSCALL[${nr + j}]`);
    entries.push({ code: row.join(', '), comment: '' });
  }
  return entries;
}

/** The profile's rules plus the user-namespace guard for calls the profile leaves alone. */
export function nsjailSeccompRules(rules: readonly SeccompRule[]): SeccompRule[] {
  const named = new Set(rules.map((r) => r.syscall));
  return [...rules, ...USERNS_GUARD.filter((g) => !named.has(g.syscall))];
}

function seccomp(policy: Policy, host: HostFacts): { policy: string; summary: PlanSummary['seccomp']; notes: string[] } {
  const resolved = resolveSeccomp(policy.syscalls);
  const arch = seccompArchFromNode(host.arch);
  if (arch === undefined) {
    throw new IsolateError('E_SECCOMP_UNSUPPORTED', `isolate has no seccomp filter for the ${host.arch} architecture`, {
      detail: 'with nsjail the filter is always installed: it also keeps nested user namespaces off',
      fix: 'use --backend bwrap, which can run without a syscall filter (syscalls.preset: none)',
    });
  }
  const rules = nsjailSeccompRules(resolved.rules);
  const guard = rules.slice(resolved.rules.length);
  return {
    policy: kafelPolicy(rules, arch, resolved.refuseNewer),
    summary: { preset: resolved.preset, install: true, arch, rules: describeRules(rules, resolved.refuseNewer) },
    notes:
      guard.length === 0
        ? []
        : [`seccomp: ${guard.map((g) => g.syscall).join(', ')} refused as shown even where the profile allows ${guard.length === 1 ? 'it' : 'them'}: nsjail has no --disable-userns`],
  };
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

function rlimits(l: Limits, host: HostFacts, cgroupPids: boolean): RlimitPlan {
  if (l.processes !== undefined && host.uid === 0 && !cgroupPids) {
    throw new IsolateError('E_LIMIT_UNENFORCEABLE', 'a process limit cannot be enforced when isolate runs as root without a cgroup: the kernel exempts uid 0 from RLIMIT_NPROC', {
      detail: host.cgroup?.unusable?.reason,
      fix: 'run isolate as an ordinary user to use --processes / limits.processes, or on a host where root can use a cgroup with the pids controller',
    });
  }
  const fields: Field[] = [];
  const prlimit: string[] = [];
  const summary: string[] = ['core dumps: off (RLIMIT_CORE=0, nsjail)'];
  const unset: string[] = [];
  const set = (name: string, v: number | 'HARD' | 'SOFT'): void => {
    if (typeof v === 'number') fields.push([`rlimit_${name}`, v], [`rlimit_${name}_type`, { enum: 'VALUE' }]);
    else fields.push([`rlimit_${name}_type`, { enum: v }]);
  };

  // Address space: isolate's memory limit is on the data segment, never on address space.
  set('as', 'HARD');
  set('core', 0);
  if (l.cpuSeconds !== undefined) {
    set('cpu', l.cpuSeconds + 1);
    prlimit.push(`--cpu=${l.cpuSeconds}:${l.cpuSeconds + 1}`);
    summary.push(`cpu: ${l.cpuSeconds}s per process (RLIMIT_CPU: SIGXCPU from prlimit's soft limit, then SIGKILL a second later at nsjail's hard limit)`);
  } else {
    set('cpu', 'HARD');
    unset.push('CPU time');
  }
  if (l.fileSizeBytes !== undefined) {
    const mib = Math.ceil(l.fileSizeBytes / MIB);
    set('fsize', mib);
    if (l.fileSizeBytes % MIB === 0) {
      summary.push(`file size: ${formatBytes(l.fileSizeBytes)} per file (RLIMIT_FSIZE: SIGXFSZ; nsjail)`);
    } else {
      prlimit.push(`--fsize=${l.fileSizeBytes}`);
      summary.push(`file size: ${formatBytes(l.fileSizeBytes)} per file (RLIMIT_FSIZE: SIGXFSZ; prlimit, as nsjail counts whole MiB)`);
    }
  } else {
    set('fsize', 'HARD');
    unset.push('file size');
  }
  if (l.openFiles !== undefined) {
    set('nofile', l.openFiles);
    summary.push(`open files: ${l.openFiles} per process (RLIMIT_NOFILE; nsjail)`);
  } else {
    // The caller's hard limit, which a command under bwrap could raise its soft limit to.
    set('nofile', 'HARD');
    unset.push('open files');
  }
  if (l.processes !== undefined) {
    set('nproc', l.processes);
    summary.push(`processes: ${l.processes} in the sandbox (RLIMIT_NPROC in its user namespace; nsjail)`);
  } else {
    set('nproc', 'HARD');
    unset.push('processes');
  }
  // The caller's soft limit: an unlimited stack would switch the memory layout.
  set('stack', 'SOFT');
  if (l.memoryBytes !== undefined) {
    prlimit.push(`--data=${l.memoryBytes}`);
    summary.push(`memory: ${formatBytes(l.memoryBytes)} of data per process (RLIMIT_DATA; prlimit, as nsjail has no RLIMIT_DATA)`);
  } else {
    unset.push('memory');
  }
  if (unset.length > 0) {
    summary.push(`not limited by the profile: ${unset.join(', ')} (each at this process's hard limit, the stack at its soft limit; never nsjail's defaults)`);
  }
  if (l.timeoutMs !== undefined) {
    summary.push(
      `timeout: ${l.timeoutMs / 1000}s wall clock, by isolate (exit 124; nsjail ends the sandbox with SIGKILL when isolate signals it); nsjail's time_limit ${timeLimitSeconds(l)}s as a backstop`,
    );
  }
  return { fields, prlimit, summary };
}

// ---- protobuf text format ---------------------------------------------------------

/** `{ text }`: a long string written as one literal per line (adjacent literals concatenate). */
type Scalar = string | number | boolean | { enum: string } | { text: string };
type Field = [name: string, value: Scalar | Field[]];

/** A protobuf text-format string literal: printable ASCII as is, every other byte as an octal escape. */
export function protoString(s: string): string {
  let out = '"';
  for (const b of Buffer.from(s, 'utf8')) {
    if (b === 0x22) out += '\\"';
    else if (b === 0x5c) out += '\\\\';
    else if (b === 0x0a) out += '\\n';
    else if (b >= 0x20 && b < 0x7f) out += String.fromCharCode(b);
    else out += `\\${b.toString(8).padStart(3, '0')}`;
  }
  return `${out}"`;
}

/** Undo protoString (for the literals this module writes). */
export function parseProtoString(literal: string): string {
  if (!literal.startsWith('"') || !literal.endsWith('"') || literal.length < 2) throw new Error(`not a string literal: ${literal}`);
  const bytes: number[] = [];
  const body = literal.slice(1, -1);
  for (let i = 0; i < body.length; i++) {
    const c = body[i] as string;
    if (c !== '\\') {
      bytes.push(c.charCodeAt(0));
      continue;
    }
    const n = body[i + 1] ?? '';
    if (n === 'n') bytes.push(0x0a);
    else if (n === '"' || n === '\\') bytes.push(n.charCodeAt(0));
    else if (/^[0-7]{3}$/.test(body.slice(i + 1, i + 4))) {
      bytes.push(Number.parseInt(body.slice(i + 1, i + 4), 8));
      i += 2;
    } else throw new Error(`unknown escape \\${n}`);
    i++;
  }
  return Buffer.from(bytes).toString('utf8');
}

function scalar(v: Exclude<Scalar, { text: string }>): string {
  if (typeof v === 'string') return protoString(v);
  if (typeof v === 'number') return String(v);
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  return v.enum;
}

const isScalar = (v: Scalar | Field[]): v is Exclude<Scalar, { text: string }> => !Array.isArray(v) && !(typeof v === 'object' && 'text' in v);

function renderFields(fields: readonly Field[], indent: string): string[] {
  const out: string[] = [];
  for (const [name, value] of fields) {
    if (isScalar(value)) {
      // Every string on one line (newlines escaped): one envar per line, whatever its value.
      out.push(`${indent}${name}: ${scalar(value)}`);
    } else if (!Array.isArray(value)) {
      const parts = value.text.split(/(?<=\n)/);
      out.push(`${indent}${name}:`, ...parts.map((p) => `${indent}  ${protoString(p)}`));
    } else if (value.every(([, v]) => isScalar(v))) {
      // A message of scalars on one line (mount { src: ... dst: ... }), anything else indented.
      out.push(`${indent}${name} { ${value.map(([n, v]) => `${n}: ${scalar(v as Exclude<Scalar, { text: string }>)}`).join(' ')} }`);
    } else {
      out.push(`${indent}${name} {`, ...renderFields(value, `${indent}  `), `${indent}}`);
    }
  }
  return out;
}

/**
 * Mount flags as bwrap sets them: nosuid everywhere; nodev on everything
 * but the device nodes of /dev (so a /dev/null placeholder or a hidden file
 * cannot even be opened, as with bwrap's --ro-bind); /proc also noexec.
 */
function mountField(op: MountOp): Field {
  switch (op.op) {
    case 'tmpfs':
      return [
        'mount',
        [['dst', op.path], ['fstype', 'tmpfs'], ['rw', !op.readOnly], ['is_dir', true], ...tmpfsOptions(op), ['nosuid', true], ['nodev', true]],
      ];
    case 'devpts':
      // A private instance, as bwrap's --dev mounts one: no access to the host's terminals.
      return ['mount', [['dst', op.path], ['fstype', 'devpts'], ['rw', true], ['is_dir', true], ['options', 'newinstance,ptmxmode=0666,mode=620'], ['nosuid', true], ['noexec', true]]];
    case 'bind': {
      const device = op.device === true;
      // is_dir only says how nsjail creates a missing target (mkdir, or an
      // empty file). For a target that is already there it must be true:
      // for a "file" nsjail first opens the target for reading, which fails
      // on a file the sandbox may not read (/etc/shadow as an ordinary user),
      // while mkdir of an existing path fails with EEXIST, which nsjail accepts.
      return [
        'mount',
        [['src', op.src], ['dst', op.dst], ['is_bind', true], ['rw', !op.readOnly], ['is_dir', op.dir || op.exists], ['nosuid', true], ['nodev', !device], ...(op.optional ? [['mandatory', false] as Field] : [])],
      ];
    }
    case 'symlink':
      return ['mount', [['src', op.target], ['dst', op.link], ['is_symlink', true]]];
  }
}

function tmpfsOptions(op: Extract<MountOp, { op: 'tmpfs' }>): Field[] {
  const options = [...(op.mode === undefined ? [] : [`mode=${op.mode}`]), ...(op.size === undefined ? [] : [`size=${op.size}`])];
  return options.length === 0 ? [] : [['options', options.join(',')]];
}

/** Rewrite the values of `envar` lines (e.g. for explain, or golden files). */
export function mapConfigEnv(config: string, map: (name: string, value: string) => string): string {
  return config
    .split('\n')
    .map((line) => {
      const m = /^(\s*envar: )(".*")$/.exec(line);
      if (m?.[1] === undefined || m[2] === undefined) return line;
      const text = parseProtoString(m[2]);
      const eq = text.indexOf('=');
      const name = text.slice(0, eq);
      return `${m[1]}${protoString(`${name}=${map(name, text.slice(eq + 1))}`)}`;
    })
    .join('\n');
}

// ---- network ----------------------------------------------------------------------


// ---- the backend ------------------------------------------------------------------

export const nsjailBackend: Backend = {
  name: 'nsjail',
  plan(policy, command, host): Plan {
    const nsjail = checkNsjailHost(host) as NsjailFacts;
    const base = linuxPlanBase(policy, command, host);
    const { env, resolved, net, namespaces } = base;
    const rules = policy.filesystem.mounts;
    const mounts = planMounts(policy, host, nsjail.mountPoints);
    const ownNetwork = policy.network.mode !== 'host';
    const init = reachable(rules, INIT_SHELL);
    if (!init && mounts.pathFds.length > 0) {
      // Without the init nothing reports the end of nsjail's setup, so nothing can check its mounts (by path) before the command starts.
      throw new IsolateError('E_SANDBOX_SETUP', `${INIT_SHELL} is not visible inside the sandbox, so isolate cannot check that nsjail mounted the protected paths before the command starts`, {
        detail: `protected or pinned: ${mounts.pathFds.map((e) => e.path).join(', ')}`,
        fix: `make ${INIT_SHELL} visible inside the sandbox (e.g. --allow-read /bin), or use --backend bwrap`,
      });
    }
    // nsjail's own process and its init (PID 1 in the sandbox) live in isolate's cgroup beside the command (and the forwarder, for filtered network).
    const launcher = ['nsjail', ...(init ? ['its init'] : []), ...(net === undefined ? [] : ['the network forwarder'])];
    const views = limitViews(policy.limits, host);
    const cg = cgroupLimits(views.cgroup, host, { processes: launcher.length, name: launcher.length === 1 ? 'nsjail' : `${launcher.slice(0, -1).join(', ')} and ${launcher.at(-1) ?? ''}` });
    const rl = rlimits(views.rlimit, host, cg.plan?.events.pids !== undefined);
    if (rl.prlimit.length > 0 && (host.prlimit === undefined || !reachable(rules, host.prlimit))) {
      const prlimit = host.prlimit;
      throw new IsolateError(
        'E_PRLIMIT_MISSING',
        prlimit === undefined
          ? 'prlimit (util-linux) is not installed; isolate needs it for the limits nsjail cannot set (memory, the CPU soft limit)'
          : `${prlimit} is not visible inside the sandbox`,
        { fix: prlimit === undefined ? 'sudo apt-get install -y util-linux' : `add --allow-read ${prlimit}` },
      );
    }
    const sc = seccomp(policy, host);
    const notes: string[] = [];
    if (!init) {
      notes.push(
        `${INIT_SHELL} is not visible inside the sandbox, so the command runs as PID 1 of its namespace: signals it has no handler for (including SIGXCPU and SIGXFSZ from the limits) do not end it`,
        `without the init, exit status 255 may be nsjail's own setup failure as well as the command's`,
      );
    }
    notes.push(
      '/proc is mounted read-only',
      'signals: SIGINT, SIGTERM and SIGHUP sent to isolate end the sandbox at once (nsjail kills it; the command cannot handle them); SIGQUIT is not passed on',
    );

    const prefix = [
      ...(init ? [INIT_SHELL, '-c', INIT_SCRIPT, INIT_NAME] : []),
      ...(rl.prlimit.length > 0 && host.prlimit !== undefined ? [host.prlimit, ...rl.prlimit, '--'] : []),
      ...(net === undefined ? [] : net.wrapper),
    ];
    const commandArgv = [...prefix, resolved, ...command.slice(1)];

    const allMounts: MountOp[] = [
      ...systemMounts(policy),
      ...mounts.ops,
      ...(net === undefined ? [] : [{ op: 'bind', src: net.socketDir, dst: SANDBOX_NET_DIR, readOnly: true, dir: true, exists: false } satisfies MountOp]),
    ];
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
      ...Object.entries({ ...env, PWD: policy.process.cwd }).map(([name, value]): Field => ['envar', `${name}=${value}`]),
      ['keep_caps', false],
      ['skip_setsid', false],
      ['disable_no_new_privs', false],
      // The init's line to run/; every other descriptor nsjail has (the config, Plan.pathFds) is closed in the sandbox.
      ...(init ? [['pass_fd', NSJAIL_STARTED_FD] as Field] : []),
      ...rl.fields,
      ['clone_newnet', ownNetwork],
      ['clone_newuser', true],
      ['clone_newns', true],
      ['clone_newpid', true],
      ['clone_newipc', true],
      ['clone_newuts', true],
      ['clone_newcgroup', true],
      ['uidmap', [['inside_id', String(host.uid)], ['outside_id', String(host.uid)], ['count', 1]]],
      ['gidmap', [['inside_id', String(host.gid)], ['outside_id', String(host.gid)], ['count', 1]]],
      ['mount_proc', false],
      ['mount', [['dst', '/proc'], ['fstype', 'proc'], ['rw', false], ['is_dir', true], ['nosuid', true], ['nodev', true], ['noexec', true]]],
      ...allMounts.map(mountField),
      ['seccomp_string', { text: sc.policy }],
    ];
    // Every value is an escaped literal: nothing from the profile or the environment can add a line.
    const configText = `# generated by isolate\n${renderFields(config, '').join('\n')}\n`;

    const argv = [LAUNCH_SHELL, '-c', LAUNCH_SCRIPT, LAUNCH_NAME, nsjail.path, '--', ...commandArgv];
    return {
      backend: 'nsjail',
      backendVersion: nsjail.version,
      argv,
      pipedArgs: [],
      fds: init ? { started: NSJAIL_STARTED_FD } : {},
      inputs: [{ fd: NSJAIL_CONFIG_FD, data: configText }],
      ...(mounts.pathFds.length === 0 ? {} : { pathFds: mounts.pathFds, ...(init ? { checkPathFds: true } : {}) }),
      ...(cg.plan === undefined ? {} : { cgroup: cg.plan }),
      ...linuxPlanCommon(policy, command, base, mounts, {
        limits: [...rl.summary, ...cg.summary, ...tmpfsSummary(policy.limits), ...views.notes, 'nsjail\'s own cgroup options: not used (isolate makes the cgroup)'],
        seccomp: sc.summary,
        notes: [...sc.notes, ...notes],
      }),
    };
  },
};
