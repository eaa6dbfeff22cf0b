/**
 * The user's terminal in raw mode for the run, so that every key reaches the
 * command's own terminal as typed (Ctrl-C, Ctrl-Z and Ctrl-D act there, as
 * over `ssh -t`), and always put back as it was: by the run's end however
 * it ends (the relay's stop), and at isolate's exit as the last resort.
 * libuv keeps the terminal's modes from before raw mode and restores exactly
 * those.
 */
import type { ReadStream } from 'node:tty';

/** Raw mode on `input`; the returned function restores it (at most once). */
export function enterRawMode(input: ReadStream): () => void {
  if (!input.isTTY) return () => undefined;
  let restored = false;
  const restore = (): void => {
    if (restored) return;
    restored = true;
    try {
      input.setRawMode(false);
    } catch {
      // The terminal is gone (hung up): nothing to restore.
    }
  };
  try {
    input.setRawMode(true);
  } catch {
    // A terminal that refuses its modes (hung up): the run goes on with the terminal as it is.
    return () => undefined;
  }
  process.once('exit', restore);
  return () => {
    process.off('exit', restore);
    restore();
  };
}
