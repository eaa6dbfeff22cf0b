/**
 * Execute a Plan: the only place isolate starts the sandbox. It owns stdio,
 * signal forwarding, exit-code mapping and removing what the run created.
 *
 * Processes are started with node:child_process rather than execa: execa
 * costs ~60 ms to import, which alone would break the start-up budget
 * (README, "Performance"), and the launcher needs two extra pipes (the
 * argument pipe and bwrap's JSON status pipe) that child_process gives directly.
 */
import { spawn } from 'node:child_process';
import type { Duplex, Readable, Writable } from 'node:stream';
import { constants as osConstants } from 'node:os';
import { IsolateError, errnoCode } from '../errors.js';
import { closeSync, constants as fsConstants, fstatSync, openSync, readlinkSync } from 'node:fs';
import type { Plan } from '../backends/types.js';
import type { NetworkEvent } from '../network/proxy.js';
import type { NetworkEventCounts } from '../network/event-log.js';
import { startServices } from './services.js';
import { findSandboxNamespace, signalSandbox } from './sandbox-procs.js';
import { ResourceSampler } from './resources.js';
import { RunCgroup, type CgroupOutcome } from './cgroup.js';
import { checkSandboxPaths } from './path-check.js';
import { shutInherited } from './inherited-fds.js';
import type { SandboxExecPlan } from '../backends/sandbox-exec.js';
import type { SandboxDenials } from './denials.js';
import type { Launch } from './sandbox-exec.js';

export interface ExecuteOptions {
  /** inherit: the caller's stdin/stdout/stderr (a TTY stays a TTY); capture: collect stdout and stderr. */
  stdio: 'inherit' | 'capture';
  /** For capture: what the child reads (default: nothing). */
  input?: 'inherit' | 'ignore';
  /** Forward these signals from this process to the sandbox (CLI only; the API leaves process state alone). */
  forwardSignals?: boolean;
  /** Cap per captured stream; the rest is dropped and `truncated` set. */
  maxCapture?: number;
}

export interface ExecuteResult {
  exitCode: number;
  signal: string | null;
  /** The sandboxed command started (bwrap reported its child). */
  started: boolean;
  durationMs: number;
  stdout?: string;
  stderr?: string;
  truncated?: { stdout: boolean; stderr: boolean };
  /** When the sandbox could not be set up. */
  error?: IsolateError;
  /** The run was ended by isolate's timeout (exit code 124). */
  timedOut?: boolean;
  /** Which limit ended the run, when that is certain: timeout, cpu (SIGXCPU), fileSize (SIGXFSZ). */
  limit?: 'timeout' | 'cpu' | 'fileSize' | 'memory' | 'processes';
  /** filtered network: every connection attempt the proxy saw. */
  networkEvents?: NetworkEvent[];
  /** filtered network: attempts beyond the first MAX_NETWORK_EVENTS, only counted. */
  networkEventsOmitted?: NetworkEventCounts;
  resources?: { userCpuMs: number | null; systemCpuMs: number | null; peakMemoryBytes: number | null };
  /** sandbox-exec on macOS: what the sandbox refused, from the unified log (run/denials.ts). */
  denials?: SandboxDenials;
  /**
   * With a Launch (sandbox-exec): stdout or stderr was still held open after the command exited, by a process that
   * left its process group (setsid); isolate stopped reading HELD_OUTPUT_GRACE_MS later, so output may be cut.
   */
  outputCut?: true;
  /** sandbox-exec: the run directory could not be removed safely and was left at this path, with the reason. */
  leftBehind?: { path: string; reason: string };
}

const FORWARDED: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT'];
/** Per captured stream (--json, the API): enough for any report a person reads, small enough that a flood cannot exhaust isolate. */
const DEFAULT_MAX_CAPTURE = 4 * 1024 * 1024;
/** With a Launch: how long after the launcher's exit isolate still reads a captured stream some escaped process holds open. */
export const HELD_OUTPUT_GRACE_MS = 300;

function signalName(n: number): string | null {
  for (const [name, value] of Object.entries(osConstants.signals)) if (value === n) return name;
  return null;
}

function signalNumber(name: string): number {
  return (osConstants.signals as Record<string, number>)[name] ?? 0;
}

function limitFromSignal(sig: string | null): Pick<ExecuteResult, 'limit'> {
  if (sig === 'SIGXCPU') return { limit: 'cpu' };
  if (sig === 'SIGXFSZ') return { limit: 'fileSize' };
  return {};
}


