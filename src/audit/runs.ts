/**
 * Runs as the audit log tells them: a started run has a `run-started`
 * record and, when it ends, its report (kind `run`, same runId). A
 * `run-started` record with no report after it is a run whose end was never
 * recorded: still going when its isolate process is alive on this host,
 * otherwise incomplete (isolate was killed, or the host stopped).
 */
import { hostname } from 'node:os';
import { isIsolateError } from '../errors.js';
import { processAlive } from '../host/alive.js';
import { auditEntries, isRunRecord, type AuditEntry, type StartedRecord } from './records.js';

export const STARTED_KIND = 'run-started' as const;

export interface UnfinishedRun {
  /** 1-based line of the `run-started` record. */
  line: number;
  seq: number;
  runId: string;
  startedAt: string;
  command: string[];
  /** `running`: its isolate process is alive on this host (unless its pid was reused); else `incomplete`. */
  status: 'running' | 'incomplete';
  /** The status for people. */
  statusText: string;
}

export const INCOMPLETE_TEXT = 'incomplete (isolate was killed or the host stopped)';

/** The status of a `run-started` record that has no report. */
export function unfinishedStatus(record: Pick<StartedRecord, 'isolate'>): Pick<UnfinishedRun, 'status' | 'statusText'> {
  const { pid, host } = record.isolate;
  if (host === hostname() && processAlive(pid)) return { status: 'running', statusText: `running (isolate pid ${pid} is alive)` };
  return { status: 'incomplete', statusText: INCOMPLETE_TEXT };
}

/**
 * One pass over `entries`: the `run-started` records without a report of
 * the same runId after them (by line), and how many entries were read. A
 * damaged line ends the pass (a second pass meets it again and throws).
 */
export function unfinishedLines(entries: Iterable<Pick<AuditEntry, 'line' | 'record'>>): { lines: Set<number>; read: number } {
  const pending = new Map<string, number>();
  let read = 0;
  try {
    for (const { line, record } of entries) {
      read = line;
      if (record?.kind === STARTED_KIND) pending.set(record.runId, line);
      else if (record?.kind === 'run') pending.delete(record.runId);
    }
  } catch (e: unknown) {
    if (!isIsolateError(e) || e.code !== 'E_AUDIT_CORRUPT') throw e;
  }
  return { lines: new Set(pending.values()), read };
}

/** The runs of the log at `file` that never recorded an end, in log order. */
export function unfinishedRuns(file: string): UnfinishedRun[] {
  const { lines } = unfinishedLines(auditEntries(file));
  const out: UnfinishedRun[] = [];
  if (lines.size === 0) return out;
  for (const { line, record } of auditEntries(file)) {
    if (record?.kind !== STARTED_KIND || !lines.has(line)) continue;
    const { seq, runId, startedAt, command } = record;
    out.push({ line, seq, runId, startedAt, command, ...unfinishedStatus(record) });
    if (out.length === lines.size) break;
  }
  return out;
}

export interface RunEntry extends AuditEntry {
  /** Set for a `run-started` record whose run has no report in the log. */
  unfinished?: Pick<UnfinishedRun, 'status' | 'statusText'>;
}

/**
 * The runs of the log at `file`, one entry each, in log order: every report
 * as it is, and the `run-started` record of a run without one (marked
 * `unfinished`); a `run-started` record whose report follows, and the
 * records that are not of runs (a `segment` record, see seal.ts; an MCP
 * server's `mcp-call`, call.ts; isolate proxy's `proxy-connection`,
 * proxy-record.ts), are left out. Reads the file twice, never whole; records
 * appended after the first pass are left for the next call.
 */
export function* runEntries(file: string): Generator<RunEntry, void, undefined> {
  const { lines, read } = unfinishedLines(auditEntries(file));
  for (const entry of auditEntries(file)) {
    if (entry.line > read) return;
    const { record } = entry;
    if (record?.kind === STARTED_KIND) {
      if (lines.has(entry.line)) yield { ...entry, unfinished: unfinishedStatus(record) };
    } else if (record === null || isRunRecord(record)) {
      yield entry;
    }
  }
}
