/**
 * The calls in flight, each with its own abort controller: a client's
 * cancellation aborts one (the SDK's signal), the server's end aborts all,
 * and the end waits until every call has finished, its sandbox killed and
 * cleaned up (run/ removes what it created however a run ends).
 */
export class Calls {
  private readonly running = new Map<AbortController, Promise<unknown>>();
  private closed = false;

  /** Run `work` as one call; aborted with the client's `signal`, or when the server ends. */
  async track<T>(signal: AbortSignal, work: (signal: AbortSignal) => Promise<T>): Promise<T> {
    const controller = new AbortController();
    const abort = (): void => controller.abort();
    if (this.closed || signal.aborted) controller.abort();
    else signal.addEventListener('abort', abort, { once: true });
    const done = work(controller.signal);
    this.running.set(controller, done);
    try {
      return await done;
    } finally {
      signal.removeEventListener('abort', abort);
      this.running.delete(controller);
    }
  }

  /** Abort every call, now and from now on, and wait until each has finished. */
  async endAll(): Promise<void> {
    this.closed = true;
    const all = [...this.running.entries()];
    for (const [controller] of all) controller.abort();
    await Promise.allSettled(all.map(([, done]) => done));
  }

  get size(): number {
    return this.running.size;
  }
}
