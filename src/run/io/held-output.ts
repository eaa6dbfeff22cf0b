/**
 * A sandbox whose processes can outlive it (Reach.leaky: one that left the
 * process group may hold stdout open): the run waits for every pipe to
 * close, so HELD_OUTPUT_GRACE_MS after the launcher's exit, for what is in
 * flight, isolate stops reading. That bounds the run and its timeout.
 */
import type { ChildProcess } from 'node:child_process';

/** How long after the launcher's exit isolate still reads a stream some escaped process holds open. */
export const HELD_OUTPUT_GRACE_MS = 300;

export interface HeldOutput {
  /** Whether a captured stream was still open when isolate stopped reading (the output may be cut). */
  cut(): boolean;
  stop(): void;
}

export function cutHeldOutput(launcher: ChildProcess, captured: boolean): HeldOutput {
  let cut = false;
  let timer: NodeJS.Timeout | undefined;
  launcher.once('exit', () => {
    timer = setTimeout(() => {
      cut = captured && [launcher.stdout, launcher.stderr].some((s) => s !== null && !s.closed);
      for (const s of launcher.stdio) s?.destroy();
    }, HELD_OUTPUT_GRACE_MS);
  });
  return { cut: () => cut, stop: () => clearTimeout(timer) };
}
