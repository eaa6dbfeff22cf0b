/**
 * The command's stdout and stderr copied to the caller's (launch/
 * caller-stdio.ts says when): the command writes the same bytes and never
 * holds the caller's file or terminal. Each chunk is written as it comes,
 * through process.stdout or process.stderr, which write files and terminals
 * synchronously: the run's end is not reported before its output is out.
 * When the caller's descriptor fails (a full disk, a terminal hung up),
 * isolate stops reading, so the command's next write fails (EPIPE), as its
 * own write would have; but what the command wrote before that is lost, and
 * it may have ended content: the run then ends as isolate's failure (exit
 * 125, E_IO), never as a success with output silently missing.
 */
import type { ChildProcess } from 'node:child_process';
import type { Socket } from 'node:net';
import type { Readable, Writable } from 'node:stream';
import { IsolateError, errnoCode } from '../../errors.js';
import { TerminalFilter, closeWhenDone } from '../tty/filter.js';
import { HELD_OUTPUT_GRACE_MS } from './held-output.js';

export interface OutputRelay {
  /** Resolves once every relayed stream has ended; a stream some escaped process holds (`leaky`) is cut HELD_OUTPUT_GRACE_MS after the launcher's end. */
  finished(leaky: boolean): Promise<void>;
  /** The first failure to write the caller's stdout or stderr, as an error for the run; undefined when all was written. */
  failure(): IsolateError | undefined;
}

const NAMES = { 1: 'stdout', 2: 'stderr' } as const;

/** The caller's stream of descriptor `fd`. */
const callerStream = (fd: 1 | 2): Writable => (fd === 1 ? process.stdout : process.stderr);

/** Where copy() records the first failure. */
interface Failures {
  first?: IsolateError;
}

/** Copy `from` to the caller's descriptor `fd`, through `filter` when given (a terminal's: launch/caller-stdio.ts). */
function copy(from: Readable, fd: 1 | 2, failures: Failures, filter: TerminalFilter | undefined): void {
  const to = callerStream(fd);
  const failed = (e: unknown): void => {
    failures.first ??= new IsolateError('E_IO', `cannot write the command's ${NAMES[fd]}: ${errnoCode(e) ?? String(e)}; its output is incomplete`, {
      fix: `make room where ${NAMES[fd]} goes (a full disk?), or give the command a pipe there`,
      cause: e,
    });
    from.destroy();
  };
  to.on('error', failed);
  // A socket there is written asynchronously: while it is full, the command's end is not read, so the command waits
  // as it would on the socket itself, and isolate holds no more than a chunk.
  from.on('data', (chunk: Buffer) => {
    const data = filter === undefined ? chunk : filter.push(chunk);
    if (data.length === 0 || to.write(data)) return;
    from.pause();
    to.once('drain', () => from.resume());
  });
  closeWhenDone(from, filter, (rest) => to.write(rest));
  from.on('error', () => undefined);
  from.once('close', () => to.off('error', failed));
}

/** A stream that has closed, or is made to HELD_OUTPUT_GRACE_MS from now when `cut`. */
function closed(stream: Readable, cut: boolean): Promise<void> {
  if (stream.closed) return Promise.resolve();
  return new Promise<void>((resolve) => {
    const timer = cut ? setTimeout(() => stream.destroy(), HELD_OUTPUT_GRACE_MS) : undefined;
    stream.once('close', () => {
      clearTimeout(timer);
      resolve();
    });
  });
}

/**
 * Start copying the launcher's relayed stdout and stderr (or the one `shared` socket, to stdout) to the caller's;
 * those in `filtered` (terminals) through an escape filter each.
 */
export function relayOutput(launcher: ChildProcess, outputs: readonly (1 | 2)[], shared: Socket | undefined, filtered: readonly (1 | 2)[] = []): OutputRelay {
  const failures: Failures = {};
  const failure = (): IsolateError | undefined => failures.first;
  const filterOf = (fd: 1 | 2): TerminalFilter | undefined => (filtered.includes(fd) ? new TerminalFilter() : undefined);
  if (shared !== undefined) {
    copy(shared, 1, failures, filterOf(1));
    shared.resume();
    // The launcher's own pipes (launcher.stdio) are waited for by its 'close'; this socket is not one of them.
    return { finished: (leaky) => closed(shared, leaky), failure };
  }
  for (const fd of outputs) {
    const stream = launcher.stdio[fd] as Readable | null | undefined;
    if (stream) copy(stream, fd, failures, filterOf(fd));
  }
  return { finished: () => Promise.resolve(), failure };
}
