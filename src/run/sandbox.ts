/**
 * One run of the sandbox's launcher, from its start to the result: each
 * step is a part of its own (launch/, io/, handshake/, reach/, terminate/,
 * resolve/); this file only puts them in order.
 */
import type { Plan } from '../backends/types.js';
import { asIsolateError } from '../errors.js';
import { startLauncherProcess, type ProcessEnd } from '../process.js';
import type { RunCgroup } from './cgroup.js';
import { attachHandshake } from './handshake/attach.js';
import { DEFAULT_MAX_CAPTURE, capture, tail, type Capture } from './io/capture.js';
import { feedLauncher } from './io/feed.js';
import { cutHeldOutput } from './io/held-output.js';
import { relayStdin } from './io/relay-stdin.js';
import { writeStdinText } from './io/stdin-text.js';
import { closePathFds } from './launch/path-fds.js';
import { startLauncher, type Launched } from './launch/start.js';
import { reachFor, type Reach } from './reach/reach.js';
import { exitOutcome, type RunState } from './resolve/exit.js';
import type { ExecuteOptions, ExecuteResult } from './result.js';
import { onAbort } from './terminate/abort.js';
import { forwardSignals } from './terminate/forward.js';
import { armTimeout } from './terminate/timeout.js';
import { relayTerminal } from './tty/relay.js';

export interface SandboxContext {
  cgroup?: RunCgroup | undefined;
  /** Copy the caller's stdin into a pipe rather than hand it over (launch/caller-stdio.ts). */
  relayStdin?: boolean | undefined;
  /** Told the process group's id when the launcher leads one. */
  onLaunched?: ((pgid: number) => void) | undefined;
}

/** Move the launcher into the run's cgroup while it still waits for its input; a launcher that cannot be is killed unfed. */
function joinCgroup(cgroup: RunCgroup | undefined, launched: Launched, state: RunState): boolean {
  const pid = launched.child.pid;
  if (cgroup === undefined || pid === undefined) return true;
  try {
    cgroup.attach(pid);
    return true;
  } catch (e: unknown) {
    state.setupError = asIsolateError(e);
    closePathFds(launched.pathFds);
    launched.child.kill('SIGKILL');
    return false;
  }
}

/** Timeout, forwarded signals, the caller's cancellation, the launcher's exit and output held past it: what ends a run besides the command. */
function watchEnd(plan: Plan, options: ExecuteOptions, launched: Launched, reach: Reach, state: RunState): { stop(): void; cut(): boolean; cancelled(): boolean } {
  launched.child.once('exit', () => reach.exited());
  const held = reach.leaky ? cutHeldOutput(launched.child, options.stdio === 'capture') : undefined;
  const disarm = armTimeout(plan.limits.timeoutMs, plan.limits.killAfterMs, reach, () => (state.timedOut = true));
  const unforward = options.forwardSignals === true ? forwardSignals(reach, () => state.forwarded++) : undefined;
  let cancelled = false;
  const unabort = onAbort(options.signal, reach, () => (cancelled = true));
  return {
    stop: () => {
      disarm();
      unforward?.();
      unabort();
      held?.stop();
    },
    cut: () => held?.cut() ?? false,
    cancelled: () => cancelled,
  };
}

function captured(out: Capture | undefined, err: Capture | undefined): Pick<ExecuteResult, 'stdout' | 'stderr' | 'truncated' | 'outputBytes'> {
  if (out === undefined || err === undefined) return {};
  return {
    stdout: out.text(),
    stderr: err.text(),
    truncated: { stdout: out.truncated(), stderr: err.truncated() },
    outputBytes: { stdout: out.size(), stderr: err.size() },
  };
}

/** A terminal of its own (Plan.terminal): isolate relays the caller's terminal; the returned function stops and restores it. */
function startTerminal(plan: Plan, options: ExecuteOptions, launched: Launched): (() => void) | undefined {
  if (plan.terminal?.given !== true) return undefined;
  const io = { input: process.stdin, output: process.stdout, errors: process.stderr } as Parameters<typeof relayTerminal>[2];
  return relayTerminal(launched.child, plan.terminal.controlFd, io, options.rawTerminal === true);
}

export async function runSandbox(plan: Plan, options: ExecuteOptions, context: SandboxContext = {}): Promise<ExecuteResult> {
  const begun = process.hrtime.bigint();
  const reach = reachFor(plan, context.onLaunched);
  const launched = startLauncher(plan, options, startLauncherProcess, context.relayStdin === true);
  reach.launched(launched.child);
  const untty = startTerminal(plan, options, launched);
  try {
    return await awaitSandbox(plan, options, context, { begun, reach, launched });
  } finally {
    // The caller's terminal is back as it was, whatever ended the run.
    untty?.();
  }
}

async function awaitSandbox(plan: Plan, options: ExecuteOptions, context: SandboxContext, run: { begun: bigint; reach: Reach; launched: Launched }): Promise<ExecuteResult> {
  const { begun, reach, launched } = run;
  const unrelay = context.relayStdin === true ? relayStdin(launched.child) : undefined;
  if (options.stdio === 'capture') writeStdinText(launched.child, options.stdinText);
  const limit = options.maxCapture ?? DEFAULT_MAX_CAPTURE;
  const [out, err] = options.stdio === 'capture' ? [capture(launched.child.stdout, limit), capture(launched.child.stderr, limit)] : [];
  const state: RunState = { started: false, timedOut: false, forwarded: 0 };
  if (joinCgroup(context.cgroup, launched, state)) {
    feedLauncher(launched.child, plan);
    attachHandshake({ plan, launcher: launched.child, state, reach, pathFds: launched.pathFds });
  }
  const watch = watchEnd(plan, options, launched, reach, state);
  const end: ProcessEnd = await launched.ended;
  watch.stop();
  unrelay?.();
  closePathFds(launched.pathFds);
  const rules = { file: plan.argv[0] ?? '', backend: plan.backend, plainExit: plan.fds.status === undefined, readyByte: plan.fds.ready !== undefined };
  return {
    durationMs: Number((process.hrtime.bigint() - begun) / 1000n) / 1000,
    started: state.started,
    resources: reach.stop(),
    ...captured(out, err),
    ...(watch.cut() ? { outputCut: true as const } : {}),
    ...(watch.cancelled() ? { cancelled: true as const } : {}),
    ...exitOutcome(end, state, { ...rules, ...(err === undefined ? {} : { stderrTail: tail(err, 5) }) }),
  };
}
