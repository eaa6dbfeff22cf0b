/**
 * The sandbox-exec denials for the run report: the parser of macOS's unified
 * log (`log show --style ndjson`), on sample lines in the log's format, and
 * the bounded collector, run against a stand-in `log` script (this machine is
 * not a Mac).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { buildReport } from '../../src/audit/report.js';
import { runReportSchema } from '../../src/audit/report-schema.js';
import {
  collectDenials,
  denialPredicate,
  denialsFromNdjson,
  logShowArgs,
  logStartTime,
  logTimestampToIso,
  parseSandboxMessage,
  type SandboxDenials,
} from '../../src/run/denials.js';
import { pidsInGroup, signalGroup } from '../../src/run/process-group.js';

/** One record as `log show --style ndjson` prints it for the kernel's Sandbox extension (processID 0: the kernel). */
function record(eventMessage: string, timestamp = '2025-03-01 14:05:09.123456+0100'): string {
  return JSON.stringify({
    traceID: 4160031241609220,
    eventMessage,
    eventType: 'logEvent',
    source: null,
    formatString: '%s',
    activityIdentifier: 0,
    subsystem: '',
    category: '',
    threadID: 1339221,
    senderImageUUID: '3C9C5E0C-9C4D-3A0B-8E4C-1D8C0E6F5A11',
    backtrace: { frames: [{ imageOffset: 121812, imageUUID: '3C9C5E0C-9C4D-3A0B-8E4C-1D8C0E6F5A11' }] },
    bootUUID: '',
    processImagePath: '/kernel',
    senderImagePath: '/System/Library/Extensions/Sandbox.kext/Contents/MacOS/Sandbox',
    timestamp,
    machTimestamp: 1234567890123,
    messageType: 'Error',
    processImageUUID: 'A1B2C3D4-0000-1111-2222-333344445555',
    processID: 0,
    senderProgramCounter: 121812,
    parentActivityIdentifier: 0,
    timezoneName: '',
  });
}

const SAMPLE = [
  record('Sandbox: cat(4242) deny(1) file-read-data /Users/alice/.ssh/id_ed25519'),
  record('Sandbox: cat(4242) deny(1) file-read-data /Users/alice/.ssh/id_ed25519', '2025-03-01 14:05:09.200000+0100'),
  record('Sandbox: sh(4240) deny(1) file-write-create /Users/alice/project/.git/hooks/pre-commit', '2025-03-01 14:05:08.900000+0100'),
  record('Sandbox: curl(4250) deny(1) network-outbound 140.82.112.3:443'),
  record('Sandbox: node(4251) deny(1) mach-lookup com.apple.pasteboard.1'),
  record('Sandbox: node(4251) deny(1) process-fork'),
  record('Sandbox: Google Chrome He(4252) deny(1) file-read-data /Users/alice/Library/Cookies'),
  record('Sandbox: ls(4253) System Policy: deny(1) file-read-data /Users/alice/Library/Mail'),
  // Another program's sandbox on the same Mac: not ours.
  record('Sandbox: Safari(999) deny(1) file-read-data /private/etc/hosts'),
  // Allowed with a report, a duplicate summary without a pid, a tag added by (with message ...).
  record('Sandbox: cat(4242) allow(0) file-read-data /usr/lib/libSystem.B.dylib'),
  record('Sandbox: 7 duplicate reports for cat deny(1) file-read-data /Users/alice/.ssh/id_ed25519'),
  record('Sandbox: sh(4240) deny(1) file-write-data /Users/alice/.bashrc\nisolate-tag'),
  'Filtering the log data using "sender == \\"Sandbox\\""',
  '{"count":12,"finished":1}',
  '{"eventMessage":',
  '',
].join('\n');

const OURS = new Set([4240, 4242, 4250, 4251, 4252, 4253]);

