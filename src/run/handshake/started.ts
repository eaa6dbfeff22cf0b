/**
 * Plan.fds.started (the init of nsjail and of an OCI runtime): the sandbox's
 * init writes one byte once the sandbox is set up and waits. isolate checks
 * the sandbox (Plan.checkPathFds, CgroupPlan.initInside), sets the process
 * limit from the cgroup's count (CgroupPlan.pidsAtStart) and answers
 * "go\n", and the command starts; or closes the socket, and the init exits
 * 125 without starting it. A run its timeout has already ended gets no
 * "go" and no check: the sandbox is being killed, so a check would fail on
 * that and turn the timeout (124) into a setup failure (125).
 */
import type { Duplex } from 'node:stream';
import type { IsolateError } from '../../errors.js';
import type { RunState } from '../resolve/exit.js';

/** `check`: what is wrong with the sandbox now, if anything. */
export function awaitStarted(socket: Duplex, state: RunState, check: () => IsolateError | undefined): void {
  socket.on('error', () => undefined);
  socket.once('data', () => {
    if (state.timedOut) {
      socket.end();
      return;
    }
    const problem = check();
    if (problem !== undefined) {
      state.setupError = problem;
      socket.end();
      return;
    }
    state.started = true;
    socket.write('go\n');
  });
}

/**
 * Plan.fds.ready (sandbox-exec's start wrapper): the one-way form, one byte
 * just before the command's exec, with no answer awaited.
 */
export function awaitReady(pipe: Duplex, state: RunState): void {
  pipe.on('error', () => undefined);
  pipe.once('data', () => {
    state.started = true;
  });
}

/**
 * Plan.fds.gate (bwrap's gate before the command): one byte once the sandbox's init has armed its parent-death
 * signal, answered "go" unless the run has timed out (the sandbox is being killed). Whether the command started is
 * still the launcher's status to say.
 */
export function awaitGate(socket: Duplex, state: RunState): void {
  socket.on('error', () => undefined);
  socket.once('data', () => {
    if (state.timedOut) socket.end();
    else socket.write('go\n');
  });
}
