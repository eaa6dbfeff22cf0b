/**
 * A helper run/ reads from (ps, log show): nothing on its stdin, its output
 * read into memory up to a bound (it is killed when it writes more), killed
 * when it takes longer than its time. Never rejects.
 */
import { processStarter, type ProcessEnd, type Started } from '../../process.js';
import { capture } from './capture.js';

export interface HelperOptions {
  env: Readonly<Record<string, string>>;
  timeoutMs: number;
  maxStdout: number;
  /** Default 4 KiB; more is dropped, the helper is not stopped for it. */
  maxStderr?: number;
}

export interface HelperResult extends ProcessEnd {
  stdout: string;
  stderr: string;
  /** It wrote more than maxStdout and was killed: stdout is cut there. */
  truncated: boolean;
  timedOut: boolean;
}

export async function runHelper(file: string, args: readonly string[], options: HelperOptions): Promise<HelperResult> {
  let started: Started;
  try {
    started = (await processStarter())(file, args, { env: options.env, cwd: '/', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (e: unknown) {
    const spawnError = e instanceof Error ? e : new Error(String(e));
    return { exitCode: null, signal: null, spawnError, stdout: '', stderr: '', truncated: false, timedOut: false };
  }
  const { child, ended } = started;
  const out = capture(child.stdout, options.maxStdout, () => child.kill('SIGKILL'));
  const err = capture(child.stderr, options.maxStderr ?? 4096);
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    child.kill('SIGKILL');
  }, options.timeoutMs);
  const end = await ended;
  clearTimeout(timer);
  return { ...end, stdout: out.text(), stderr: err.text(), truncated: out.truncated(), timedOut };
}
