/** What execute() is asked (ExecuteOptions) and what it returns (ExecuteResult): the same shape whether the run succeeded or not. */
import type { IsolateError } from '../errors.js';
import type { NetworkEventCounts } from '../network/event-log.js';
import type { NetworkEvent } from '../network/proxy.js';
import type { CredentialEvent, RunCredentials } from '../network/credentials/spec.js';
import type { SandboxDenials } from './denials.js';
import type { Resources } from './resources.js';
import type { SparePool } from './spare-placeholders.js';

export interface ExecuteOptions {
  /** inherit: the caller's stdin/stdout/stderr (a TTY stays a TTY); capture: collect stdout and stderr. */
  stdio: 'inherit' | 'capture';
  /** For capture: what the child reads (default: nothing). */
  input?: 'inherit' | 'ignore';
  /** Forward these signals from this process to the sandbox (CLI only; the API leaves process state alone). */
  forwardSignals?: boolean;
  /** Cap per captured stream; the rest is dropped and `truncated` set. */
  maxCapture?: number;
  /**
   * What must be done before the command starts (the audit log's run-started record): run while the launcher
   * waits unfed for its input and is moved into the run's cgroup, or before a launcher that does not wait is
   * started. When it rejects, the launcher is killed unfed and execute rejects with its error: nothing ran.
   */
  beforeStart?: () => Promise<void>;
  /** Where placeholders for missing protected names are taken from before one is created (run/spare-placeholders.ts). */
  placeholderSpares?: SparePool | undefined;
  /** The run's credentials with their values, for the proxy only (never part of the plan). */
  credentials?: RunCredentials;
  /** For capture: text the command reads on stdin, through a pipe closed after it (instead of `input`). */
  stdinText?: string;
  /** Aborting it ends every process of the sandbox (SIGKILL); the result says `cancelled`. */
  signal?: AbortSignal;
  /** Pass every escape sequence to the caller's terminal, unfiltered (--raw-terminal): from a terminal of its own (Plan.terminal), or relayed to a terminal (launch/caller-stdio.ts). */
  rawTerminal?: boolean;
  /**
   * Told the clean-up that may go on after execute() has returned: the removal of the run's cgroup directories
   * (every process left in it is killed before). The caller awaits it before it returns in turn. Without this,
   * execute() awaits it itself.
   */
  lateCleanup?: (done: Promise<void>) => void;
}

export type Limit = 'timeout' | 'cpu' | 'fileSize' | 'memory' | 'processes';

export interface ExecuteResult {
  exitCode: number;
  signal: string | null;
  /** The sandboxed command started (the launcher reported it, or its handshake said so). */
  started: boolean;
  durationMs: number;
  stdout?: string;
  stderr?: string;
  truncated?: { stdout: boolean; stderr: boolean };
  /** For capture: how many bytes the command wrote to each, kept or not. */
  outputBytes?: { stdout: number; stderr: number };
  /** When the sandbox could not be set up. */
  error?: IsolateError;
  /** The run was ended by isolate's timeout (exit code 124). */
  timedOut?: boolean;
  /** The run was ended because its caller aborted it (ExecuteOptions.signal). */
  cancelled?: true;
  /** Which limit ended the run, when that is certain: timeout, cpu (SIGXCPU), fileSize (SIGXFSZ). */
  limit?: Limit;
  /** filtered network: every connection attempt the proxy saw. */
  networkEvents?: NetworkEvent[];
  /** filtered network: attempts beyond the first MAX_NETWORK_EVENTS, only counted. */
  networkEventsOmitted?: NetworkEventCounts;
  /** Credentials: every value the proxy added and every placeholder it refused (the first 1000; the rest counted). */
  credentialEvents?: CredentialEvent[];
  credentialEventsOmitted?: number;
  resources?: Resources;
  /** sandbox-exec on macOS: what the sandbox refused, from the unified log (run/denials.ts). */
  denials?: SandboxDenials;
  /**
   * A sandbox reached through its process group (Plan.launch): stdout or stderr was still held open after the
   * command exited, by a process that left the group (setsid); isolate stopped reading HELD_OUTPUT_GRACE_MS
   * later, so output may be cut.
   */
  outputCut?: true;
  /** The run directory (Plan.launch.runDir) could not be removed safely and was left at this path, with the reason. */
  leftBehind?: { path: string; reason: string };
}