describe('sandbox denials: one Sandbox message', () => {
  it('reads process, pid, operation and target', () => {
    expect(parseSandboxMessage('Sandbox: cat(4242) deny(1) file-read-data /Users/alice/.ssh/id_ed25519')).toEqual({
      process: 'cat',
      pid: 4242,
      action: 'deny',
      operation: 'file-read-data',
      target: '/Users/alice/.ssh/id_ed25519',
      systemPolicy: false,
    });
  });

  it('keeps targets with spaces, names with spaces and parentheses, and operations without a target', () => {
    expect(parseSandboxMessage('Sandbox: node(7) deny(1) file-read-data /Users/a/My Documents/x (1).txt')?.target).toBe('/Users/a/My Documents/x (1).txt');
    expect(parseSandboxMessage('Sandbox: Helper (GPU)(12) deny(1) iokit-open IOSurfaceRootUserClient')).toMatchObject({ process: 'Helper (GPU)', pid: 12 });
    expect(parseSandboxMessage('Sandbox: node(7) deny(1) process-fork')).toMatchObject({ operation: 'process-fork', target: null });
  });

  it('takes the first "<process>(<pid>) deny(n) <operation>" of the line: a target (chosen by the sandbox) cannot forge an entry', () => {
    // A mach-lookup name or a path the sandbox picked, spelling another denial of another pid.
    const forged = parseSandboxMessage('Sandbox: node(4242) deny(1) mach-lookup com.x(4243) deny(1) file-read-data /etc/shadow');
    expect(forged).toMatchObject({ process: 'node', pid: 4242, operation: 'mach-lookup', target: 'com.x(4243) deny(1) file-read-data /etc/shadow' });
    const inPath = parseSandboxMessage('Sandbox: cat(4242) deny(1) file-read-data /Users/a/x(4243) System Policy: deny(1) file-write-data /etc/passwd');
    expect(inPath).toMatchObject({ process: 'cat', pid: 4242, operation: 'file-read-data', systemPolicy: false });
    // The forged pid gets no entry; the real one keeps its own.
    const ndjson = [record('Sandbox: node(4242) deny(1) mach-lookup com.x(4243) deny(1) file-read-data /etc/shadow')].join('\n');
    const { entries } = denialsFromNdjson(ndjson, new Set([4242, 4243]));
    expect(entries).toHaveLength(1);
    expect(entries[0]).toMatchObject({ pid: 4242, operation: 'mach-lookup', target: 'com.x(4243) deny(1) file-read-data /etc/shadow' });
  });

  it('a target ending in "(1) deny(1) x" cannot hide the real entry (attribute it to a pid that is not the sandbox\'s)', () => {
    const message = 'Sandbox: cat(4242) deny(1) file-read-data /Users/alice/.ssh/id_ed25519(1) deny(1) x';
    expect(parseSandboxMessage(message)).toMatchObject({ process: 'cat', pid: 4242, operation: 'file-read-data', target: '/Users/alice/.ssh/id_ed25519(1) deny(1) x' });
    const { entries } = denialsFromNdjson(record(message), new Set([4242]));
    expect(entries).toEqual([
      { time: '2025-03-01T13:05:09.123Z', pid: 4242, process: 'cat', operation: 'file-read-data', target: '/Users/alice/.ssh/id_ed25519(1) deny(1) x', count: 1, message },
    ]);
  });

  it('the process name is at most 32 characters, as macOS logs it; the entry keeps the raw line', () => {
    const name32 = 'P'.repeat(31) + ')';
    expect(parseSandboxMessage(`Sandbox: ${name32}(77) deny(1) process-fork`)).toMatchObject({ process: name32, pid: 77 });
    expect(parseSandboxMessage(`Sandbox: ${'P'.repeat(33)}(77) deny(1) process-fork`)).toBeUndefined();
    const { entries } = denialsFromNdjson(record('Sandbox: sh(3) deny(1) file-write-data /y\nisolate-tag'), new Set([3]));
    expect(entries[0]?.message).toBe('Sandbox: sh(3) deny(1) file-write-data /y');
  });

  it('marks the system policy, reads only the first line, and ignores what is not a denial report', () => {
    expect(parseSandboxMessage('Sandbox: ls(9) System Policy: deny(1) file-read-data /x')).toMatchObject({ pid: 9, systemPolicy: true });
    expect(parseSandboxMessage('Sandbox: sh(3) deny(1) file-write-data /y\nisolate-tag')).toMatchObject({ pid: 3, target: '/y' });
    expect(parseSandboxMessage('Sandbox: cat(4) allow(0) file-read-data /z')?.action).toBe('allow');
    expect(parseSandboxMessage('Sandbox: 7 duplicate reports for cat deny(1) file-read-data /z')).toBeUndefined();
    expect(parseSandboxMessage('something else entirely')).toBeUndefined();
    expect(parseSandboxMessage('')).toBeUndefined();
  });
});

