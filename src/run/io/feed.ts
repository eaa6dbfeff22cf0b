/**
 * What the launcher reads from its descriptors: the piped arguments (bwrap
 * --args), further inputs (nsjail's config) and the seccomp program. Each is
 * written whole and its pipe closed; a launcher that died meanwhile is
 * reported by its exit, not by the write.
 */
import type { ChildProcess } from 'node:child_process';
import type { Writable } from 'node:stream';
import type { Plan } from '../../backends/types.js';

function feed(launcher: ChildProcess, fd: number, data: string | Buffer): void {
  const pipe = launcher.stdio[fd] as Writable | null | undefined;
  pipe?.on('error', () => undefined);
  pipe?.end(data);
}

/** Plan.pipedArgs as bwrap's --args reads them: each ends in NUL. */
export function pipedArgsData(args: readonly string[]): string {
  return args.length === 0 ? '' : args.join('\0') + '\0';
}

/** The launcher reads the seccomp program only once the sandbox is set up (Plan.seccomp.afterSetup): run/ holds it back until the command may start. */
export function programLast(plan: Plan): boolean {
  // The status names the sandbox's init, which must join the run's cgroup before it gets the program.
  return plan.seccomp?.afterSetup === true && plan.fds.status !== undefined;
}

/** Everything but a program read after setup: the launcher can set the sandbox up, and then waits for the program. */
export function feedSetup(launcher: ChildProcess, plan: Plan): void {
  if (plan.fds.args !== undefined) feed(launcher, plan.fds.args, pipedArgsData(plan.pipedArgs));
  for (const input of plan.inputs ?? []) feed(launcher, input.fd, input.data);
  if (plan.seccomp !== undefined && !programLast(plan)) feed(launcher, plan.seccomp.fd, plan.seccomp.program);
}

/**
 * The program read after setup: the command starts once the launcher has it. `withhold`: close its pipe empty
 * instead, so that the launcher, if it is still alive, refuses to start the command (bwrap: an empty program fails).
 */
export function feedProgram(launcher: ChildProcess, plan: Plan, withhold = false): void {
  if (plan.seccomp === undefined || !programLast(plan)) return;
  feed(launcher, plan.seccomp.fd, withhold ? Buffer.alloc(0) : plan.seccomp.program);
}

export function feedLauncher(launcher: ChildProcess, plan: Plan): void {
  feedSetup(launcher, plan);
  feedProgram(launcher, plan);
}
