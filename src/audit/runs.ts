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
import { readRecords, type LogEntry } from './log.js';
import { SEGMENT_KIND } from './segment.js';
import { CALL_KIND } from './call.js';

export const STARTED_KIND = 'run-started';

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

function str(v: unknown): string {
  return typeof v === 'string' ? v : '';
}

/** The status of a `run-started` record that has no report. */
export function unfinishedStatus(record: Record<string, unknown>): Pick<UnfinishedRun, 'status' | 'statusText'> {
  const by = record['isolate'] as { pid?: unknown; host?: unknown } | undefined;
  const pid = typeof by?.pid === 'number' ? by.pid : 0;
  if (by?.host === hostname() && processAlive(pid)) return { status: 'running', statusText: `running (isolate pid ${pid} is alive)` };
  return { status: 'incomplete', statusText: INCOMPLETE_TEXT };
}

/**
 * One pass over `entries`: the `run-started` records without a report of
 * the same runId after them (by line), and how many entries were read. A
 * damaged line ends the pass (a second pass meets it again and throws).
 */
export function unfinishedLines(entries: Iterable<LogEntry>): { lines: Set<number>; read: number } {
  const pending = new Map<string, number>();
  let read = 0;
  try {
    for (const { line, record } of entries) {
      read = line;
      const runId = str(record['runId']);
      if (record['kind'] === STARTED_KIND) pending.set(runId, line);
      else if (record['kind'] === 'run') pending.delete(runId);
    }
  } catch (e: unknown) {
    if (!isIsolateError(e) || e.code !== 'E_AUDIT_CORRUPT') throw e;
  }
  return { lines: new Set(pending.values()), read };
}

/** The runs of the log at `file` that never recorded an end, in log order. */
export function unfinishedRuns(file: string): UnfinishedRun[] {
  const { lines } = unfinishedLines(readRecords(file));
  const out: UnfinishedRun[] = [];
  if (lines.size === 0) return out;
  for (const { line, record } of readRecords(file)) {
    if (!lines.has(line)) continue;
    const command = Array.isArray(record['command']) ? record['command'].map((a: unknown) => String(a)) : [];
    out.push({ line, seq: Number(record['seq']), runId: str(record['runId']), startedAt: str(record['startedAt']), command, ...unfinishedStatus(record) });
    if (out.length === lines.size) break;
  }
  return out;
}

export interface RunEntry extends LogEntry {
  /** Set for a `run-started` record whose run has no report in the log. */
  unfinished?: Pick<UnfinishedRun, 'status' | 'statusText'>;
}

/**
 * The runs of the log at `file`, one entry each, in log order: every report
 * as it is, and the `run-started` record of a run without one (marked
 * `unfinished`); a `run-started` record whose report follows, and a
 * `segment` record (see seal.ts) and an MCP server's `mcp-call` record (call.ts), are left out. Reads the file twice, never whole; records
 * appended after the first pass are left for the next call.
 */
export function* runEntries(file: string): Generator<RunEntry, void, undefined> {
  const { lines, read } = unfinishedLines(readRecords(file));
  for (const entry of readRecords(file)) {
    if (entry.line > read) return;
    const kind = entry.record['kind'];
    if (kind === STARTED_KIND) {
      if (lines.has(entry.line)) yield { ...entry, unfinished: unfinishedStatus(entry.record) };
    } else if (kind !== SEGMENT_KIND && kind !== CALL_KIND) {
      yield entry;
    }
  }
}
