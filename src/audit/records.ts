/**
 * The audit log's records as the audit commands read them back: each line
 * parsed with the published record schema (report-schema.ts), so that what
 * `isolate audit show` and `verify` print is typed data, not guessed shapes.
 * A line the schema does not describe (written by another version of
 * isolate, or an edited log whose chain still happens to verify) is kept
 * as it is, with the schema's first complaint, and never trusted for a
 * field. Only the audit commands load this module (and zod with it): runs
 * append records through log.ts and never read them back.
 */
import type * as z from 'zod';
import { readRecords } from './log.js';
import { auditRecordSchema } from './report-schema.js';

/** One record of the log, as the schema describes it. */
export type KnownRecord = z.infer<typeof auditRecordSchema>;
export type RunRecord = Extract<KnownRecord, { kind: 'run' }>;
export type StartedRecord = Extract<KnownRecord, { kind: 'run-started' }>;
export type SegmentRecordData = Extract<KnownRecord, { kind: 'segment' }>;
/** A run's records: its report and its `run-started` record. */
export type RunLikeRecord = Extract<KnownRecord, { kind: 'run' | 'run-started' }>;

/** Whether the record is of a run; the log's other kinds (segment, mcp-call, proxy-started, proxy-connection) are not. */
export function isRunRecord(record: KnownRecord): record is RunLikeRecord {
  return record.kind === 'run' || record.kind === 'run-started';
}

export interface AuditEntry {
  /** 1-based line number in the log. */
  line: number;
  /** The line as parsed JSON. */
  raw: Record<string, unknown>;
  /** The record, when the schema describes it; null otherwise (see `problem`). */
  record: KnownRecord | null;
  /** Why the schema does not describe it: the first issue, with its key path; null when it does. */
  problem: string | null;
}

function issueText(error: z.ZodError): string {
  const first = error.issues[0];
  if (first === undefined) return 'not an isolate audit record';
  const path = first.path.length === 0 ? '' : `${first.path.map(String).join('.')}: `;
  return `${path}${first.message}`;
}

/** The entry for one parsed line. */
export function auditEntry(line: number, raw: Record<string, unknown>): AuditEntry {
  const parsed = auditRecordSchema.safeParse(raw);
  return parsed.success ? { line, raw, record: parsed.data, problem: null } : { line, raw, record: null, problem: issueText(parsed.error) };
}

/**
 * The records of the log at `file`, in order, each checked against the
 * schema; read in chunks like readRecords, and like it throws E_AUDIT_CORRUPT
 * at a line that is not a JSON object, after yielding the ones before it.
 */
export function* auditEntries(file: string): Generator<AuditEntry, void, undefined> {
  for (const { line, record } of readRecords(file)) yield auditEntry(line, record);
}
