/**
 * The caller's stdin copied into the command's stdin pipe (caller-stdio.ts
 * says when): the command reads the same bytes, from where the caller's
 * descriptor stands, and never holds the file or terminal itself. A command
 * that stops reading ends the copy (EPIPE); the caller's descriptor stays
 * open. A terminal is read through process.stdin, which reads only while
 * the run lasts: a read of a terminal cannot be cancelled, and the next
 * program of the caller's gets the keys typed after it.
 */
import type { ChildProcess } from 'node:child_process';
import { createReadStream } from 'node:fs';
import { isatty } from 'node:tty';

/** Start copying the caller's terminal on stdin into the launcher's stdin; the returned function stops it. */
function relayTerminalStdin(pipe: NonNullable<ChildProcess['stdin']>): () => void {
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

/** Start copying descriptor `fd` into the launcher's stdin; the returned function stops it. */
export function relayStdin(launcher: ChildProcess, fd = 0): () => void {
  const pipe = launcher.stdin;
  if (pipe === null) return () => undefined;
  if (fd === 0 && isatty(0)) return relayTerminalStdin(pipe);
  const source = createReadStream('', { fd, autoClose: false, highWaterMark: 256 * 1024 });
  pipe.on('error', () => source.destroy());
  source.on('error', () => pipe.end());
  source.pipe(pipe);
  return () => {
    source.unpipe(pipe);
    source.destroy();
    pipe.destroy();
  };
}
