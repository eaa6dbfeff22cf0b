/**
 * The kernel exempts uid 0 from RLIMIT_NPROC: as root, a process limit holds
 * only through a cgroup's pids.max, and is refused without one. On Linux
 * (`cgroup`) a usable pids cgroup is enough; macOS has no cgroups ('none').
 */
import { IsolateError } from '../errors.js';
import type { Limits } from '../profile/types.js';

export type ProcessLimitCgroup = { pids: boolean; unusableReason?: string | undefined } | 'none';

export function refuseRootProcessLimit(l: Pick<Limits, 'processes'>, uid: number, cgroup: ProcessLimitCgroup): void {
  if (l.processes === undefined || uid !== 0) return;
  if (cgroup === 'none') {
    throw new IsolateError('E_LIMIT_UNENFORCEABLE', 'a process limit cannot be enforced when isolate runs as root: the kernel exempts uid 0 from RLIMIT_NPROC', {
      fix: 'run isolate as an ordinary user to use --processes / limits.processes',
    });
  }
  if (cgroup.pids) return;
  throw new IsolateError('E_LIMIT_UNENFORCEABLE', 'a process limit cannot be enforced when isolate runs as root without a cgroup: the kernel exempts uid 0 from RLIMIT_NPROC', {
    detail: cgroup.unusableReason,
    fix: 'run isolate as an ordinary user to use --processes / limits.processes, or on a host where root can use a cgroup with the pids controller',
  });
}
