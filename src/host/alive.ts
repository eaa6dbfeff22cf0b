/**
 * Is a process still the one we knew? Its number says whether something
 * runs under it; its start time (and PID namespace) say whether that is
 * still the same process, since numbers are reused.
 */
import { readlinkSync } from 'node:fs';
import { errnoCode } from '../errors.js';
import { procStat } from './proc-stat.js';

/** Whether a process with this number exists (EPERM: it does, and belongs to someone else). */
export function processAlive(pid: number): boolean {
  // Never 0 or negative: kill() would address a process group or every process.
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e: unknown) {
    return errnoCode(e) === 'EPERM';
  }
}

/**
 * When the process started, in clock ticks since boot (field 22 of
 * /proc/<pid>/stat): with the number, it names one process for as long as
 * the machine runs. Undefined where /proc does not say (gone, not Linux).
 */
export function processStart(pid: number | 'self'): number | undefined {
  const field = procStat(pid)?.field(22);
  const n = field === undefined ? NaN : Number(field);
  return Number.isSafeInteger(n) && n >= 0 ? n : undefined;
}

/** The inode of the process's PID namespace: process numbers mean the same process only within one. */
export function pidNamespaceOf(pid: number | 'self'): number | undefined {
  try {
    const m = /^pid:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/ns/pid`));
    return m?.[1] === undefined ? undefined : Number(m[1]);
  } catch {
    return undefined;
  }
}
