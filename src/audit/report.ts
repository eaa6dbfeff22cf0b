/**
 * The run report: one JSON document per run, the same object `--json`,
 * `--report` and the API return. It names environment variables, never their
 * values.
 */
import type { Plan } from '../backends/types.js';
import type { IsolateError } from '../errors.js';
import type { Limits, Policy } from '../profile/types.js';
import type { ExecuteResult } from '../run/execute.js';
import type { NetworkEvent } from '../network/proxy.js';

export const REPORT_SCHEMA_VERSION = 1;

export interface RunReport {
  schemaVersion: typeof REPORT_SCHEMA_VERSION;
  kind: 'run';
  startedAt: string;
  endedAt: string;
  durationMs: number;
  command: string[];
  cwd: string;
  profile: { name: string; sources: string[] };
  backend: { name: string; version: string; argv: string[] } | null;
  /** Network mode and, for filtered, the rules and every connection attempt. */
  network: { mode: string; allow: string[]; deny: string[]; events: NetworkEvent[] } | null;
  env: string[];
  exitCode: number;
  signal: string | null;
  timedOut: boolean;
  /** Which limit ended the run, when certain: timeout, cpu, fileSize; else null. */
  limit: 'timeout' | 'cpu' | 'fileSize' | null;
  /** The limits in force (milliseconds, seconds and bytes). */
  limits: Limits | null;
  stdout?: string;
  stderr?: string;
  truncated?: { stdout: boolean; stderr: boolean };
  error: { code: string; summary: string; detail?: string; fix?: string } | null;
}

export interface ReportInput {
  startedAt: Date;
  command: readonly string[];
  policy: Policy | undefined;
  plan: Plan | undefined;
  result: ExecuteResult | undefined;
  error: IsolateError | undefined;
  cwd: string;
}

export function buildReport(input: ReportInput): RunReport {
  const ended = new Date();
  const { plan, policy, result, error } = input;
  const err = error ?? result?.error;
  return {
    schemaVersion: REPORT_SCHEMA_VERSION,
    kind: 'run',
    startedAt: input.startedAt.toISOString(),
    endedAt: ended.toISOString(),
    durationMs: result?.durationMs ?? ended.getTime() - input.startedAt.getTime(),
    command: [...input.command],
    cwd: policy?.process.cwd ?? input.cwd,
    profile: { name: policy?.profile.name ?? '', sources: policy?.profile.sources ?? [] },
    backend: plan === undefined ? null : { name: plan.backend, version: plan.backendVersion, argv: plan.argv },
    network:
      policy === undefined
        ? null
        : { mode: policy.network.mode, allow: policy.network.allow, deny: policy.network.deny, events: result?.networkEvents ?? [] },
    env: plan === undefined ? [] : Object.keys(plan.childEnv).sort(),
    exitCode: err !== undefined && result?.error === undefined ? err.exitCode : (result?.exitCode ?? 125),
    signal: result?.signal ?? null,
    timedOut: result?.timedOut ?? false,
    limit: result?.limit ?? null,
    limits: policy?.limits ?? null,
    ...(result?.stdout === undefined ? {} : { stdout: result.stdout }),
    ...(result?.stderr === undefined ? {} : { stderr: result.stderr }),
    ...(result?.truncated === undefined ? {} : { truncated: result.truncated }),
    error: err === undefined ? null : err.toJSON(),
  };
}
