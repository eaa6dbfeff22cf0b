/**
 * The one way isolate starts a process: the sandbox's launcher (run/), the
 * helpers run/ reads from (ps, log show: run/io/helper.ts) and the host
 * probes (host/). The helpers go through execa, with each of execa's
 * defaults that differ from isolate's needs chosen here, once:
 *
 * - env is exactly the one given (extendEnv: false): a launcher starts with
 *   the plan's launcherEnv, never with a variable of isolate's own.
 * - reject: false: a status other than 0 is data; run/ maps exit codes itself.
 * - buffer: false: output is streamed, or captured by run/ up to a cap
 *   (io/capture.ts), never held whole (a command may write gigabytes).
 *   stripFinalNewline: false: the output is the command's.
 * - cleanup: false: no exit hook. execa's would install signal handlers in
 *   the process of a program that uses the API; the sandbox ends with
 *   isolate by the launcher's own means (bwrap --die-with-parent, nsjail's
 *   and the process group's kill in run/), which a SIGKILL cannot skip.
 * - forceKillAfterDelay: false: run/'s timeout decides when SIGKILL follows.
 * - verbose: 'none', also under NODE_DEBUG=execa (it would print argv and output).
 *
 * execa is loaded on first use, by the commands that start a process: it
 * costs tens of milliseconds to load (docs/performance.md).
 *
 * The host probes are synchronous (host facts are gathered synchronously,
 * also by doctor), and a synchronous function cannot load execa on demand:
 * probeSync uses node's spawnSync, with the same choices.
 *
 * The sandbox's launcher is started with node's spawn (startLauncherProcess),
 * with the same choices made by hand, because execa costs every run more than
 * the sandbox itself: it normalises each stdio slot against every other one
 * (lib/stdio/duplicate.js, quadratic in the slots), and a launcher gets one
 * slot per protected path (fds 6 to about 90 in a project that has none of the
 * protected names): 36 ms of CPU per run, measured with --cpu-prof, beside
 * loading execa itself (docs/performance.md).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import type { Socket } from 'node:net';

/** One descriptor of a started process: a pipe to isolate, the caller's, none, a descriptor isolate holds, or one end of a socket pair of isolate's. */
export type StdioSlot = 'pipe' | 'inherit' | 'ignore' | number | Socket;

export interface StartOptions {
  /** The whole environment of the process. */
  env: Readonly<Record<string, string>>;
  cwd: string;
  /** Descriptor n of the process is stdio[n]; nothing else is passed (see run/inherited-fds.ts). */
  stdio: readonly StdioSlot[];
  /** In a new session, so it leads a new process group (setsid). */
  detached?: boolean;
}

/** How a process ended: its status, or the signal that killed it, or why it never ran. */
export interface ProcessEnd {
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  /** It could not be started (ENOENT, EACCES, ...). */
  spawnError?: Error;
}

export interface Started {
  /** pid, stdio[n] (the pipes), kill(), and the 'exit' event (before its pipes have closed). */
  child: ChildProcess;
  /** Once it has exited and every pipe of it has closed. Never rejects. */
  ended: Promise<ProcessEnd>;
}

export type StartProcess = (file: string, args: readonly string[], options: StartOptions) => Started;

/** What execa resolves with (reject: false), as far as isolate reads it. */
interface ExecaEnd {
  exitCode?: number;
  signal?: NodeJS.Signals;
  cause?: unknown;
  message?: string;
}

type Execa = (file: string, args: readonly string[], options: Record<string, unknown>) => ChildProcess & Promise<ExecaEnd>;

const DEFAULTS = {
  extendEnv: false,
  reject: false,
  cleanup: false,
  forceKillAfterDelay: false,
  stripFinalNewline: false,
  verbose: 'none',
  windowsHide: true,
} as const;

let loading: Promise<Execa> | undefined;

function loadExeca(): Promise<Execa> {
  loading ??= import('execa').then((m) => m.execa as unknown as Execa);
  return loading;
}

function endOf(r: ExecaEnd): ProcessEnd {
  const exitCode = r.exitCode ?? null;
  const signal = r.signal ?? null;
  if (exitCode !== null || signal !== null) return { exitCode, signal };
  // Neither a status nor a signal: it never ran.
  const spawnError = r.cause instanceof Error ? r.cause : new Error(r.message ?? 'the process could not be started');
  return { exitCode: null, signal: null, spawnError };
}

/**
 * Load execa, then start processes with the function returned, synchronously
 * (run/ lists the descriptors it must shut just before the start: nothing
 * may run in between).
 */
export async function processStarter(): Promise<StartProcess> {
  const execa = await loadExeca();
  return (file, args, options) => {
    const child = execa(file, args, {
      ...DEFAULTS,
      env: options.env,
      cwd: options.cwd,
      stdio: [...options.stdio],
      buffer: false,
      ...(options.detached === true ? { detached: true } : {}),
    });
    return { child, ended: child.then(endOf) };
  };
}

/**
 * Start the sandbox's launcher with node's spawn, as processStarter would
 * with execa: exactly this environment, these descriptors and this directory;
 * a status or signal is data; a launcher that cannot be started ends with a
 * spawnError; nothing is buffered, no exit hook, no signal handler. An error
 * on one of its pipes (EPIPE when it died early) is dropped, as execa with
 * reject: false does: how the launcher ended is the result.
 */
export const startLauncherProcess: StartProcess = (file, args, options) => {
  const child = spawn(file, [...args], {
    env: { ...options.env },
    cwd: options.cwd,
    stdio: [...options.stdio],
    windowsHide: true,
    ...(options.detached === true ? { detached: true } : {}),
  });
  for (const stream of child.stdio) stream?.on('error', () => undefined);
  const ended = new Promise<ProcessEnd>((resolve) => {
    let spawnError: Error | undefined;
    // 'error' also reports a kill() that failed; only one before the start means it never ran.
    child.on('error', (e: Error) => {
      if (child.pid === undefined) spawnError ??= e;
    });
    // 'close': it has exited and every pipe of it has closed.
    child.once('close', (code: number | null, signal: NodeJS.Signals | null) => {
      resolve(spawnError === undefined ? { exitCode: code, signal } : { exitCode: null, signal: null, spawnError });
    });
  });
  return { child, ended };
};

/** A host probe (`bwrap --version`): its stdout and stderr, empty when it could not run or did not finish within timeoutMs. */
export function probeSync(file: string, args: readonly string[], timeoutMs: number): { stdout: string; stderr: string } {
  const r = spawnSync(file, args, { encoding: 'utf8', env: {}, cwd: '/', stdio: ['ignore', 'pipe', 'pipe'], timeout: timeoutMs, killSignal: 'SIGKILL', maxBuffer: 1024 * 1024 });
  return { stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
}

/** A program isolate runs for its output (a credential's `from: command`): its status, stdout and stderr, or why it could not run. */
export function captureSync(
  file: string,
  args: readonly string[],
  options: { env: Readonly<Record<string, string | undefined>>; cwd: string; timeoutMs: number },
): { status: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string; error?: Error } {
  const r = spawnSync(file, args, { encoding: 'utf8', env: { ...options.env }, cwd: options.cwd, stdio: ['ignore', 'pipe', 'pipe'], timeout: options.timeoutMs, killSignal: 'SIGKILL', maxBuffer: 1024 * 1024 });
  return { status: r.status, signal: r.signal, stdout: r.stdout ?? '', stderr: r.stderr ?? '', ...(r.error === undefined ? {} : { error: r.error }) };
}