describe('sandbox denials: log show --style ndjson', () => {
  it('keeps only denials of the sandbox\'s pids, once each with a count, in the order first seen', () => {
    const { entries, truncated } = denialsFromNdjson(SAMPLE, OURS);
    expect(truncated).toBe(false);
    expect(entries).toEqual([
      { time: '2025-03-01T13:05:09.123Z', pid: 4242, process: 'cat', operation: 'file-read-data', target: '/Users/alice/.ssh/id_ed25519', count: 2, message: 'Sandbox: cat(4242) deny(1) file-read-data /Users/alice/.ssh/id_ed25519' },
      { time: '2025-03-01T13:05:08.900Z', pid: 4240, process: 'sh', operation: 'file-write-create', target: '/Users/alice/project/.git/hooks/pre-commit', count: 1, message: 'Sandbox: sh(4240) deny(1) file-write-create /Users/alice/project/.git/hooks/pre-commit' },
      { time: '2025-03-01T13:05:09.123Z', pid: 4250, process: 'curl', operation: 'network-outbound', target: '140.82.112.3:443', count: 1, message: 'Sandbox: curl(4250) deny(1) network-outbound 140.82.112.3:443' },
      { time: '2025-03-01T13:05:09.123Z', pid: 4251, process: 'node', operation: 'mach-lookup', target: 'com.apple.pasteboard.1', count: 1, message: 'Sandbox: node(4251) deny(1) mach-lookup com.apple.pasteboard.1' },
      { time: '2025-03-01T13:05:09.123Z', pid: 4251, process: 'node', operation: 'process-fork', target: null, count: 1, message: 'Sandbox: node(4251) deny(1) process-fork' },
      { time: '2025-03-01T13:05:09.123Z', pid: 4252, process: 'Google Chrome He', operation: 'file-read-data', target: '/Users/alice/Library/Cookies', count: 1, message: 'Sandbox: Google Chrome He(4252) deny(1) file-read-data /Users/alice/Library/Cookies' },
      { time: '2025-03-01T13:05:09.123Z', pid: 4253, process: 'ls', operation: 'file-read-data', target: '/Users/alice/Library/Mail', count: 1, systemPolicy: true, message: 'Sandbox: ls(4253) System Policy: deny(1) file-read-data /Users/alice/Library/Mail' },
      { time: '2025-03-01T13:05:09.123Z', pid: 4240, process: 'sh', operation: 'file-write-data', target: '/Users/alice/.bashrc', count: 1, message: 'Sandbox: sh(4240) deny(1) file-write-data /Users/alice/.bashrc' },
    ]);
    expect(entries.some((e) => e.pid === 999)).toBe(false);
  });

  it('finds nothing without pids, and stops at the entry limit', () => {
    expect(denialsFromNdjson(SAMPLE, new Set()).entries).toEqual([]);
    const capped = denialsFromNdjson(SAMPLE, OURS, 3);
    expect(capped.entries).toHaveLength(3);
    expect(capped.truncated).toBe(true);
    // A repeat of a kept entry is still counted, and is no reason to mark the list truncated.
    expect(denialsFromNdjson(SAMPLE, new Set([4242]), 1)).toMatchObject({ truncated: false, entries: [{ count: 2 }] });
  });

  it('turns the log\'s timestamps into ISO 8601, and keeps text it cannot read', () => {
    expect(logTimestampToIso('2025-03-01 14:05:09.123456+0100')).toBe('2025-03-01T13:05:09.123Z');
    expect(logTimestampToIso('2024-12-31 23:59:59.000000-0800')).toBe('2025-01-01T07:59:59.000Z');
    expect(logTimestampToIso('2025-03-01 14:05:09+0000')).toBe('2025-03-01T14:05:09.000Z');
    expect(logTimestampToIso('yesterday')).toBe('yesterday');
  });
});

