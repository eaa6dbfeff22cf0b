/**
 * The audit log: appending (directory and file modes, the hash chain, the
 * head file), verification naming the first tampered line and why, reading
 * records in chunks, the pre-flight check and the default location.
 */
import { createHash } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { canonicalJson, recordHash } from '../../src/audit/chain.js';
import {
  GENESIS_HASH,
  appendRecord,
  defaultAuditLogPath,
  headPath,
  lockPath,
  readRecords,
  verifyLog,
} from '../../src/audit/log.js';
import { expectIsolateError, expectIsolateRejection } from './expect-error.js';


let dir: string;
let log: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'isolate-audit-test-'));
  log = join(dir, 'state', 'isolate', 'audit.jsonl');
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** A run report shaped like the real one. */
function report(i: number, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    schemaVersion: 1,
    kind: 'run',
    startedAt: new Date(Date.UTC(2026, 0, 1, 0, 0, i)).toISOString(),
    endedAt: new Date(Date.UTC(2026, 0, 1, 0, 0, i + 1)).toISOString(),
    durationMs: 12.5,
    command: ['echo', `hello ${i}`],
    cwd: '/home/me/project',
    profile: { name: 'default', sources: ['builtin:default'] },
    backend: { name: 'bwrap', version: '0.8.0', argv: ['/usr/bin/bwrap', '--'] },
    network: { mode: 'none', allow: [], deny: [], events: [] },
    env: ['HOME', 'PATH'],
    exitCode: 0,
    signal: null,
    timedOut: false,
    limit: null,
    limits: null,
    error: null,
    ...extra,
  };
}

async function appendN(n: number): Promise<void> {
  for (let i = 1; i <= n; i++) await appendRecord(log, report(i));
}

const lines = (): string[] => readFileSync(log, 'utf8').split('\n').slice(0, -1);
const writeLines = (ls: string[]): void => writeFileSync(log, ls.map((l) => `${l}\n`).join(''));
const modeOf = (p: string): number => statSync(p).mode & 0o777;

