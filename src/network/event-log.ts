/**
 * The connection attempts a run's proxy saw, for the run report and the
 * audit log. A command can make thousands a second (each refused at once):
 * the first MAX_NETWORK_EVENTS are kept whole, the rest only counted, so a
 * flood costs isolate neither memory nor an unbounded audit record.
 */
import type { NetworkEvent } from './proxy.js';

export const MAX_NETWORK_EVENTS = 1000;

export interface NetworkEventCounts {
  allowed: number;
  denied: number;
}

export class NetworkEventLog {
  readonly events: NetworkEvent[] = [];
  /** Attempts seen after the first MAX_NETWORK_EVENTS, by decision. */
  readonly omitted: NetworkEventCounts = { allowed: 0, denied: 0 };

  add(event: NetworkEvent): void {
    if (this.events.length < MAX_NETWORK_EVENTS) this.events.push(event);
    else this.omitted[event.decision]++;
  }

  /** Whether any attempt was only counted. */
  get cut(): boolean {
    return this.omitted.allowed + this.omitted.denied > 0;
  }
}
