/**
 * Plan.launch.denials on macOS: which processes were in the sandbox's
 * process group while it ran (ps, process-group.ts), then what the unified
 * log says the sandbox refused them (denials.ts). Best effort: never fails
 * the run.
 */
import type { LaunchPlan } from '../backends/types.js';
import { collectDenials } from './denials.js';
import { GroupSampler } from './process-group.js';
import type { ExecuteResult } from './result.js';

/** Run `run`, giving it the hook to call with the process group's id; then add the denials of the group's processes. */
export async function withDenials(launch: LaunchPlan | undefined, run: (onLaunched?: (pgid: number) => void) => Promise<ExecuteResult>): Promise<ExecuteResult> {
  // Only macOS has the log (and sampling costs a ps now and then).
  if (launch?.denials !== 'macos-unified-log' || process.platform !== 'darwin') return run();
  const since = new Date();
  const sampler = new GroupSampler();
  let pgid: number | undefined;
  let result: ExecuteResult;
  let pids: number[] = [];
  try {
    result = await run((id) => {
      pgid = id;
      sampler.start(id);
    });
  } finally {
    pids = sampler.stop();
  }
  if (result.error !== undefined || pgid === undefined) return result;
  return { ...result, denials: await collectDenials({ since, pids }) };
}
