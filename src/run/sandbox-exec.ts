/**
 * What run/ does for a sandbox-exec plan (macOS), around execute():
 *
 * - before the start: creates the run directory (mode 0700; it must not
 *   exist yet, so a directory someone else placed there is never used) and
 *   the private directories that stand in for tmpfs paths (0700);
 * - starts the launcher in plan.sandboxExec.cwd, in a new session and so a
 *   new process group (node's detached), and delivers forwarded signals and
 *   the timeout (SIGTERM, the grace period, SIGKILL) to that process group:
 *   there is no PID namespace. When the command exits, what is left of its
 *   group is killed, as the processes of a PID namespace die with its init;
 *   a process that moved itself to another group or session is not reached;
 * - tells sandbox-exec's own failures (a profile macOS rejects: it prints
 *   `sandbox-exec: ...` and exits 65 or 71) from the command's status:
 *   execute() waits for the start wrapper's byte on plan.fds.ready and, if
 *   the launcher exits without it, reports a setup failure (exit 125, with
 *   sandbox-exec's last stderr lines when they are captured);
 * - after the run, however it ends (also when it could not start): removes
 *   the run directory with everything in it;
 * - on macOS, reads the sandbox's denials from the unified log for the run
 *   report (denials.ts; best effort, never fails the run).
 *
 * Nothing here reads /proc (macOS has none): execute() skips its PID
 * namespace search and resource sampling when it is given a Launch.
 */
import { chmodSync, lstatSync, mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Plan } from '../backends/types.js';
import type { SandboxExecPlan } from '../backends/sandbox-exec.js';
import { IsolateError, errnoCode, isIsolateError } from '../errors.js';
import { collectDenials } from './denials.js';
import type { ExecuteOptions, ExecuteResult } from './execute.js';
import { GroupSampler, signalGroup } from './process-group.js';

/** How execute() starts and signals a launcher that has no PID namespace around it. */
export interface Launch {
  /** The directory to start the launcher in. */
  cwd: string;
  /** The launcher was spawned (detached: it leads a new session and process group whose id is `pid`). */
  started(pid: number): void;
  /** Deliver a signal to the sandbox: its process group. */
  signal(signal: NodeJS.Signals): void;
  /** The launcher exited (sandbox-exec execs the start wrapper, which execs the command, so the command did): end what is left of its group. */
  exited(): void;
}

export type ExecuteWithLaunch = (plan: Plan, options: ExecuteOptions, launch: Launch) => Promise<ExecuteResult>;

export interface SandboxExecHost {
  /** Read the denials from the unified log after the run (macOS only). */
  denials: boolean;
}

function setupError(summary: string, e?: unknown): IsolateError {
  if (isIsolateError(e)) return e;
  return new IsolateError('E_SANDBOX_SETUP', summary, {
    ...(e === undefined ? {} : { detail: errnoCode(e) ?? String(e), cause: e }),
    fix: 'check that the temporary directory ($TMPDIR) is writable, then run again',
  });
}

/** Create the run directory and its private directories, or throw (exit 125) with nothing left behind. */
export function createRunDirs(spec: SandboxExecPlan['sandboxExec']): void {
  const runDir = spec.runDir;
  if (runDir === undefined) {
    if (spec.dirs.length > 0) throw setupError('the sandbox-exec plan has private directories but no run directory to put them in');
    return;
  }
  if (!runDir.startsWith('/') || runDir === '/') throw setupError(`the run directory ${runDir} is not an absolute path`);
  try {
    mkdirSync(runDir, { mode: 0o700 });
  } catch (e: unknown) {
    if (errnoCode(e) === 'EEXIST') {
      throw new IsolateError('E_SANDBOX_SETUP', `the run directory ${runDir} exists already; isolate uses only a directory it has just created`, {
        fix: 'run again (each run picks a new name); if it keeps happening, something is creating these directories',
      });
    }
    throw setupError(`cannot create the run directory ${runDir}`, e);
  }
  try {
    // The umask may have taken bits off; it cannot have added any.
    chmodSync(runDir, 0o700);
    for (const dir of spec.dirs) {
      if (dirname(dir.path) !== runDir) throw setupError(`the private directory ${dir.path} is not directly inside the run directory ${runDir}`);
      mkdirSync(dir.path, { mode: 0o700 });
      chmodSync(dir.path, 0o700);
    }
  } catch (e: unknown) {
    removeTree(runDir);
    throw setupError(`cannot create the private directories in ${runDir}`, e);
  }
}

/** sandbox-exec cannot change directory itself: the launcher starts in the working directory, which must exist. */
function assertCwd(cwd: string): void {
  const st = statSync(cwd, { throwIfNoEntry: false });
  if (st === undefined || !st.isDirectory()) {
    throw new IsolateError('E_PATH_INVALID', `the working directory ${cwd} does not exist (or is not a directory); the command was not run`);
  }
}

/** Give every directory under `path` (not following links) its owner's rwx, so that what the command made unreadable can be removed. */
function makeRemovable(path: string, depth = 0): void {
  if (depth > 256) return;
  const st = lstatSync(path, { throwIfNoEntry: false });
  if (st === undefined || !st.isDirectory()) return;
  try {
    chmodSync(path, 0o700);
  } catch {
    return;
  }
  let names: string[];
  try {
    names = readdirSync(path);
  } catch {
    return;
  }
  for (const name of names) makeRemovable(join(path, name), depth + 1);
}

/** Remove `path` and everything in it (symbolic links are removed, never followed). Returns the error code when something stays. */
export function removeTree(path: string): string | undefined {
  try {
    rmSync(path, { recursive: true, force: true });
    return undefined;
  } catch {
    makeRemovable(path);
  }
  try {
    rmSync(path, { recursive: true, force: true });
    return undefined;
  } catch (e: unknown) {
    return errnoCode(e) ?? String(e);
  }
}

/** Run a sandbox-exec plan with `execute` (execute.ts), doing what the plan asks of run/ (see the top of this file). */
export async function executeSandboxExec(
  plan: SandboxExecPlan,
  options: ExecuteOptions,
  execute: ExecuteWithLaunch,
  host: SandboxExecHost = { denials: process.platform === 'darwin' },
): Promise<ExecuteResult> {
  const since = new Date();
  const spec = plan.sandboxExec;
  createRunDirs(spec);
  // Which processes were in the group, to attribute the log's denials (macOS only: it costs a ps now and then).
  const sampler = host.denials ? new GroupSampler() : undefined;
  let pgid: number | undefined;
  let pids: number[] = [];
  const launch: Launch = {
    cwd: spec.cwd,
    started(pid) {
      pgid = pid;
      sampler?.start(pid);
    },
    signal(signal) {
      signalGroup(pgid, signal);
    },
    exited() {
      signalGroup(pgid, 'SIGKILL');
    },
  };
  let result: ExecuteResult;
  try {
    assertCwd(spec.cwd);
    result = await execute(plan, options, launch);
  } finally {
    pids = sampler?.stop() ?? [];
    if (spec.runDir !== undefined) removeTree(spec.runDir);
  }
  if (!host.denials || result.error !== undefined || pgid === undefined) return result;
  return { ...result, denials: await collectDenials({ since, pids }) };
}
