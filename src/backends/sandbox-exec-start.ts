/**
 * The start wrapper of the sandbox-exec backend: /bin/sh inside the sandbox,
 * which sets the rlimits with ulimit, writes one byte on READY_FD (so run/
 * knows sandbox-exec has applied the profile and started it), closes the
 * descriptor (the command never holds it) and execs the command. It fails
 * closed: if a limit cannot be set or the byte cannot be written, it exits
 * 125 before the command starts, and run/, without the byte, reports a setup
 * failure. Only constants and whole numbers from the resolved limits are in
 * the script; the command arrives as "$@". Pure.
 */
import { IsolateError } from '../errors.js';
import { formatBytes } from '../profile/limits.js';
import type { Limits, Policy } from '../profile/types.js';
import { reachable } from './command.js';
import { refuseRootProcessLimit } from './process-limit.js';
import type { HostFacts } from './types.js';

/** The shell of the start wrapper: it applies the rlimits inside the sandbox and reports the start. */
export const START_SHELL = '/bin/sh';
/** The start wrapper's $0 (what error messages of the shell and ps show). */
export const START_NAME = 'isolate-start';
/**
 * The start wrapper writes one byte on this descriptor just before it execs
 * the command, then closes it (Plan.fds.ready). A socket run/ passes to
 * sandbox-exec, which the wrapper inherits: writing to an inherited
 * descriptor is no open, and Seatbelt does not check it (see sbpl.ts).
 */
export const READY_FD = 3;
/**
 * `ulimit -n` below this many descriptors comes after the byte: to redirect
 * printf's output the shell first saves its own stdout on a descriptor of 10
 * or more (dash, zsh; bash needs 5), which such a limit forbids. A limit this
 * small only lowers the caller's, which cannot fail; a larger one may exceed
 * the hard limit or kern.maxfilesperproc, and is set before the byte, so that
 * its failure is reported as a setup failure.
 */
const NOFILE_BEFORE_READY = 64;
/** ulimit -f counts 512-byte blocks in POSIX sh (bash as sh, dash, zsh). */
const FSIZE_BLOCK = 512;

/** Validated whole numbers only ever reach the wrapper script. */
function count(n: number, what: string): number {
  if (!Number.isSafeInteger(n) || n < 0) throw new IsolateError('E_LIMIT_INVALID', `${what}: ${n} is not a whole number`);
  return n;
}

/** What macOS cannot enforce is refused, never dropped. */
function refuseUnenforceable(l: Limits, host: Pick<HostFacts, 'uid'>): void {
  if (l.enforce === 'cgroup') {
    throw new IsolateError('E_CGROUP_UNAVAILABLE', 'the profile requires cgroup enforcement of its limits (limits.enforce: cgroup), which macOS does not have', {
      fix: 'remove limits.enforce (or set it to rlimit) to run with rlimits',
    });
  }
  if (l.memoryBytes !== undefined) {
    throw new IsolateError('E_LIMIT_UNENFORCEABLE', 'a memory limit cannot be enforced with sandbox-exec: macOS enforces neither RLIMIT_DATA nor RLIMIT_AS', {
      fix: 'remove --memory / limits.memory to run on macOS, or run on Linux (bwrap)',
    });
  }
  refuseRootProcessLimit(l, host.uid, 'none');
}

interface Steps {
  /** Set before the byte: a failure is a setup failure. */
  early: string[];
  /** Set after it: only a small open-files limit (NOFILE_BEFORE_READY). */
  late: string[];
  summary: string[];
}

/** The ulimit commands for the limits, and what each enforces. */
function limitSteps(l: Limits): Steps {
  const s: Steps = { early: [], late: [], summary: [] };
  if (l.cpuSeconds !== undefined) {
    const n = count(l.cpuSeconds, 'limits.cpu');
    s.early.push(`ulimit -S -t ${n}`, `ulimit -H -t ${n + 1}`);
    s.summary.push(`cpu: ${n}s per process (RLIMIT_CPU: SIGXCPU, then SIGKILL a second later)`);
  }
  if (l.processes !== undefined) {
    const n = count(l.processes, 'limits.processes');
    s.early.push(`ulimit -u ${n}`);
    s.summary.push(`processes: ${n} (RLIMIT_NPROC; on macOS it counts all of your processes, not only the sandbox's)`);
  }
  if (l.openFiles !== undefined) {
    const n = count(l.openFiles, 'limits.openFiles');
    (n < NOFILE_BEFORE_READY ? s.late : s.early).push(`ulimit -n ${n}`);
    s.summary.push(`open files: ${n} per process (RLIMIT_NOFILE)`);
  }
  if (l.fileSizeBytes !== undefined) {
    const blocks = Math.floor(count(l.fileSizeBytes, 'limits.fileSize') / FSIZE_BLOCK);
    s.early.push(`ulimit -f ${blocks}`);
    s.summary.push(`file size: ${formatBytes(blocks * FSIZE_BLOCK)} per file (RLIMIT_FSIZE in ${FSIZE_BLOCK}-byte blocks, rounded down: SIGXFSZ)`);
  }
  if (l.timeoutMs !== undefined) s.summary.push(`timeout: ${l.timeoutMs / 1000}s wall clock, by isolate (SIGTERM, SIGKILL ${l.killAfterMs / 1000}s later; exit 124)`);
  if (l.ceilings !== undefined) s.summary.push('ceilings (tmpfs size, processes, memory of the whole sandbox): not applied on macOS (no per-process mounts, no cgroups, and RLIMIT_NPROC counts all of your processes)');
  if (s.early.length + s.late.length === 0) s.summary.unshift('core dumps: the caller\'s RLIMIT_CORE (0 on macOS unless raised)');
  else {
    s.early.unshift('ulimit -c 0');
    s.summary.unshift('core dumps: off (RLIMIT_CORE=0)');
  }
  return s;
}

export function startWrapper(policy: Policy, host: Pick<HostFacts, 'uid'>): { prefix: string[]; summary: string[] } {
  refuseUnenforceable(policy.limits, host);
  const { early, late, summary } = limitSteps(policy.limits);
  if (!reachable(policy.filesystem.mounts, START_SHELL)) {
    throw new IsolateError(
      'E_SANDBOX_SETUP',
      `the sandbox-exec backend starts the command through ${START_SHELL} inside the sandbox (it applies the resource limits and tells isolate that sandbox-exec has set the sandbox up), and the profile does not make ${START_SHELL} readable`,
      { fix: 'add --allow-read /bin' },
    );
  }
  const fail = "|| { echo 'isolate: cannot apply the resource limits' >&2; exit 125; }";
  const script = [
    ...(early.length > 0 ? [`${early.join(' && ')} ${fail}`] : []),
    `printf . >&${READY_FD} || exit 125`,
    `exec ${READY_FD}>&-`,
    ...(late.length > 0 ? [`${late.join(' && ')} ${fail}`] : []),
    'exec "$@"',
  ].join('\n');
  return { prefix: [START_SHELL, '-c', script, START_NAME], summary };
}
