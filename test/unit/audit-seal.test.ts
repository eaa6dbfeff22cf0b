/**
 * Sealing a damaged audit log: the damaged log is kept byte for byte under
 * a new name, the new log's first record links to its last good record,
 * recording goes on, verification follows the links; an intact log is not
 * sealed, and a link that the sealed log does not match is reported.
 */
import { appendFileSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, truncateSync, unlinkSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { GENESIS_HASH } from '../../src/audit/chain.js';
import { lockContent } from '../../src/audit/lock.js';
import { appendRecord, headPath, lockPath, verifyLog } from '../../src/audit/log.js';
import { sealLog, segmentChecks, verifyWithSegments } from '../../src/audit/seal.js';
import { smallTmpfs, tmpfsUnavailable } from '../helpers/tmpfs.js';
import { expectIsolateRejection } from './expect-error.js';

let dir: string;
let log: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'isolate-audit-seal-'));
  log = join(dir, 'audit.jsonl');
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const NOW = new Date('2026-12-02T01:15:00.123Z');
const SEALED = `${'audit.jsonl'}.sealed-20261202T011500Z`;

async function appendN(n: number): Promise<{ seq: number; hash: string }[]> {
  const out = [];
  for (let i = 1; i <= n; i++) out.push(await appendRecord(log, { kind: 'run', n: i }));
  return out;
}
const records = (file: string): Record<string, unknown>[] =>
  readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Record<string, unknown>);

