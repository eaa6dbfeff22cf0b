/**
 * The run's cgroup (see backends/cgroup.ts for what goes in it): created and
 * filled with the limits before the sandbox starts, joined by the launcher
 * (and the sandbox's init, when the launcher set the sandbox up meanwhile)
 * before the command can start, read and removed after the run.
 *
 * Everything here fails closed: a limit that cannot be written, or a launcher
 * that cannot be moved into the cgroup, is a setup failure (exit 125), never
 * a run without the limit.
 */
import { closeSync, openSync, readFileSync, readdirSync, rmdirSync, write, writeFileSync, mkdirSync, type Dirent } from 'node:fs';
import { rmdir } from 'node:fs/promises';
import { promisify } from 'node:util';
import { basename, dirname } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { IsolateError, errnoCode } from '../errors.js';
import type { CgroupPlan } from '../backends/types.js';
import { processAlive } from '../host/alive.js';

const RUN_NAME = /^isolate-(\d+)-[0-9a-f]+$/;
const writeAt = promisify((fd: number, text: string, done: (e: NodeJS.ErrnoException | null) => void) => write(fd, text, (e) => done(e)));

function readText(file: string | undefined): string | undefined {
  if (file === undefined) return undefined;
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}

/** A "key value" line of a cgroup events file (memory.events, pids.events, memory.oom_control). */
export function eventCount(text: string | undefined, key: string): number {
  if (text === undefined) return 0;
  for (const line of text.split('\n')) {
    const [k, v] = line.trim().split(/\s+/);
    if (k === key && v !== undefined) return Number(v) || 0;
  }
  return 0;
}

function pidsIn(dir: string): number[] {
  return (readText(`${dir}/cgroup.procs`) ?? '')
    .split('\n')
    .filter((l) => l !== '')
    .map(Number)
    .filter((n) => Number.isSafeInteger(n) && n > 0);
}

/** Whether `pid` is in the cgroup `dir` or one inside it (an OCI runtime makes the container's own there). */
function holds(dir: string, pid: number, depth = 0): boolean {
  if (pidsIn(dir).includes(pid)) return true;
  if (depth >= 8) return false;
  let entries: Dirent[];
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return false;
  }
  return entries.some((e) => e.isDirectory() && holds(`${dir}/${e.name}`, pid, depth + 1));
}

/** Kill whatever is left in a cgroup: cgroup.kill where the kernel has it (v2, 5.14+), else each process. */
function killAll(dir: string): void {
  try {
    // r+: write the kernel's file, never create one where it does not exist.
    writeFileSync(`${dir}/cgroup.kill`, '1', { flag: 'r+' });
    return;
  } catch {
    // v1, or an older kernel: one by one.
  }
  for (const pid of pidsIn(dir)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
}

/**
 * The cgroups inside `dir`, deepest first, removed where they are empty (an
 * OCI runtime makes the container's own cgroup inside the run's, and leaves
 * it when it is killed). rmdir refuses a cgroup that has processes.
 */
function removeChildren(dir: string, depth = 0): void {
  if (depth > 8) return;
  let entries: Dirent[];
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return;
  }
  for (const e of entries) {
    if (!e.isDirectory()) continue;
    removeChildren(`${dir}/${e.name}`, depth + 1);
    try {
      rmdirSync(`${dir}/${e.name}`);
    } catch {
      // still has processes, or gone
    }
  }
}

/** Remove a cgroup (and the empty cgroups inside it) once its processes are gone; true when it no longer exists. */
function tryRemove(dir: string): boolean {
  removeChildren(dir);
  try {
    rmdirSync(dir);
    return true;
  } catch (e: unknown) {
    return errnoCode(e) === 'ENOENT';
  }
}

/** tryRemove on Node's thread pool: the kernel may keep rmdir waiting (its cgroup lock, held by another move). */
async function tryRemoveLater(dir: string): Promise<boolean> {
  removeChildren(dir);
  try {
    await rmdir(dir);
    return true;
  } catch (e: unknown) {
    return errnoCode(e) === 'ENOENT';
  }
}

