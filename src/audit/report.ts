/**
 * The run report: one JSON document per run, the same object `--json`,
 * `--report` and the API return. It names environment variables, never their
 * values.
 *
 * The audit log holds two records per started run: a `run-started` record
 * written before the command starts (who, what, where, under which profile
 * and backend), and the report itself (kind `run`, without the captured
 * output and without `audit`) when it ends. A run refused before it started
 * has only the second. A `run-started` record without a `run` record of the
 * same runId is a run whose end was never recorded (isolate was killed, or
 * the host stopped).
 */
import type { Plan } from '../backends/types.js';
import type { IsolateError } from '../errors.js';
import type { Limits, Policy } from '../profile/types.js';
import type { ExecuteResult } from '../run/execute.js';
import type { NetworkEvent } from '../network/proxy.js';
import type { NetworkEventCounts } from '../network/event-log.js';
import type { SandboxDenials } from '../run/denials.js';
import type { Quarantined } from '../run/quarantine.js';
import { createHash } from 'node:crypto';
import type { CommandDecision } from '../policy/commands.js';
import { hostname } from 'node:os';
import { redactArgv } from './redact.js';
import { canonicalJson } from './chain.js';
import { credentialsReport, type CredentialsReport } from './credentials-report.js';
import type { RunOrigin } from './call.js';

/** 2: the `audit` field, and the `run-started` record in the log. */
export const REPORT_SCHEMA_VERSION = 2;

/** Where a record went in the log. */
export interface RecordRef {
  seq: number;
  hash: string;
}

/** Whether and where the run is recorded in the audit log (the report's `audit` field; not in the log itself). */
export interface RunAudit {
  /** false: not recorded by choice (--no-audit, audit.enabled: false). */
  enabled: boolean;
  /** The profile's audit.required: the CLI exits 125 when the run is not recorded. */
  required: boolean;
  /** The log file; null when disabled or there is no location for it. */
  log: string | null;
  /** The record written before the command started; null when none was (refused before it started, or not writable). */
  started: RecordRef | null;
  /** The record of the outcome; null when it could not be written. */
  completed: RecordRef | null;
  /** Whether the outcome is in the log (completed is not null). */
  recorded: boolean;
  /** What went wrong, each saying whether its record was written. */
  warnings: string[];
}

export interface RunReport {
  schemaVersion: typeof REPORT_SCHEMA_VERSION;
  kind: 'run';
  /** A random identifier of this run. */
  runId: string;
  startedAt: string;
  endedAt: string;
  durationMs: number;
  /** The command as given, with secret-looking values redacted. */
  command: string[];
  cwd: string;
  /** Who ran isolate. */
  user: { uid: number; gid: number; name: string | null };
  /** The profile; sha256 is over the fully resolved policy (canonical JSON), so two runs under the same policy share it. */
  profile: { name: string; sources: string[]; sha256: string | null };
  /** The backend and the exact argv it was started with (command arguments redacted like `command`). */
  backend: { name: string; version: string; argv: string[] } | null;
  /** Network mode and, for filtered, the rules and every connection attempt. */
  network: { mode: string; allow: string[]; deny: string[]; events: NetworkEvent[]; omitted?: NetworkEventCounts; credentials?: CredentialsReport } | null;
  /** Names of the environment variables the command received (never their values). */
  env: string[];
  /** The command-policy decision, when the profile has command rules. */
  policy: { decision: 'allowed' | 'refused'; rule: string | null; list: 'allow' | 'deny' | null; reason: string } | null;
  exitCode: number;
  signal: string | null;
  timedOut: boolean;
  /** Which limit ended the run, when certain: timeout, cpu, fileSize, memory (the cgroup's OOM kill), processes (the cgroup's pids.max); else null. */
  limit: 'timeout' | 'cpu' | 'fileSize' | 'memory' | 'processes' | null;
  /** The limits in force (milliseconds, seconds and bytes). */
  limits: Limits | null;
  /** CPU time of the sandbox's processes that were waited for, and the largest resident memory seen. */
  resources: { userCpuMs: number | null; systemCpuMs: number | null; peakMemoryBytes: number | null };
  stdout?: string;
  stderr?: string;
  truncated?: { stdout: boolean; stderr: boolean };
  /** With captured output: how many bytes the command wrote to stdout and stderr, kept or not. */
  outputBytes?: { stdout: number; stderr: number };
  /** sandbox-exec on macOS only: what the sandbox refused, from the unified log (best effort; absent on other backends). */
  denials?: SandboxDenials;
  /** The caller cancelled the run (the API's signal, an MCP client's cancellation): every process of the sandbox was killed. */
  cancelled?: true;
  /** Present when the run asked for a terminal of its own (isolate's stdin and stdout were terminals, no --no-tty): whether the command got one, and why not (`reason`, with `fix`). */
  terminal?: { given: boolean; reason?: string; fix?: string };
  /** sandbox-exec only: a process that left the command's process group held stdout or stderr open after the command exited; isolate stopped reading shortly after, so output may be cut. */
  outputCut?: true;
  /** sandbox-exec only: the run directory could not be removed safely and was left at `path` (`reason`: an errno code, or ESANDBOXWRITABLE when the profile could still write there). */
  leftBehind?: { path: string; reason: string };
  /** Protected names the run created (a new repository's config or hooks, an .envrc, ...), renamed aside after it so that nothing on the host obeys them; movedTo null: the rename failed (error). */
  quarantined?: Quarantined[];
  /** What isolate could not clean up after the run (e.g. placeholders a burst of runs kept it from removing), and what becomes of it. */
  cleanupErrors?: string[];
  error: { code: string; summary: string; detail?: string; fix?: string } | null;
  /** Who asked for the run, when not the CLI or the API directly: the MCP server's tool and its client. */
  origin?: RunOrigin;
  /** Whether and where the run is recorded (the report isolate returns and prints; the log's copy does not have it). */
  audit?: RunAudit;
}