describe('sealLog', () => {
  it('refuses an intact log, and a missing one: nothing to seal (exit 1), nothing changed', async () => {
    await expectIsolateRejection(sealLog(log, { now: NOW }), 'E_AUDIT_INTACT');
    await appendN(2);
    const before = readFileSync(log);
    const err = await expectIsolateRejection(sealLog(log, { now: NOW }), 'E_AUDIT_INTACT');
    expect(err.exitCode).toBe(1);
    expect(readFileSync(log)).toEqual(before);
    expect(readdirSync(dir).sort()).toEqual(['audit.jsonl', 'audit.jsonl.head']);
  });

  it('a truncated last line: keeps the damaged log byte for byte, links the new log to the last good record, and recording goes on', async () => {
    const good = await appendN(3);
    truncateSync(log, readFileSync(log).length - 10);
    const damaged = readFileSync(log);
    const damagedHead = readFileSync(headPath(log));
    await expectIsolateRejection(appendRecord(log, { kind: 'run', n: 4 }), 'E_AUDIT_CORRUPT');

    const r = await sealLog(log, { now: NOW });
    expect(r).toMatchObject({
      sealed: join(dir, SEALED),
      sealedHead: join(dir, `${SEALED}.head`),
      continues: { file: SEALED, seq: 2, hash: good[1]?.hash },
      damage: { line: 3, reason: 'truncated' },
      segment: { seq: 1 },
    });
    expect(readFileSync(r.sealed)).toEqual(damaged);
    expect(readFileSync(`${r.sealed}.head`)).toEqual(damagedHead);
    const [segment] = records(log);
    expect(segment).toMatchObject({ seq: 1, prevHash: good[1]?.hash, kind: 'segment', sealedAt: NOW.toISOString(), continues: r.continues });
    expect(JSON.parse(readFileSync(headPath(log), 'utf8'))).toEqual({ seq: 1, hash: r.segment.hash });
    expect(existsSync(lockPath(log))).toBe(false);

    expect((await appendRecord(log, { kind: 'run', n: 4 })).seq).toBe(2);
    expect(verifyLog(log)).toEqual({ ok: true, records: 2 });
    expect(verifyWithSegments(log)).toEqual({
      result: { ok: true, records: 2 },
      segments: [{ sealed: r.sealed, continues: r.continues, damage: r.damage, present: true, problem: null }],
    });
  });

  it.each([
    ['garbage appended', () => appendFileSync(log, 'garbage\n'), 3, 'malformed'],
    ['a record edited in the middle', () => writeFileSync(log, readFileSync(log, 'utf8').replace('"n":2', '"n":7')), 1, 'edited'],
    ['the head file removed', () => unlinkSync(headPath(log)), 3, 'head-mismatch'],
    ['lines cut off the end (the head file remembers them)', () => writeFileSync(log, readFileSync(log, 'utf8').split('\n').slice(0, 2).join('\n') + '\n'), 2, 'truncated'],
  ])('%s: the new log continues from the last record that verifies', async (_name, damage, lastGood, reason) => {
    const good = await appendN(3);
    damage();
    const r = await sealLog(log, { now: NOW });
    expect(r.continues).toEqual({ file: SEALED, seq: lastGood, hash: good[lastGood - 1]?.hash });
    expect(r.damage.reason).toBe(reason);
    expect(verifyWithSegments(log).result).toEqual({ ok: true, records: 1 });
  });

  it('every record cut off: an empty sealed log is kept with the head file, and the new log starts from the genesis value', async () => {
    await appendN(2);
    writeFileSync(log, '');
    const r = await sealLog(log, { now: NOW });
    expect(r.continues).toEqual({ file: SEALED, seq: 0, hash: GENESIS_HASH });
    expect(readFileSync(r.sealed, 'utf8')).toBe('');
    expect(verifyWithSegments(log).result).toEqual({ ok: true, records: 1 });
  });

  it('a log sealed twice: verification follows both links; a second seal in the same second gets its own name', async () => {
    const first = await appendN(2);
    appendFileSync(log, 'garbage\n');
    const a = await sealLog(log, { now: NOW });
    const second = await appendRecord(log, { kind: 'run', n: 3 });
    appendFileSync(log, '{"cut');
    const b = await sealLog(log, { now: NOW });
    expect(basename(b.sealed)).toBe(`${SEALED}-2`);
    expect(b.continues).toEqual({ file: `${SEALED}-2`, seq: 2, hash: second.hash });
    const checks = segmentChecks(log);
    expect(checks.map((c) => [basename(c.sealed), c.continues.seq, c.present, c.problem])).toEqual([
      [`${SEALED}-2`, 2, true, null],
      [SEALED, 2, true, null],
    ]);
    expect(a.continues.hash).toBe(first[1]?.hash);
    expect(verifyWithSegments(log).result.ok).toBe(true);
  });

  it('verify reports a sealed log that no longer matches its link (broken-link), and one that is not here', async () => {
    await appendN(2);
    appendFileSync(log, 'garbage\n');
    const r = await sealLog(log, { now: NOW });
    const sealed = readFileSync(r.sealed, 'utf8');
    writeFileSync(r.sealed, sealed.replace('"n":2', '"n":9'));
    expect(verifyWithSegments(log).result).toMatchObject({ ok: false, line: 1, reason: 'broken-link' });
    unlinkSync(r.sealed);
    const gone = verifyWithSegments(log);
    expect(gone.result).toEqual({ ok: true, records: 1 });
    expect(gone.segments).toMatchObject([{ present: false, problem: null }]);
  });

  it('a first record that claims to continue a file outside the log\'s directory is not a link: the chain does not verify', async () => {
    await appendN(1);
    appendFileSync(log, 'garbage\n');
    const r = await sealLog(log, { now: NOW });
    const text = readFileSync(log, 'utf8').replace(`"file":"${SEALED}"`, '"file":"../elsewhere"');
    writeFileSync(log, text);
    expect(verifyLog(log)).toMatchObject({ ok: false, line: 1, reason: 'edited' });
    expect(r.continues.file).toBe(SEALED);
  });

  it('waits for the log\'s lock like an append does', async () => {
    await appendN(1);
    appendFileSync(log, 'garbage\n');
    writeFileSync(lockPath(log), lockContent({ pid: process.pid, host: hostname(), time: Date.now(), token: 'busy' }));
    await expectIsolateRejection(sealLog(log, { now: NOW, lockTimeoutMs: 200 }), 'E_AUDIT_LOCKED');
    expect(readdirSync(dir).sort()).toEqual(['audit.jsonl', 'audit.jsonl.head', 'audit.jsonl.lock']);
  });
});

const noTmpfs = tmpfsUnavailable();
if (noTmpfs !== undefined) console.warn(`skipping the full-disk seal test: ${noTmpfs}`);
describe.skipIf(noTmpfs !== undefined)('sealLog on a full disk', () => {
  it('fails without changing anything, and says so', async () => {
    const disk = smallTmpfs(64);
    try {
      const file = join(disk.dir, 'audit.jsonl');
      await appendRecord(file, { kind: 'run', n: 1 });
      appendFileSync(file, 'garbage\n');
      const before = readFileSync(file);
      // One page free: the lock file takes it, the new log finds none.
      disk.fill(4096);
      const err = await expectIsolateRejection(sealLog(file), 'E_AUDIT_IO');
      expect(err.message).toContain('ENOSPC');
      expect(err.detail).toBe('nothing was changed');
      expect(readFileSync(file)).toEqual(before);
      expect(readdirSync(disk.dir).sort()).toEqual(['audit.jsonl', 'audit.jsonl.head', 'fill']);
    } finally {
      disk.unmount();
    }
  });
});
