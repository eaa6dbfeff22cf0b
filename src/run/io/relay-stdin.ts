/**
 * The caller's stdin copied into the command's stdin pipe (caller-stdio.ts
 * says when): the command reads the same bytes, from where the caller's
 * descriptor stands, and never holds the file or terminal itself. A command
 * that stops reading ends the copy (EPIPE); the caller's descriptor stays
 * open. A terminal is read through process.stdin, which reads only while
 * the run lasts: a read of a terminal cannot be cancelled, and the next
 * program of the caller's gets the keys typed after it. So is a socket. A pipe is read as
 * soon as it has data, as ssh reads it: what it holds when the run starts
 * is the command's, whether it reads it or not.
 */
import type { ChildProcess } from 'node:child_process';
import { closeSync, constants, createReadStream, fstatSync, openSync } from 'node:fs';
import { Socket } from 'node:net';
import { isatty } from 'node:tty';

/**
 * Start copying the caller's terminal or socket on stdin into the launcher's stdin, through process.stdin (read
 * through the event loop, so a read that is waiting when the run ends keeps nothing waiting: a socket read by node's
 * thread pool would hold isolate's exit until its peer writes or closes); the returned function stops it.
 */
function relayProcessStdin(pipe: NonNullable<ChildProcess['stdin']>): () => void {
  const source = process.stdin;
  const stop = (): void => {
    source.unpipe(pipe);
    source.pause();
  };
  pipe.on('error', stop);
  // A terminal that hangs up fails its reads (EIO): the command's stdin ends, isolate does not crash.
  source.on('error', () => pipe.end());
  source.pipe(pipe);
  return () => {
    stop();
    pipe.destroy();
  };
}

/**
 * The caller's pipe on `fd` opened anew for reading without blocking (Linux: through /proc/self/fd), read through the
 * event loop: a read of the caller's descriptor itself would block a thread of node's pool until the pipe has data or
 * is closed, which a run that ends cannot cancel, and setting O_NONBLOCK on it would set it for every process that
 * shares it. Undefined when it cannot be opened so: the descriptor itself is read.
 */
function reopenedPipe(fd: number): Socket | undefined {
  if (process.platform !== 'linux') return undefined;
  let own: number | undefined;
  try {
    own = openSync(`/proc/self/fd/${fd}`, constants.O_RDONLY | constants.O_NONBLOCK);
    return new Socket({ fd: own, readable: true, writable: false });
  } catch {
    if (own !== undefined) closeSync(own);
    return undefined;
  }
}

/**
 * The launcher's stdin is a socket: ended, it would be closed at once, and a command that then writes to its stdin
 * (`echo x >&0`, harmless on the caller's pipe or file: EBADF) would die of SIGPIPE. So the end only sends the end
 * of the data (the command reads EOF), and the socket stays open, unread, until the run is over (the returned
 * function of relayStdin destroys it).
 */
function keepOpenAfterEnd(pipe: NonNullable<ChildProcess['stdin']>): void {
  (pipe as unknown as { _writableState: { autoDestroy: boolean } })._writableState.autoDestroy = false;
}

/** Start copying descriptor `fd` into the launcher's stdin; the returned function stops it. */
export function relayStdin(launcher: ChildProcess, fd = 0): () => void {
  const pipe = launcher.stdin;
  if (pipe === null) return () => undefined;
  keepOpenAfterEnd(pipe);
  const st = fstatSync(fd);
  if (fd === 0 && (isatty(0) || st.isSocket())) return relayProcessStdin(pipe);
  const source = (st.isFIFO() ? reopenedPipe(fd) : undefined) ?? createReadStream('', { fd, autoClose: false, highWaterMark: 256 * 1024 });
  pipe.on('error', () => source.destroy());
  source.on('error', () => pipe.end());
  source.pipe(pipe);
  return () => {
    source.unpipe(pipe);
    source.destroy();
    pipe.destroy();
  };
}
