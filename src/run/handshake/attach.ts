/**
 * Which handshake the launcher makes (Plan.fds), and what it tells the run:
 * bwrap's status lines and its gate's byte and "go" answer, nsjail's
 * started byte and "go" answer after the mount check, sandbox-exec's ready
 * byte; with none, the command counts as
 * started as soon as the launcher is.
 */
import type { ChildProcess } from 'node:child_process';
import type { Duplex } from 'node:stream';
import type { Plan } from '../../backends/types.js';
import type { RunCgroup } from '../cgroup.js';
import { IsolateError } from '../../errors.js';
import { closePathFds } from '../launch/path-fds.js';
import { verifySandboxMounts } from '../mount-verify.js';
import type { Reach } from '../reach/reach.js';
import type { RunState } from '../resolve/exit.js';
import { awaitGate, awaitReady, awaitStarted } from './started.js';
import { readStatus } from './status.js';

export interface Handshake {
  plan: Plan;
  launcher: ChildProcess;
  state: RunState;
  reach: Reach;
  /** The opened Plan.pathFds, held for the mount check (Plan.checkPathFds). */
  pathFds: Map<number, number>;
  /** The run's cgroup: checked and its process limit set at the started byte (CgroupPlan.initInside, pidsAtStart). */
  cgroup?: RunCgroup | undefined;
  /** Told the sandbox's init as the host numbers it, when the launcher's status reports it. */
  onInit?: ((pid: number) => void) | undefined;
}

/** Plan.checkPathFds: once the sandbox is set up, its mounts are the paths isolate opened; the descriptors are closed after. */
function checkMounts({ plan, reach, pathFds }: Handshake): IsolateError | undefined {
  if (plan.checkPathFds !== true) return undefined;
  try {
    // The init exists now: found once, for the check, signals and sampling.
    const init = reach.init();
    if (init === undefined) return new IsolateError('E_SANDBOX_SETUP', 'cannot find the sandbox to check its mounts; the command was not run');
    return verifySandboxMounts(`/proc/${init}`, plan.pathFds ?? [], pathFds);
  } finally {
    closePathFds(pathFds);
  }
}

function readLauncherStatus(h: Handshake, pipe: Duplex): void {
  readStatus(pipe, (s) => {
    if (s.childPid !== undefined) h.state.started = true;
    // bwrap reports its child (the sandbox's init) and the namespace in the same line.
    if (s.pidNamespace !== undefined) h.reach.reported(s.pidNamespace, s.childPid);
    if (s.childPid !== undefined) h.onInit?.(s.childPid);
    if (s.exitCode !== undefined) h.state.reportedExit = s.exitCode;
  });
}

export function attachHandshake(h: Handshake): void {
  const pipe = (fd: number | undefined): Duplex | null => (fd === undefined ? null : ((h.launcher.stdio[fd] as Duplex | null | undefined) ?? null));
  const { status, started, ready, gate } = h.plan.fds;
  const gatePipe = pipe(gate);
  if (gatePipe !== null) awaitGate(gatePipe, h.state);
  if (status !== undefined) {
    const statusPipe = pipe(status);
    if (statusPipe !== null) readLauncherStatus(h, statusPipe);
    return;
  }
  const startedPipe = pipe(started);
  const readyPipe = pipe(ready);
  if (startedPipe !== null) awaitStarted(startedPipe, h.state, () => checkMounts(h) ?? h.cgroup?.atStart(h.reach.init()));
  else if (readyPipe !== null) awaitReady(readyPipe, h.state);
  else h.state.started = true;
  // No status from the launcher: find the sandbox's PID namespace ourselves, for signals and sampling.
  h.reach.search();
}