describe('sandbox denials: the log show command line', () => {
  it('starts a second before the run, in local time without fractions', () => {
    const since = new Date(2025, 2, 1, 14, 5, 9, 500);
    expect(logStartTime(since)).toBe('2025-03-01 14:05:08');
    expect(logStartTime(new Date(2025, 0, 1, 0, 0, 0, 200))).toBe('2024-12-31 23:59:59');
  });

  it('asks for Sandbox records, naming the pids when there are few; only digits reach the predicate', () => {
    expect(denialPredicate([])).toBe('sender == "Sandbox"');
    expect(denialPredicate([12, 345])).toBe('sender == "Sandbox" AND (eventMessage CONTAINS "(12) " OR eventMessage CONTAINS "(345) ")');
    expect(denialPredicate([0, -1, 1.5, Number.NaN, 7])).toBe('sender == "Sandbox" AND (eventMessage CONTAINS "(7) ")');
    expect(denialPredicate(Array.from({ length: 65 }, (_v, i) => i + 100))).toBe('sender == "Sandbox"');
    const args = logShowArgs(new Date(2025, 2, 1, 14, 5, 9), [42]);
    expect(args).toEqual(['show', '--style', 'ndjson', '--start', '2025-03-01 14:05:08', '--predicate', 'sender == "Sandbox" AND (eventMessage CONTAINS "(42) ")']);
  });
});

describe('sandbox denials: the collector (a stand-in log script)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'isolate-denials-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  function script(name: string, body: string): string {
    const path = join(dir, name);
    writeFileSync(path, `#!/bin/sh\n${body}\n`, { mode: 0o755 });
    return path;
  }

  const sampleFile = join(dir, 'sample.ndjson');
  writeFileSync(sampleFile, SAMPLE);

  it('runs log show with the arguments and returns the denials of the pids', async () => {
    const argsFile = join(dir, 'args');
    const log = script('log-ok', `for a in "$@"; do printf '%s\\n' "$a"; done > ${argsFile}; cat ${sampleFile}`);
    const since = new Date(2025, 2, 1, 14, 5, 9);
    const r = await collectDenials({ since, pids: [4242, 4240, 4242], logPath: log });
    expect(r.error).toBeNull();
    expect(r.truncated).toBe(false);
    expect(r.source).toBe('macos-unified-log');
    expect(r.pids).toEqual([4240, 4242]);
    expect(r.entries.map((e) => `${e.pid} ${e.operation}`)).toEqual(['4242 file-read-data', '4240 file-write-create', '4240 file-write-data']);
    const { readFileSync } = await import('node:fs');
    expect(readFileSync(argsFile, 'utf8').trim().split('\n')).toEqual(logShowArgs(since, [4240, 4242]));
  });

  it('a failing log show is an error in the result, never a throw', async () => {
    const r = await collectDenials({ since: new Date(), pids: [1234], logPath: script('log-fail', 'echo "log: Cannot open the log store" >&2; exit 64') });
    expect(r).toMatchObject({ entries: [], truncated: false, error: 'log show exited 64: log: Cannot open the log store' });
    const missing = await collectDenials({ since: new Date(), pids: [1234], logPath: join(dir, 'no-such-log') });
    expect(missing.error).toMatch(/^cannot start log show: .*ENOENT/);
  });

  it('is bounded in time: what was read before the limit is kept', async () => {
    const log = script('log-slow', `head -n 1 ${sampleFile}; exec sleep 30`);
    const started = Date.now();
    const r = await collectDenials({ since: new Date(), pids: [4242], logPath: log, timeoutMs: 300 });
    expect(Date.now() - started).toBeLessThan(5000);
    expect(r.error).toContain('did not finish within 0.3s');
    expect(r.truncated).toBe(true);
    expect(r.entries).toHaveLength(1);
  });

  it('is bounded in size: the output is cut and marked truncated', async () => {
    const log = script('log-flood', `while :; do cat ${sampleFile}; done`);
    const r = await collectDenials({ since: new Date(), pids: [4242], logPath: log, maxBytes: 64 * 1024 });
    expect(r.truncated).toBe(true);
    expect(r.error).toBeNull();
    expect(r.entries[0]).toMatchObject({ pid: 4242, operation: 'file-read-data' });
    expect(r.entries[0]?.count).toBeGreaterThan(10);
  });
});

