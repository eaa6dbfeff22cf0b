/**
 * The seccomp rule sets isolate ships, and how a profile's `preset`, `deny`
 * and `allow` combine into the rules the filter enforces.
 *
 * Each rule names a system call, the errno returned when it is refused, an
 * optional condition on one argument, and a one-line reason (shown by
 * `isolate explain`). Argument conditions only ever look at the
 * low 32 bits of the argument: every argument tested here is an `int` or
 * `unsigned int` in the kernel, which ignores the upper half of the register,
 * so a comparison on all 64 bits could be dodged by setting high bits
 * (CVE-2019-10063).
 *
 * Names that do not exist on an architecture (iopl, ioperm and uselib on
 * aarch64, or a user's `deny: [open]`) are skipped when the filter for that
 * architecture is built: there is nothing to refuse.
 */
import { IsolateError } from '../errors.js';
import { isKnownSyscall, knownSyscalls } from './syscalls.js';

export type SeccompErrno = 'EPERM' | 'ENOSYS';

/** errno values; the same on x86_64 and aarch64 (asm-generic/errno-base.h, errno.h). */
export const ERRNO_VALUES: Readonly<Record<SeccompErrno, number>> = Object.freeze({ EPERM: 1, ENOSYS: 38 });

/**
 * When an argument rule refuses the call, looking at the low 32 bits of
 * argument `arg` (0-based):
 * - `equals-any`: the value is one of `values`;
 * - `mask-any`: the value has any bit of `mask` set;
 * - `not-in`: the value is none of `values` (an allowlist).
 */
export type ArgCondition =
  | { readonly kind: 'equals-any'; readonly arg: number; readonly values: readonly number[] }
  | { readonly kind: 'mask-any'; readonly arg: number; readonly mask: number }
  | { readonly kind: 'not-in'; readonly arg: number; readonly values: readonly number[] };

export interface SeccompRule {
  readonly syscall: string;
  readonly errno: SeccompErrno;
  /** Absent: the call is always refused. */
  readonly when?: ArgCondition;
  readonly reason: string;
  /** Where the rule came from: the preset, or the profile's `deny`. */
  readonly source: 'preset' | 'deny';
}

export type SeccompPresetName = 'default' | 'none';
export const SECCOMP_PRESETS: readonly SeccompPresetName[] = ['default', 'none'];

/** ioctl requests (asm-generic/ioctls.h; the same on x86_64 and aarch64). */
export const TIOCSTI = 0x5412;
export const TIOCLINUX = 0x541c;

/** Address families whose sockets the network namespace does not confine (linux/socket.h). */
export const AF_BLUETOOTH = 31;
export const AF_VSOCK = 40;

/** The set-user-ID and set-group-ID mode bits (S_ISUID | S_ISGID). */
export const SETID_MODE_BITS = 0o6000;

/** Namespace flags of clone(2) (linux/sched.h). */
export const CLONE_NAMESPACE_FLAGS: Readonly<Record<string, number>> = Object.freeze({
  CLONE_NEWNS: 0x00020000,
  CLONE_NEWCGROUP: 0x02000000,
  CLONE_NEWUTS: 0x04000000,
  CLONE_NEWIPC: 0x08000000,
  CLONE_NEWUSER: 0x10000000,
  CLONE_NEWPID: 0x20000000,
  CLONE_NEWNET: 0x40000000,
});
export const CLONE_NAMESPACE_MASK: number = Object.values(CLONE_NAMESPACE_FLAGS).reduce((a, b) => (a | b) >>> 0, 0);

/**
 * personality(2) values a program may set: PER_LINUX, PER_LINUX32, UNAME26,
 * UNAME26|PER_LINUX32, and 0xffffffff, which only queries. Everything else
 * (ADDR_NO_RANDOMIZE, READ_IMPLIES_EXEC, ...) weakens the process's own
 * hardening.
 */
export const PERSONALITY_ALLOWED: readonly number[] = Object.freeze([0x0, 0x8, 0x20000, 0x20008, 0xffffffff]);

type PresetEntry = Omit<SeccompRule, 'source'>;

const eperm = (syscall: string, reason: string): PresetEntry => ({ syscall, errno: 'EPERM', reason });
const enosys = (syscall: string, reason: string): PresetEntry => ({ syscall, errno: 'ENOSYS', reason });

const SETID_REASON = 'sets the set-user-ID or set-group-ID bit: a program left in a writable path would run with your privileges (or root\'s) when someone on the host starts it';