function collect(stream: Readable | null, limit: number): { text: () => string; truncated: () => boolean } {
  const chunks: Buffer[] = [];
  let size = 0;
  let cut = false;
  stream?.on('data', (chunk: Buffer) => {
    if (size >= limit) {
      cut = true;
      return;
    }
    const room = limit - size;
    const part = chunk.length > room ? chunk.subarray(0, room) : chunk;
    if (part.length < chunk.length) cut = true;
    chunks.push(part);
    size += part.length;
  });
  return { text: () => Buffer.concat(chunks).toString('utf8'), truncated: () => cut };
}

/** Start the plan's services (the network proxy), run the sandbox, and always stop the services. */
export async function execute(plan: Plan, options: ExecuteOptions, launch?: Launch): Promise<ExecuteResult> {
  // sandbox-exec: run/sandbox-exec.ts creates the run directory, then calls back here with a Launch (new process group, no /proc).
  if (plan.backend === 'sandbox-exec' && launch === undefined) return (await import('./sandbox-exec.js')).executeSandboxExec(plan as SandboxExecPlan, options, execute);
  if (plan.cgroup !== undefined && plan.fds.args === undefined && (plan.inputs ?? []).length === 0) {
    // The launcher is moved into the cgroup before it is handed its input; without input it could start the command first.
    throw new IsolateError('E_SANDBOX_SETUP', `the ${plan.backend} plan has a cgroup but no input pipe to hold the launcher until it is in it`);
  }
  const services = plan.services.length > 0 ? await startServices(plan.services) : undefined;
  let cgroup: RunCgroup | undefined;
  try {
    cgroup = plan.cgroup === undefined ? undefined : RunCgroup.create(plan.cgroup);
    let result = await runSandbox(plan, options, cgroup, launch);
    if (cgroup !== undefined) result = withCgroupOutcome(result, cgroup.outcome());
    if (services === undefined) return result;
    return { ...result, networkEvents: services.log.events, ...(services.log.cut ? { networkEventsOmitted: services.log.omitted } : {}) };
  } finally {
    await cgroup?.remove();
    await services?.stop();
  }
}

/** Which cgroup limit ended the run, and the peak memory as the cgroup counted it. */
export function withCgroupOutcome(result: ExecuteResult, outcome: CgroupOutcome): ExecuteResult {
  // The cgroup's count is exact (pages shared between processes once); the sampled sum of RSS is not.
  const peak = outcome.peakMemoryBytes ?? result.resources?.peakMemoryBytes ?? null;
  const resources = { userCpuMs: null, systemCpuMs: null, ...result.resources, peakMemoryBytes: peak };
  if (result.limit !== undefined || result.error !== undefined || result.exitCode === 0) return { ...result, resources };
  if (outcome.memoryKilled) return { ...result, resources, limit: 'memory' };
  if (outcome.processesHit) return { ...result, resources, limit: 'processes' };
  return { ...result, resources };
}

/** O_PATH: a descriptor that names a file without opening it for reading (Linux). */
const O_PATH = 0o10000000;

/**
 * A placeholder for a protected name that does not exist: an empty file,
 * made without following a symlink. One another run made meanwhile is used
 * as it is (openPathFds then checks what is there).
 */
function createPlaceholder(path: string): void {
  try {
    closeSync(openSync(path, fsConstants.O_CREAT | fsConstants.O_EXCL | fsConstants.O_WRONLY | fsConstants.O_NOFOLLOW, 0o444));
  } catch (e: unknown) {
    if (errnoCode(e) === 'EEXIST') return;
    throw new IsolateError('E_SANDBOX_SETUP', `cannot create the placeholder ${path} for a protected name; the command was not run`, {
      detail: errnoCode(e) ?? String(e),
      fix: 'run again; if it keeps happening, check that the directory is writable and nothing is replacing it',
      cause: e,
    });
  }
}

/**
 * Open each path without following a final symlink, and check that the
 * descriptor names exactly that path (so no directory on the way was swapped
 * for a symlink since the plan was made). Entries marked create get an empty
 * placeholder file first, and must be a regular file. Returns the
 * descriptors by number.
 */
