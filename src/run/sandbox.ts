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
import { feedLauncher, feedProgram, feedSetup, programLast } from './io/feed.js';
import { cutHeldOutput } from './io/held-output.js';
import { relayOutput } from './io/relay-output.js';
import { relayStdin } from './io/relay-stdin.js';
import { socketPair, type SocketPair } from './io/socket-pair.js';
import { writeStdinText } from './io/stdin-text.js';
import { closePathFds } from './launch/path-fds.js';
import type { CallerStdio } from './launch/caller-stdio.js';
import { startLauncher, type Launched } from './launch/start.js';
import type { StdioRelay } from './launch/stdio.js';
import { reachFor, type Reach } from './reach/reach.js';
import { exitOutcome, type RunState } from './resolve/exit.js';
import type { ExecuteOptions, ExecuteResult } from './result.js';
import { onAbort } from './terminate/abort.js';
import { forwardSignals } from './terminate/forward.js';
import { armTimeout } from './terminate/timeout.js';
import { relayTerminal } from './tty/relay.js';

export interface SandboxContext {
  cgroup?: RunCgroup | undefined;
  /** The caller's descriptors copied through pipes rather than handed over (launch/caller-stdio.ts). */
  relay?: CallerStdio | undefined;
  /** Told the process group's id when the launcher leads one. */
  onLaunched?: ((pgid: number) => void) | undefined;
  /** The sealed entries an OCI bundle or nsjail's config binds from their empty stand-ins (bundle.ts, sealed-config.ts): opened as such. */
  standIns?: ReadonlySet<string> | undefined;
}

/** The launcher reads its input (bwrap's arguments, nsjail's configuration) before it starts anything: it can wait unfed. */
function waitsUnfed(plan: Plan): boolean {
  return plan.fds.args !== undefined || (plan.inputs ?? []).length > 0;
}

/**
 * Into the run's cgroup: the launcher, then the sandbox's init when the launcher may have started it before it was
 * moved (Plan.seccomp.afterSetup: it sets the sandbox up meanwhile). Every process of the command is forked later,
 * by the init, and starts in the cgroup. False when the launcher had exited before it could be moved.
 */
async function joinCgroup(cgroup: RunCgroup | undefined, launcher: number | undefined, init: Promise<number | undefined> | undefined): Promise<boolean> {
  if (cgroup === undefined || launcher === undefined) return true;
  if (!(await cgroup.attach(launcher))) return false;
  const pid = await init;
  if (pid !== undefined) await cgroup.attachInit(pid);
  return true;
}

/**
 * While the command cannot start yet (the launcher waits unfed, or for the program it reads after setup): move the
 * launcher into the run's cgroup and, at the same time, let the caller finish what must come before the command
 * (ExecuteOptions.beforeStart). A launcher that cannot be moved is killed (state.setupError); one that has exited
 * already is not started (its end says why); when beforeStart fails, the launcher is killed and its error returned
 * (`failed`), to be thrown once the launcher has ended. `go`: the command may start.
 */
