/** A caller's cancellation (ExecuteOptions.signal): every process of the sandbox is killed at once, as a second forwarded signal does. */
import type { Reach } from '../reach/reach.js';

/** Kill the sandbox when `signal` aborts (at once when it already has); `onAbort` is told. Returns the function that stops listening. */
export function onAbort(signal: AbortSignal | undefined, reach: Reach, onAbort: () => void): () => void {
  if (signal === undefined) return () => undefined;
  const abort = (): void => {
    onAbort();
    reach.killAll();
  };
  if (signal.aborted) {
    abort();
    return () => undefined;
  }
  signal.addEventListener('abort', abort, { once: true });
  return () => signal.removeEventListener('abort', abort);
}