export function openPathFds(entries: readonly { fd: number; path: string; create?: boolean }[]): Map<number, number> {
  const opened = new Map<number, number>();
  try {
    for (const { fd, path, create } of entries) {
      if (create === true) createPlaceholder(path);
      let handle: number;
      try {
        handle = openSync(path, O_PATH | fsConstants.O_NOFOLLOW);
      } catch (e: unknown) {
        throw new IsolateError('E_SANDBOX_SETUP', `${path} changed while the sandbox was being set up; the command was not run`, {
          detail: errnoCode(e) ?? String(e),
          fix: 'run again; if it keeps happening, something in the project is replacing this path',
          cause: e,
        });
      }
      opened.set(fd, handle);
      // O_PATH|O_NOFOLLOW opens a final symlink itself: refuse it, as any link on the way.
      const st = fstatSync(handle);
      if (st.isSymbolicLink() || readlinkSync(`/proc/self/fd/${handle}`) !== path) {
        throw new IsolateError('E_SANDBOX_SETUP', `${path} is reached through a symbolic link now; the command was not run`, {
          fix: 'run again; if it keeps happening, something in the project is replacing a directory with a link',
        });
      }
      if (create === true && !st.isFile()) {
        throw new IsolateError('E_SANDBOX_SETUP', `${path} appeared while the sandbox was being set up, and is not a file; the command was not run`, {
          fix: 'run again; isolate will then protect what is there now',
        });
      }
    }
    return opened;
  } catch (e: unknown) {
    for (const handle of opened.values()) closeSync(handle);
    throw e;
  }
}

