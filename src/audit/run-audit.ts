/**
 * Recording one run in the audit log: where (the target), the `run-started`
 * record before the command starts, the report when it ends, and what the
 * report says about both (RunAudit).
 */
import { resolve } from 'node:path';
import { IsolateError, isIsolateError } from '../errors.js';
import type { Policy } from '../profile/types.js';
import { appendRecord, defaultAuditLogPath } from './log.js';
import { auditRecordOf, type RunAudit, type RunReport, type RunStartedRecord } from './report.js';

export interface AuditTarget {
  enabled: boolean;
  required: boolean;
  log: string | undefined;
}

export interface AuditChoice {
  /** false: do not record this run (the CLI's --no-audit). */
  enabled?: boolean | undefined;
  /** The audit log file, overriding the profile's audit.log and the default. */
  log?: string | undefined;
}

const NO_LOCATION = 'there is no place for the audit log';
const NO_LOCATION_FIX = 'set HOME or XDG_STATE_HOME, or give audit.log / --audit-log <file>';

/** Where and whether the run is recorded: the caller's choice over the profile's, over the default location. */
export function auditTarget(
  policy: Policy | undefined,
  choice: AuditChoice | undefined,
  callerCwd: string,
  env: Readonly<Record<string, string | undefined>>,
): AuditTarget {
  const enabled = choice?.enabled ?? policy?.audit.enabled ?? true;
  const required = policy?.audit.required ?? false;
  const explicit = choice?.log === undefined ? undefined : resolve(callerCwd, choice.log);
  return { enabled, required, log: explicit ?? policy?.audit.log ?? defaultAuditLogPath(env) };
}

/** The run's audit outcome before anything is written. */
export function newRunAudit(target: AuditTarget): RunAudit {
  return {
    enabled: target.enabled,
    required: target.enabled && target.required,
    log: target.enabled ? (target.log ?? null) : null,
    started: null,
    completed: null,
    recorded: false,
    warnings: [],
  };
}

/** An error as one line: its summary and, for an IsolateError, the detail (e.g. the errno text) and the fix. */
export function errorText(e: unknown): string {
  if (!isIsolateError(e)) return e instanceof Error ? e.message : String(e);
  return `${e.message}${e.detail === undefined ? '' : `: ${e.detail}`}${e.fix === undefined ? '' : ` (fix: ${e.fix})`}`;
}

/** The error as an IsolateError (appendRecord throws nothing else, but be sure). */
function asIsolateError(e: unknown): IsolateError {
  if (isIsolateError(e)) return e;
  return new IsolateError('E_AUDIT_IO', 'the audit log cannot be written', { detail: errorText(e), cause: e });
}

/**
 * Append the `run-started` record before the command starts. When it cannot
 * be written, a run whose profile requires the audit log is refused (this
 * throws, exit 125); any other run goes on with a warning in `audit`.
 */
export async function recordStarted(audit: RunAudit, record: RunStartedRecord): Promise<void> {
  if (!audit.enabled) return;
  let why: IsolateError;
  if (audit.log === null) {
    why = new IsolateError('E_AUDIT_IO', NO_LOCATION, { fix: NO_LOCATION_FIX });
  } else {
    try {
      const { seq, hash, warning } = await appendRecord(audit.log, record);
      audit.started = { seq, hash };
      if (warning !== undefined) audit.warnings.push(`the start of this run: ${warning}`);
      return;
    } catch (e: unknown) {
      why = asIsolateError(e);
    }
  }
  if (audit.required) {
    throw new IsolateError(why.code, `the profile requires the audit log (audit.required) and the start of this run cannot be recorded, so the command was not started: ${why.message}`, {
      detail: why.detail,
      fix: why.fix ?? 'check the audit log with `isolate audit verify`, or give another audit.log / --audit-log',
      cause: why,
    });
  }
  audit.warnings.push(`the start of this run is not in the audit log: ${errorText(why)}`);
}

/**
 * The exit code the CLI ends with: the run's own, except 125 when the
 * profile requires the audit log (audit.required) and the run's outcome is
 * not in it, even though the command ran.
 */
export function auditedExitCode(report: RunReport): number {
  return report.audit?.required === true && !report.audit.recorded ? 125 : report.exitCode;
}

/** Append the report as the run's outcome; notes the result in `audit`. */
export async function recordCompleted(audit: RunAudit, report: RunReport): Promise<void> {
  if (!audit.enabled) return;
  if (audit.log === null) {
    if (audit.warnings.length === 0) audit.warnings.push(`this run is not in the audit log: ${NO_LOCATION} (fix: ${NO_LOCATION_FIX})`);
    return;
  }
  try {
    const { seq, hash, warning } = await appendRecord(audit.log, auditRecordOf(report));
    audit.completed = { seq, hash };
    audit.recorded = true;
    if (warning !== undefined) audit.warnings.push(`the outcome of this run: ${warning}`);
  } catch (e: unknown) {
    const shown = audit.started === null ? '' : ' (the log shows the run as incomplete)';
    audit.warnings.push(`the outcome of this run is not in the audit log${shown}: ${errorText(e)}`);
  }
}
