/**
 * The command's stdout and stderr copied to the caller's (launch/
 * caller-stdio.ts says when): the command writes the same bytes and never
 * holds the caller's file or terminal. Each chunk is written as it comes,
 * through process.stdout or process.stderr, which write files and terminals
 * synchronously: the run's end is not reported before its output is out.
 * When the caller's descriptor fails (a full disk, a terminal hung up),
 * isolate stops reading, so the command's next write fails (EPIPE), as its
 * own write would have.
 */
import type { ChildProcess } from 'node:child_process';
import type { Socket } from 'node:net';
import type { Readable, Writable } from 'node:stream';
import { HELD_OUTPUT_GRACE_MS } from './held-output.js';

export interface OutputRelay {
  /** Resolves once every relayed stream has ended; a stream some escaped process holds (`leaky`) is cut HELD_OUTPUT_GRACE_MS after the launcher's end. */
  finished(leaky: boolean): Promise<void>;
}

/** The caller's stream of descriptor `fd`. */
const callerStream = (fd: 1 | 2): Writable => (fd === 1 ? process.stdout : process.stderr);

function copy(from: Readable, to: Writable): void {
  const failed = (): void => void from.destroy();
  to.on('error', failed);
  from.on('data', (chunk: Buffer) => to.write(chunk));
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

/** Start copying the launcher's relayed stdout and stderr (or the one `shared` socket, to stdout) to the caller's. */
export function relayOutput(launcher: ChildProcess, outputs: readonly (1 | 2)[], shared: Socket | undefined): OutputRelay {
  if (shared !== undefined) {
    copy(shared, callerStream(1));
    shared.resume();
    // The launcher's own pipes (launcher.stdio) are waited for by its 'close'; this socket is not one of them.
    return { finished: (leaky) => closed(shared, leaky) };
  }
  for (const fd of outputs) {
    const stream = launcher.stdio[fd] as Readable | null | undefined;
    if (stream) copy(stream, callerStream(fd));
  }
  return { finished: () => Promise.resolve() };
}
