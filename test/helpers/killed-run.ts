/** A run killed while its command sleeps: the "killed run" a later run notices and cleans up after (the killed-run red team). */
import type { ChildProcess } from 'node:child_process';
import { expect } from 'vitest';
import { pollFor, sleepProcs, spawnIsolate, type Runner, START_WAIT_MS } from './isolate.js';

/**
 * Start `isolate run <args> -- <command>` (a command that ends in `sleep <held>`), wait for the sandboxed sleep,
 * SIGKILL isolate, and wait until the sandbox is gone. The child goes into `children` for the test's clean-up; it is
 * returned too (its pid is the killed run's).
 */
export async function killRunWhileSleeping(runner: Runner, args: readonly string[], held: string, options: { cwd: string; env: Record<string, string> }, children: ChildProcess[]): Promise<ChildProcess> {
  const run = spawnIsolate(runner, ['run', ...args], options);
  children.push(run);
  const exited = new Promise<NodeJS.Signals | null>((resolve) => run.on('exit', (_code, signal) => resolve(signal)));
  await pollFor(`the sandboxed sleep ${held}`, () => (sleepProcs(held).length === 1 ? true : undefined), START_WAIT_MS);
  run.kill('SIGKILL');
  expect(await exited).toBe('SIGKILL');
  await pollFor('the killed sandbox to be gone', () => (sleepProcs(held).length === 0 ? true : undefined));
  return run;
}
