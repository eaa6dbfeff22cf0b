/**
 * Runs as the audit log tells them: a run-started record and its report
 * pair up by runId; a run-started record without a report is a run still
 * going (its isolate process alive on this host) or incomplete.
 */
import { spawnSync } from 'node:child_process';
import { appendFileSync, mkdtempSync, rmSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { appendRecord } from '../../src/audit/log.js';
import { INCOMPLETE_TEXT, runEntries, unfinishedRuns, unfinishedStatus } from '../../src/audit/runs.js';
import { runRecord, startedRecordOf } from '../helpers/audit-records.js';
import { expectIsolateError } from './expect-error.js';

let dir: string;
let log: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'isolate-audit-runs-'));
  log = join(dir, 'audit.jsonl');
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function deadPid(): number {
  return spawnSync(process.execPath, ['-e', '']).pid;
}

const started = (runId: string, pid = deadPid(), host = hostname()) => startedRecordOf({ runId, command: ['sleep', runId], isolate: { pid, host } });
const ended = (runId: string) => runRecord({ runId, command: ['sleep', runId] });

describe('unfinished runs', () => {
  it('pairs each run-started record with the report of the same runId; the ones left over are unfinished', async () => {
    for (const r of [started('a'), started('b'), ended('a'), started('c'), ended('b'), ended('refused-before-start')]) await appendRecord(log, r);
    expect(unfinishedRuns(log)).toEqual([
      { line: 4, seq: 4, runId: 'c', startedAt: '2026-01-01T00:00:00.000Z', command: ['sleep', 'c'], status: 'incomplete', statusText: INCOMPLETE_TEXT },
    ]);
    const entries = [...runEntries(log)];
    expect(entries.map((e) => [e.line, e.record?.kind, e.raw['runId'], e.unfinished?.status])).toEqual([
      [3, 'run', 'a', undefined],
      [4, 'run-started', 'c', 'incomplete'],
      [5, 'run', 'b', undefined],
      [6, 'run', 'refused-before-start', undefined],
    ]);
  });

  it('a run whose isolate process is alive on this host is running; on another host, or with its pid gone, incomplete', () => {
    expect(unfinishedStatus(started('x', process.pid))).toEqual({ status: 'running', statusText: `running (isolate pid ${process.pid} is alive)` });
    expect(unfinishedStatus(started('x', process.pid, `not-${hostname()}`)).status).toBe('incomplete');
    expect(unfinishedStatus(started('x')).status).toBe('incomplete');
  });

  it('records appended while the runs are listed are left for the next listing (no run shows twice)', async () => {
    await appendRecord(log, started('a'));
    const iter = runEntries(log)[Symbol.iterator]();
    const first = iter.next();
    expect(first.value).toMatchObject({ line: 1, unfinished: { status: 'incomplete' } });
    await appendRecord(log, ended('a'));
    expect(iter.next().done).toBe(true);
    expect([...runEntries(log)].map((e) => e.record?.kind)).toEqual(['run']);
  });

  it('a run-started record the schema does not describe is listed as such, never as a run still going', async () => {
    await appendRecord(log, { ...started('a', process.pid), isolate: { pid: String(process.pid), host: hostname() } });
    expect(unfinishedRuns(log)).toEqual([]);
    const [entry] = [...runEntries(log)];
    expect(entry).toMatchObject({ line: 1, record: null, problem: expect.stringMatching(/^isolate\.pid: /) as unknown });
    expect(entry?.unfinished).toBeUndefined();
  });

  it('lists the runs before a damaged line, then throws there', async () => {
    await appendRecord(log, ended('a'));
    await appendRecord(log, started('b'));
    appendFileSync(log, '{"truncated":');
    const iter = runEntries(log)[Symbol.iterator]();
    expect(iter.next().value).toMatchObject({ line: 1 });
    expect(iter.next().value).toMatchObject({ line: 2, unfinished: { status: 'incomplete' } });
    expectIsolateError(() => iter.next(), 'E_AUDIT_CORRUPT');
  });
});