/**
 * No set-user-ID or set-group-ID file can be made (as systemd's
 * RestrictSUIDSGID): the sandbox's mounts are nosuid, the host's are not.
 * The mode argument of each call that sets a mode; open and openat pass it
 * only with O_CREAT, and libc passes 0 otherwise.
 */
const SETID_RULES: readonly PresetEntry[] = (
  [
    ['chmod', 1],
    ['fchmod', 1],
    ['fchmodat', 2],
    ['open', 2],
    ['openat', 3],
    ['creat', 1],
    ['mkdir', 1],
    ['mkdirat', 2],
    ['mknod', 1],
    ['mknodat', 2],
  ] as const
).map(([syscall, arg]) => ({ syscall, errno: 'EPERM' as const, when: { kind: 'mask-any' as const, arg, mask: SETID_MODE_BITS }, reason: SETID_REASON }));

/** The default preset, in filter order. */
export const DEFAULT_PRESET: readonly PresetEntry[] = Object.freeze([
  // Other processes' memory.
  eperm('ptrace', 'inspects and controls other processes; the classic sandbox escape route'),
  eperm('process_vm_readv', "reads another process's memory directly"),
  eperm('process_vm_writev', "writes another process's memory directly"),
  eperm('kcmp', "compares other processes' kernel resources; an information leak"),
  eperm('pidfd_getfd', "steals a file descriptor from another process"),
  eperm('process_madvise', "gives memory advice for another process's address space"),
  // Mounts and namespaces: the sandbox's view of the filesystem must not change.
  eperm('mount', 'mounting could reveal or replace the files the profile hides'),
  eperm('umount2', 'unmounting could uncover the files the profile hides'),
  eperm('pivot_root', 'changes the root filesystem'),
  eperm('move_mount', 'new mount API: moves mounts'),
  eperm('fsopen', 'new mount API: creates a filesystem context'),
  eperm('fsconfig', 'new mount API: configures a filesystem context'),
  eperm('fsmount', 'new mount API: creates a mount from a filesystem context'),
  eperm('fspick', 'new mount API: reconfigures an existing mount'),
  eperm('open_tree', 'new mount API: clones mount trees'),
  eperm('mount_setattr', 'changes mount attributes such as read-only'),
  eperm('unshare', 'new namespaces are kernel attack surface and could undo the sandbox view'),
  eperm('setns', 'enters other namespaces'),
  // Kernel attack surface and privileged interfaces.
  eperm('bpf', 'eBPF programs: large kernel attack surface'),
  eperm('perf_event_open', 'performance counters: kernel attack surface and side channels'),
  eperm('userfaultfd', 'stalls kernel page faults; a common exploit primitive'),
  eperm('keyctl', 'the kernel keyring is not namespaced: keys outside the sandbox'),
  eperm('add_key', 'the kernel keyring is not namespaced: keys outside the sandbox'),
  eperm('request_key', 'the kernel keyring is not namespaced: keys outside the sandbox'),
  eperm('name_to_handle_at', 'file handles can reach files outside the visible tree'),
  eperm('open_by_handle_at', 'opens files by handle, bypassing the visible tree (the "shocker" escape)'),
  eperm('fanotify_init', 'filesystem-wide monitoring of other processes\' file access'),
  eperm('lookup_dcookie', 'kernel profiling interface'),
  eperm('uselib', 'obsolete a.out library loader (x86_64 only)'),
  eperm('iopl', 'raw I/O port access (x86_64 only)'),
  eperm('ioperm', 'raw I/O port access (x86_64 only)'),
  // Whole-system operations.
  eperm('kexec_load', 'loads a new kernel'),
  eperm('kexec_file_load', 'loads a new kernel'),
  eperm('init_module', 'loads a kernel module'),
  eperm('finit_module', 'loads a kernel module'),
  eperm('delete_module', 'unloads a kernel module'),
  eperm('acct', 'switches process accounting'),
  eperm('swapon', 'changes swap devices'),
  eperm('swapoff', 'changes swap devices'),
  eperm('reboot', 'reboots the machine or loads a kernel'),
  eperm('syslog', 'reads the kernel log, which leaks kernel addresses'),
  eperm('quotactl', 'manages disk quotas'),
  eperm('vhangup', 'hangs up the terminal'),
  eperm('settimeofday', 'sets the system clock'),
  eperm('clock_settime', 'sets the system clock'),
  eperm('adjtimex', 'adjusts the system clock'),
  eperm('clock_adjtime', 'adjusts the system clock'),
  // Refused as "not implemented" so that programs fall back.
  enosys('clone3', 'its flags live in memory the filter cannot read; ENOSYS makes glibc fall back to clone, whose flags are checked'),
  enosys('io_uring_setup', 'io_uring bypasses per-syscall filtering; programs fall back to ordinary I/O on ENOSYS'),
  enosys('io_uring_enter', 'io_uring bypasses per-syscall filtering; programs fall back to ordinary I/O on ENOSYS'),
  enosys('io_uring_register', 'io_uring bypasses per-syscall filtering; programs fall back to ordinary I/O on ENOSYS'),
  // Argument rules.
  {
    syscall: 'ioctl',
    errno: 'EPERM',
    when: { kind: 'equals-any', arg: 1, values: [TIOCSTI, TIOCLINUX] },
    reason: 'TIOCSTI and TIOCLINUX push keystrokes into the terminal, which the shell outside runs after the sandbox exits',
  },
  {
    syscall: 'socket',
    errno: 'EPERM',
    when: { kind: 'equals-any', arg: 0, values: [AF_VSOCK, AF_BLUETOOTH] },
    reason: 'vsock and Bluetooth sockets are not confined by the network namespace: they reach the hypervisor\'s host and nearby devices whatever the network mode',
  },
  ...SETID_RULES,
  enosys('openat2', 'its mode lives in memory the filter cannot read, so a set-user-ID file could be created; ENOSYS makes programs fall back to openat'),
  {
    syscall: 'clone',
    errno: 'EPERM',
    when: { kind: 'mask-any', arg: 0, mask: CLONE_NAMESPACE_MASK },
    reason: 'creating namespaces, as unshare does; plain fork and threads are allowed',
  },
  {
    syscall: 'personality',
    errno: 'EPERM',
    when: { kind: 'not-in', arg: 0, values: PERSONALITY_ALLOWED },
    reason: 'flags such as ADDR_NO_RANDOMIZE turn off address-space randomisation; querying and the plain Linux personalities are allowed',
  },
] satisfies PresetEntry[]);

