/**
 * `isolate audit show` filters: --since (ISO or relative to now, against
 * startedAt), --command (a * glob against the argv joined by spaces) and
 * --denied (refused by policy, a denied network event, or exit code 126).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { commandGlob, filterRecords, isDenied, parseSince } from '../../src/audit/filter.js';
import { appendRecord } from '../../src/audit/log.js';
import { auditEntries, auditEntry, type AuditEntry } from '../../src/audit/records.js';
import { networkEvent, runRecord, startedRecordOf } from '../helpers/audit-records.js';
import { expectIsolateError } from './expect-error.js';

const NOW = new Date('2026-11-26T18:00:00.000Z');
const ago = (ms: number): string => new Date(NOW.getTime() - ms).toISOString();
const H = 3_600_000;

const ENVELOPE = { seq: 1, prevHash: '0'.repeat(64), hash: '0'.repeat(64) };
const entry = (line: number, record: object): AuditEntry => auditEntry(line, { ...record, ...ENVELOPE });
const network = (...events: ReturnType<typeof networkEvent>[]) => ({ mode: 'filtered', allow: [], deny: [], events });
const refused = { decision: 'refused' as const, rule: 'rm *', list: 'deny' as const, reason: 'denied by rm *' };

const entries: AuditEntry[] = [
  entry(1, runRecord({ startedAt: ago(30 * 60_000), command: ['npm', 'test'], network: network() })),
  entry(2, runRecord({ startedAt: ago(3 * H), command: ['npm', 'run', 'build'], exitCode: 1 })),
  entry(3, runRecord({ startedAt: ago(26 * H), command: ['pnpm', 'test'], exitCode: 126 })),
  entry(4, runRecord({ startedAt: ago(10 * 24 * H), command: ['curl', 'https://x.example'], network: network(networkEvent('allowed'), networkEvent('denied')) })),
  entry(5, runRecord({ startedAt: ago(60_000), command: ['rm', '-rf', '/'], exitCode: 125, policy: refused })),
  // a record the schema does not describe (no startedAt): shown, but matches no criterion
  entry(6, { kind: 'run', command: ['no', 'start'], exitCode: 126 }),
  entry(7, startedRecordOf({ startedAt: ago(60_000), command: ['npm', 'ci'] })),
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
  const denied = (over: Parameters<typeof runRecord>[0]) => isDenied({ ...runRecord(over), ...ENVELOPE });
  it('is true for a refused policy decision, a denied network event, or exit code 126', () => {
    expect(denied({ policy: refused })).toBe(true);
    expect(denied({ network: network(networkEvent('allowed'), networkEvent('denied')) })).toBe(true);
    expect(denied({ exitCode: 126 })).toBe(true);
  });

  it('is false otherwise, and for a run-started record', () => {
    expect(denied({ policy: { ...refused, decision: 'allowed' }, exitCode: 0 })).toBe(false);
    expect(denied({ network: network(networkEvent('allowed')), exitCode: 1 })).toBe(false);
    expect(denied({ network: null, policy: null })).toBe(false);
    expect(isDenied({ ...startedRecordOf(), ...ENVELOPE })).toBe(false);
  });

  it('a record with the right words in the wrong shapes is not a record, so it cannot be read as denied', () => {
    const odd = entry(1, { ...runRecord(), network: { events: 'denied' }, exitCode: '126' });
    expect(odd.record).toBeNull();
    expect(odd.problem).toMatch(/^network|^exitCode/);
  });
});

describe('filterRecords', () => {
  it('with no criteria keeps everything', () => {
    expect(lines({})).toEqual([1, 2, 3, 4, 5, 6, 7]);
  });

  it('--since relative and ISO, against startedAt (records the schema does not describe are left out)', () => {
    expect(lines({ since: '1h' })).toEqual([1, 5, 7]);
    expect(lines({ since: '1d' })).toEqual([1, 2, 5, 7]);
    expect(lines({ since: '2w' })).toEqual([1, 2, 3, 4, 5, 7]);
    expect(lines({ since: ago(3 * H) })).toEqual([1, 2, 5, 7]); // at the instant itself: included
    expect(lines({ since: new Date(NOW.getTime() - 2 * H) })).toEqual([1, 5, 7]);
  });

  it('--command glob against the argv joined by spaces', () => {
    expect(lines({ command: 'npm *' })).toEqual([1, 2, 7]);
    expect(lines({ command: '*test' })).toEqual([1, 3]);
    expect(lines({ command: 'rm -rf /' })).toEqual([5]);
    expect(lines({ command: 'nothing' })).toEqual([]);
  });

  it('--denied', () => {
    expect(lines({ denied: true })).toEqual([3, 4, 5]);
    expect(lines({ denied: false })).toEqual([1, 2, 3, 4, 5, 6, 7]);
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
      for (const e of entries) {
        const { seq, prevHash, hash, ...record } = e.raw;
        void [seq, prevHash, hash];
        await appendRecord(log, record);
      }
      const got = [...filterRecords(auditEntries(log), { command: 'npm *' }, NOW)];
      expect(got.map((e) => [e.line, e.record?.seq, e.record?.kind])).toEqual([
        [1, 1, 'run'],
        [2, 2, 'run'],
        [7, 7, 'run-started'],
      ]);
      expect([...auditEntries(log)].filter((e) => e.record === null).map((e) => e.line)).toEqual([6]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