/**
 * Remove the cgroups of earlier runs whose isolate was killed before it could
 * (SIGKILL leaves them behind): names of isolate runs whose process is gone.
 * Only empty ones: the pid in a name means something only in the PID
 * namespace of the isolate that made it, and another isolate (in a container
 * sharing this cgroup parent) may still be running there. rmdir fails while
 * a cgroup has processes, so nothing that still runs is touched; a sandbox
 * whose isolate died has died with it (bwrap's --die-with-parent).
 */
export function sweepStale(parent: string): void {
  let names: string[];
  try {
    names = readdirSync(parent);
  } catch {
    return;
  }
  for (const name of names) {
    const m = RUN_NAME.exec(name);
    if (m === null || processAlive(Number(m[1]))) continue;
    tryRemove(`${parent}/${name}`);
  }
}

export interface CgroupOutcome {
  /** The memory limit was hit and the kernel's OOM killer killed a process of the sandbox. */
  memoryKilled: boolean;
  /** A fork or clone failed at the process limit. */
  processesHit: boolean;
  /** The most memory the sandbox used at once, as the cgroup counted it. */
  peakMemoryBytes: number | undefined;
}

function moveFailed(e: unknown): IsolateError {
  return new IsolateError('E_SANDBOX_SETUP', 'cannot move the sandbox into its cgroup; the command was not run', {
    detail: e instanceof Error ? e.message : String(e),
    fix: 'run `isolate doctor`',
    cause: e,
  });
}

export class RunCgroup {
  /** The cgroup.procs files, open from the first move on. */
  private procsFds: number[] | undefined;

  private constructor(private readonly plan: CgroupPlan, private readonly created: string[]) {}

  /** Create the cgroup and write its limits; on any failure nothing is left behind. */
  static create(plan: CgroupPlan): RunCgroup {
    const created: string[] = [];
    const cgroup = new RunCgroup(plan, created);
    try {
      for (const parent of new Set(plan.dirs.map((d) => dirname(d)))) sweepStale(parent);
      for (const dir of plan.dirs) {
        if (!RUN_NAME.test(basename(dir))) throw new Error(`not a run cgroup name: ${dir}`);
        mkdirSync(dir);
        created.push(dir);
      }
      for (const { file, value, optional } of plan.writes) {
        try {
          // r+: the kernel's file or nothing (kernfs answers O_CREAT of a missing file with EACCES, not ENOENT).
          writeFileSync(file, value, { flag: 'r+' });
        } catch (e: unknown) {
          if (optional === true && errnoCode(e) === 'ENOENT') continue;
          throw e;
        }
      }
    } catch (e: unknown) {
      cgroup.removeNow();
      throw new IsolateError('E_SANDBOX_SETUP', `cannot set up the cgroup that enforces the memory and process limits; the command was not run`, {
        detail: e instanceof Error ? e.message : String(e),
        fix: 'run `isolate doctor`; a profile without limits.enforce: cgroup falls back to rlimits only when no cgroup is usable at all',
        cause: e,
      });
    }
    return cgroup;
  }

  /**
   * Move the launcher into the cgroup. Called before the command can start: the launcher waits for its arguments,
   * or sets the sandbox up and then waits for the program it reads last (run/sandbox.ts).
   * Asynchronous: the first move waits for an RCU grace period (5-20 ms), which isolate spends on other work
   * meanwhile (the audit log's run-started record, and bubblewrap's set-up).
   * False when the launcher has exited already (its set-up failed): it started nothing, and its own end says why,
   * which a message about the cgroup would hide.
   */
  async attach(pid: number): Promise<boolean> {
    try {
      await this.move(pid);
      return true;
    } catch (e: unknown) {
      if (errnoCode(e) === 'ESRCH') return false;
      throw moveFailed(e);
    }
  }

  /**
   * Move the sandbox's init too, when the launcher started it before it was moved itself (run/sandbox.ts). One
   * that has exited already is not an error: it can start nothing, and the launcher's end says why it exited.
   * (Its pid is not reused meanwhile: the kernel hands pids out in turn, and the move follows within milliseconds.)
   */
  async attachInit(pid: number): Promise<void> {
    try {
      await this.move(pid);
    } catch (e: unknown) {
      if (errnoCode(e) !== 'ESRCH') throw moveFailed(e);
    }
  }