describe('sandbox denials in the run report', () => {
  const base = {
    runId: '00000000-0000-4000-8000-000000000000',
    startedAt: new Date('2025-03-01T13:05:08Z'),
    command: ['cat', '/Users/alice/.ssh/id_ed25519'],
    policy: undefined,
    policySha256: undefined,
    plan: undefined,
    decision: undefined,
    error: undefined,
    cwd: '/Users/alice/project',
    user: { uid: 501, gid: 20, name: 'alice' },
  };
  const denials: SandboxDenials = {
    source: 'macos-unified-log',
    pids: [4242],
    entries: denialsFromNdjson(SAMPLE, new Set([4242, 4253])).entries,
    truncated: false,
    error: null,
  };

  it('is in the report when the run has them, and the report matches the published schema', () => {
    const report = buildReport({ ...base, result: { exitCode: 1, signal: null, started: true, durationMs: 5, denials } });
    expect(report.denials).toEqual(denials);
    const parsed = runReportSchema.safeParse(JSON.parse(JSON.stringify(report)));
    expect(parsed.success, JSON.stringify(parsed.error?.issues)).toBe(true);
  });

  it('is absent otherwise (reports of the other backends are unchanged)', () => {
    const report = buildReport({ ...base, result: { exitCode: 0, signal: null, started: true, durationMs: 5 } });
    expect('denials' in report).toBe(false);
    expect(runReportSchema.safeParse(JSON.parse(JSON.stringify(report))).success).toBe(true);
  });

  it('says when captured output was cut because an escaped process held it open (outputCut), and matches the schema', () => {
    const report = buildReport({ ...base, result: { exitCode: 124, signal: 'SIGTERM', started: true, durationMs: 1300, timedOut: true, stdout: 'x', stderr: '', outputCut: true } });
    expect(report.outputCut).toBe(true);
    const parsed = runReportSchema.safeParse(JSON.parse(JSON.stringify(report)));
    expect(parsed.success, JSON.stringify(parsed.error?.issues)).toBe(true);
    expect('outputCut' in buildReport({ ...base, result: { exitCode: 0, signal: null, started: true, durationMs: 5 } })).toBe(false);
  });

  it('says when the run directory was left behind (leftBehind: path and reason), and matches the schema', () => {
    const leftBehind = { path: '/private/var/folders/xy/T/isolate-run-1-ab', reason: 'ESANDBOXWRITABLE' };
    const report = buildReport({ ...base, result: { exitCode: 0, signal: null, started: true, durationMs: 5, leftBehind } });
    expect(report.leftBehind).toEqual(leftBehind);
    const parsed = runReportSchema.safeParse(JSON.parse(JSON.stringify(report)));
    expect(parsed.success, JSON.stringify(parsed.error?.issues)).toBe(true);
    expect('leftBehind' in buildReport({ ...base, result: { exitCode: 0, signal: null, started: true, durationMs: 5 } })).toBe(false);
  });
});

describe('process groups', () => {
  it('reads the members of one group from ps output', () => {
    const ps = ['    1     1', '  812   812', '  813   812', ' 9000   812', '  814   814', 'garbage', ''].join('\n');
    expect(pidsInGroup(ps, 812)).toEqual([812, 813, 9000]);
    expect(pidsInGroup(ps, 5)).toEqual([]);
  });

  it('never signals group 0, 1 or a negative group (kill(0) and kill(-1) mean "mine" and "everyone")', () => {
    for (const pgid of [undefined, 0, 1, -1, -5, 1.5, Number.NaN]) expect(signalGroup(pgid, 'SIGKILL')).toBe(false);
  });
});
