/** A terminated tunnel's requests, sent on one at a time; too many waiting close the tunnel. */
import { EventEmitter } from 'node:events';
import type { ServerResponse } from 'node:http';
import { describe, expect, it } from 'vitest';
import { MAX_PIPELINED, SerialRequests } from '../../src/network/credentials/serial-requests.js';

const answer = (): ServerResponse => new EventEmitter() as unknown as ServerResponse;

describe('SerialRequests', () => {
  it('starts the next request once the answer before it is done, in order', () => {
    const started: number[] = [];
    const serial = new SerialRequests(() => expect.unreachable());
    const answers = [answer(), answer(), answer()];
    answers.forEach((res, i) => serial.run(res, () => started.push(i)));
    expect(started).toEqual([0]);
    answers[0]?.emit('close');
    expect(started).toEqual([0, 1]);
    answers[1]?.emit('close');
    answers[2]?.emit('close');
    expect(started).toEqual([0, 1, 2]);
    serial.run(answer(), () => started.push(3));
    expect(started).toEqual([0, 1, 2, 3]);
  });

  it(`closes the tunnel when more than ${MAX_PIPELINED} wait; none of them starts after`, () => {
    let overflows = 0;
    const started: number[] = [];
    const serial = new SerialRequests(() => overflows++);
    const first = answer();
    serial.run(first, () => started.push(0));
    for (let i = 1; i <= MAX_PIPELINED + 1; i++) serial.run(answer(), () => started.push(i));
    expect(overflows).toBe(1);
    first.emit('close');
    expect(started).toEqual([0]);
  });
});
