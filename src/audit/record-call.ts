/** Recording a call of the MCP server that started no sandbox (call.ts): one record, in the log a run would go to. */
import { randomUUID } from 'node:crypto';
import { CALL_KIND, type CallRecord, type RunOrigin } from './call.js';
import type { CommandDecision } from '../policy/commands.js';
import { appendRecord } from './log.js';
import { redactArgv } from './redact.js';
import { REPORT_SCHEMA_VERSION, type RunAudit, type RunReport } from './report.js';
import { errorText, newRunAudit, type AuditTarget } from './run-audit.js';

export interface CallInput {
  origin: RunOrigin;
  command: readonly string[] | null;
  user: RunReport['user'];
  profile: RunReport['profile'];
  decision: Pick<CommandDecision, 'decision' | 'rule' | 'list' | 'reason'> | null;
  error: RunReport['error'];
}

export function callRecord(input: CallInput, time = new Date()): CallRecord {
  const d = input.decision;
  return {
    schemaVersion: REPORT_SCHEMA_VERSION,
    kind: CALL_KIND,
    callId: randomUUID(),
    time: time.toISOString(),
    origin: input.origin,
    command: input.command === null ? null : redactArgv(input.command),
    user: input.user,
    profile: input.profile,
    policy: d === null ? null : { decision: d.decision, rule: d.rule, list: d.list, reason: d.reason },
    error: input.error,
  };
}

/** Append the call's record; what happened is in the returned audit outcome (never throws). */
export async function recordCall(target: AuditTarget, input: CallInput): Promise<RunAudit> {
  const audit = newRunAudit(target);
  if (!audit.enabled) return audit;
  if (audit.log === null) {
    audit.warnings.push('this call is not in the audit log: there is no place for the audit log');
    return audit;
  }
  try {
    const { seq, hash, warning } = await appendRecord(audit.log, callRecord(input));
    audit.completed = { seq, hash };
    audit.recorded = true;
    if (warning !== undefined) audit.warnings.push(`this call: ${warning}`);
  } catch (e: unknown) {
    audit.warnings.push(`this call is not in the audit log: ${errorText(e)}`);
  }
  return audit;
}
