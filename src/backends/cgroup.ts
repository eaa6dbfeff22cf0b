/**
 * Memory and process limits for the whole sandbox through a cgroup: the
 * pure part shared by the Linux backends. rlimits stay in place beside it
 * (per process); the cgroup adds a total for everything in the sandbox, and
 * a process limit that holds for root too.
 *
 * When the host has no usable cgroup, the limits are rlimits only, unless the
 * profile says `limits.enforce: cgroup`: then the run is refused (exit 125).
 * With enforce: cgroup and neither limit set, the sandbox still gets its own
 * cgroup (memory accounting only: the report's peak memory comes from it).
 */
import { posix } from 'node:path';
import { IsolateError } from '../errors.js';
import { formatBytes } from '../profile/limits.js';
import type { Limits } from '../profile/types.js';
import type { CgroupPlan, HostFacts } from './types.js';

export interface CgroupLimits {
  plan?: CgroupPlan;
  /** One line per limit the cgroup enforces, or why none is used. */
  summary: string[];
}

/** Whether the policy's limits call for a cgroup at all (and so for gathering the host's cgroup facts). */
export function wantsCgroup(l: Limits): boolean {
  const c = l.ceilings ?? {};
  return l.memoryBytes !== undefined || l.processes !== undefined || l.enforce === 'cgroup' || c.memoryBytes !== undefined || c.processes !== undefined;
}

/** The controllers the run's cgroup needs (for a limit or a ceiling). */
export function cgroupNeeds(l: Limits): { memory: boolean; pids: boolean } {
  const memory = l.memoryBytes ?? l.ceilings?.memoryBytes;
  const processes = l.processes ?? l.ceilings?.processes;
  return { memory: memory !== undefined || (l.enforce === 'cgroup' && processes === undefined), pids: processes !== undefined };
}

/**
 * The processes of the backend itself that live in the cgroup (bwrap: itself
 * and its init in the sandbox; plus the forwarder for filtered network),
 * added to pids.max so the command gets the number the profile names.
 */
export interface CgroupLauncher {
  processes: number;
  name: string;
  /**
   * A launcher whose own count is known only once the sandbox is set up (an
   * OCI runtime makes its threads as its Go scheduler needs them): pids.max
   * holds `processes` more than the limit while it starts, and at the started
   * handshake, before the command may start, becomes what the cgroup holds
   * then (the runtime and the init) plus the limit plus `later`, the
   * launcher's processes that start with the command (the network forwarder).
   */
  countedAtStart?: { later: number; name: string };
  /** It makes the sandbox's own cgroups (an OCI runtime): where the init is, is checked before the command starts (CgroupPlan.initInside). */
  makesCgroups?: boolean;
}

function pidsSummary(l: number, v: 1 | 2, launcher: CgroupLauncher): string {
  const at = launcher.countedAtStart;
  if (at === undefined) {
    return `processes: ${l} processes and threads at once in the whole sandbox (cgroup v${v} pids.max ${l + launcher.processes}, counting ${launcher.processes} of ${launcher.name}'s own; this holds for root too)`;
  }
  const later = at.later === 0 ? '' : `, plus ${at.later} for ${at.name}`;
  return `processes: ${l} processes and threads at once in the whole sandbox (cgroup v${v} pids.max, set before the command starts to what the cgroup then holds (${launcher.name}) plus ${l}${later}; ${l + launcher.processes} while the runtime starts; this holds for root too)`;
}

export function cgroupLimits(l: Limits, host: HostFacts, launcher: CgroupLauncher): CgroupLimits {
  if (!wantsCgroup(l)) return { summary: [] };
  const facts = host.cgroup;
  if (facts === undefined || facts.version === undefined || facts.parents === undefined) {
    const reason = facts?.unusable?.reason ?? 'the host\'s cgroups were not examined';
    if (l.enforce === 'cgroup') {
      throw new IsolateError('E_CGROUP_UNAVAILABLE', 'the profile requires a cgroup for its limits (limits.enforce: cgroup), and no cgroup is usable here', {
        detail: reason,
        fix: `${facts?.unusable?.fix ?? 'run `isolate doctor`'}; or remove limits.enforce to use rlimits alone`,
      });
    }
    return { summary: [`cgroup: none usable (${reason}); memory and processes are limited per process by rlimits only`] };
  }
  const v = facts.version;
  const summary: string[] = [];
  const writes: CgroupPlan['writes'] = [];
  const dirs: string[] = [];
  const procs: string[] = [];
  const events: CgroupPlan['events'] = {};
  let pidsAtStart: CgroupPlan['pidsAtStart'];
  const dirFor = (controller: 'memory' | 'pids'): string => {
    const dir = posix.join(facts.parents?.[controller] ?? '', facts.name);
    if (!dirs.includes(dir)) {
      dirs.push(dir);
      procs.push(`${dir}/cgroup.procs`);
    }
    return dir;
  };
  if (l.memoryBytes !== undefined) {
    const dir = dirFor('memory');
    const bytes = String(l.memoryBytes);
    if (v === 2) {
      writes.push({ file: `${dir}/memory.max`, value: bytes });
      // Swap would let the sandbox hold more than the limit; the OOM killer ends the whole sandbox, not one process in it.
      writes.push({ file: `${dir}/memory.swap.max`, value: '0', optional: true });
      writes.push({ file: `${dir}/memory.oom.group`, value: '1', optional: true });
      Object.assign(events, { memory: `${dir}/memory.events`, peak: `${dir}/memory.peak` });
      summary.push(`memory: ${formatBytes(l.memoryBytes)} for the whole sandbox (cgroup v2 memory.max, no swap; the kernel's OOM killer ends the sandbox)`);
    } else {
      writes.push({ file: `${dir}/memory.limit_in_bytes`, value: bytes });
      writes.push({ file: `${dir}/memory.memsw.limit_in_bytes`, value: bytes, optional: true });
      Object.assign(events, { memory: `${dir}/memory.oom_control`, peak: `${dir}/memory.max_usage_in_bytes` });
      summary.push(`memory: ${formatBytes(l.memoryBytes)} for the whole sandbox (cgroup v1 memory.limit_in_bytes, with swap where the kernel accounts it; the kernel's OOM killer)`);
    }
  }
  if (l.memoryBytes === undefined && l.processes === undefined) {
    const dir = dirFor('memory');
    events.peak = `${dir}/${v === 2 ? 'memory.peak' : 'memory.max_usage_in_bytes'}`;
    summary.push(`cgroup v${v}: the sandbox runs in a cgroup of its own (limits.enforce: cgroup), which sets no memory or process limit here`);
  }
  if (l.processes !== undefined) {
    const dir = dirFor('pids');
    writes.push({ file: `${dir}/pids.max`, value: String(l.processes + launcher.processes) });
    events.pids = `${dir}/pids.events`;
    const at = launcher.countedAtStart;
    if (at !== undefined) pidsAtStart = { current: `${dir}/pids.current`, max: `${dir}/pids.max`, add: l.processes + at.later };
    summary.push(pidsSummary(l.processes, v, launcher));
  }
  const checks = { ...(pidsAtStart === undefined ? {} : { pidsAtStart }), ...(launcher.makesCgroups === true ? { initInside: true as const } : {}) };
  return { plan: { version: v, dirs, writes, procs, events, ...checks }, summary };
}