function runSandbox(plan: Plan, options: ExecuteOptions, cgroup: RunCgroup | undefined, launch?: Launch): Promise<ExecuteResult> {
  const started = process.hrtime.bigint();
  const file = plan.argv[0];
  if (file === undefined) throw new IsolateError('E_SANDBOX_SETUP', 'empty plan');
  const capture = options.stdio === 'capture';
  const stdin = capture ? (options.input ?? 'ignore') : 'inherit';

  if (plan.fds.ready !== undefined && (plan.fds.status !== undefined || plan.fds.started !== undefined)) {
    throw new IsolateError('E_SANDBOX_SETUP', `the ${plan.backend} plan has a ready descriptor beside a status or started one`);
  }
  const sampler = new ResourceSampler();
  const pathFds = openPathFds(plan.pathFds ?? []);
  const closePathFds = (): void => {
    for (const handle of pathFds.values()) closeSync(handle);
    pathFds.clear();
  };
  const extra = [plan.fds.args, plan.fds.status, plan.fds.started, plan.fds.ready, plan.seccomp?.fd, ...(plan.inputs ?? []).map((i) => i.fd)].filter((fd): fd is number => fd !== undefined);
  const top = Math.max(2, ...extra, ...pathFds.keys());
  const stdio: ('pipe' | 'inherit' | 'ignore' | number)[] = [stdin, capture ? 'pipe' : 'inherit', capture ? 'pipe' : 'inherit'];
  for (let fd = 3; fd <= top; fd++) stdio.push(pathFds.get(fd) ?? (extra.includes(fd) ? 'pipe' : 'ignore'));
  return new Promise((resolvePromise) => {
    let child: ReturnType<typeof spawn>;
    try {
      // No descriptor the caller left open reaches the command (inherited-fds.ts).
      const start = shutInherited(plan.argv, stdio, plan.closeFdFlag);
      try {
        // With a Launch (sandbox-exec): in its directory, in a new session and process group.
        child = spawn(file, start.argv.slice(1), { env: plan.launcherEnv, cwd: launch?.cwd ?? '/', stdio: start.stdio, ...(launch === undefined ? {} : { detached: true }) });
      } finally {
        start.close();
      }
    } catch (e: unknown) {
      closePathFds();
      throw e;
    }
    // The child has its own copies now (checkPathFds: kept until the sandbox is checked).
    if (plan.checkPathFds !== true) closePathFds();
    if (launch !== undefined && child.pid !== undefined) launch.started(child.pid);

    const limit = options.maxCapture ?? DEFAULT_MAX_CAPTURE;
    const out = capture ? collect(child.stdout, limit) : undefined;
    const err = capture ? collect(child.stderr, limit) : undefined;

    if (cgroup !== undefined && child.pid !== undefined) {
      try {
        cgroup.attach(child.pid);
      } catch (e: unknown) {
        // Never let the launcher go on outside its cgroup: it is still waiting for its input.
        closePathFds();
        child.kill('SIGKILL');
        child.on('error', () => undefined);
        child.on('close', () => resolvePromise({ exitCode: 125, signal: null, started: false, durationMs: 0, error: e as IsolateError }));
        return;
      }
    }

    const feed = (fd: number, data: string | Buffer): void => {
      const pipe = child.stdio[fd] as Writable | null;
      pipe?.on('error', () => undefined);
      pipe?.end(data);
    };
    if (plan.fds.args !== undefined) feed(plan.fds.args, plan.pipedArgs.length === 0 ? '' : plan.pipedArgs.join('\0') + '\0');
    for (const input of plan.inputs ?? []) feed(input.fd, input.data);

    if (plan.seccomp !== undefined) feed(plan.seccomp.fd, plan.seccomp.program);

    let sandboxStarted = false;
    let setupError: IsolateError | undefined;
    let reportedExit: number | undefined;
    let childPid: number | undefined;
    let pidNamespace: number | undefined;
    let timedOut = false;
    const timers: NodeJS.Timeout[] = [];
    let statusText = '';
    // Without a status descriptor the launcher's exit status is the command's (nsjail, sandbox-exec).
    const plainExit = plan.fds.status === undefined;
    if (plainExit) {
      // With a started socket the sandbox's init reports the end of its setup and waits for "go" (types.ts).
      const startedPipe = plan.fds.started === undefined ? null : (child.stdio[plan.fds.started] as Duplex | null);
      // With a ready socket a wrapper in the sandbox writes one byte just before it execs the command, and waits for nothing.
      const readyPipe = plan.fds.ready === undefined ? null : (child.stdio[plan.fds.ready] as Readable | null);
      if (startedPipe === null && readyPipe === null) sandboxStarted = true;
      readyPipe?.on('error', () => undefined);
      readyPipe?.once('data', () => {
        sandboxStarted = true;
      });
      startedPipe?.on('error', () => undefined);
      startedPipe?.once('data', () => {
        if (plan.checkPathFds === true) {
          look(); // the init exists now; found once, for the check, signals and sampling
          const init = childPid;
          setupError =
            init === undefined
              ? new IsolateError('E_SANDBOX_SETUP', 'cannot find the sandbox to check its mounts; the command was not run')
              : checkSandboxPaths(`/proc/${init}`, plan.pathFds ?? [], pathFds);
          closePathFds();
        }
        // Without "go" the init exits 125 and the command never runs.
        if (setupError !== undefined) startedPipe.end();
        else {
          sandboxStarted = true;
          startedPipe.write('go\n');
        }
      });
      // No status from the launcher: find the sandbox's PID namespace ourselves, for signals and sampling.
      let tries = 0;
      const look = (): void => {
        if (child.pid === undefined || pidNamespace !== undefined) return;
        const found = findSandboxNamespace(child.pid);
        if (found !== undefined) {
          pidNamespace = found.pidNamespace;
          childPid = found.initPid;
          sampler.start(found.pidNamespace, found.initPid);
        } else if (++tries < 200) {
          timers.push(setTimeout(look, 10));
        }
      };
      // A Launch means no PID namespace (and no /proc on macOS): signals go to the process group.
      if (launch === undefined) look();
    }
    const statusPipe = plan.fds.status === undefined ? null : (child.stdio[plan.fds.status] as Readable | null);
    statusPipe?.setEncoding('utf8');
    statusPipe?.on('data', (chunk: string) => {
      statusText += chunk;
      let nl: number;
      while ((nl = statusText.indexOf('\n')) !== -1) {
        const line = statusText.slice(0, nl);
        statusText = statusText.slice(nl + 1);
        try {
          const msg = JSON.parse(line) as Record<string, unknown>;
          if (typeof msg['child-pid'] === 'number') {
            sandboxStarted = true;
            childPid = msg['child-pid'];
          }
          if (typeof msg['pid-namespace'] === 'number') {
            pidNamespace = msg['pid-namespace'];
            // bwrap reports its child (the sandbox's init) and the namespace in the same line.
            if (childPid !== undefined) sampler.start(pidNamespace, childPid);
          }
          if (typeof msg['exit-code'] === 'number') reportedExit = msg['exit-code'];
        } catch {
          // not a status line
        }
      }
    });

    /** Everything in the sandbox dies with bwrap (its init has PR_SET_PDEATHSIG). */
    const killAll = (): void => {
      child.kill('SIGKILL');
      launch?.signal('SIGKILL');
      if (pidNamespace !== undefined) signalSandbox(pidNamespace, 'SIGKILL');
    };
    /** Deliver a signal to the sandboxed processes, as a terminal would to its foreground job. */
    const deliver = (sig: NodeJS.Signals): void => {
      if (launch !== undefined) launch.signal(sig);
      else if (pidNamespace === undefined) child.kill(sig);
      else signalSandbox(pidNamespace, sig, childPid);
    };
    // The first SIGINT/SIGTERM/SIGHUP/SIGQUIT is passed on; a second one ends the sandbox.
    let forwarded = 0;
    const forward = (sig: NodeJS.Signals): void => {
      if (++forwarded > 1) killAll();
      else deliver(sig);
    };
    const timeoutMs = plan.limits.timeoutMs;
    if (timeoutMs !== undefined) {
      timers.push(
        setTimeout(() => {
          timedOut = true;
          deliver('SIGTERM');
          timers.push(setTimeout(killAll, plan.limits.killAfterMs));
        }, timeoutMs),
      );
    }
    if (options.forwardSignals === true) for (const sig of FORWARDED) process.on(sig, forward);

    let spawnError: Error | undefined;
    child.on('error', (e) => {
      spawnError = e;
    });
    let outputCut = false;
    if (launch !== undefined) {
      child.on('exit', () => {
        launch.exited();
        // 'close' waits for every pipe to close, and a process that left the group (setsid) outlives the kill above
        // and may hold stdout open: after a grace period for what is in flight, stop reading (bounds the run and its timeout).
        timers.push(
          setTimeout(() => {
            outputCut = capture && [child.stdout, child.stderr].some((s) => s !== null && !s.closed);
            for (const s of child.stdio) s?.destroy();
          }, HELD_OUTPUT_GRACE_MS),
        );
      });
    }

    child.on('close', (code, signal) => {
      for (const t of timers) clearTimeout(t);
      if (options.forwardSignals === true) for (const sig of FORWARDED) process.off(sig, forward);
      const durationMs = Number((process.hrtime.bigint() - started) / 1000n) / 1000;
      const base = {
        durationMs,
        started: sandboxStarted,
        resources: sampler.stop(),
        ...(out === undefined || err === undefined
          ? {}
          : { stdout: out.text(), stderr: err.text(), truncated: { stdout: out.truncated(), stderr: err.truncated() } }),
        ...(outputCut ? { outputCut: true as const } : {}),
      };
      closePathFds();
      if (setupError !== undefined) {
        resolvePromise({ ...base, exitCode: 125, signal: null, error: setupError });
        return;
      }
      if (timedOut) {
        const status = reportedExit ?? (plainExit ? code : null) ?? undefined;
        const sig = status !== undefined && status > 128 && status < 128 + 65 ? signalName(status - 128) : signal;
        resolvePromise({ ...base, exitCode: 124, signal: sig, timedOut: true, limit: 'timeout' });
        return;
      }
      if (reportedExit !== undefined) {
        const sig = reportedExit > 128 && reportedExit < 128 + 65 ? signalName(reportedExit - 128) : null;
        resolvePromise({ ...base, exitCode: reportedExit, signal: sig, ...limitFromSignal(sig) });
        return;
      }
      // Without the started or ready byte the launcher's status is its own (nsjail: 255, sandbox-exec: 65, 71), not the command's; unless isolate passed a signal on.
      if (plainExit && spawnError === undefined && code !== null && (sandboxStarted || forwarded > 0)) {
        const sig = code > 128 && code < 128 + 65 ? signalName(code - 128) : null;
        resolvePromise({ ...base, exitCode: code, signal: sig, ...limitFromSignal(sig) });
        return;
      }
      // The ready byte precedes the command's exec: a launcher killed before it never ran the command, whatever the signal.
      const killedBeforeReady = plan.fds.ready !== undefined && !sandboxStarted && forwarded === 0;
      if (signal !== null && !killedBeforeReady) {
        // The launcher itself was killed (a forwarded signal): the sandbox died with it.
        resolvePromise({ ...base, exitCode: 128 + signalNumber(signal), signal, ...limitFromSignal(signal) });
        return;
      }
      const error = spawnError
        ? new IsolateError('E_BACKEND_MISSING', `cannot start ${file}: ${spawnError.message}`, { cause: spawnError })
        : new IsolateError('E_SANDBOX_SETUP', `${plan.backend} could not set up the sandbox (${code === null && signal !== null ? `killed by ${signal}` : `exit ${code ?? '?'}`}); the command was not run`, {
            detail: err === undefined ? 'the backend printed the reason above' : err.text().trim().split('\n').slice(-5).join('\n'),
            fix: 'run `isolate doctor` to check this host',
          });
      resolvePromise({ ...base, exitCode: 125, signal: null, error });
    });
  });
}
