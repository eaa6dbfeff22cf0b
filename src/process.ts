/**
 * The one way isolate starts a process: the sandbox's launcher (run/), the
 * helpers run/ reads from (ps, log show: run/io/helper.ts) and the host
 * probes (host/). All of it goes through execa, with each of execa's
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
 */
import { spawnSync, type ChildProcess } from 'node:child_process';

/** One descriptor of a started process: a pipe to isolate, the caller's, none, or a descriptor isolate holds. */
export type StdioSlot = 'pipe' | 'inherit' | 'ignore' | number;

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

/** A host probe (`bwrap --version`): its stdout and stderr, empty when it could not run or did not finish within timeoutMs. */
export function probeSync(file: string, args: readonly string[], timeoutMs: number): { stdout: string; stderr: string } {
  const r = spawnSync(file, args, { encoding: 'utf8', env: {}, cwd: '/', stdio: ['ignore', 'pipe', 'pipe'], timeout: timeoutMs, killSignal: 'SIGKILL', maxBuffer: 1024 * 1024 });
  return { stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
}
