import type { ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { PassThrough } from 'node:stream';
import type { ReadStream, WriteStream } from 'node:tty';
import { describe, expect, it } from 'vitest';
import { relayTerminal } from '../../src/run/tty/relay.js';

/** A terminal as the relay sees it: raw mode switched and counted, a size, keys to type. */
function fakeTerminal(): { input: ReadStream & PassThrough; output: WriteStream & PassThrough; modes: boolean[] } {
  const modes: boolean[] = [];
  const input = Object.assign(new PassThrough(), { isTTY: true, setRawMode: (on: boolean) => modes.push(on) }) as unknown as ReadStream & PassThrough;
  const output = Object.assign(new PassThrough(), { rows: 30, columns: 100 }) as unknown as WriteStream & PassThrough;
  return { input, output, modes };
}

function fakeLauncher(): { child: ChildProcess; pipes: PassThrough[] } {
  const pipes = [0, 1, 2, 3, 4, 5, 6].map(() => new PassThrough());
  const child = Object.assign(new EventEmitter(), { stdio: pipes, stdin: pipes[0], stdout: pipes[1], stderr: pipes[2] }) as unknown as ChildProcess;
  return { child, pipes };
}

const read = (s: PassThrough): string => {
  const chunks: Buffer[] = [];
  let c: Buffer | null;
  while ((c = s.read() as Buffer | null) !== null) chunks.push(c);
  return Buffer.concat(chunks).toString('latin1');
};

describe('the terminal relay', () => {
  it('sends the size at the start and on every resize, relays keys in and filtered output out, and restores raw mode once on stop', () => {
    const t = fakeTerminal();
    const errors = new PassThrough();
    const { child, pipes } = fakeLauncher();
    const stop = relayTerminal(child, 6, { input: t.input, output: t.output, errors }, false);
    expect(t.modes).toEqual([true]);
    expect(read(pipes[6] as PassThrough)).toBe('30 100\n');
    Object.assign(t.output, { rows: 40, columns: 120 });
    t.output.emit('resize');
    expect(read(pipes[6] as PassThrough)).toBe('40 120\n');
    t.input.write('ls\r\x03');
    (pipes[1] as PassThrough).write('out\x1b]52;c;eA==\x07put');
    (pipes[2] as PassThrough).write('err\x1b[6n');
    return new Promise<void>((done) => {
      setImmediate(() => {
        expect(read(pipes[0] as PassThrough)).toBe('ls\r\x03');
        expect(read(t.output)).toBe('output');
        expect(read(errors)).toBe('err');
        t.output.emit('error', new Error('EIO'));
        stop();
        stop();
        expect(t.modes).toEqual([true, false]);
        done();
      });
    });
  });

  it('--raw-terminal passes every byte', () => {
    const t = fakeTerminal();
    const { child, pipes } = fakeLauncher();
    const stop = relayTerminal(child, 6, { input: t.input, output: t.output, errors: new PassThrough() }, true);
    (pipes[1] as PassThrough).write('a\x1b]52;c;eA==\x07b');
    return new Promise<void>((done) => {
      setImmediate(() => {
        expect(read(t.output)).toBe('a\x1b]52;c;eA==\x07b');
        stop();
        done();
      });
    });
  });
});
