/** Progress notifications for a call that runs longer than a second, when the client asked for them (a progressToken). */
import type { ServerNotification } from '@modelcontextprotocol/sdk/types.js';

export const PROGRESS_AFTER_MS = 1000;

export interface ProgressTarget {
  progressToken: string | number | undefined;
  sendNotification(notification: ServerNotification): Promise<void>;
}

/** Start reporting the seconds elapsed, once a second after the first; the returned function stops. */
export function reportProgress(target: ProgressTarget, everyMs = PROGRESS_AFTER_MS): () => void {
  const token = target.progressToken;
  if (token === undefined) return () => undefined;
  const started = Date.now();
  const timer = setInterval(() => {
    const seconds = Math.round((Date.now() - started) / 1000);
    const params = { progressToken: token, progress: seconds, message: `running for ${seconds}s` };
    // A client gone meanwhile is noticed by the transport; a notification lost is nothing to report.
    target.sendNotification({ method: 'notifications/progress', params }).catch(() => undefined);
  }, everyMs);
  timer.unref();
  return () => clearInterval(timer);
}
