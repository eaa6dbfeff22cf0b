/** Plans run/ refuses before it starts or creates anything: descriptor combinations that would leave a gap. */
import type { Plan } from '../../backends/types.js';
import { IsolateError } from '../../errors.js';

export function refuseUnsafePlan(plan: Plan): void {
  if (plan.argv[0] === undefined) throw new IsolateError('E_SANDBOX_SETUP', 'empty plan');
  if (plan.cgroup !== undefined && plan.fds.args === undefined && (plan.inputs ?? []).length === 0) {
    // The launcher is moved into the cgroup before it is handed its input; without input it could start the command first.
    throw new IsolateError('E_SANDBOX_SETUP', `the ${plan.backend} plan has a cgroup but no input pipe to hold the launcher until it is in it`);
  }
  const atStart = plan.cgroup?.pidsAtStart !== undefined || plan.cgroup?.initInside === true;
  if (atStart && (plan.fds.started === undefined || plan.fds.status !== undefined)) {
    // The cgroup is checked and the process limit set at the started byte: without one, the command would start unchecked.
    throw new IsolateError('E_SANDBOX_SETUP', `the ${plan.backend} plan checks its cgroup at the started byte but has no started descriptor`);
  }
  if (plan.fds.ready !== undefined && (plan.fds.status !== undefined || plan.fds.started !== undefined)) {
    throw new IsolateError('E_SANDBOX_SETUP', `the ${plan.backend} plan has a ready descriptor beside a status or started one`);
  }
}