  /**
   * One write(2) per cgroup.procs, each a single job on Node's thread pool: a file written whole (open, write,
   * close) would need isolate's thread between its steps, and that thread is busy meanwhile (the run-started
   * record), so the move's wait would come after that work instead of beside it.
   */
  private async move(pid: number): Promise<void> {
    // r+: the kernel's file or nothing. Opened once, at the first move, and closed when the cgroup is removed.
    this.procsFds ??= this.plan.procs.map((procs) => openSync(procs, 'r+'));
    for (const fd of this.procsFds) await writeAt(fd, String(pid));
  }

  /**
   * At the started handshake (the sandbox is set up, the command not started), what the plan asks: the init
   * (`init`, as the host numbers it) is inside the cgroup (CgroupPlan.initInside), and pids.max becomes what the
   * cgroup holds now plus the plan's number (CgroupPlan.pidsAtStart), so the command gets the limit the profile
   * names however many threads the runtime has made. What fails is returned, and the command is not started.
   */
  atStart(init: number | undefined): IsolateError | undefined {
    return this.initOutside(init) ?? this.limitFromNow();
  }

  private initOutside(init: number | undefined): IsolateError | undefined {
    if (this.plan.initInside !== true) return undefined;
    const outside = init === undefined ? this.plan.dirs : this.plan.dirs.filter((dir) => !holds(dir, init));
    if (outside.length === 0) return undefined;
    return new IsolateError('E_SANDBOX_SETUP', 'the sandbox is not inside the cgroup that enforces its memory and process limits (the runtime put it elsewhere); the command was not run', {
      detail: init === undefined ? 'the sandbox\'s init was not found' : `pid ${init} is in none of ${outside.join(', ')}`,
      fix: 'use --backend bwrap, or install runc (which makes the container\'s cgroup inside its own)',
    });
  }

  private limitFromNow(): IsolateError | undefined {
    const at = this.plan.pidsAtStart;
    if (at === undefined) return undefined;
    try {
      const current = Number(readFileSync(at.current, 'utf8').trim());
      if (!Number.isSafeInteger(current) || current < 0) throw new Error(`${at.current}: not a count`);
      writeFileSync(at.max, String(current + at.add), { flag: 'r+' });
      return undefined;
    } catch (e: unknown) {
      return new IsolateError('E_SANDBOX_SETUP', 'cannot set the process limit of the sandbox\'s cgroup from its count at the start; the command was not run', {
        detail: e instanceof Error ? e.message : String(e),
        fix: 'run `isolate doctor`',
        cause: e,
      });
    }
  }

  private closeProcs(): void {
    for (const fd of this.procsFds?.splice(0) ?? []) closeSync(fd);
  }

  outcome(): CgroupOutcome {
    const { events } = this.plan;
    const memory = readText(events.memory);
    const peak = Number(readText(events.peak)?.trim());
    return {
      memoryKilled: eventCount(memory, 'oom_kill') > 0,
      processesHit: eventCount(readText(events.pids), 'max') > 0,
      peakMemoryBytes: Number.isFinite(peak) && peak > 0 ? peak : undefined,
    };
  }

  private removeNow(): boolean {
    this.closeProcs();
    let all = true;
    for (const dir of [...this.created].reverse()) {
      if (tryRemove(dir)) this.created.splice(this.created.indexOf(dir), 1);
      else all = false;
    }
    return all;
  }

  /**
   * Kill anything still in the cgroup, at once (before the returned promise), and remove it; waits up to ~2 s for
   * the kernel to let the directories go.
   */
  async remove(): Promise<void> {
    for (let attempt = 0; attempt < 40; attempt++) {
      for (const dir of this.created) killAll(dir);
      if (await this.removeLater()) return;
      await sleep(attempt < 10 ? 5 : 50);
    }
    // Left for the next run's sweep (its isolate process is gone by then).
  }

  private async removeLater(): Promise<boolean> {
    this.closeProcs();
    let all = true;
    for (const dir of [...this.created].reverse()) {
      if (await tryRemoveLater(dir)) this.created.splice(this.created.indexOf(dir), 1);
      else all = false;
    }
    return all;
  }
}
