/** The server's concurrency limit: at most `size` calls run sandboxes at once; the others wait in order. */
import { IsolateError } from '../errors.js';

export class Slots {
  private used = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(readonly size: number) {}

  /**
   * Wait for a free slot; the returned function frees it. A call cancelled
   * while it waits leaves the queue (E_CANCELLED) and never takes one.
   */
  async take(signal: AbortSignal): Promise<() => void> {
    if (signal.aborted) throw cancelled();
    if (this.used >= this.size) await this.queue(signal);
    this.used++;
    let freed = false;
    return () => {
      if (freed) return;
      freed = true;
      this.used--;
      this.waiting.shift()?.();
    };
  }

  private queue(signal: AbortSignal): Promise<void> {
    return new Promise((resolve, reject) => {
      const wake = (): void => {
        signal.removeEventListener('abort', leave);
        resolve();
      };
      const leave = (): void => {
        const i = this.waiting.indexOf(wake);
        if (i >= 0) this.waiting.splice(i, 1);
        reject(cancelled());
      };
      this.waiting.push(wake);
      signal.addEventListener('abort', leave, { once: true });
    });
  }
}

function cancelled(): IsolateError {
  return new IsolateError('E_CANCELLED', 'the call was cancelled before its sandbox started');
}
