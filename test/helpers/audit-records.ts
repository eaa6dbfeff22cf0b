/**
 * Whole audit records for tests that read the log back: a run report and a
 * `run-started` record with every field the record schema requires, so that
 * the audit commands parse them as a real log's lines (profiles/audit-record.schema.json).
 */
import type { RunReport, RunStartedRecord } from '../../src/audit/report.js';

type RunFields = Omit<RunReport, 'stdout' | 'stderr' | 'truncated' | 'audit'>;

/** A finished run as the audit log keeps it; `over` replaces fields. */
export function runRecord(over: Partial<RunFields> = {}): RunFields {
  return {
    schemaVersion: 2,
    kind: 'run',
    runId: 'r',
    startedAt: '2026-01-01T00:00:00.000Z',
    endedAt: '2026-01-01T00:00:01.000Z',
    durationMs: 1000,
    command: ['true'],
    cwd: '/p',
    user: { uid: 1000, gid: 1000, name: 'u' },
    profile: { name: 'default', sources: ['builtin:default'], sha256: null },
    backend: null,
    network: null,
    env: [],
    policy: null,
    exitCode: 0,
    signal: null,
    timedOut: false,
    limit: null,
    limits: null,
    resources: { userCpuMs: null, systemCpuMs: null, peakMemoryBytes: null },
    error: null,
    ...over,
  };
}

/** The record written before a run's command starts; `over` replaces fields. */
export function startedRecordOf(over: Partial<RunStartedRecord> = {}): RunStartedRecord {
  return {
    schemaVersion: 2,
    kind: 'run-started',
    runId: 'r',
    startedAt: '2026-01-01T00:00:00.000Z',
    command: ['true'],
    cwd: '/p',
    user: { uid: 1000, gid: 1000, name: 'u' },
    profile: { name: 'default', sources: ['builtin:default'], sha256: null },
    backend: { name: 'bwrap', version: '0.8.0' },
    isolate: { pid: 1, host: 'h' },
    ...over,
  };
}

/** A network event of a run's report; `over` replaces fields. */
export function networkEvent(decision: 'allowed' | 'denied', host = 'x.example'): NonNullable<RunReport['network']>['events'][number] {
  return { time: '2026-01-01T00:00:00.000Z', protocol: 'connect', host, port: 443, decision, rule: null, reason: decision, bytesUp: 0, bytesDown: 0, durationMs: 1 };
}
