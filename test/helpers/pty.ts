/**
 * A real terminal for the terminal tests (pty-drive.py): the test plays keys,
 * window changes and waits on it, and reads every byte the terminal received,
 * its modes before, during and after, and what was left in its input. The
 * async form lets a file drive several terminals at once.
 */
import { spawn, spawnSync } from 'node:child_process';
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
  const { args, limitMs } = driverCall(argv, options);
  const r = spawnSync('python3', args, { encoding: 'utf8', timeout: limitMs, killSignal: 'SIGKILL' });
  return driven(r.status, r.signal, r.stdout, r.stderr);
}

/** onTerminal without blocking the test: several terminals can be driven at once. */
export function onTerminalAsync(argv: readonly string[], options: DriveOptions): Promise<TerminalRun> {
  const { args, limitMs } = driverCall(argv, options);
  return new Promise((resolve, reject) => {
    const child = spawn('python3', args, { stdio: ['ignore', 'pipe', 'pipe'], timeout: limitMs, killSignal: 'SIGKILL' });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', reject);
    child.on('close', (status, signal) => {
      try {
        resolve(driven(status, signal, stdout, stderr));
      } catch (e) {
        reject(e instanceof Error ? e : new Error(String(e)));
      }
    });
  });
}

/** The driver's arguments for a run, and how long the driver itself may take (its own limit plus 30 s). */
function driverCall(argv: readonly string[], options: DriveOptions): { args: string[]; limitMs: number } {
  const timeout = options.timeoutSeconds ?? 60;
  const spec = { argv, env: options.env, cwd: options.cwd, rows: 30, cols: 100, timeout, steps: options.steps ?? [] };
  return { args: [DRIVER, JSON.stringify(spec)], limitMs: (timeout + 30) * 1000 };
}

/** What the driver reported, or why it failed. */
function driven(status: number | null, signal: NodeJS.Signals | null, stdout: string, stderr: string): TerminalRun {
  if (status !== 0) throw new Error(`the terminal driver failed (${String(status ?? signal)}): ${stderr}`);
  const parsed = JSON.parse(stdout) as Omit<TerminalRun, 'output'> & { output: string };
  return { ...parsed, output: Buffer.from(parsed.output, 'base64').toString('latin1') };
}

/** Whether python3, which the driver needs, is here. */
export function haveDriver(): boolean {
  return spawnSync('python3', ['-c', 'import pty'], { stdio: 'ignore' }).status === 0;
}