async function beforeFeed(
  cgroup: RunCgroup | undefined,
  launched: Launched,
  state: RunState,
  beforeStart: (() => Promise<void>) | undefined,
  init?: Promise<number | undefined>,
): Promise<{ go: boolean; failed?: unknown }> {
  const moved = joinCgroup(cgroup, launched.child.pid, init);
  const [move, before] = await Promise.allSettled([moved, beforeStart?.()]);
  if (move.status === 'fulfilled' && move.value && before.status === 'fulfilled') return { go: true };
  if (move.status === 'rejected') state.setupError = asIsolateError(move.reason);
  closePathFds(launched.pathFds);
  launched.child.kill('SIGKILL');
  return before.status === 'rejected' ? { go: false, failed: before.reason ?? new Error('beforeStart failed') } : { go: false };
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

/** One channel for stdout and stderr on the same file, so their order stays; without it (no socket could be made), a pipe each. */
async function sharedOutput(relay: CallerStdio | undefined): Promise<SocketPair | undefined> {
  if (relay?.mergedOutput !== true) return undefined;
  try {
    return await socketPair();
  } catch {
    return undefined;
  }
}

/** Start the launcher with the relayed descriptors; isolate's copy of the shared socket's inner end is closed once the launcher has its own. */
function launchRelayed(plan: Plan, options: ExecuteOptions, context: SandboxContext, shared: SocketPair | undefined): Launched {
  const relay = context.relay;
  const stdio: StdioRelay = { stdin: relay?.relayStdin === true, outputs: relay?.relayOutput ?? [], shared: shared?.inner };
  try {
    return startLauncher(plan, options, startLauncherProcess, stdio, context.standIns);
  } catch (e: unknown) {
    shared?.outer.destroy();
    throw e;
  } finally {
    shared?.inner.destroy();
  }
}

export async function runSandbox(plan: Plan, options: ExecuteOptions, context: SandboxContext = {}): Promise<ExecuteResult> {
  const begun = process.hrtime.bigint();
  const reach = reachFor(plan, context.onLaunched);
  const waits = waitsUnfed(plan);
  // A launcher that would start the command at once is started only after beforeStart.
  if (!waits) await options.beforeStart?.();
  const shared = await sharedOutput(context.relay);
  const launched = launchRelayed(plan, options, context, shared);
  reach.launched(launched.child);
  const untty = startTerminal(plan, options, launched);
  try {
    return await awaitSandbox(plan, options, context, { begun, reach, launched, shared, beforeStart: waits ? options.beforeStart : undefined });
  } finally {
    // The caller's terminal is back as it was, whatever ended the run.
    untty?.();
  }
}

/**
 * Plan.seccomp.afterSetup: the launcher gets everything but the program now, and sets the sandbox up while the
 * caller's beforeStart and the cgroup's move run. Its status is read from now on; resolves to the sandbox's init
 * it reports, or undefined once the launcher has exited without reporting one.
 */
function startSetup(plan: Plan, launched: Launched, state: RunState, reach: Reach): Promise<number | undefined> {
  const init = new Promise<number | undefined>((resolve) => {
    launched.child.once('exit', () => resolve(undefined));
    attachHandshake({ plan, launcher: launched.child, state, reach, pathFds: launched.pathFds, onInit: resolve });
  });
  feedSetup(launched.child, plan);
  return init;
}

/**
 * The command may start (`go`): the launcher gets its input, or the program it reads after setup. Otherwise a
 * launcher that already set the sandbox up has every process of it killed, and the program's pipe is closed
 * empty: one that is still alive refuses to start the command.
 */
function release(plan: Plan, launched: Launched, state: RunState, reach: Reach, go: boolean, cgroup: RunCgroup | undefined): void {
  if (programLast(plan)) {
    if (!go) reach.killAll();
    feedProgram(launched.child, plan, !go);
    return;
  }
  if (!go) return;
  feedLauncher(launched.child, plan);
  attachHandshake({ plan, launcher: launched.child, state, reach, pathFds: launched.pathFds, cgroup });
}

interface Launch {
  begun: bigint;
  reach: Reach;
  launched: Launched;
  /** The one socket of stdout and stderr on the same file (sharedOutput). */
  shared: SocketPair | undefined;
  /** ExecuteOptions.beforeStart, when it runs while the launcher waits unfed. */
  beforeStart: (() => Promise<void>) | undefined;
}

async function awaitSandbox(plan: Plan, options: ExecuteOptions, context: SandboxContext, run: Launch): Promise<ExecuteResult> {
  const { begun, reach, launched } = run;
  const unrelay = context.relay?.relayStdin === true ? relayStdin(launched.child) : undefined;
  const output = relayOutput(launched.child, context.relay?.relayOutput ?? [], run.shared?.outer, options.rawTerminal === true ? [] : (context.relay?.terminals ?? []));
  if (options.stdio === 'capture') writeStdinText(launched.child, options.stdinText);
  const limit = options.maxCapture ?? DEFAULT_MAX_CAPTURE;
  const [out, err] = options.stdio === 'capture' ? [capture(launched.child.stdout, limit), capture(launched.child.stderr, limit)] : [];
  const state: RunState = { started: false, timedOut: false, forwarded: 0 };
  const watch = watchEnd(plan, options, launched, reach, state);
  const init = programLast(plan) ? startSetup(plan, launched, state, reach) : undefined;
  const { go, failed } = await beforeFeed(context.cgroup, launched, state, run.beforeStart, init);
  release(plan, launched, state, reach, go && state.setupError === undefined, context.cgroup);
  const end: ProcessEnd = await launched.ended;
  await output.finished(reach.leaky);
  // Output the caller asked for and did not get: isolate failed (output relay), whatever the command's status.
  const lost = output.failure();
  if (lost !== undefined) state.setupError ??= lost;
  watch.stop();
  unrelay?.();
  closePathFds(launched.pathFds);
  if (failed !== undefined) {
    reach.stop();
    throw failed;
  }
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
