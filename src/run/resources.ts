/**
 * What a sandbox used. CPU time: the kernel adds a reaped child's CPU time
 * (and what it collected from its own reaped children) to the parent's
 * cutime/cstime, so the growth of isolate's own counters across a run is the
 * CPU time of the sandbox's processes (exact when one run is in flight per
 * isolate process). Memory: the largest resident set seen while sampling the
 * sandbox's processes.
 */
import { readFileSync } from 'node:fs';
import { sandboxPids } from './sandbox-procs.js';

/** Linux reports these counters in USER_HZ, which is 100 on every mainstream architecture. */
const TICK_MS = 10;

export interface ChildTimes {
  userTicks: number;
  systemTicks: number;
}

export function childTimes(): ChildTimes | undefined {
  try {
    const stat = readFileSync('/proc/self/stat', 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const cutime = Number(fields[13]);
    const cstime = Number(fields[14]);
    return Number.isFinite(cutime) && Number.isFinite(cstime) ? { userTicks: cutime, systemTicks: cstime } : undefined;
  } catch {
    return undefined;
  }
}

export function cpuBetween(before: ChildTimes | undefined, after: ChildTimes | undefined): { userCpuMs: number | null; systemCpuMs: number | null } {
  if (before === undefined || after === undefined) return { userCpuMs: null, systemCpuMs: null };
  return { userCpuMs: (after.userTicks - before.userTicks) * TICK_MS, systemCpuMs: (after.systemTicks - before.systemTicks) * TICK_MS };
}

function statusKiB(pid: number, field: string): number {
  try {
    const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m?.[1] === undefined ? 0 : Number(m[1]);
  } catch {
    return 0;
  }
}

/** Samples the sandbox's memory: the largest single-process high-water mark and the largest total resident set. */
export class MemorySampler {
  private peak = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly intervalMs = 250) {}

  start(pidNamespace: number, except: number | undefined): void {
    const sample = (): void => {
      let total = 0;
      for (const pid of sandboxPids(pidNamespace)) {
        if (pid === except) continue;
        total += statusKiB(pid, 'VmRSS');
        this.peak = Math.max(this.peak, statusKiB(pid, 'VmHWM') * 1024);
      }
      this.peak = Math.max(this.peak, total * 1024);
    };
    sample();
    this.timer = setInterval(sample, this.intervalMs);
    this.timer.unref();
  }

  stop(): number | null {
    if (this.timer !== undefined) clearInterval(this.timer);
    return this.peak === 0 ? null : this.peak;
  }
}
