/**
 * The built-in profiles' ceilings (profile/limits.ts, Ceilings) next to the
 * limits a user sets. A limit is enforced or the run refused; a ceiling is
 * applied by whatever this host offers, and what it cannot apply is said in
 * the plan's summary, never refused:
 * - tmpfs: the size of every tmpfs the sandbox gets;
 * - processes: pids.max of the sandbox's cgroup where one is usable, else
 *   RLIMIT_NPROC unless isolate runs as root (the kernel exempts uid 0);
 * - memory: memory.max of the sandbox's cgroup where one is usable (no
 *   per-process rlimit: a large address-space reservation is not use).
 * Pure: the two views say what cgroup.ts and the rlimits should enforce.
 */
import { formatBytes } from '../profile/limits.js';
import type { Limits } from '../profile/types.js';
import type { HostFacts } from './types.js';

export interface LimitViews {
  /** What the sandbox's cgroup enforces (cgroup.ts). */
  cgroup: Limits;
  /** What the per-process rlimits enforce. */
  rlimit: Limits;
  /** The ceilings this host cannot apply, and why. */
  notes: string[];
}

export function cgroupUsable(host: HostFacts): boolean {
  return host.cgroup?.version !== undefined && host.cgroup.parents !== undefined;
}

export function limitViews(l: Limits, host: HostFacts): LimitViews {
  const c = l.ceilings ?? {};
  const usable = cgroupUsable(host);
  const why = host.cgroup?.unusable?.reason ?? 'no usable cgroup';
  const { ceilings: _ceilings, ...plain } = l;
  const cgroup: Limits = { ...plain };
  const rlimit: Limits = { ...plain };
  const notes: string[] = [];
  if (c.memoryBytes !== undefined) {
    if (usable) cgroup.memoryBytes = c.memoryBytes;
    else notes.push(`memory ceiling ${formatBytes(c.memoryBytes)}: not applied (${why})`);
  }
  if (c.processes !== undefined) {
    if (usable) cgroup.processes = c.processes;
    if (host.uid !== 0) rlimit.processes = c.processes;
    if (!usable && host.uid === 0) notes.push(`process ceiling ${c.processes}: not applied (isolate runs as root, which RLIMIT_NPROC exempts, and ${why})`);
  }
  return { cgroup, rlimit, notes };
}

/** The size every tmpfs of the sandbox gets: the profile's limit, else its ceiling. */
export function tmpfsSize(l: Limits): number | undefined {
  return l.tmpfsBytes ?? l.ceilings?.tmpfsBytes;
}

/** The summary line of the tmpfs size. */
export function tmpfsSummary(l: Limits): string[] {
  const size = tmpfsSize(l);
  if (size === undefined) return [];
  return [`tmpfs: ${formatBytes(size)} each (/tmp, a hidden home, /dev/shm: their size option)${l.tmpfsBytes === undefined ? ', a ceiling' : ''}`];
}