const PRESETS: Readonly<Record<SeccompPresetName, readonly PresetEntry[]>> = {
  default: DEFAULT_PRESET,
  none: [],
};

const hex = (n: number): string => `0x${n.toString(16)}`;

const IOCTL_NAMES: ReadonlyMap<number, string> = new Map([
  [TIOCSTI, 'TIOCSTI'],
  [TIOCLINUX, 'TIOCLINUX'],
]);

const FAMILY_NAMES: ReadonlyMap<number, string> = new Map([
  [AF_VSOCK, 'AF_VSOCK'],
  [AF_BLUETOOTH, 'AF_BLUETOOTH'],
]);

/** The condition under which a rule refuses its call, in words ("always" for plain rules). */
export function describeCondition(rule: Pick<SeccompRule, 'syscall' | 'when'>): string {
  const w = rule.when;
  if (w === undefined) return 'always';
  const named = (v: number): string => {
    const name = rule.syscall === 'ioctl' ? IOCTL_NAMES.get(v) : rule.syscall === 'socket' ? FAMILY_NAMES.get(v) : undefined;
    return name === undefined ? hex(v) : `${name} (${hex(v)})`;
  };
  const argName = `arg ${String(w.arg)}`;
  switch (w.kind) {
    case 'equals-any':
      return `when ${argName} (low 32 bits) is ${w.values.map(named).join(' or ')}`;
    case 'mask-any': {
      const flags =
        rule.syscall === 'clone' && w.mask === CLONE_NAMESPACE_MASK
          ? Object.keys(CLONE_NAMESPACE_FLAGS).join('|')
          : w.mask === SETID_MODE_BITS
            ? 'S_ISUID|S_ISGID'
            : hex(w.mask);
      return `when ${argName} (low 32 bits) has any of ${flags}`;
    }
    case 'not-in':
      return `unless ${argName} (low 32 bits) is ${w.values.map(named).join(', ')}`;
  }
}

/** The line for the refusal of system calls newer than isolate's tables. */
export const NEWER_SYSCALLS_LINE = 'system calls newer than isolate\'s tables: ENOSYS (the rules cannot name them; programs fall back as on an older kernel)';

