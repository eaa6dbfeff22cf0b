/**
 * The launcher's descriptors (pure): stdin, stdout and stderr, then from 3
 * up exactly what the plan hands over: a pipe for each of Plan.fds, the
 * seccomp program and the inputs, the opened Plan.pathFds, and nothing on
 * any other number (inherited-fds.ts relies on that).
 */
import type { Plan } from '../../backends/types.js';
import type { StdioSlot } from '../../process.js';
import type { ExecuteOptions } from '../result.js';

/** The descriptors from 3 up that are pipes between isolate and the launcher. */
export function pipeFds(plan: Plan): number[] {
  const { args, status, started, ready } = plan.fds;
  const control = plan.terminal?.given === true ? plan.terminal.controlFd : undefined;
  return [args, status, started, ready, plan.seccomp?.fd, control, ...(plan.inputs ?? []).map((i) => i.fd)].filter((fd): fd is number => fd !== undefined);
}

/**
 * `relayStdin`: a pipe on stdin, into which isolate copies the caller's (launch/caller-stdio.ts).
 * A terminal of its own (Plan.terminal): stdin, stdout and stderr are pipes, relayed by run/tty/; the caller's terminal never enters the sandbox.
 */
export function launcherStdio(plan: Plan, options: ExecuteOptions, pathFds: ReadonlyMap<number, number>, relayStdin = false): StdioSlot[] {
  const tty = plan.terminal?.given === true;
  const capture = options.stdio === 'capture' || tty;
  const stdinText = options.stdio === 'capture' && options.stdinText !== undefined;
  const stdin = relayStdin || tty || stdinText ? 'pipe' : capture ? (options.input ?? 'ignore') : 'inherit';
  const pipes = pipeFds(plan);
  const top = Math.max(2, ...pipes, ...pathFds.keys());
  const stdio: StdioSlot[] = [stdin, capture ? 'pipe' : 'inherit', capture ? 'pipe' : 'inherit'];
  for (let fd = 3; fd <= top; fd++) stdio.push(pathFds.get(fd) ?? (pipes.includes(fd) ? 'pipe' : 'ignore'));
  return stdio;
}
