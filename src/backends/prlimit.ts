/**
 * The profile's rlimits applied by prlimit (util-linux) inside the sandbox,
 * just before the command: bwrap's way, and the oci backend's (a runtime
 * sets config.json's rlimits on its own init first, which a small
 * RLIMIT_DATA kills before it starts the command). Pure.
 */
import { IsolateError } from '../errors.js';
import { formatBytes } from '../profile/limits.js';
import type { Limits, Policy } from '../profile/types.js';
import { reachable } from './command.js';
import { refuseRootProcessLimit } from './process-limit.js';
import type { HostFacts } from './types.js';

/**
 * rlimits are applied inside the sandbox by prlimit, just before the command:
 * there, RLIMIT_NPROC counts the processes of the sandbox's own user
 * namespace (not every process the user has on the host), and it applies
 * even when isolate runs as root. Core dumps are always off.
 */
export function prlimitRlimits(l: Limits, policy: Policy, host: HostFacts, cgroupPids: boolean): { prefix: string[]; summary: string[] } {
  const prlimit = host.prlimit;
  if (prlimit === undefined || !reachable(policy.filesystem.mounts, prlimit)) {
    throw new IsolateError('E_PRLIMIT_MISSING', prlimit === undefined ? 'prlimit (util-linux) is not installed; isolate needs it to apply resource limits' : `${prlimit} is not visible inside the sandbox`, {
      fix: prlimit === undefined ? 'sudo apt-get install -y util-linux' : `add --allow-read ${prlimit}`,
    });
  }
  const args = ['--core=0'];
  const summary = ['core dumps: off (RLIMIT_CORE=0)'];
  if (l.cpuSeconds !== undefined) {
    args.push(`--cpu=${l.cpuSeconds}:${l.cpuSeconds + 1}`);
    summary.push(`cpu: ${l.cpuSeconds}s per process (RLIMIT_CPU: SIGXCPU, then SIGKILL a second later)`);
  }
  if (l.memoryBytes !== undefined) {
    args.push(`--data=${l.memoryBytes}`);
    summary.push(`memory: ${formatBytes(l.memoryBytes)} of data per process (RLIMIT_DATA)`);
  }
  refuseRootProcessLimit(l, host.uid, { pids: cgroupPids, unusableReason: host.cgroup?.unusable?.reason });
  if (l.processes !== undefined && host.uid !== 0) {
    args.push(`--nproc=${l.processes}`);
    summary.push(`processes: ${l.processes} in the sandbox (RLIMIT_NPROC in its user namespace)`);
  }
  if (l.openFiles !== undefined) {
    args.push(`--nofile=${l.openFiles}`);
    summary.push(`open files: ${l.openFiles} per process (RLIMIT_NOFILE)`);
  }
  if (l.fileSizeBytes !== undefined) {
    args.push(`--fsize=${l.fileSizeBytes}`);
    summary.push(`file size: ${formatBytes(l.fileSizeBytes)} per file (RLIMIT_FSIZE: SIGXFSZ)`);
  }
  if (l.timeoutMs !== undefined) {
    summary.push(`timeout: ${l.timeoutMs / 1000}s wall clock, by isolate (SIGTERM, SIGKILL ${l.killAfterMs / 1000}s later; exit 124)`);
  }
  return { prefix: [prlimit, ...args, '--'], summary };
}