/** The record written to the audit log before the command starts. */
export interface RunStartedRecord {
  schemaVersion: typeof REPORT_SCHEMA_VERSION;
  kind: 'run-started';
  runId: string;
  startedAt: string;
  command: string[];
  cwd: string;
  user: RunReport['user'];
  profile: RunReport['profile'];
  backend: { name: string; version: string };
  /** The isolate process that runs it, so that a reader can tell a run still going from one that never ended. */
  isolate: { pid: number; host: string };
  /** Who asked for the run, when not the CLI or the API directly (see RunReport.origin). */
  origin?: RunOrigin | undefined;
}

export interface ReportInput {
  runId: string;
  startedAt: Date;
  command: readonly string[];
  policy: Policy | undefined;
  policySha256: string | undefined;
  plan: Plan | undefined;
  decision: CommandDecision | undefined;
  result: ExecuteResult | undefined;
  error: IsolateError | undefined;
  cwd: string;
  user: RunReport['user'];
  quarantined?: Quarantined[];
  cleanupErrors?: string[];
  origin?: RunOrigin | undefined;
}

function terminalField(plan: Plan | undefined): Pick<RunReport, 'terminal'> {
  const t = plan?.terminal;
  if (t === undefined) return {};
  return { terminal: t.given ? { given: true } : { given: false, reason: t.reason, fix: t.fix } };
}

/** The report as the audit log keeps it: without the captured output and without `audit`. */
export function auditRecordOf(report: RunReport): Omit<RunReport, 'stdout' | 'stderr' | 'truncated' | 'audit'> {
  const { stdout: _stdout, stderr: _stderr, truncated: _truncated, audit: _audit, ...rest } = report;
  return rest;
}

/** What the run's two records say of who ran what, where and under which profile. */
type IdentityInput = Pick<ReportInput, 'runId' | 'startedAt' | 'command' | 'policy' | 'policySha256' | 'cwd' | 'user' | 'origin'>;

function cwdOf(input: IdentityInput): string {
  return input.policy?.process.cwd ?? input.cwd;
}

function profileOf(input: IdentityInput): RunReport['profile'] {
  const { policy } = input;
  return { name: policy?.profile.name ?? '', sources: policy?.profile.sources ?? [], sha256: input.policySha256 ?? null };
}

/** The record that says the run is about to start (the plan is made; the command has not started). */
export function startedRecord(input: IdentityInput & { plan: Plan }): RunStartedRecord {
  return {
    schemaVersion: REPORT_SCHEMA_VERSION,
    kind: 'run-started',
    runId: input.runId,
    startedAt: input.startedAt.toISOString(),
    command: redactArgv(input.command),
    cwd: cwdOf(input),
    user: input.user,
    profile: profileOf(input),
    backend: { name: input.plan.backend, version: input.plan.backendVersion },
    isolate: { pid: process.pid, host: hostname() },
    ...(input.origin === undefined ? {} : { origin: input.origin }),
  };
}

