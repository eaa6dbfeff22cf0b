/**
 * One profile, one meaning: for each policy feature, how each backend
 * enforces it. `native`: the backend enforces it itself; `isolate`: isolate
 * enforces it around the backend (before the command starts, or from
 * outside); `none`: not enforced, so a profile that asks for it is refused on
 * that backend at plan time. `explain --backend X` prints this table.
 */
import { IsolateError } from '../errors.js';
import type { Policy } from '../profile/types.js';
import type { BackendName } from './types.js';

export type How = 'native' | 'isolate' | 'none';

export interface Enforcement {
  how: How;
  note: string;
}

export interface Feature {
  id: string;
  title: string;
  /** Whether the policy asks for the feature (always-on guarantees return true). */
  requested(policy: Policy): boolean;
  by: Record<BackendName, Enforcement>;
}

const always = (): boolean => true;
const n = (note: string): Enforcement => ({ how: 'native', note });
const i = (note: string): Enforcement => ({ how: 'isolate', note });
const none = (note: string): Enforcement => ({ how: 'none', note });

export const FEATURES: readonly Feature[] = [
  {
    id: 'filesystem.read',
    title: 'read-only paths',
    requested: (p) => p.filesystem.mounts.some((m) => m.kind === 'read'),
    by: { bwrap: n('--ro-bind'), nsjail: n('read-only bind mounts (rw: false), remounted read-only after the tree is built; a mount nested under a read-only path keeps its own flags (nsjail remounts only the top mount; bwrap makes nested mounts read-only too)'), 'sandbox-exec': n('file-read* and process-exec allowed for the paths (subpath), file-write* denied; the paths reach SBPL only as -D parameters'), oci: n('read-only bind mounts in config.json (rbind, nosuid, nodev, ro) in the same order as bwrap\'s; the runtime makes mounts beneath them read-only too (isolate lists them), and the root (an empty directory of the bundle) read-only') },
  },
  {
    id: 'filesystem.write',
    title: 'writable paths',
    requested: (p) => p.filesystem.mounts.some((m) => m.kind === 'write'),
    by: { bwrap: n('--bind'), nsjail: n('read-write bind mounts (rw: true)'), 'sandbox-exec': n('file-read*, file-write* and process-exec allowed for the paths (subpath)'), oci: n('read-write bind mounts in config.json (rbind, nosuid, nodev)') },
  },
  {
    id: 'filesystem.deny',
    title: 'hidden paths',
    requested: (p) => p.filesystem.mounts.some((m) => m.kind === 'deny'),
    by: {
      bwrap: n('an empty read-only tmpfs or /dev/null mounted over them'),
      nsjail: n('an empty read-only tmpfs (mode 0555) or /dev/null mounted over them'),
      'sandbox-exec': n('file-read*, file-write* and process-exec denied, emitted after the allows of every path that contains them (a deeper allow still wins, as on bwrap); hidden paths are refused (EPERM), not shown empty'),
      oci: n('an empty read-only tmpfs (mode 0555) or /dev/null mounted over them'),
    },
  },
  {
    id: 'filesystem.tmpfs',
    title: 'private empty directories (/tmp, the home directory)',
    requested: (p) => p.filesystem.mounts.some((m) => m.kind === 'tmpfs'),
    by: {
      bwrap: n('--tmpfs'),
      nsjail: n('tmpfs mounts'),
      'sandbox-exec': i('macOS has no per-process mounts: the path is hidden and a private empty directory, created by isolate for the run and removed after it, stands in for it; HOME, TMPDIR and the working directory point there when they named the path'),
      oci: n('tmpfs mounts in config.json'),
    },
  },
  {
    id: 'filesystem.protect',
    title: 'protected names stay read-only inside writable paths',
    requested: (p) => p.filesystem.protect.length > 0,
    by: {
      bwrap: n('read-only binds over each (placeholders for missing ones), parent directories pinned'),
      nsjail: n('read-only binds over each (placeholders for missing ones), parent directories pinned; bound by path (nsjail cannot bind a descriptor), then checked by isolate, before the command starts, against the descriptors it opened just before the start (same file, no symlink on the way, and nsjail\'s read-only or read-write bind on top at exactly that path in the sandbox\'s mount table): a swap for a symlink refuses the run; without /bin/sh in the sandbox (no init to wait for the check) the plan is refused'),
      'sandbox-exec': n('file-write* denied for the names (literal and subpath), existing or not, and for every writable directory above them (no unlink, rename or rmdir of the directory itself); emitted last'),
      oci: n('read-only binds over each (placeholders for missing ones, made and removed by isolate), parent directories pinned; bound by path by the runtime, then checked by isolate before the command starts, as for nsjail: a swap for a symlink refuses the run; without /bin/sh and setpriv in the sandbox the plan is refused'),
    },
  },
  {
    id: 'filesystem.git-credentials',
    title: 'credentials in git\'s configuration (a token in an extraHeader or a URL) not readable',
    requested: always,
    by: {
      bwrap: i('each git configuration file the sandbox sees that holds a credential is copied by isolate without it and bound read-only over the file (--ro-bind-data from a pipe); the file on the host is unchanged; one with other names (hard links) refused on every backend; a file a store credential helper keeps tokens in hidden'),
      nsjail: i('refused: nsjail cannot show such a file without its credential (exit 125, naming the file); a store credential helper\'s file hidden'),
      'sandbox-exec': i('refused: Seatbelt cannot show such a file without its credential, nor hide a store credential helper\'s file the profile shows (exit 125, naming the file)'),
      oci: i('as bwrap: the copy is written to the run\'s private bundle directory and bound read-only over the file by config.json; an exported bundle carries it as git-configs/N, named relative to the bundle'),
    },
  },
  {
    id: 'kernel.guard',
    title: 'host kernel settings read-only, host-wide kernel files hidden',
    requested: always,
    by: {
      bwrap: n('the host-wide parts of the sandbox\'s /proc (sys, sysrq-trigger, irq, bus, fs) bound read-only over themselves, kernel memory, keys and timers covered; as root, every other kernel file at the top of /proc bound read-only too (root owns them, and a mode set in one /proc holds in all), or hidden where only root may read it, and with the host\'s network the whole /proc read-only (its /proc/net is the host\'s); bwrap alone leaves /proc/sys writable when isolate runs as root; a readable /sys stays read-only with its firmware hidden'),
      nsjail: n('/proc mounted read-only as a whole, with the same read-only binds and covers as bwrap'),
      'sandbox-exec': n('macOS has no /proc; sysctl-write is never allowed (deny default), and only a listed set of sysctl names may be read'),
      oci: n('the same read-only binds and covers as bwrap, as the runtime\'s readonlyPaths and maskedPaths'),
    },
  },
  {
    id: 'network.none',
    title: 'no network',
    requested: (p) => p.network.mode === 'none',
    by: { bwrap: n('an empty network namespace'), nsjail: n('an empty network namespace (clone_newnet) with loopback up'), 'sandbox-exec': n('network* denied, loopback included; unix sockets only when named, or in the private directories'), oci: n('an empty network namespace (the runtime brings loopback up)') },
  },
  {
    id: 'network.filtered',
    title: 'only allowed domains, through isolate\'s proxy',
    requested: (p) => p.network.mode === 'filtered',
    by: {
      bwrap: i('empty network namespace; the proxy socket mounted in and exposed on loopback by socat'),
      nsjail: i('empty network namespace; the proxy socket mounted in and exposed on loopback by socat'),
      'sandbox-exec': i('network* denied but TCP to isolate\'s proxy on the host loopback, at a port chosen for each run, where the proxy listens (on 127.0.0.1 and [::1]; the run is refused if another program holds the port); no forwarder, no name resolution'),
      oci: i('empty network namespace; the proxy socket mounted in and exposed on loopback by socat'),
    },
  },
  {
    id: 'environment',
    title: 'environment allowlist; secrets withheld',
    requested: always,
    by: { bwrap: i('the launcher starts with an empty environment; the child\'s is piped to bwrap'), nsjail: i('nsjail starts with an empty environment; the child\'s variables are in the generated config, handed to nsjail on a pipe (never on its command line)'), 'sandbox-exec': i('the launcher is started with exactly the child\'s environment'), oci: i('the runtime starts with an empty environment; the child\'s variables are in config.json, in the run\'s private bundle directory (mode 0700, file 0600), removed after the run') },
  },
  {
    id: 'namespaces',
    title: 'own user, PID, IPC, UTS, cgroup and mount namespaces; nested user namespaces off',
    requested: always,
    by: {
      bwrap: n('--unshare-* and --disable-userns'),
      nsjail: n('clone flags (clone_new*); nsjail has no --disable-userns, so seccomp rules always refuse CLONE_NEWUSER in clone and unshare, and clone3 (ENOSYS), whatever the profile\'s syscall rules'),
      'sandbox-exec': none('macOS has no namespaces: processes, IPC and the host name are shared (signals and process-info are limited to the sandbox)'),
      oci: n('config.json namespaces (user, pid, ipc, uts, cgroup, mount, network); the seccomp rules refuse nested user namespaces'),
    },
  },
  {
    id: 'capabilities',
    title: 'no capabilities, no_new_privs, new session',
    requested: always,
    by: { bwrap: n('--cap-drop ALL, --new-session; bwrap sets no_new_privs'), nsjail: n('all capabilities dropped, the bounding set too (keep_caps off); no_new_privs (disable_no_new_privs off); setsid'), 'sandbox-exec': n('no capabilities on macOS; the sandbox is inherited and cannot be removed; the command is started in a new session (no controlling terminal, or a pseudo-terminal of the sandbox\'s own)'), oci: n('every capability set empty, noNewPrivileges; the sandbox\'s uid 0 is the caller (a rootless runtime maps no other id), with no capability') },
  },
  {
    id: 'descriptors',
    title: 'only stdin, stdout and stderr reach the command, whatever the caller left open',
    requested: always,
    by: {
      bwrap: i('bwrap passes on every descriptor it has: isolate hands it /dev/null in place of each it inherited, and bwrap closes them (--args N) before it starts anything'),
      nsjail: n('nsjail closes every descriptor but pass_fd (and isolate hands it /dev/null in place of each it inherited)'),
      'sandbox-exec': n('Node starts sandbox-exec with POSIX_SPAWN_CLOEXEC_DEFAULT on macOS: it gets only the descriptors isolate names'),
      oci: n('the runtime closes every descriptor but the init\'s line to isolate (--preserve-fds), which the init closes before the command starts; stdin, stdout and stderr are pipes of the runtime\'s own, which it copies to and from isolate\'s'),
    },
  },
  {
    id: 'syscalls',
    title: 'system call hardening (syscalls.preset: default)',
    requested: (p) => p.syscalls.preset === 'default',
    by: {
      bwrap: n('a seccomp BPF program built by isolate, passed with --seccomp'),
      nsjail: n('the same rules, generated as a kafel policy (system call numbers from isolate\'s tables, DEFAULT ALLOW, x32 numbers refused); always installed'),
      'sandbox-exec': n('macOS has no seccomp: Seatbelt rules covering the same ground, written last in the profile (other processes\' task ports, set-user-ID programs and bits, the privileged host port and host special ports, kernel extensions, privileged kernel operations, sysctl writes, IOKit drivers); explain lists them'),
      oci: n('the same rules as linux.seccomp in config.json (seccomp/oci.ts), installed by the runtime'),
    },
  },
  {
    id: 'syscalls.list',
    title: 'system calls the profile names (syscalls.deny, syscalls.allow)',
    requested: (p) => p.syscalls.deny.length > 0 || (p.syscalls.preset === 'default' && p.syscalls.allow.length > 0),
    by: {
      bwrap: n('rules in the same BPF program'),
      nsjail: n('rules in the same kafel policy'),
      'sandbox-exec': none('the names are Linux system calls, and macOS has no seccomp; remove syscalls.deny and syscalls.allow to use this backend'),
      oci: n('rules in the same linux.seccomp'),
    },
  },
  {
    id: 'limits.timeout',
    title: 'wall-clock timeout',
    requested: (p) => p.limits.timeoutMs !== undefined,
    by: { bwrap: i('isolate signals the sandbox'), nsjail: i('isolate signals nsjail, which kills the sandbox at once (no SIGTERM grace period); nsjail\'s time_limit as a backstop a little later'), 'sandbox-exec': i('isolate signals the command\'s process group (it runs in a new session), and kills what is left of the group when the command exits; with no PID namespace, a process that leaves the group is not reached'), oci: i('isolate signals the sandbox\'s processes, then kills the runtime (its init dies with it)') },
  },
  {
    id: 'limits.rlimits',
    title: 'CPU, memory, open files, file size limits',
    requested: (p) => [p.limits.cpuSeconds, p.limits.memoryBytes, p.limits.openFiles, p.limits.fileSizeBytes].some((v) => v !== undefined),
    by: { bwrap: i('prlimit inside the sandbox; memory also as a total for the sandbox through the run\'s cgroup where the host has one'), nsjail: n('nsjail sets every rlimit (open files, file size in whole MiB, the CPU hard limit, core 0; the rest at this process\'s own limits); prlimit inside adds what nsjail cannot express: RLIMIT_DATA for memory, the CPU soft limit, a file size that is not whole MiB'), 'sandbox-exec': i('ulimit in /bin/sh inside the sandbox, just before the command (CPU, open files, file size); a memory limit is refused: macOS enforces neither RLIMIT_DATA nor RLIMIT_AS'), oci: i('prlimit inside the sandbox, as for bwrap (config.json sets RLIMIT_CORE 0 only: a runtime applies its rlimits to its own init first, which a small RLIMIT_DATA kills); memory also as a total through isolate\'s cgroup where the host has one') },
  },
  {
    id: 'limits.processes',
    title: 'process limit',
    requested: (p) => p.limits.processes !== undefined,
    by: { bwrap: i('RLIMIT_NPROC in the sandbox\'s user namespace (not as root), and pids.max of the run\'s cgroup where the host has one (root included)'), nsjail: n('RLIMIT_NPROC set by nsjail, counted in the sandbox\'s user namespace (not as root), and pids.max of isolate\'s cgroup where the host has one (root included)'), 'sandbox-exec': i('ulimit -u: RLIMIT_NPROC, which on macOS counts all of the user\'s processes (refused as root)'), oci: i('RLIMIT_NPROC by prlimit inside the sandbox, counted in its user namespace (not as root), and pids.max of isolate\'s cgroup where the host has one (root included), set before the command starts to the runtime\'s own threads then plus the limit') },
  },
  {
    id: 'limits.tmpfs',
    title: 'the size of each tmpfs',
    requested: (p) => p.limits.tmpfsBytes !== undefined,
    by: {
      bwrap: n('--size on each --tmpfs, /dev/shm included (/dev itself is read-only, and so is the root, bwrap\'s own tmpfs without a size, once everything is mounted in it: --remount-ro / last)'),
      nsjail: n('size= on each tmpfs mount, /dev/shm included (/dev itself is read-only, and so is the root, nsjail\'s own 16 MiB tmpfs)'),
      'sandbox-exec': none('macOS has no per-process mounts: the private directories standing in for tmpfs paths are on disk'),
      oci: n('size= on each tmpfs mount, /dev/shm included (/dev read-only, the root read-only)'),
    },
  },
  {
    id: 'limits.ceilings',
    title: 'ceilings against runaway use (tmpfs size, processes, memory of the whole sandbox), where the host can',
    requested: (p) => p.limits.ceilings !== undefined,
    by: {
      bwrap: i('tmpfs: --size; processes: pids.max where a cgroup is usable, else RLIMIT_NPROC unless isolate runs as root; memory: memory.max where a cgroup is usable; what the host cannot apply is listed under limits'),
      nsjail: i('as for bwrap (size= on tmpfs mounts)'),
      'sandbox-exec': i('not applied (no per-process mounts, no cgroups, and RLIMIT_NPROC counts all of your processes); said under limits'),
      oci: i('as for bwrap (size= on tmpfs mounts)'),
    },
  },
  {
    id: 'limits.cgroup',
    title: 'memory and process limits for the whole sandbox through a cgroup',
    requested: (p) => p.limits.enforce === 'cgroup',
    by: {
      bwrap: i('a cgroup isolate creates (v2 delegated or as root; v1 as root) with memory.max / pids.max, joined by bwrap before it starts anything; used whenever the host allows it, required with limits.enforce: cgroup'),
      nsjail: i('the same cgroup as for bwrap, joined by nsjail before it starts anything (nsjail\'s own cgroup options are not used)'),
      'sandbox-exec': none('macOS has no cgroups'),
      oci: i('the cgroup isolate creates, joined by the runtime before it starts anything; the runtime makes the container\'s cgroup inside it (config.json has no linux.resources)'),
    },
  },
  {
    id: 'commands',
    title: 'command policy',
    requested: (p) => p.commands.allow.length > 0 || p.commands.deny.length > 0,
    by: { bwrap: i('checked before the sandbox starts'), nsjail: i('checked before the sandbox starts'), 'sandbox-exec': i('checked before the sandbox starts'), oci: i('checked before the sandbox starts') },
  },
  {
    id: 'audit',
    title: 'audit log',
    requested: (p) => p.audit.enabled,
    by: { bwrap: i('written by isolate'), nsjail: i('written by isolate'), 'sandbox-exec': i('written by isolate'), oci: i('written by isolate') },
  },
];

/** Refuse, at plan time, a policy that asks for something the backend cannot enforce. */
export function assertEnforceable(policy: Policy, backend: BackendName): void {
  const missing = FEATURES.filter((f) => f.by[backend].how === 'none' && f.id !== 'namespaces' && f.requested(policy));
  const first = missing[0];
  if (first !== undefined) {
    throw new IsolateError(
      'E_BACKEND_UNSUPPORTED',
      `the ${backend} backend cannot enforce ${first.title} (${first.id}), which the profile asks for`,
      {
        detail: missing.map((f) => `${f.id}: ${f.by[backend].note}`).join('\n'),
        fix: `use a backend that enforces it (isolate explain --backend <name> shows how each one does), or remove it from the profile`,
      },
    );
  }
}

export function conformanceRows(policy: Policy, backend: BackendName): { id: string; title: string; requested: boolean; how: How; note: string }[] {
  return FEATURES.map((f) => ({ id: f.id, title: f.title, requested: f.requested(policy), how: f.by[backend].how, note: f.by[backend].note }));
}
