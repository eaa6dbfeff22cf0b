/**
 * Execute a Plan: the only place isolate starts the sandbox. Around one run
 * of the launcher (sandbox.ts) it creates and removes what the plan asks
 * for: the run directory (run-dir.ts), an OCI bundle (bundle.ts), the
 * services (services.ts), the cgroup (cgroup.ts), and reads the denials
 * afterwards (denials-watch.ts).
 * Nothing here depends on which backend made the plan: its launch is data
 * (Plan.fds, Plan.launch).
 */
import type { Plan } from '../backends/types.js';
import { RunCgroup } from './cgroup.js';
import { withDenials } from './denials-watch.js';
import { ensureDeviceNodes } from './device-nodes.js';
import { checkCallerStdio } from './launch/caller-stdio.js';
import { refuseUnsafePlan } from './launch/refuse.js';
import { withCgroupOutcome } from './resolve/cgroup.js';
import type { ExecuteOptions, ExecuteResult } from './result.js';
import { withBundle } from './bundle.js';
import { withRunDir } from './run-dir.js';
import { runSandbox, type SandboxContext } from './sandbox.js';
import { withServices } from './services.js';

export type { ExecuteOptions, ExecuteResult } from './result.js';

/**
 * The run's cgroup, created before the sandbox and always removed; which of its limits ended the run. What is left
 * in it is killed before this returns; its directories go meanwhile when the caller takes that over (lateCleanup).
 */
async function withCgroup(plan: Plan, lateCleanup: ExecuteOptions['lateCleanup'], run: (cgroup: RunCgroup | undefined) => Promise<ExecuteResult>): Promise<ExecuteResult> {
  if (plan.cgroup === undefined) return run(undefined);
  let cgroup: RunCgroup | undefined;
  try {
    cgroup = RunCgroup.create(plan.cgroup);
    return withCgroupOutcome(await run(cgroup), cgroup.outcome());
  } finally {
    const removed = cgroup?.remove();
    if (removed !== undefined && lateCleanup !== undefined) lateCleanup(removed);
    else await removed;
  }
}

/** Run the sandbox with everything its plan asks for around it, and always remove what was created for it. */
export async function execute(plan: Plan, options: ExecuteOptions): Promise<ExecuteResult> {
  refuseUnsafePlan(plan);
  const checked = checkCallerStdio(options);
  // A terminal of its own relays all three itself (run/tty/).
  const relay = plan.terminal?.given === true ? undefined : checked;
  if (plan.devices !== undefined) await ensureDeviceNodes(plan.devices);
  return withDenials(plan.launch, (onLaunched) =>
    withRunDir(plan.launch, () =>
      withBundle(plan.bundle, plan.standIns, (standIns) =>
        withServices(
          plan.services,
          () => withCgroup(plan, options.lateCleanup, (cgroup) => runSandbox(plan, options, { cgroup, onLaunched, relay, standIns } satisfies SandboxContext)),
          options.credentials,
        ),
      ),
    ),
  );
}
