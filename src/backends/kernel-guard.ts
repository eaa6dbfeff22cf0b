/**
 * What every Linux sandbox hides or keeps read-only in its own /proc (and in
 * /sys when a profile makes it readable), whoever runs isolate.
 *
 * bubblewrap covers a few /proc directories only for unprivileged callers,
 * and only where the directory itself is writable: as root, the files of
 * /proc/sys stay writable, and the sandbox's uid 0 is the host's root, so a
 * command could change host kernel settings (kernel.core_pattern runs a
 * program as root at the next crash). The lists follow the OCI runtimes'
 * default readonlyPaths and maskedPaths. Pure: host.ts reports which of these
 * exist on this kernel (a mount needs its target).
 *
 * When isolate runs as root, every other entry at the top of /proc (meminfo,
 * stat, tty, pressure, ...) is kept read-only too: each is one object of the
 * kernel that every /proc mounted on the host shows, root owns it, and its
 * owner may chmod it without a capability. A mode set in the sandbox's /proc
 * would be the mode in every /proc mounted after it, the host's own once its
 * cached entry goes (`chmod 0 /proc/meminfo` breaks free, top and ps for every
 * other user). Those of them that only root may read (the flags and use counts
 * of every physical page, kpageflags and kpagecount; the kernel log) are
 * hidden instead, as isolate hides what only root may read from a run by root
 * elsewhere (host/root-only.ts, which leaves the kernel's file systems to this
 * guard), and so is /proc/locks (PROC_BY_MOUNT). host.ts lists these only for
 * root: an ordinary user owns none.
 */
import { dirname } from 'node:path';

import type { MountRule } from '../profile/types.js';
import { isVisible } from './mounts.js';

/** Kept read-only: kernel settings, interrupts, buses, the SysRq trigger. */
export const PROC_READ_ONLY = ['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger'] as const;

/** Hidden: kernel memory and its allocations (readable by root: kernel symbols and pointers), keys, timers and scheduler state of the whole host, hardware lists. */
export const PROC_MASKED = [
  '/proc/acpi',
  '/proc/asound',
  '/proc/interrupts',
  '/proc/kcore',
  '/proc/keys',
  '/proc/latency_stats',
  '/proc/sched_debug',
  '/proc/scsi',
  '/proc/slabinfo',
  '/proc/timer_list',
  '/proc/timer_stats',
  '/proc/vmallocinfo',
] as const;

/** Hidden when /sys is readable: firmware tables and variables, energy counters (a timing side channel). */
export const SYS_MASKED = ['/sys/firmware', '/sys/devices/virtual/powercap'] as const;

/** Every path the guard names: host.ts checks which exist. */
export const KERNEL_GUARD_PATHS: readonly string[] = [...PROC_READ_ONLY, ...PROC_MASKED, ...SYS_MASKED];

export const PROC = '/proc';

/** Whether `path` is an entry at the top of /proc that the lists above do not name (one host.ts lists for root). */
export const isOtherProcEntry = (path: string): boolean => dirname(path) === PROC && !KERNEL_GUARD_PATHS.includes(path);

/**
 * Other entries that show what the PID namespace of the /proc they are read from holds, not the reader's: bound
 * from the host's /proc (as bwrap binds), /proc/locks would list the locks of every process on the host, with its
 * pid and the file's inode. Hidden instead of kept read-only.
 */
const PROC_BY_MOUNT: readonly string[] = ['/proc/locks'];
const hiddenOther = (p: KernelPathFact): boolean => p.ownerOnly === true || PROC_BY_MOUNT.includes(p.path);

/**
 * Whether the sandbox's whole /proc is read-only: root runs it (host.ts then lists the other entries at its top)
 * on the host's network. /proc/net is then the host network namespace's, whose files root owns and could chmod for
 * every /proc on the host; it is a link into each process's own directory, where no mount can be put for the
 * processes still to come. So the /proc mount itself is read-only, as nsjail's always is: writes to a process's own
 * files there (oom_score_adj, a thread's comm) fail.
 */
export const procReadOnly = (present: readonly KernelPathFact[], hostNetwork: boolean): boolean => hostNetwork && present.some((p) => isOtherProcEntry(p.path));

/** One path of this host's kernel filesystems, as host.ts found it. */
export interface KernelPathFact {
  path: string;
  dir: boolean;
  /** One of the other entries at the top of /proc that only its owner may read (a directory: enter). */
  ownerOnly?: boolean;
}

/** The guard's setup operations (setup-ops.ts): OCI runtimes call them readonlyPaths and maskedPaths. */
export type GuardOp =
  /** Bind the path onto itself read-only. */
  | { kind: 'kernel-read-only'; path: string; dir: boolean }
  /** Cover a file with an unopenable empty one, a directory with an empty read-only tmpfs. */
  | { kind: 'kernel-mask'; path: string; dir: boolean };

/**
 * The guard's operations for the paths that exist on this host, in order:
 * /proc first (every sandbox has its own); under /sys only what the
 * profile's rules make visible.
 */
export function kernelGuardOps(present: readonly KernelPathFact[], rules: readonly MountRule[]): GuardOp[] {
  const has = new Map(present.map((p) => [p.path, p.dir]));
  const ops: GuardOp[] = [];
  const add = (kind: GuardOp['kind'], paths: readonly string[]): void => {
    for (const path of paths) {
      const dir = has.get(path);
      if (dir !== undefined) ops.push({ kind, path, dir });
    }
  };
  add('kernel-read-only', PROC_READ_ONLY);
  add('kernel-mask', PROC_MASKED);
  const others = present.filter((p) => isOtherProcEntry(p.path));
  add('kernel-read-only', others.filter((p) => !hiddenOther(p)).map((p) => p.path));
  add('kernel-mask', others.filter(hiddenOther).map((p) => p.path));
  add('kernel-mask', SYS_MASKED.filter((path) => isVisible(rules, path)));
  return ops;
}

/** The guard in one line each for read-only and hidden paths, for explain and the run report (other operations are passed over). */
export function describeKernelGuard(ops: readonly { kind: string; path: string }[]): string[] {
  const list = (kind: GuardOp['kind']): string[] => ops.filter((op) => op.kind === kind).map((op) => op.path);
  const readOnly = list('kernel-read-only').filter((path) => !isOtherProcEntry(path));
  const others = list('kernel-read-only').length - readOnly.length;
  const masked = list('kernel-mask');
  return [
    ...(readOnly.length > 0 ? [`kernel: read-only whoever runs isolate: ${readOnly.join(', ')}`] : []),
    ...(others > 0 ? [`kernel: read-only as root runs isolate: the ${others} other kernel files and directories at the top of /proc (root owns them: a mode set there would hold in every /proc on the host)`] : []),
    ...(masked.length > 0 ? [`kernel: hidden: ${masked.join(', ')}`] : []),
  ];
}
