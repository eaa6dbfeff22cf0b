/** What the run's cgroup says about the run: which of its limits ended it, and the peak memory as it counted it. */
import type { CgroupOutcome } from '../cgroup.js';
import type { ExecuteResult } from '../result.js';

export function withCgroupOutcome(result: ExecuteResult, outcome: CgroupOutcome): ExecuteResult {
  // The cgroup's count is exact (pages shared between processes once); the sampled sum of RSS is not.
  const peak = outcome.peakMemoryBytes ?? result.resources?.peakMemoryBytes ?? null;
  const resources = { userCpuMs: null, systemCpuMs: null, ...result.resources, peakMemoryBytes: peak };
  if (result.limit !== undefined || result.error !== undefined || result.exitCode === 0) return { ...result, resources };
  if (outcome.memoryKilled) return { ...result, resources, limit: 'memory' };
  if (outcome.processesHit) return { ...result, resources, limit: 'processes' };
  return { ...result, resources };
}
