/** Text the caller gives the command on stdin (ExecuteOptions.stdinText): written into the launcher's stdin pipe, which is then closed. */
import type { ChildProcess } from 'node:child_process';

/** Write `text` and close the pipe; a command that does not read it all ends the write (EPIPE), which is not an error of the run. */
export function writeStdinText(launcher: ChildProcess, text: string | undefined): void {
  const pipe = launcher.stdin;
  if (text === undefined || pipe === null) return;
  pipe.on('error', () => undefined);
  pipe.end(text);
}