/** Digests of the policies seen last, by their JSON: a long-lived process (the MCP server) runs the same policy again and again. */
const digests = new Map<string, string>();
const DIGESTS_KEPT = 8;

/** Forget the digests made so far: the start-up snapshot's warm-up (src/warm-up-host.ts) keeps nothing of the machine that built it. */
export function forgetDigests(): void {
  digests.clear();
}

export function policyDigest(policy: Policy): string {
  // Through JSON first: optional fields that are absent or undefined mean the same.
  const json = JSON.stringify(policy);
  // The digest is a function of this text alone (canonicalJson of its parse): equal texts, equal digests.
  const known = digests.get(json);
  if (known !== undefined) return known;
  const digest = createHash('sha256').update(canonicalJson(JSON.parse(json))).digest('hex');
  if (digests.size >= DIGESTS_KEPT) digests.delete(digests.keys().next().value ?? '');
  digests.set(json, digest);
  return digest;
}

/** The backend argv with the command's own arguments (after the last "--") redacted. */
function redactBackendArgv(argv: readonly string[], commandLength: number): string[] {
  if (commandLength <= 1 || argv.length < commandLength) return [...argv];
  const head = argv.slice(0, argv.length - (commandLength - 1));
  return [...head, ...redactArgv(argv.slice(argv.length - (commandLength - 1)))];
}

export function buildReport(input: ReportInput): RunReport {
  const ended = new Date();
  const { plan, policy, result, error, decision } = input;
  const err = error ?? result?.error;
  return {
    schemaVersion: REPORT_SCHEMA_VERSION,
    kind: 'run',
    runId: input.runId,
    startedAt: input.startedAt.toISOString(),
    endedAt: ended.toISOString(),
    durationMs: result?.durationMs ?? ended.getTime() - input.startedAt.getTime(),
    command: redactArgv(input.command),
    cwd: cwdOf(input),
    user: input.user,
    profile: profileOf(input),
    backend: plan === undefined ? null : { name: plan.backend, version: plan.backendVersion, argv: redactBackendArgv(plan.argv, input.command.length) },
    network:
      policy === undefined
        ? null
        : {
            mode: policy.network.mode,
            allow: policy.network.allow,
            deny: policy.network.deny,
            events: result?.networkEvents ?? [],
            ...(result?.networkEventsOmitted === undefined ? {} : { omitted: result.networkEventsOmitted }),
            ...credentialsReport(policy, result),
          },
    env: plan === undefined ? [] : Object.keys(plan.childEnv).sort(),
    policy: decision === undefined ? null : { decision: decision.decision, rule: decision.rule, list: decision.list, reason: decision.reason },
    exitCode: err !== undefined && result?.error === undefined ? err.exitCode : (result?.exitCode ?? 125),
    signal: result?.signal ?? null,
    timedOut: result?.timedOut ?? false,
    limit: result?.limit ?? null,
    limits: policy?.limits ?? null,
    resources: result?.resources ?? { userCpuMs: null, systemCpuMs: null, peakMemoryBytes: null },
    ...(result?.stdout === undefined ? {} : { stdout: result.stdout }),
    ...(result?.stderr === undefined ? {} : { stderr: result.stderr }),
    ...(result?.truncated === undefined ? {} : { truncated: result.truncated }),
    ...(result?.outputBytes === undefined ? {} : { outputBytes: result.outputBytes }),
    ...(result?.denials === undefined ? {} : { denials: result.denials }),
    ...(result?.cancelled === true ? { cancelled: true as const } : {}),
    ...terminalField(plan),
    ...(result?.outputCut === true ? { outputCut: true as const } : {}),
    ...(result?.leftBehind === undefined ? {} : { leftBehind: result.leftBehind }),
    ...(input.quarantined === undefined || input.quarantined.length === 0 ? {} : { quarantined: input.quarantined }),
    ...(input.cleanupErrors === undefined || input.cleanupErrors.length === 0 ? {} : { cleanupErrors: input.cleanupErrors }),
    error: err === undefined ? null : err.toJSON(),
    ...(input.origin === undefined ? {} : { origin: input.origin }),
  };
}
