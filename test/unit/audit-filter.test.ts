/**
 * `isolate audit show` filters: --since (ISO or relative to now, against
 * startedAt), --command (a * glob against the argv joined by spaces) and
 * --denied (refused by policy, a denied network event, or exit code 126).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { appendRecord, commandGlob, filterRecords, isDenied, parseSince, readRecords, type LogEntry } from '../../src/audit/log.js';
import { expectIsolateError } from './expect-error.js';

const NOW = new Date('2026-11-26T18:00:00.000Z');
const ago = (ms: number): string => new Date(NOW.getTime() - ms).toISOString();
const H = 3_600_000;

function entry(line: number, record: Record<string, unknown>): LogEntry {
  return { line, record };
}

const entries: LogEntry[] = [
  entry(1, { startedAt: ago(30 * 60_000), command: ['npm', 'test'], exitCode: 0, network: { events: [] } }),
  entry(2, { startedAt: ago(3 * H), command: ['npm', 'run', 'build'], exitCode: 1 }),
  entry(3, { startedAt: ago(26 * H), command: ['pnpm', 'test'], exitCode: 126 }),
  entry(4, { startedAt: ago(10 * 24 * H), command: ['curl', 'https://x.example'], exitCode: 0, network: { events: [{ decision: 'allowed' }, { decision: 'denied' }] } }),
  entry(5, { startedAt: ago(60_000), command: ['rm', '-rf', '/'], exitCode: 125, policy: { decision: 'refused' } }),
  entry(6, { command: ['no', 'start'], exitCode: 0 }),
];

const lines = (filter: Parameters<typeof filterRecords>[1]): number[] => [...filterRecords(entries, filter, NOW)].map((e) => e.line);

describe('parseSince', () => {
  it.each([
    ['30s', 30_000],
    ['15m', 15 * 60_000],
    ['1h', H],
    ['2d', 48 * H],
    ['1w', 7 * 24 * H],
    [' 3h ', 3 * H],
  ])('reads %j as that long before now', (text, ms) => {
    expect(parseSince(text, NOW).getTime()).toBe(NOW.getTime() - ms);
  });

  it('reads ISO timestamps and dates', () => {
    expect(parseSince('2026-01-02T03:04:05Z', NOW).toISOString()).toBe('2026-01-02T03:04:05.000Z');
    expect(parseSince('2026-01-02T03:04:05.250+01:00', NOW).toISOString()).toBe('2026-01-02T02:04:05.250Z');
    expect(parseSince('2026-01-02', NOW).toISOString()).toBe('2026-01-02T00:00:00.000Z');
  });

  it.each(['', 'yesterday', '1y', '-1h', '1.5h', 'h', '2026-13-45', '12345'])('refuses %j with E_USAGE', (text) => {
    const err = expectIsolateError(() => parseSince(text, NOW), 'E_USAGE');
    expect(err.fix).toContain('1h');
  });
});

describe('commandGlob', () => {
  it.each([
    ['npm *', 'npm test', true],
    ['npm *', 'npm run build', true],
    ['npm *', 'pnpm test', false],
    ['npm *', 'npm', false],
    ['*test*', 'pnpm test --watch', true],
    ['ls -la', 'ls -la', true],
    ['ls -la', 'ls -la /', false],
    ['a.b', 'axb', false],
    ['a.b', 'a.b', true],
    ['(x)+[y]?', '(x)+[y]?', true],
    ['*', '', true],
    ['curl *example*', 'curl https://x.example', true],
  ])('%j against %j: %s', (glob, command, expected) => {
    expect(commandGlob(glob)(command)).toBe(expected);
  });
});

describe('isDenied', () => {
  it('is true for a refused policy decision, a denied network event, or exit code 126', () => {
    expect(isDenied({ policy: { decision: 'refused' } })).toBe(true);
    expect(isDenied({ network: { events: [{ decision: 'allowed' }, { decision: 'denied' }] } })).toBe(true);
    expect(isDenied({ exitCode: 126 })).toBe(true);
  });

  it('is false otherwise, and for odd shapes', () => {
    expect(isDenied({ policy: { decision: 'allowed' }, exitCode: 0 })).toBe(false);
    expect(isDenied({ network: { events: [{ decision: 'allowed' }] }, exitCode: 1 })).toBe(false);
    expect(isDenied({ network: null, policy: null })).toBe(false);
    expect(isDenied({ network: { events: 'denied' }, exitCode: '126' })).toBe(false);
  });
});

describe('filterRecords', () => {
  it('with no criteria keeps everything', () => {
    expect(lines({})).toEqual([1, 2, 3, 4, 5, 6]);
  });

  it('--since relative and ISO, against startedAt (records without one are left out)', () => {
    expect(lines({ since: '1h' })).toEqual([1, 5]);
    expect(lines({ since: '1d' })).toEqual([1, 2, 5]);
    expect(lines({ since: '2w' })).toEqual([1, 2, 3, 4, 5]);
    expect(lines({ since: ago(3 * H) })).toEqual([1, 2, 5]); // at the instant itself: included
    expect(lines({ since: new Date(NOW.getTime() - 2 * H) })).toEqual([1, 5]);
  });

  it('--command glob against the argv joined by spaces', () => {
    expect(lines({ command: 'npm *' })).toEqual([1, 2]);
    expect(lines({ command: '*test' })).toEqual([1, 3]);
    expect(lines({ command: 'rm -rf /' })).toEqual([5]);
    expect(lines({ command: 'nothing' })).toEqual([]);
  });

  it('--denied', () => {
    expect(lines({ denied: true })).toEqual([3, 4, 5]);
    expect(lines({ denied: false })).toEqual([1, 2, 3, 4, 5, 6]);
  });

  it('combines criteria: all must hold', () => {
    expect(lines({ since: '2d', denied: true })).toEqual([3, 5]);
    expect(lines({ since: '2d', denied: true, command: 'pnpm *' })).toEqual([3]);
  });

  it('throws a bad --since when called, not when iterated', () => {
    expectIsolateError(() => filterRecords(entries, { since: 'soon' }, NOW), 'E_USAGE');
  });

  it('filters the records read from a real log', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'isolate-audit-filter-'));
    try {
      const log = join(dir, 'audit.jsonl');
      for (const e of entries) await appendRecord(log, e.record);
      const got = [...filterRecords(readRecords(log), { command: 'npm *' }, NOW)];
      expect(got.map((e) => [e.line, e.record['seq']])).toEqual([
        [1, 1],
        [2, 2],
      ]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