/** One line per rule: `ptrace: EPERM always (reason)`; then the refusal of newer calls, when on. */
export function describeRules(rules: readonly SeccompRule[], refuseNewer = false): string[] {
  return [...rules.map((r) => `${r.syscall}: ${r.errno} ${describeCondition(r)} (${r.reason})`), ...(refuseNewer ? [NEWER_SYSCALLS_LINE] : [])];
}

/** Thrown for unknown syscall names or an unknown preset; an IsolateError, so the CLI exits 125. */
export class SeccompConfigError extends IsolateError {
  /** The names that are not system calls on any supported architecture. */
  readonly unknown: readonly string[];
  constructor(summary: string, unknown: readonly string[], fix: string) {
    super('E_PROFILE_INVALID', summary, { fix });
    this.name = 'SeccompConfigError';
    this.unknown = unknown;
  }
}

export interface SeccompConfig {
  readonly preset: SeccompPresetName;
  /** Extra system calls refused with EPERM, unconditionally. */
  readonly deny?: readonly string[] | undefined;
  /** System calls removed from the preset, argument rules included. */
  readonly allow?: readonly string[] | undefined;
}

export interface ResolvedSeccomp {
  readonly preset: SeccompPresetName;
  /** The rules in filter order (first match wins): the preset's, then `deny`'s. */
  readonly rules: readonly SeccompRule[];
  /** Preset system calls that `allow` removed. */
  readonly allowed: readonly string[];
  /** False only for preset `none` with nothing to deny: then no filter is installed at all. */
  readonly install: boolean;
  /** The default preset: system calls newer than isolate's tables are refused with ENOSYS (syscalls.ts highestKnownSyscall). */
  readonly refuseNewer: boolean;
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      cur.push(Math.min((prev[j] ?? 0) + 1, (cur[j - 1] ?? 0) + 1, (prev[j - 1] ?? 0) + cost));
    }
    prev = cur;
  }
  return prev[b.length] ?? 0;
}

/** The known name within two edits of `name`, if any. */
export function suggestion(name: string): string | undefined {
  let best: { name: string; d: number } | undefined;
  for (const known of knownSyscalls()) {
    // The distance is at least the difference in length: skip the quadratic comparison (a name can be a megabyte long).
    if (Math.abs(known.length - name.length) > 2) continue;
    const d = editDistance(name, known);
    if (d <= 2 && (best === undefined || d < best.d)) best = { name: known, d };
  }
  return best?.name;
}

/**
 * The rules for a configuration: the preset, minus `allow`, plus `deny` (so a
 * name in both is denied). A `deny` name the preset already handles replaces
 * the preset's rule with an unconditional EPERM. Throws SeccompConfigError
 * listing every unknown name.
 */
export function resolveSeccomp(config: SeccompConfig): ResolvedSeccomp {
  const preset = config.preset;
  if (!Object.hasOwn(PRESETS, preset)) {
    throw new SeccompConfigError(`unknown seccomp preset ${JSON.stringify(preset)}`, [], `use one of: ${SECCOMP_PRESETS.join(', ')}`);
  }
  const deny = [...new Set(config.deny ?? [])];
  const allow = [...new Set(config.allow ?? [])];

  const unknown = [...new Set([...deny, ...allow].filter((name) => !isKnownSyscall(name)))];
  if (unknown.length > 0) {
    const hints = unknown.map((name) => {
      const s = suggestion(name);
      return s === undefined ? JSON.stringify(name) : `${JSON.stringify(name)} (did you mean ${s}?)`;
    });
    throw new SeccompConfigError(
      `unknown system call name${unknown.length === 1 ? '' : 's'} in the seccomp rules: ${hints.join(', ')}`,
      unknown,
      'use the kernel\'s names as in `man 2 syscalls` (for example ptrace, clone3, io_uring_setup)',
    );
  }

  const allowSet = new Set(allow);
  const denySet = new Set(deny);
  const base = PRESETS[preset];
  const rules: SeccompRule[] = [];
  const allowed: string[] = [];
  for (const entry of base) {
    if (allowSet.has(entry.syscall) && !denySet.has(entry.syscall)) {
      allowed.push(entry.syscall);
      continue;
    }
    if (denySet.has(entry.syscall)) continue; // replaced by the unconditional deny below
    rules.push({ ...entry, source: 'preset' });
  }
  for (const name of deny) {
    rules.push({ syscall: name, errno: 'EPERM', reason: 'denied by the profile', source: 'deny' });
  }
  return { preset, rules, allowed, install: preset !== 'none' || rules.length > 0, refuseNewer: preset === 'default' };
}
