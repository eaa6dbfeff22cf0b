/**
 * The launcher's descriptors (pure): stdin, stdout and stderr, then from 3
 * up exactly what the plan hands over: a pipe for each of Plan.fds, the
 * seccomp program and the inputs, the opened Plan.pathFds, and nothing on
 * any other number (inherited-fds.ts relies on that).
 */
import type { Socket } from 'node:net';
import type { Plan } from '../../backends/types.js';
import type { StdioSlot } from '../../process.js';
import type { ExecuteOptions } from '../result.js';

/** Which of the caller's stdin, stdout and stderr the launcher gets as pipes that isolate relays (caller-stdio.ts). */
export interface StdioRelay {
  stdin: boolean;
  outputs: readonly (1 | 2)[];
  /** One socket for every relayed output (stdout and stderr on one file), or a pipe each when undefined. */
  shared?: Socket | undefined;
}

export const NO_RELAY: StdioRelay = { stdin: false, outputs: [] };

/** The descriptors from 3 up that are pipes between isolate and the launcher. */
export function pipeFds(plan: Plan): number[] {
  const { args, status, started, ready, gate } = plan.fds;
  const control = plan.terminal?.given === true ? plan.terminal.controlFd : undefined;
  return [args, status, started, ready, gate, plan.seccomp?.fd, control, ...(plan.inputs ?? []).map((i) => i.fd)].filter((fd): fd is number => fd !== undefined);
}

/** What the launcher gets on stdout (1) or stderr (2) when it is not captured: the caller's, or a pipe isolate relays to it. */
function outputSlot(fd: 1 | 2, relay: StdioRelay): StdioSlot {
  if (!relay.outputs.includes(fd)) return 'inherit';
  return relay.shared ?? 'pipe';
}

/**
 * `relay`: pipes on stdin, stdout or stderr that isolate copies from and to the caller's (launch/caller-stdio.ts).
 * A terminal of its own (Plan.terminal): stdin, stdout and stderr are pipes, relayed by run/tty/; the caller's terminal never enters the sandbox.
 */
export function launcherStdio(plan: Plan, options: ExecuteOptions, pathFds: ReadonlyMap<number, number>, relay: StdioRelay = NO_RELAY): StdioSlot[] {
  const tty = plan.terminal?.given === true;
  const capture = options.stdio === 'capture' || tty;
  const stdinText = options.stdio === 'capture' && options.stdinText !== undefined;
  const stdin = relay.stdin || tty || stdinText ? 'pipe' : capture ? (options.input ?? 'ignore') : 'inherit';
  const pipes = pipeFds(plan);
  const top = Math.max(2, ...pipes, ...pathFds.keys());
  const stdio: StdioSlot[] = [stdin, capture ? 'pipe' : outputSlot(1, relay), capture ? 'pipe' : outputSlot(2, relay)];
  for (let fd = 3; fd <= top; fd++) stdio.push(pathFds.get(fd) ?? (pipes.includes(fd) ? 'pipe' : 'ignore'));
  return stdio;
}
