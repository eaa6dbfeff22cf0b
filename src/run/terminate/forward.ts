/**
 * The CLI's signals, passed on to the sandbox (tsx's way): the first
 * SIGINT, SIGTERM, SIGHUP or SIGQUIT is delivered to the sandboxed
 * processes, as a terminal delivers it to its foreground job; a second one
 * ends the sandbox.
 */
import type { Reach } from '../reach/reach.js';

const FORWARDED: readonly NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT'];

/** Forward from now on; `onForward` is told of each signal. Returns the function that stops forwarding. */
export function forwardSignals(reach: Reach, onForward: () => void): () => void {
  let count = 0;
  const forward = (signal: NodeJS.Signals): void => {
    onForward();
    if (++count > 1) reach.killAll();
    else reach.deliver(signal);
  };
  for (const signal of FORWARDED) process.on(signal, forward);
  return () => {
    for (const signal of FORWARDED) process.off(signal, forward);
  };
}
