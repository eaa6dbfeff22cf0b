/** The MCP server's parts that need no sandbox: the concurrency limit, the calls in flight, capped output, the command of a call, progress. */
import { describe, expect, it, vi } from 'vitest';
import { Calls } from '../../src/mcp/calls.js';
import { marked } from '../../src/mcp/output.js';
import { reportProgress } from '../../src/mcp/progress.js';
import { commandOf } from '../../src/mcp/run-tool.js';
import { MAX_WAITING_TEXT, Slots, WAIT_COST } from '../../src/mcp/slots.js';

const tick = (): Promise<void> => new Promise((r) => setTimeout(r, 0));

describe('the concurrency limit', () => {
  it('lets `size` calls in and the next ones in order as slots free', async () => {
    const slots = new Slots(2);
    const never = new AbortController().signal;
    const order: number[] = [];
    const frees = await Promise.all([slots.take(never), slots.take(never)]);
    const third = slots.take(never).then((free) => (order.push(3), free));
    const fourth = slots.take(never).then((free) => (order.push(4), free));
    await tick();
    expect(order).toEqual([]);
    frees[0]?.();
    frees[0]?.(); // freeing twice frees one slot
    await tick();
    expect(order).toEqual([3]);
    frees[1]?.();
    await tick();
    expect(order).toEqual([3, 4]);
    (await third)();
    (await fourth)();
  });

  it('a call cancelled while it waits leaves the queue without a slot', async () => {
    const slots = new Slots(1);
    const free = await slots.take(new AbortController().signal);
    const c = new AbortController();
    const waiting = slots.take(c.signal);
    c.abort();
    await expect(waiting).rejects.toMatchObject({ code: 'E_CANCELLED' });
    free();
    const again = await slots.take(new AbortController().signal);
    again();
    await expect(slots.take(AbortSignal.abort())).rejects.toMatchObject({ code: 'E_CANCELLED' });
  });

  it('refuses a call that would wait beyond the bound on the stdin text the waiting calls hold, and takes calls again as the queue drains', async () => {
    const slots = new Slots(1);
    const never = new AbortController().signal;
    const free = await slots.take(never, MAX_WAITING_TEXT); // a running call's text is not the queue's
    const big = Math.floor(MAX_WAITING_TEXT / 3);
    const waiting = [slots.take(never, big), slots.take(never, big)];
    await expect(slots.take(never, big)).rejects.toMatchObject({ code: 'E_BUSY', message: expect.stringContaining('waiting') });
    // Each waiting call counts, stdin or not: a burst of small calls is bounded too.
    const small: Promise<() => void>[] = [];
    const room = Math.floor((MAX_WAITING_TEXT - 2 * (big + WAIT_COST)) / WAIT_COST);
    for (let i = 0; i < room; i++) small.push(slots.take(never));
    await expect(slots.take(never)).rejects.toMatchObject({ code: 'E_BUSY' });
    free();
    for (const w of [...waiting, ...small]) (await w)();
    (await slots.take(never, big))();
    const again = await slots.take(never);
    const queued = slots.take(never, big); // the queue's bound is free again
    again();
    (await queued)();
  });
});

describe('the calls in flight', () => {
  it("aborts a call when its client cancels it, and every call at the end, and waits for them", async () => {
    const calls = new Calls();
    const client = new AbortController();
    const seen: string[] = [];
    const work = (name: string) => (signal: AbortSignal) =>
      new Promise<string>((resolve) => signal.addEventListener('abort', () => setTimeout(() => (seen.push(name), resolve(name)), 10)));
    const a = calls.track(client.signal, work('a'));
    const b = calls.track(new AbortController().signal, work('b'));
    expect(calls.size).toBe(2);
    client.abort();
    expect(await a).toBe('a');
    expect(calls.size).toBe(1);
    await calls.endAll();
    expect(seen).toEqual(['a', 'b']);
    expect(await b).toBe('b');
    // After the end, a new call starts aborted.
    expect(await calls.track(new AbortController().signal, async (s) => s.aborted)).toBe(true);
  });
});

describe('capped output', () => {
  it('is left alone when whole, and marked with what was kept of how much when cut', () => {
    expect(marked('stdout', { text: 'abc', bytes: 3, truncated: false }, 10)).toBe('abc');
    expect(marked('stdout', { text: 'abcdefghij', bytes: 5000, truncated: true }, 10)).toBe('abcdefghij\n[isolate: stdout truncated: the first 10 of 5000 bytes are shown]\n');
    expect(marked('stderr', { text: 'line\n', bytes: 99, truncated: true }, 5)).toBe('line\n[isolate: stderr truncated: the first 5 of 99 bytes are shown]\n');
  });
});

describe('the command of a call', () => {
  it('runs a shell string with /bin/sh -c and an argv as it is; exactly one of them', () => {
    expect(commandOf({ command: 'npm test && git push' })).toEqual(['/bin/sh', '-c', 'npm test && git push']);
    expect(commandOf({ argv: ['git', 'status'] })).toEqual(['git', 'status']);
    expect(() => commandOf({})).toThrow(/either command/);
    expect(() => commandOf({ command: 'x', argv: ['y'] })).toThrow(/either command/);
  });
});

describe('progress', () => {
  it('is sent every second after the first, only when the client gave a token, until stopped', async () => {
    vi.useFakeTimers();
    try {
      const sent: unknown[] = [];
      const sendNotification = async (n: unknown): Promise<void> => void sent.push(n);
      const stop = reportProgress({ progressToken: 7, sendNotification });
      vi.advanceTimersByTime(999);
      expect(sent).toEqual([]);
      vi.advanceTimersByTime(2001);
      expect(sent).toEqual([
        { method: 'notifications/progress', params: { progressToken: 7, progress: 1, message: 'running for 1s' } },
        { method: 'notifications/progress', params: { progressToken: 7, progress: 2, message: 'running for 2s' } },
        { method: 'notifications/progress', params: { progressToken: 7, progress: 3, message: 'running for 3s' } },
      ]);
      stop();
      vi.advanceTimersByTime(5000);
      expect(sent).toHaveLength(3);
      reportProgress({ progressToken: undefined, sendNotification });
      vi.advanceTimersByTime(5000);
      expect(sent).toHaveLength(3);
    } finally {
      vi.useRealTimers();
    }
  });
});
