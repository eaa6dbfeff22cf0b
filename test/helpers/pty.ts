/**
 * A real terminal for the terminal tests (pty-drive.py): the test plays keys,
 * window changes and waits on it, and reads every byte the terminal received,
 * its modes before, during and after, and what was left in its input.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const DRIVER = fileURLToPath(new URL('./pty-drive.py', import.meta.url));

export type Step = { expect: string } | { send: string } | { resize: [number, number] } | { sleep: number } | { signal: number } | { modes: true };

export interface TerminalRun {
  /** The exit code, -N for signal N, null when the driver killed the program at its time limit. */
  status: number | null;
  /** Every byte the terminal received, as latin1 (one character a byte). */
  output: string;
  before: unknown;
  during: unknown[];
  after: unknown;
  /** Bytes waiting in the terminal's input after the program ended (typed into it by someone other than the user). */
  pending: number;
  failed: Step | null;
}

export interface DriveOptions {
  cwd: string;
  env: Record<string, string>;
  steps?: Step[];
  timeoutSeconds?: number;
}

/** Run `argv` on a new terminal (30 rows, 100 columns) and play `steps`; the program is stopped before this returns. */
export function onTerminal(argv: readonly string[], options: DriveOptions): TerminalRun {
  const timeout = options.timeoutSeconds ?? 60;
  const spec = { argv, env: options.env, cwd: options.cwd, rows: 30, cols: 100, timeout, steps: options.steps ?? [] };
  const r = spawnSync('python3', [DRIVER, JSON.stringify(spec)], { encoding: 'utf8', timeout: (timeout + 30) * 1000, killSignal: 'SIGKILL' });
  if (r.status !== 0) throw new Error(`the terminal driver failed (${String(r.status ?? r.signal)}): ${r.stderr}`);
  const parsed = JSON.parse(r.stdout) as Omit<TerminalRun, 'output'> & { output: string };
  return { ...parsed, output: Buffer.from(parsed.output, 'base64').toString('latin1') };
}

/** Whether python3, which the driver needs, is here. */
export function haveDriver(): boolean {
  return spawnSync('python3', ['-c', 'import pty'], { stdio: 'ignore' }).status === 0;
}
