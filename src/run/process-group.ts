/**
 * A sandbox without a PID namespace (sandbox-exec on macOS) is reached
 * through its process group: the launcher is started in a new session
 * (detached), so it leads a group whose id is its pid, and every process it
 * starts stays in that group unless it moves itself out (setpgid, setsid).
 * There is no /proc on macOS: nothing here reads it.
 */
import { runHelper } from './io/helper.js';

/** Send `signal` to the process group `pgid`. Never to group 0 or 1 (kill(0) and kill(-1) mean "mine" and "all"). */
export function signalGroup(pgid: number | undefined, signal: NodeJS.Signals): boolean {
  if (pgid === undefined || !Number.isSafeInteger(pgid) || pgid <= 1) return false;
  try {
    process.kill(-pgid, signal);
    return true;
  } catch {
    return false; // no process left in the group
  }
}

/** The pids in group `pgid`, from `ps -A -o pid= -o pgid=` output (one "pid pgid" pair a line, on Linux and macOS). */
export function pidsInGroup(psOutput: string, pgid: number): number[] {
  const pids: number[] = [];
  for (const line of psOutput.split('\n')) {
    const m = /^\s*(\d+)\s+(\d+)\s*$/.exec(line);
    if (m !== null && Number(m[2]) === pgid) pids.push(Number(m[1]));
  }
  return pids;
}

/** Most pids a run remembers for attributing denials. */
const MAX_PIDS = 4096;
/** One ps: its output is read up to this size, and it is stopped after this long. */
const PS_MAX_BYTES = 4 * 1024 * 1024;
const PS_TIMEOUT_MS = 5000;

/**
 * Which processes were in the group while the sandbox ran, found with ps
 * (which reads the kernel's process table; macOS has no /proc), a few times
 * early and then every `intervalMs`. A process that lived between two
 * samples is not seen.
 */
export class GroupSampler {
  private readonly seen = new Set<number>();
  private timer: NodeJS.Timeout | undefined;
  private busy = false;
  private stopped = false;
  private pgid: number | undefined;

  constructor(
    private readonly intervalMs = 500,
    private readonly ps = '/bin/ps',
  ) {}

  start(pgid: number): void {
    this.pgid = pgid;
    this.seen.add(pgid);
    const delays = [25, 100, 250];
    const next = (): void => {
      if (this.stopped) return;
      this.timer = setTimeout(() => {
        this.sample();
        next();
      }, delays.shift() ?? this.intervalMs);
      this.timer.unref();
    };
    next();
  }

  private sample(): void {
    const pgid = this.pgid;
    if (this.busy || pgid === undefined || this.seen.size >= MAX_PIDS) return;
    this.busy = true;
    void runHelper(this.ps, ['-A', '-o', 'pid=', '-o', 'pgid='], { env: { PATH: '/usr/bin:/bin' }, timeoutMs: PS_TIMEOUT_MS, maxStdout: PS_MAX_BYTES }).then((r) => {
      this.busy = false;
      for (const pid of pidsInGroup(r.stdout, pgid)) if (this.seen.size < MAX_PIDS) this.seen.add(pid);
    });
  }

  /** Stop sampling; the pids seen so far. */
  stop(): number[] {
    this.stopped = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
    return [...this.seen];
  }
}