describe('appendRecord', () => {
  it('appends records with consecutive seq, chained hashes and a head file; the log verifies', async () => {
    const results = [];
    for (let i = 1; i <= 5; i++) results.push(await appendRecord(log, report(i)));
    expect(results.map((r) => r.seq)).toEqual([1, 2, 3, 4, 5]);

    const recs = lines().map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(recs.map((r) => r['seq'])).toEqual([1, 2, 3, 4, 5]);
    expect(recs[0]?.['prevHash']).toBe(GENESIS_HASH);
    for (let i = 1; i < recs.length; i++) expect(recs[i]?.['prevHash']).toBe(recs[i - 1]?.['hash']);
    expect(recs.map((r) => r['hash'])).toEqual(results.map((r) => r.hash));
    // The report's fields are all there, next to the envelope.
    expect(recs[2]).toMatchObject(report(3));

    expect(JSON.parse(readFileSync(headPath(log), 'utf8'))).toEqual({ seq: 5, hash: results[4]?.hash });
    expect(existsSync(lockPath(log))).toBe(false);
    expect(verifyLog(log)).toEqual({ ok: true, records: 5 });
  });

  it('hashes the genesis record as sha256(64 zeros + "\\n" + canonical JSON without hash)', async () => {
    const first = await appendRecord(log, { kind: 'run', b: [2, 1], a: { y: 'é', x: null } });
    expect(GENESIS_HASH).toBe('0'.repeat(64));
    const body = '{"a":{"x":null,"y":"é"},"b":[2,1],"kind":"run","prevHash":"' + '0'.repeat(64) + '","seq":1}';
    const expected = createHash('sha256').update(`${'0'.repeat(64)}\n${body}`, 'utf8').digest('hex');
    expect(first).toEqual({ seq: 1, hash: expected });

    const second = await appendRecord(log, { kind: 'run' });
    const body2 = `{"kind":"run","prevHash":"${expected}","seq":2}`;
    expect(second.hash).toBe(createHash('sha256').update(`${expected}\n${body2}`, 'utf8').digest('hex'));
  });

  it('writes the report as JSON data (undefined fields dropped, toJSON applied)', async () => {
    await appendRecord(log, { kind: 'run', gone: undefined, when: new Date(0), nested: { n: 1 } });
    const rec = JSON.parse(lines()[0] ?? '') as Record<string, unknown>;
    expect(rec).not.toHaveProperty('gone');
    expect(rec['when']).toBe('1970-01-01T00:00:00.000Z');
    expect(verifyLog(log)).toEqual({ ok: true, records: 1 });
  });

  it('refuses a report that has an envelope field, or is not a JSON object', async () => {
    await expectIsolateRejection(appendRecord(log, { seq: 7 }), 'E_AUDIT_REPORT');
    await expectIsolateRejection(appendRecord(log, { hash: 'x' }), 'E_AUDIT_REPORT');
    await expectIsolateRejection(appendRecord(log, [1, 2]), 'E_AUDIT_REPORT');
    await expectIsolateRejection(appendRecord(log, { n: 10n }), 'E_AUDIT_REPORT');
    expect(existsSync(log)).toBe(false);
  });

  it('creates the directories 0700 and the log and head files 0600', async () => {
    await appendRecord(log, report(1));
    expect(modeOf(join(dir, 'state'))).toBe(0o700);
    expect(modeOf(join(dir, 'state', 'isolate'))).toBe(0o700);
    expect(modeOf(log)).toBe(0o600);
    expect(modeOf(headPath(log))).toBe(0o600);
  });

  it('creates 0700 and 0600 even under a umask that would strip owner bits', async () => {
    const old = process.umask(0o277);
    try {
      await appendRecord(log, report(1));
    } finally {
      process.umask(old);
    }
    expect(modeOf(join(dir, 'state', 'isolate'))).toBe(0o700);
    expect(modeOf(log)).toBe(0o600);
  });

  it('does not change an existing directory (0755 stays 0755), and the new file is 0600', async () => {
    const existing = join(dir, 'shared');
    mkdirSync(existing);
    chmodSync(existing, 0o755);
    const file = join(existing, 'audit.jsonl');
    await appendRecord(file, report(1));
    expect(modeOf(existing)).toBe(0o755);
    expect(modeOf(file)).toBe(0o600);
  });

  it('serializes appends started at once in one process', async () => {
    const results = await Promise.all(Array.from({ length: 20 }, (_, i) => appendRecord(log, report(i))));
    expect(results.map((r) => r.seq).sort((a, b) => a - b)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    expect(verifyLog(log)).toEqual({ ok: true, records: 20 });
  });

  it('takes the appends of one process in the order they were asked for (they wait in line, not on the lock file)', async () => {
    const results = await Promise.all(Array.from({ length: 20 }, (_, i) => appendRecord(log, report(i))));
    expect(results.map((r) => r.seq)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    expect([...readRecords(log)].map((r) => r.record['startedAt'])).toEqual(Array.from({ length: 20 }, (_, i) => report(i)['startedAt']));
  });

  it('continues after an append that stopped between writing its line and replacing the head file', async () => {
    await appendN(3);
    const headAfter3 = readFileSync(headPath(log), 'utf8');
    await appendRecord(log, report(4));
    writeFileSync(headPath(log), headAfter3); // the head is one record behind
    expect(verifyLog(log)).toEqual({ ok: true, records: 4 });
    expect((await appendRecord(log, report(5))).seq).toBe(5);
    expect(verifyLog(log)).toEqual({ ok: true, records: 5 });
  });

  it('updates the head file in place (the same file, padded to a fixed size), so a mount over it in a sandbox stays', async () => {
    await appendN(2);
    const before = statSync(headPath(log));
    await appendRecord(log, report(3));
    const after = statSync(headPath(log));
    expect(after.ino).toBe(before.ino);
    expect(after.size).toBe(128);
    expect((JSON.parse(readFileSync(headPath(log), 'utf8')) as { seq: number }).seq).toBe(3);
  });

  it('accepts a first record without a head file (the first append stopped before it)', async () => {
    await appendRecord(log, report(1));
    rmSync(headPath(log));
    expect(verifyLog(log)).toEqual({ ok: true, records: 1 });
    expect((await appendRecord(log, report(2))).seq).toBe(2);
  });

  describe('refuses to extend a damaged tail, and releases the lock', () => {
    it.each([
      ['an incomplete last line', () => truncateSync(log, statSync(log).size - 5)],
      ['lines cut off the end (head ahead)', () => writeLines(lines().slice(0, 2))],
      ['a missing head file', () => rmSync(headPath(log))],
      ['an edited last record', () => writeLines(lines().map((l, i) => (i === 2 ? l.replace('hello 3', 'HELLO 3') : l)))],
      ['a garbage last line', () => writeFileSync(log, 'garbage\n', { flag: 'a' })],
    ])('%s', async (_name, damage) => {
      await appendN(3);
      damage();
      const before = readFileSync(log);
      const err = await expectIsolateRejection(appendRecord(log, report(9)), 'E_AUDIT_CORRUPT');
      expect(err.message).toContain('damaged');
      expect(err.fix).toContain('isolate audit verify');
      expect(readFileSync(log)).toEqual(before);
      expect(existsSync(lockPath(log))).toBe(false);
    });
  });
});

describe('verifyLog', () => {
  it('is ok with 0 records for a missing or empty log without a head file', () => {
    expect(verifyLog(log)).toEqual({ ok: true, records: 0 });
    mkdirSync(join(dir, 'state', 'isolate'), { recursive: true });
    writeFileSync(log, '');
    expect(verifyLog(log)).toEqual({ ok: true, records: 0 });
  });

  it('accepts any key order in a line: the hash is over canonical JSON', async () => {
    await appendN(3);
    const reordered = lines().map((l) => {
      const rec = JSON.parse(l) as Record<string, unknown>;
      return JSON.stringify(Object.fromEntries(Object.entries(rec).reverse()));
    });
    expect(reordered[1]).not.toBe(lines()[1]);
    writeLines(reordered);
    expect(verifyLog(log)).toEqual({ ok: true, records: 3 });
  });

  describe('names the first bad line and why', () => {
    beforeEach(async () => {
      await appendN(5);
    });

    it('edited: one changed digit in the middle record ("exitCode":0 → 1)', () => {
      const ls = lines();
      expect(ls[2]).toContain('"exitCode":0');
      ls[2] = (ls[2] ?? '').replace('"exitCode":0', '"exitCode":1');
      writeLines(ls);
      expect(verifyLog(log)).toMatchObject({ ok: false, line: 3, reason: 'edited' });
    });

    it('edited: a key repeated in a line, the forged value first (JSON.parse keeps the last, so the hash still matches; a reader that keeps the first sees the forgery)', () => {
      const ls = lines();
      expect(ls[2]).toContain('"exitCode":0');
      ls[2] = (ls[2] ?? '').replace('"exitCode":0', '"exitCode":1,"exitCode":0');
      writeLines(ls);
      const r = verifyLog(log);
      expect(r).toMatchObject({ ok: false, line: 3, reason: 'edited' });
      expect(r.ok ? '' : r.detail).toContain('"exitCode"');
    });

    it('edited: a key repeated inside a nested object of a line', () => {
      const ls = lines();
      ls[1] = (ls[1] ?? '').replace('"mode":"none"', '"mode":"host","mode":"none"');
      writeLines(ls);
      expect(verifyLog(log)).toMatchObject({ ok: false, line: 2, reason: 'edited' });
    });

    it('edited: one changed character in a string', () => {
      const raw = readFileSync(log);
      const at = raw.indexOf('hello 2');
      raw[at] = 'j'.charCodeAt(0);
      writeFileSync(log, raw);
      expect(verifyLog(log)).toMatchObject({ ok: false, line: 2, reason: 'edited' });
    });

    it('edited: a record rewritten with a recomputed hash breaks the next line\'s prevHash', () => {
      const ls = lines();
      const rec = JSON.parse(ls[2] ?? '') as Record<string, unknown>;
      rec['exitCode'] = 1;
      const { hash: _old, ...body } = rec;
      rec['hash'] = recordHash(String(rec['prevHash']), body);
      ls[2] = JSON.stringify(rec);
      writeLines(ls);
      const r = verifyLog(log);
      expect(r).toMatchObject({ ok: false, line: 4, reason: 'edited' });
      expect(r.ok ? '' : r.detail).toContain('line 3');
    });

    it('edited: a hash field that is no longer hex', () => {
      const ls = lines();
      ls[1] = (ls[1] ?? '').replace(/"hash":"[0-9a-f]/, '"hash":"X');
      writeLines(ls);
      expect(verifyLog(log)).toMatchObject({ ok: false, line: 2, reason: 'edited' });
    });

    it('deleted: a line removed from the middle', () => {
      const ls = lines();
      ls.splice(2, 1);
      writeLines(ls);
      const r = verifyLog(log);
      expect(r).toMatchObject({ ok: false, line: 3, reason: 'deleted' });
      expect(r.ok ? '' : r.detail).toContain('seq 4 where seq 3 was expected');
    });

    it('deleted: the first line removed', () => {
      writeLines(lines().slice(1));
      expect(verifyLog(log)).toMatchObject({ ok: false, line: 1, reason: 'deleted' });
    });

    it('reordered: two lines swapped', () => {
      const ls = lines();
      [ls[1], ls[2]] = [ls[2] ?? '', ls[1] ?? ''];
      writeLines(ls);
      expect(verifyLog(log)).toMatchObject({ ok: false, line: 2, reason: 'reordered' });
    });

    it('reordered: the first and last lines swapped', () => {
      const ls = lines();
      [ls[0], ls[4]] = [ls[4] ?? '', ls[0] ?? ''];
      writeLines(ls);
      expect(verifyLog(log)).toMatchObject({ ok: false, line: 1, reason: 'reordered' });
    });

    it('reordered: a line repeated', () => {
      const ls = lines();
      ls.splice(3, 0, ls[2] ?? '');
      writeLines(ls);
      expect(verifyLog(log)).toMatchObject({ ok: false, line: 4, reason: 'reordered' });
    });

    it('truncated: the file cut in the middle of the last line', () => {
      truncateSync(log, statSync(log).size - 20);
      expect(verifyLog(log)).toMatchObject({ ok: false, line: 5, reason: 'truncated' });
    });

    it('an append seen half written (the kernel shows it page by page) while its appender holds the lock is read again, not reported', async () => {
      // What 100 appenders at once on a loaded machine produce: the last line
      // shows only its first part, and the size stays put for the whole
      // verification (the appender is descheduled between two pages).
      const whole = readFileSync(log);
      const cut = whole.length - 40;
      truncateSync(log, cut);
      writeFileSync(lockPath(log), `${JSON.stringify({ pid: process.pid, host: 'here', time: Date.now(), token: 't' })}\n`);
      const finisher = new Worker(
        `const { workerData: w, parentPort } = require('node:worker_threads');
         const fs = require('node:fs');
         parentPort.postMessage('ready');
         Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 60);
         fs.appendFileSync(w.log, Buffer.from(w.rest));
         fs.unlinkSync(w.lock);`,
        { eval: true, workerData: { log, lock: lockPath(log), rest: whole.subarray(cut) } },
      );
      try {
        await new Promise((r) => finisher.once('message', r));
        // Blocks this thread while the worker finishes the line 60 ms later.
        expect(verifyLog(log)).toEqual({ ok: true, records: 5 });
      } finally {
        await finisher.terminate();
      }
    });

    it('truncated: only the final newline cut', () => {
      truncateSync(log, statSync(log).size - 1);
      expect(verifyLog(log)).toMatchObject({ ok: false, line: 5, reason: 'truncated' });
    });

    it('truncated: the last whole line cut (the head file is ahead); the line is one past the end', () => {
      writeLines(lines().slice(0, 4));
      const r = verifyLog(log);
      expect(r).toMatchObject({ ok: false, line: 5, reason: 'truncated' });
      expect(r.ok ? '' : r.detail).toContain('1 record cut off');
    });

    it('truncated: two whole lines cut', () => {
      writeLines(lines().slice(0, 3));
      expect(verifyLog(log)).toMatchObject({ ok: false, line: 4, reason: 'truncated' });
    });

    it('truncated: every line cut, the head file left', () => {
      writeFileSync(log, '');
      expect(verifyLog(log)).toMatchObject({ ok: false, line: 1, reason: 'truncated' });
      rmSync(log);
      expect(verifyLog(log)).toMatchObject({ ok: false, line: 1, reason: 'truncated' });
    });

    it('malformed: a garbage line in the middle', () => {
      const ls = lines();
      ls.splice(2, 0, 'this is not JSON');
      writeLines(ls);
      expect(verifyLog(log)).toMatchObject({ ok: false, line: 3, reason: 'malformed' });
    });

    it('malformed: an empty line, a JSON line that is not a record, bytes that are not UTF-8', () => {
      const ls = lines();
      writeLines([...ls.slice(0, 1), '', ...ls.slice(1)]);
      expect(verifyLog(log)).toMatchObject({ ok: false, line: 2, reason: 'malformed' });
      writeLines([...ls.slice(0, 3), '{"kind":"run"}', ...ls.slice(3)]);
      expect(verifyLog(log)).toMatchObject({ ok: false, line: 4, reason: 'malformed' });
      writeFileSync(log, Buffer.concat([Buffer.from(`${ls.slice(0, 2).join('\n')}\n`), Buffer.from([0xff, 0xfe, 0x0a]), Buffer.from(`${ls.slice(2).join('\n')}\n`)]));
      expect(verifyLog(log)).toMatchObject({ ok: false, line: 3, reason: 'malformed' });
    });

    it('head-mismatch: the head file names the right seq with another hash', () => {
      writeFileSync(headPath(log), JSON.stringify({ seq: 5, hash: 'a'.repeat(64) }));
      expect(verifyLog(log)).toMatchObject({ ok: false, line: 5, reason: 'head-mismatch' });
    });

    it('head-mismatch: the head file missing, or not valid', () => {
      rmSync(headPath(log));
      expect(verifyLog(log)).toMatchObject({ ok: false, line: 5, reason: 'head-mismatch' });
      writeFileSync(headPath(log), '{"seq": "five"}');
      expect(verifyLog(log)).toMatchObject({ ok: false, line: 5, reason: 'head-mismatch' });
    });

    it('head-mismatch: records after the head that no append could have left', () => {
      const ls = lines();
      writeFileSync(headPath(log), JSON.stringify({ seq: 2, hash: (JSON.parse(ls[1] ?? '') as { hash: string }).hash }));
      expect(verifyLog(log)).toMatchObject({ ok: false, line: 3, reason: 'head-mismatch' });
    });

    it('reports the first problem when there are several', () => {
      const ls = lines();
      ls[1] = (ls[1] ?? '').replace('hello 2', 'hello X');
      ls.splice(3, 1);
      writeLines(ls.slice(0, -1));
      expect(verifyLog(log)).toMatchObject({ ok: false, line: 2, reason: 'edited' });
    });
  });
});

describe('readRecords', () => {
  it('yields each record with its line number, across read chunks and multi-byte characters', async () => {
    const big = 'é'.repeat(50_000); // 100 KB of 2-byte characters: lines span 64 KiB reads
    for (let i = 1; i <= 6; i++) await appendRecord(log, report(i, { stdout: i % 2 === 0 ? big : 'small' }));
    const got = [...readRecords(log)];
    expect(got.map((e) => e.line)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(got.map((e) => e.record['seq'])).toEqual([1, 2, 3, 4, 5, 6]);
    expect(got[1]?.record['stdout']).toBe(big);
    expect(got[2]?.record['command']).toEqual(['echo', 'hello 3']);
    expect(verifyLog(log)).toEqual({ ok: true, records: 6 });
  });

  it('yields nothing for a missing log', () => {
    expect([...readRecords(log)]).toEqual([]);
  });

  it('leaves out a last line seen cut off while an append holds the lock (the record being written), and throws at one without', async () => {
    await appendN(3);
    truncateSync(log, statSync(log).size - 30);
    writeFileSync(lockPath(log), `${JSON.stringify({ pid: process.pid, host: 'here', time: Date.now(), token: 't' })}\n`);
    expect([...readRecords(log)].map((e) => e.line)).toEqual([1, 2]);
    rmSync(lockPath(log));
    const err = expectIsolateError(() => [...readRecords(log)], 'E_AUDIT_CORRUPT');
    expect(err.message).toContain('line 3');
  });

  it('is lazy, and throws at a damaged line after yielding the ones before it', async () => {
    await appendN(2);
    writeFileSync(log, 'garbage\n', { flag: 'a' });
    const iter = readRecords(log)[Symbol.iterator]();
    expect(iter.next().value?.line).toBe(1);
    expect(iter.next().value?.line).toBe(2);
    const err = expectIsolateError(() => iter.next(), 'E_AUDIT_CORRUPT');
    expect(err.message).toContain('line 3');
  });
});

describe('canonicalJson', () => {
  it('sorts keys at every depth and has no whitespace, independent of key order', () => {
    const a = { b: 1, a: { d: [3, { z: 1, y: 2 }], c: 'x' }, e: null, f: true };
    const b = { f: true, e: null, a: { c: 'x', d: [3, { y: 2, z: 1 }] }, b: 1 };
    expect(canonicalJson(a)).toBe('{"a":{"c":"x","d":[3,{"y":2,"z":1}]},"b":1,"e":null,"f":true}');
    expect(canonicalJson(b)).toBe(canonicalJson(a));
    expect(recordHash(GENESIS_HASH, a)).toBe(recordHash(GENESIS_HASH, b));
  });

  it('keeps array order and escapes strings as JSON does', () => {
    expect(canonicalJson([2, 1, 'a"b\n', 1.5, -0])).toBe('[2,1,"a\\"b\\n",1.5,0]');
    expect(canonicalJson({ __proto__: null, 'ü': 1, Z: 2, a: 3 })).toBe('{"Z":2,"a":3,"ü":1}');
  });

  it('refuses values that are not JSON data', () => {
    expect(() => canonicalJson(undefined)).toThrow(TypeError);
    expect(() => canonicalJson({ a: Number.NaN })).toThrow(TypeError);
    expect(() => canonicalJson({ a: new Date(0) })).toThrow(TypeError);
    expect(() => canonicalJson({ a: () => 1 })).toThrow(TypeError);
  });
});

describe('defaultAuditLogPath', () => {
  it('prefers $XDG_STATE_HOME, then $HOME/.local/state, else undefined', () => {
    expect(defaultAuditLogPath({ XDG_STATE_HOME: '/x/state', HOME: '/home/me' })).toBe('/x/state/isolate/audit.jsonl');
    expect(defaultAuditLogPath({ HOME: '/home/me' })).toBe('/home/me/.local/state/isolate/audit.jsonl');
    expect(defaultAuditLogPath({ XDG_STATE_HOME: '', HOME: '/home/me' })).toBe('/home/me/.local/state/isolate/audit.jsonl');
    expect(defaultAuditLogPath({ XDG_STATE_HOME: 'relative', HOME: '/home/me' })).toBe('/home/me/.local/state/isolate/audit.jsonl');
    expect(defaultAuditLogPath({})).toBeUndefined();
    expect(defaultAuditLogPath({ HOME: '' })).toBeUndefined();
  });
});
