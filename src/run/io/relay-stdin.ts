/**
 * The caller's stdin copied into the command's stdin pipe (caller-stdio.ts
 * says when): the command reads the same bytes, from where the caller's
 * descriptor stands, and never holds the file itself. A command that stops
 * reading ends the copy (EPIPE); the caller's descriptor stays open.
 */
import type { ChildProcess } from 'node:child_process';
import { createReadStream } from 'node:fs';

/** Start copying descriptor `fd` into the launcher's stdin; the returned function stops it. */
export function relayStdin(launcher: ChildProcess, fd = 0): () => void {
  const pipe = launcher.stdin;
  if (pipe === null) return () => undefined;
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
