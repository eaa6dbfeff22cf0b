/** isolate's timeout (exit 124): SIGTERM to the sandbox when it expires, then, after the grace period, SIGKILL to all of it. */
import type { Reach } from '../reach/reach.js';

/** Arm the timeout; `onExpire` is told when it fires. Returns the function that disarms it. */
export function armTimeout(timeoutMs: number | undefined, killAfterMs: number, reach: Reach, onExpire: () => void): () => void {
  if (timeoutMs === undefined) return () => undefined;
  let kill: NodeJS.Timeout | undefined;
  const timer = setTimeout(() => {
    onExpire();
    reach.deliver('SIGTERM');
    kill = setTimeout(() => reach.killAll(), killAfterMs);
  }, timeoutMs);
  return () => {
    clearTimeout(timer);
    if (kill !== undefined) clearTimeout(kill);
  };
}
