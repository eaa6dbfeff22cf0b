/**
 * The audit log on a full disk (a 64 KiB tmpfs this test mounts): what an
 * append says matches what is in the log (written, or not), and the head
 * file, updated in place, needs no new space.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { appendRecord, headPath, verifyLog } from '../../src/audit/log.js';
import { smallTmpfs, tmpfsUnavailable, type SmallDisk } from '../helpers/tmpfs.js';
import { expectIsolateRejection } from './expect-error.js';

const noTmpfs = tmpfsUnavailable();
if (noTmpfs !== undefined) console.warn(`skipping the full-disk audit log tests: ${noTmpfs}`);

describe.skipIf(noTmpfs !== undefined)('the audit log on a full disk', () => {
  let disk: SmallDisk;
  let log: string;
  beforeEach(() => {
    disk = smallTmpfs(64);
    log = join(disk.dir, 'audit.jsonl');
  });
  afterEach(() => disk.unmount());

  const lineCount = (): number => readFileSync(log, 'utf8').split('\n').length - 1;
  const headSeq = (): number => (JSON.parse(readFileSync(headPath(log), 'utf8')) as { seq: number }).seq;

  it('no byte free: the append fails, says so, and leaves the log, its head and no lock file behind', async () => {
    await appendRecord(log, { kind: 'run', n: 1 });
    disk.fill();
    const err = await expectIsolateRejection(appendRecord(log, { kind: 'run', n: 2 }, { lockTimeoutMs: 5_000 }), 'E_AUDIT_IO');
    expect(`${err.message} ${err.detail ?? ''}`).toMatch(/ENOSPC|no space/i);
    expect(lineCount()).toBe(1);
    expect(verifyLog(log)).toEqual({ ok: true, records: 1 });
    // The next append fails the same way at once, not after waiting for a lock left behind.
    const t0 = Date.now();
    await expectIsolateRejection(appendRecord(log, { kind: 'run', n: 3 }, { lockTimeoutMs: 5_000 }), 'E_AUDIT_IO');
    expect(Date.now() - t0).toBeLessThan(1_000);
  });

  it('room for the record but for nothing new: the record is written, and the head file updated in place', async () => {
    await appendRecord(log, { kind: 'run', n: 1 });
    // One page free: the lock file takes it, the small record fits in the log's last page, the head file is overwritten where it is.
    disk.fill(4096);
    const written = await appendRecord(log, { kind: 'run', n: 2 });
    expect(written).toEqual({ seq: 2, hash: written.hash });
    expect(lineCount()).toBe(2);
    expect(headSeq()).toBe(2);
    expect(verifyLog(log)).toEqual({ ok: true, records: 2 });
  });
});
