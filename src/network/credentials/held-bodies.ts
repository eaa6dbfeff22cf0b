/**
 * Request bodies the terminator holds in memory to hash them (a request
 * signed with an aws credential whose payload hash covers its body,
 * aws-request.ts), outside the sandbox's memory limit. One body may take
 * up to MAX_HASHED_BODY; all the run's tunnels together at most
 * MAX_HELD_BODIES: the command opens up to MAX_OPEN_CLIENTS connections,
 * and a body need not be signed to be read (the signature is checked once
 * it has been hashed), so without a limit on the sum a command that sent a
 * large body on each made isolate hold gigabytes. A body that would go
 * over the sum is refused (503; AWS clients retry); a client that uploads
 * parts in parallel (the aws CLI: 10 of 8 MiB) stays well within it.
 */
import type { IncomingMessage } from 'node:http';
import { MAX_HASHED_BODY } from './aws-request.js';

/** The most body bytes held at once by all the requests of a run's terminated tunnels. */
export const MAX_HELD_BODIES = 4 * MAX_HASHED_BODY;

/** A body read whole; `free` gives its bytes back to the sum (once the request is done with it). */
export type HeldBody = { body: Buffer; free: () => void } | 'too large' | 'over the sum' | 'failed';

export class HeldBodies {
  private held = 0;

  constructor(readonly max = MAX_HELD_BODIES) {}

  /**
   * The whole body of `req`: 'too large' when it is longer than
   * MAX_HASHED_BODY, 'over the sum' when the bodies held would be more
   * than `max` (the rest is not read), 'failed' when the client went away.
   */
  read(req: IncomingMessage): Promise<HeldBody> {
    return new Promise((resolve) => {
      const parts: Buffer[] = [];
      let size = 0;
      let settled = false;
      const settle = (outcome: HeldBody): void => {
        if (settled) return;
        settled = true;
        if (typeof outcome === 'string') this.held -= size;
        resolve(outcome);
      };
      req.on('data', (chunk: Buffer) => {
        if (settled) return;
        const over = size + chunk.length > MAX_HASHED_BODY ? 'too large' : this.held + chunk.length > this.max ? 'over the sum' : undefined;
        if (over !== undefined) {
          req.pause();
          settle(over);
          return;
        }
        size += chunk.length;
        this.held += chunk.length;
        parts.push(chunk);
      });
      req.once('end', () => {
        let freed = false;
        const free = (): void => {
          if (!freed) this.held -= size;
          freed = true;
        };
        settle({ body: Buffer.concat(parts), free });
      });
      req.once('error', () => settle('failed'));
      req.once('close', () => settle('failed'));
    });
  }

  /** Bytes held now. */
  get size(): number {
    return this.held;
  }
}
