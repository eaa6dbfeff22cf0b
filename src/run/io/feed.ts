/**
 * What the launcher reads from its descriptors before it starts anything:
 * the piped arguments (bwrap --args), further inputs (nsjail's config) and
 * the seccomp program. Each is written whole and its pipe closed; a launcher
 * that died meanwhile is reported by its exit, not by the write.
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

export function feedLauncher(launcher: ChildProcess, plan: Plan): void {
  if (plan.fds.args !== undefined) feed(launcher, plan.fds.args, pipedArgsData(plan.pipedArgs));
  for (const input of plan.inputs ?? []) feed(launcher, input.fd, input.data);
  if (plan.seccomp !== undefined) feed(launcher, plan.seccomp.fd, plan.seccomp.program);
}
