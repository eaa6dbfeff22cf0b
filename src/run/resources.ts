/**
 * What a sandbox used, sampled from /proc while it runs: the CPU time of its
 * processes (each live process's own time plus what it collected from the
 * children it reaped) and the largest resident memory. bwrap does not pass
 * its children's CPU time up to isolate, so sampling is the only source; the
 * figures are lower bounds, and null when the run ended before the first
 * sample.
 */
import { readFileSync } from 'node:fs';
import { sandboxTree } from './sandbox-procs.js';
import { procStat } from '../host/proc-stat.js';

/** Linux reports these counters in USER_HZ, which is 100 on every mainstream architecture. */
const TICK_MS = 10;

/** utime, stime, cutime, cstime of one process, in ticks. */
function cpuTicks(pid: number): { user: number; system: number } | undefined {
  const stat = procStat(pid);
  if (stat === undefined) return undefined;
  // utime, stime, cutime, cstime are fields 14 to 17.
  const n = (i: number): number => Number(stat.field(i) ?? 0) || 0;
  return { user: n(14) + n(16), system: n(15) + n(17) };
}

/** VmRSS and VmHWM of one process, in KiB (0 when it is gone or has no memory of its own). */
function memoryKiB(pid: number): { rss: number; hwm: number } {
  let status: string;
  try {
    status = readFileSync(`/proc/${pid}/status`, 'utf8');
  } catch {
    return { rss: 0, hwm: 0 };
  }
  const field = (name: string): number => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? 0);
  return { rss: field('VmRSS'), hwm: field('VmHWM') };
}

export interface Resources {
  userCpuMs: number | null;
  systemCpuMs: number | null;
  peakMemoryBytes: number | null;
}

/** Samples the sandbox's processes: CPU time so far, the largest single-process high-water mark and the largest total resident set. */
export class ResourceSampler {
  private peak = 0;
  private user = -1;
  private system = -1;
  private timer: NodeJS.Timeout | undefined;
  private sample: (() => void) | undefined;

  constructor(private readonly intervalMs = 200) {}

  /** `init`: the sandbox's PID 1 as the host numbers it; its descendants are the sandbox's processes. */
  start(pidNamespace: number, init: number): void {
    this.sample = (): void => {
      let rss = 0;
      let user = 0;
      let system = 0;
      for (const pid of sandboxTree(init, pidNamespace)) {
        const memory = memoryKiB(pid);
        rss += memory.rss;
        this.peak = Math.max(this.peak, memory.hwm * 1024);
        const t = cpuTicks(pid);
        if (t !== undefined) {
          user += t.user;
          system += t.system;
        }
      }
      this.peak = Math.max(this.peak, rss * 1024);
      this.user = Math.max(this.user, user);
      this.system = Math.max(this.system, system);
    };
    this.sample();
    this.timer = setInterval(this.sample, this.intervalMs);
    this.timer.unref();
  }

  /** One last sample while the sandbox's processes may still exist, then stop. */
  stop(): Resources {
    if (this.timer !== undefined) clearInterval(this.timer);
    return {
      userCpuMs: this.user < 0 ? null : this.user * TICK_MS,
      systemCpuMs: this.system < 0 ? null : this.system * TICK_MS,
      peakMemoryBytes: this.peak === 0 ? null : this.peak,
    };
  }
}
