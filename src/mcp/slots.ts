/**
 * The server's concurrency limit: at most `size` calls run sandboxes at once;
 * the others wait in order. A waiting call holds its stdin text (up to the
 * transport's 10 MiB a message), so what the waiting calls hold is bounded:
 * each counts its stdin's characters plus WAIT_COST, and a call that would
 * take the total past MAX_WAITING_TEXT is refused (E_BUSY) rather than
 * queued. A burst of calls cannot make the server run out of memory.
 */
import { IsolateError } from '../errors.js';

/** What one waiting call counts against the bound besides its stdin: its request and its place in the queue. */
export const WAIT_COST = 4096;
/** The most the waiting calls may hold, in characters of stdin (each counting WAIT_COST more): 32 Mi, at most 64 MiB of text. */
export const MAX_WAITING_TEXT = 32 * 1024 * 1024;

export class Slots {
  private used = 0;
  private held = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(readonly size: number) {}

  /**
   * Wait for a free slot; the returned function frees it. `text` is the length of the stdin the call holds
   * while it waits. A call cancelled while it waits leaves the queue (E_CANCELLED) and never takes one; a
   * call that would wait beyond the bound is refused at once (E_BUSY).
   */
  async take(signal: AbortSignal, text = 0): Promise<() => void> {
    if (signal.aborted) throw cancelled();
    if (this.used >= this.size) await this.queue(signal, text + WAIT_COST);
    this.used++;
    let freed = false;
    return () => {
      if (freed) return;
      freed = true;
      this.used--;
      this.waiting.shift()?.();
    };
  }

  private queue(signal: AbortSignal, cost: number): Promise<void> {
    if (this.held + cost > MAX_WAITING_TEXT) throw busy(this.waiting.length);
    this.held += cost;
    return new Promise((resolve, reject) => {
      const wake = (): void => {
        this.held -= cost;
        signal.removeEventListener('abort', leave);
        resolve();
      };
      const leave = (): void => {
        const i = this.waiting.indexOf(wake);
        if (i >= 0) this.waiting.splice(i, 1);
        this.held -= cost;
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

function busy(waiting: number): IsolateError {
  return new IsolateError('E_BUSY', `the server is busy: ${waiting} calls are already waiting for a free slot, with as much stdin as it holds for waiting calls (${MAX_WAITING_TEXT / 1024 / 1024} Mi characters)`, {
    fix: 'send the call again when earlier calls have finished, send less stdin, or start the server with a larger --max-concurrent',
  });
}
