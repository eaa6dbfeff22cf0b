import { describe, expect, it } from 'vitest';
import { MAX_NETWORK_EVENTS, NetworkEventLog } from '../../src/network/event-log.js';
import type { NetworkEvent } from '../../src/network/proxy.js';

const event = (i: number, decision: NetworkEvent['decision']): NetworkEvent => ({
  time: new Date(0).toISOString(),
  protocol: 'http',
  host: `h${i}.test`,
  port: 80,
  decision,
  rule: null,
  reason: 'r',
  bytesUp: 0,
  bytesDown: 0,
  durationMs: 0,
});

describe('NetworkEventLog: a flood of attempts', () => {
  it('keeps the first attempts whole and counts the rest by decision', () => {
    const log = new NetworkEventLog();
    for (let i = 0; i < MAX_NETWORK_EVENTS; i++) log.add(event(i, 'denied'));
    expect(log.cut).toBe(false);
    for (let i = 0; i < 50_000; i++) log.add(event(i, i % 5 === 0 ? 'allowed' : 'denied'));
    expect(log.events).toHaveLength(MAX_NETWORK_EVENTS);
    expect(log.events[0]?.host).toBe('h0.test');
    expect(log.omitted).toEqual({ allowed: 10_000, denied: 40_000 });
    expect(log.cut).toBe(true);
  });
});
