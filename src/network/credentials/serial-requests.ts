/**
 * The requests of one terminated tunnel, sent on one at a time. Each
 * request goes to the server over a connection of its own, which holds
 * read buffers in isolate (upstream.ts), outside the sandbox and its
 * memory limit; the proxy bounds the command's tunnels (MAX_OPEN_CLIENTS),
 * but HTTP/1.1 lets a client write many requests into one before reading
 * any answer (pipelining), and node's HTTP server hands on each as it is
 * read. Sent on as they came, 300 requests in one write made isolate open
 * 300 connections at once and hold their buffers. So the next request
 * starts once the answer before it is done (the answers go back in order
 * anyway); at most MAX_PIPELINED wait behind it, and one more closes the
 * tunnel: no client waits on that many.
 */
import type { ServerResponse } from 'node:http';

/** The most requests a terminated tunnel holds waiting behind the one being sent on; one more closes the tunnel. */
export const MAX_PIPELINED = 32;

export class SerialRequests {
  private busy = false;
  private closed = false;
  private readonly waiting: { res: ServerResponse; start: () => void }[] = [];

  /** `overflow`: the tunnel is to be closed, MAX_PIPELINED requests already waiting. */
  constructor(private readonly overflow: () => void) {}

  /** Start the request `res` answers (`start`) now, or once those before it are answered. */
  run(res: ServerResponse, start: () => void): void {
    if (this.closed) return;
    if (!this.busy) return this.begin(res, start);
    if (this.waiting.length >= MAX_PIPELINED) {
      this.close();
      this.overflow();
      return;
    }
    this.waiting.push({ res, start });
  }

  /** The tunnel closed: nothing waiting starts. */
  close(): void {
    this.closed = true;
    this.waiting.length = 0;
  }

  private begin(res: ServerResponse, start: () => void): void {
    this.busy = true;
    res.once('close', () => this.next());
    start();
  }

  private next(): void {
    this.busy = false;
    const after = this.waiting.shift();
    if (after !== undefined && !this.closed) this.begin(after.res, after.start);
  }
}
