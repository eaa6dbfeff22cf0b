/**
 * Start the launcher: with the plan's path descriptors opened and checked,
 * exactly the descriptors the plan hands over and none the caller left open
 * (inherited-fds.ts), the plan's environment, in '/' or Plan.launch.cwd, and
 * in a new session when the sandbox is its process group.
 */
import { statSync } from 'node:fs';
import type { Plan } from '../../backends/types.js';
import { tooLargeToStart } from '../../backends/arg-limits.js';
import { IsolateError } from '../../errors.js';
import type { Started, StartProcess } from '../../process.js';
import { shutInherited } from '../inherited-fds.js';
import type { ExecuteOptions } from '../result.js';
import { openDeviceFds } from './device-fds.js';
import { privateStdio } from './device-stdio.js';
import { closePathFds, openPathFds } from './path-fds.js';
import { NO_RELAY, launcherStdio, type StdioRelay } from './stdio.js';

export interface Launched extends Started {
  /** The opened Plan.pathFds: already closed, or held for the mount check (Plan.checkPathFds). */
  pathFds: Map<number, number>;
}

/** A launcher that cannot change directory itself starts in the working directory, which must exist. */
function assertCwd(cwd: string): void {
  const st = statSync(cwd, { throwIfNoEntry: false });
  if (st === undefined || !st.isDirectory()) {
    throw new IsolateError('E_PATH_INVALID', `the working directory ${cwd} does not exist (or is not a directory); the command was not run`);
  }
}

/** `standIns`: the sealed entries the launcher binds from their stand-ins whatever is there now (an OCI bundle or nsjail's config written so: bundle.ts, sealed-config.ts). */
export function startLauncher(plan: Plan, options: ExecuteOptions, start: StartProcess, relay: StdioRelay = NO_RELAY, standIns: ReadonlySet<string> = new Set()): Launched {
  const [file = ''] = plan.argv;
  if (plan.launch !== undefined) assertCwd(plan.launch.cwd);
  const pathFds = openPathFds(plan.pathFds ?? [], options.placeholderSpares, { dir: plan.standIns, forced: standIns, byPath: plan.checkPathFds === true });
  let started: Started;
  try {
    // isolate's copies of the device nodes, bound by descriptor (device-fds.ts); closed with the path descriptors.
    openDeviceFds(plan, pathFds);
    // A host device node on stdin, stdout or stderr becomes isolate's copy of it (device-stdio.ts).
    const own = privateStdio(launcherStdio(plan, options, pathFds, relay), plan.devices);
    try {
      // No descriptor the caller left open reaches the command (inherited-fds.ts).
      const shut = shutInherited(plan.argv, own.stdio, plan.closeFdFlag, plan.launcherAt);
      try {
        const detached = plan.launch?.reach === 'process-group';
        started = start(file, shut.argv.slice(1), { env: plan.launcherEnv, cwd: plan.launch?.cwd ?? '/', stdio: shut.stdio, detached });
      } finally {
        shut.close();
      }
    } finally {
      own.close();
    }
  } catch (e: unknown) {
    closePathFds(pathFds);
    throw tooLargeToStart(e) ?? e;
  }
  // The launcher has its own copies now (checkPathFds: kept until the sandbox is checked).
  if (plan.checkPathFds !== true) closePathFds(pathFds);
  return { ...started, pathFds };
}
