/**
 * The exit code of a run, from how the launcher ended and what the run saw
 * on the way (pure): the command's own status, 128+N for a signal, 124 for
 * isolate's timeout, 125 when the sandbox was not set up.
 */
import { tooLargeToStart } from '../../backends/arg-limits.js';
import { IsolateError } from '../../errors.js';
import type { ProcessEnd } from '../../process.js';
import type { ExecuteResult } from '../result.js';
import { limitOfSignal, signalOfStatus, statusOfSignal } from './signal.js';

/** What happened during the run (run/sandbox.ts keeps it). */
export interface RunState {
  /** The command started: the launcher said so, or its handshake did (see Plan.fds). */
  started: boolean;
  /** The sandbox failed a check before the command started (mounts, cgroup): it never ran. */
  setupError?: IsolateError;
  /** The command's status as the launcher reported it (bwrap's JSON status). */
  reportedExit?: number;
  timedOut: boolean;
  /** How many signals isolate passed on. */
  forwarded: number;
}

/** What the mapping needs to know of the plan. */
export interface ExitRules {
  /** argv[0], and the backend's name, for messages. */
  file: string;
  backend: string;
  /** No status descriptor: the launcher's own status is the command's once it started. */
  plainExit: boolean;
  /** A ready byte precedes the command's exec: a launcher killed before it never ran the command. */
  readyByte: boolean;
  /** The launcher's last stderr lines, when captured. */
  stderrTail?: string;
}

type Outcome = Pick<ExecuteResult, 'exitCode' | 'signal' | 'error' | 'timedOut' | 'limit'>;

function passed(status: number): Outcome {
  const signal = signalOfStatus(status);
  return { exitCode: status, signal, ...limitOfSignal(signal) };
}

function setupFailure(end: ProcessEnd, rules: ExitRules): IsolateError {
  if (end.spawnError !== undefined) {
    return tooLargeToStart(end.spawnError) ?? new IsolateError('E_BACKEND_MISSING', `cannot start ${rules.file}: ${end.spawnError.message}`, { cause: end.spawnError });
  }
  const how = end.exitCode === null && end.signal !== null ? `killed by ${end.signal}` : `exit ${end.exitCode ?? '?'}`;
  return new IsolateError('E_SANDBOX_SETUP', `${rules.backend} could not set up the sandbox (${how}); the command was not run`, {
    detail: rules.stderrTail ?? 'the backend printed the reason above',
    fix: 'run `isolate doctor` to check this host',
  });
}

export function exitOutcome(end: ProcessEnd, state: RunState, rules: ExitRules): Outcome {
  if (state.setupError !== undefined) return { exitCode: 125, signal: null, error: state.setupError };
  const status = state.reportedExit ?? (rules.plainExit ? end.exitCode : null) ?? undefined;
  if (state.timedOut) {
    const signal = (status === undefined ? null : signalOfStatus(status)) ?? end.signal;
    return { exitCode: 124, signal, timedOut: true, limit: 'timeout' };
  }
  if (state.reportedExit !== undefined) return passed(state.reportedExit);
  // Without the started or ready byte the launcher's status is its own (nsjail: 255, sandbox-exec: 65, 71), not the command's; unless isolate passed a signal on.
  if (rules.plainExit && end.spawnError === undefined && end.exitCode !== null && (state.started || state.forwarded > 0)) return passed(end.exitCode);
  // The ready byte precedes the command's exec: a launcher killed before it never ran the command, whatever the signal.
  const killedBeforeReady = rules.readyByte && !state.started && state.forwarded === 0;
  if (end.signal !== null && !killedBeforeReady) {
    // The launcher itself was killed (a forwarded signal): the sandbox died with it.
    return { exitCode: statusOfSignal(end.signal), signal: end.signal, ...limitOfSignal(end.signal) };
  }
  return { exitCode: 125, signal: null, error: setupFailure(end, rules) };
}
