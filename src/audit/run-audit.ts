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

export const NO_LOCATION = 'no audit log location: set HOME or XDG_STATE_HOME, or pass --audit-log <file>';

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

/** An error as one line: its summary and, for an IsolateError, the detail (e.g. the errno text). */
export function errorText(e: unknown): string {
  if (isIsolateError(e)) return e.detail === undefined ? e.message : `${e.message}: ${e.detail}`;
  return e instanceof Error ? e.message : String(e);
}

/**
 * Append the `run-started` record. Returns why it is not written (also noted
 * in `audit.warnings`), or undefined when it is (or the run is not recorded by choice).
 */
export async function recordStarted(audit: RunAudit, record: RunStartedRecord): Promise<IsolateError | undefined> {
  if (!audit.enabled) return undefined;
  if (audit.log === null) {
    audit.warnings.push(`this run is not in the audit log: ${NO_LOCATION}`);
    return new IsolateError('E_AUDIT_IO', 'there is no place for the audit log', { fix: 'set HOME or XDG_STATE_HOME, or give audit.log / --audit-log' });
  }
  try {
    const { seq, hash, warning } = await appendRecord(audit.log, record);
    audit.started = { seq, hash };
    if (warning !== undefined) audit.warnings.push(`the start of this run: ${warning}`);
    return undefined;
  } catch (e: unknown) {
    audit.warnings.push(`the start of this run is not in the audit log: ${errorText(e)}`);
    return isIsolateError(e) ? e : new IsolateError('E_AUDIT_IO', 'the start of this run could not be recorded in the audit log', { detail: errorText(e), cause: e });
  }
}

/** Append the report as the run's outcome; notes the result in `audit`. */
export async function recordCompleted(audit: RunAudit, report: RunReport): Promise<void> {
  if (!audit.enabled) return;
  if (audit.log === null) {
    if (audit.warnings.length === 0) audit.warnings.push(`this run is not in the audit log: ${NO_LOCATION}`);
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
