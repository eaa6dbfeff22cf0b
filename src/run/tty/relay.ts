/**
 * isolate's side of a terminal of its own (Plan.terminal): the user's
 * terminal stays outside the sandbox. Keys go from it, in raw mode
 * (mode.ts), to the launcher's stdin pipe; the launcher's stdout and stderr
 * come back through the filter (filter.ts) unless --raw-terminal; the window
 * size goes on the control pipe at the start and on every change ('resize',
 * from SIGWINCH), as "rows cols\n".
 */
import type { ChildProcess } from 'node:child_process';
import type { Readable, Writable } from 'node:stream';
import type { ReadStream, WriteStream } from 'node:tty';
import { TerminalFilter, closeWhenDone } from './filter.js';
import { enterRawMode } from './mode.js';

export interface TerminalIo {
  input: ReadStream;
  output: WriteStream;
  errors: Writable;
}

/** The size a terminal that does not say has (VT100's). */
const DEFAULT_SIZE = { rows: 24, columns: 80 };

function sizeLine(output: WriteStream): string {
  const rows = output.rows > 0 ? output.rows : DEFAULT_SIZE.rows;
  const columns = output.columns > 0 ? output.columns : DEFAULT_SIZE.columns;
  return `${rows} ${columns}\n`;
}

/** Copy `from` to `to`, through a filter of its own unless `raw`. */
function relayOut(from: Readable | null, to: Writable, raw: boolean): void {
  const filter = raw ? undefined : new TerminalFilter();
  from?.on('data', (chunk: Buffer) => {
    const data = filter === undefined ? chunk : filter.push(chunk);
    if (data.length > 0) to.write(data);
  });
  if (from !== null) closeWhenDone(from, filter, (rest) => to.write(rest));
  from?.on('error', () => undefined);
}

/** Start relaying; the returned function stops reading the user's terminal and restores its modes. */
export function relayTerminal(launcher: ChildProcess, controlFd: number, io: TerminalIo, raw: boolean): () => void {
  const control = launcher.stdio[controlFd] as Writable | null | undefined;
  const restore = enterRawMode(io.input);
  // A terminal that hangs up fails its reads and writes (EIO): the run goes on to its end (SIGHUP is forwarded), isolate does not crash.
  const ignore = (): void => undefined;
  for (const s of [io.input, io.output, io.errors]) s.on('error', ignore);
  control?.on('error', () => undefined);
  control?.write(sizeLine(io.output));
  const onResize = (): void => void control?.write(sizeLine(io.output));
  io.output.on('resize', onResize);
  const stdin = launcher.stdin;
  stdin?.on('error', () => undefined);
  let stopped = false;
  // A command that does not read: keys wait in the user's terminal, not in isolate's memory.
  const onKeys = (chunk: Buffer): void => {
    if (stdin?.write(chunk) === false) {
      io.input.pause();
      stdin.once('drain', () => {
        if (!stopped) io.input.resume();
      });
    }
  };
  io.input.on('data', onKeys);
  io.input.resume();
  relayOut(launcher.stdout, io.output, raw);
  relayOut(launcher.stderr, io.errors, raw);
  return () => {
    stopped = true;
    io.output.off('resize', onResize);
    io.input.off('data', onKeys);
    io.input.pause();
    for (const s of [io.input, io.output, io.errors]) s.off('error', ignore);
    restore();
    control?.destroy();
  };
}
