/**
 * The bodies the terminator reads into memory to hash them (held-bodies.ts):
 * one at most MAX_HASHED_BODY, all of a run's tunnels together at most the
 * sum. A body need not be signed to be read, so a command that sent a large
 * body on each of its connections made isolate hold gigabytes outside the
 * sandbox's memory limit.
 */
import type { IncomingMessage } from 'node:http';
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { MAX_HASHED_BODY } from '../../src/network/credentials/aws-request.js';
import { HeldBodies, MAX_HELD_BODIES } from '../../src/network/credentials/held-bodies.js';

const KiB = 1024;
const request = (): PassThrough & IncomingMessage => new PassThrough() as unknown as PassThrough & IncomingMessage;
const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('held bodies', () => {
  it('a body that would take the sum over its limit is refused while others are held, and read again once they are freed', async () => {
    const held = new HeldBodies(1024 * KiB);
    const first = request();
    const reading = held.read(first);
    first.write(Buffer.alloc(600 * KiB));
    await tick();
    const second = request();
    const refused = held.read(second);
    second.write(Buffer.alloc(600 * KiB));
    expect(await refused).toBe('over the sum');
    expect(held.size).toBe(600 * KiB);
    first.end();
    const r = await reading;
    if (typeof r === 'string') throw new Error(r);
    expect(r.body.length).toBe(600 * KiB);
    r.free();
    r.free();
    expect(held.size).toBe(0);
    const third = request();
    const again = held.read(third);
    third.end(Buffer.alloc(600 * KiB));
    expect(typeof (await again)).toBe('object');
  });

  it('gives back what a refused, too large or abandoned body had taken', async () => {
    const held = new HeldBodies();
    const big = request();
    const tooLarge = held.read(big);
    big.write(Buffer.alloc(MAX_HASHED_BODY));
    big.write(Buffer.alloc(1));
    expect(await tooLarge).toBe('too large');
    const gone = request();
    const failed = held.read(gone);
    gone.write(Buffer.alloc(KiB));
    await tick();
    gone.destroy();
    expect(await failed).toBe('failed');
    expect(held.size).toBe(0);
  });

  it('by default holds at most four bodies of the largest size at once', () => {
    expect(MAX_HELD_BODIES).toBe(4 * MAX_HASHED_BODY);
    expect(new HeldBodies().max).toBe(MAX_HELD_BODIES);
  });
});
