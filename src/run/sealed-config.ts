/**
 * nsjail's config as run/ hands it over: each sealed entry the config binds
 * by its path (Plan.inputs' sealedBinds) that is not what was listed now (a
 * link a host program swapped in, gone, another type) bound from its empty
 * stand-in (launch/stand-ins.ts), as bundle.ts does for an OCI bundle. The
 * sandbox shows that entry empty and the run goes on; one that changes
 * after this is refused before the launcher starts (launch/path-fds.ts).
 */
import { bindStandIns } from '../backends/nsjail-stand-ins.js';
import type { Plan } from '../backends/types.js';
import { IsolateError } from '../errors.js';
import { listedNow, readyStandIn } from './launch/stand-ins.js';

/** The plan with its config as handed over now, and the sealed entries it binds from their stand-ins. */
export interface SealedConfigNow {
  plan: Plan;
  standIns: Set<string>;
}

export function sealedConfigNow(plan: Plan): SealedConfigNow {
  if (!(plan.inputs ?? []).some((i) => i.sealedBinds === true)) return { plan, standIns: new Set() };
  const changed = (plan.pathFds ?? []).flatMap((e) => (e.seal !== undefined && !listedNow(e.path, e.seal) ? [{ path: e.path, type: e.seal }] : []));
  if (changed.length === 0) return { plan, standIns: new Set() };
  const dir = plan.standIns;
  if (dir === undefined) throw new IsolateError('E_INTERNAL', 'internal error: sealed entries changed since they were listed, and the plan names no place for their stand-ins');
  const standIns = new Map(changed.map((e) => [e.path, readyStandIn(dir, e.type)]));
  const inputs = (plan.inputs ?? []).map((i) => (i.sealedBinds === true ? { ...i, data: bindStandIns(i.data.toString(), standIns) } : i));
  return { plan: { ...plan, inputs }, standIns: new Set(standIns.keys()) };
}
