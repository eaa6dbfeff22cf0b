/**
 * The audit log's lock file: a live holder in another process makes an
 * appender wait; a stale lock (dead holder, or too old) is taken over; a
 * lock is released however the critical section ends, and only by its
 * holder; a file there that is not an isolate lock is never removed.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { acquireLock, lockContent, withLock } from '../../src/audit/lock.js';
import { AUDIT_LOCK, appendRecord, lockPath, verifyLog } from '../../src/audit/log.js';
import { expectIsolateRejection } from './expect-error.js';
import { smallTmpfs, tmpfsUnavailable, type SmallDisk } from '../helpers/tmpfs.js';

let dir: string;
let log: string;
let children: ChildProcess[] = [];
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'isolate-audit-lock-'));
  log = join(dir, 'audit.jsonl');
});
afterEach(() => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  children = [];
  rmSync(dir, { recursive: true, force: true });
});

/** The pid of a process that has exited. */
function deadPid(): number {
  const r = spawnSync(process.execPath, ['-e', '']);
  expect(r.status).toBe(0);
  return r.pid;
}

/**
 * Another process that takes the lock itself (O_EXCL, its own pid), says
 * "locked", holds it for `holdMs`, then releases it and exits.
 */
function holdInChild(path: string, holdMs: number): Promise<ChildProcess> {
  const script = `
    const fs = require('node:fs');
    const os = require('node:os');
    const path = process.argv[1];
    const fd = fs.openSync(path, 'wx', 0o600);
    fs.writeSync(fd, JSON.stringify({ pid: process.pid, host: os.hostname(), time: Date.now(), token: 'child' }) + '\\n');
    fs.closeSync(fd);
    process.stdout.write('locked\\n');
    setTimeout(() => { fs.unlinkSync(path); process.exit(0); }, Number(process.argv[2]));
  `;
  const child = spawn(process.execPath, ['-e', script, path, String(holdMs)], { stdio: ['ignore', 'pipe', 'inherit'] });
  children.push(child);
  return new Promise((resolve, reject) => {
    child.stdout?.once('data', () => resolve(child));
    child.once('exit', (code) => reject(new Error(`lock holder exited early with ${code}`)));
  });
}

describe('the audit lock', () => {
  it('makes a second appender wait for a live holder in another process, then succeed', async () => {
    await appendRecord(log, { kind: 'run', n: 1 });
    const child = await holdInChild(lockPath(log), 700);
    const t0 = Date.now();
    let done = false;
    const pending = appendRecord(log, { kind: 'run', n: 2 }).then((r) => {
      done = true;
      return r;
    });
    await new Promise((r) => setTimeout(r, 300));
    expect(done).toBe(false);
    expect(readFileSync(log, 'utf8').split('\n')).toHaveLength(2); // still one record
    const result = await pending;
    expect(result.seq).toBe(2);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(500);
    await new Promise<void>((r) => (child.exitCode === null ? child.once('exit', () => r()) : r()));
    expect(child.exitCode).toBe(0); // the holder released its own lock: nobody removed it
    expect(verifyLog(log)).toEqual({ ok: true, records: 2 });
  });

  it('takes over a lock whose holder pid is dead', async () => {
    writeFileSync(lockPath(log), lockContent({ pid: deadPid(), host: hostname(), time: Date.now(), token: 'dead' }));
    const t0 = Date.now();
    expect((await appendRecord(log, { kind: 'run' })).seq).toBe(1);
    expect(Date.now() - t0).toBeLessThan(2000);
    expect(existsSync(lockPath(log))).toBe(false);
  });

  it('takes over a lock older than the stale limit even when its pid is alive (a reused pid)', async () => {
    writeFileSync(lockPath(log), lockContent({ pid: process.pid, host: hostname(), time: Date.now() - 60_000, token: 'old' }));
    expect((await appendRecord(log, { kind: 'run' })).seq).toBe(1);
    expect(existsSync(lockPath(log))).toBe(false);
  });

  it('never leaves a lock file without its holder: the content is written before the lock appears, and no temporary file stays', async () => {
    const lock = await acquireLock(lockPath(log), AUDIT_LOCK);
    expect(JSON.parse(readFileSync(lockPath(log), 'utf8'))).toMatchObject({ pid: process.pid, host: hostname() });
    expect(readdirSync(dir)).toEqual(['audit.jsonl.lock']);
    lock.release();
    expect(readdirSync(dir)).toEqual([]);
  });

  it('removes the temporary file a killed locker left beside the lock (SIGKILL between writing it and linking it), and only such', async () => {
    const lock = lockPath(log);
    const left = lockContent({ pid: deadPid(), host: hostname(), time: Date.now(), token: 'killed' });
    writeFileSync(`${lock}.0123456789ab.tmp`, left);
    writeFileSync(`${lock}.takeover.ba9876543210.tmp`, left);
    // Kept: a live locker's (between its write and its link), another host's still young, and what is not one.
    writeFileSync(`${lock}.aaaaaaaaaaaa.tmp`, lockContent({ pid: process.pid, host: hostname(), time: Date.now(), token: 'live' }));
    writeFileSync(`${lock}.bbbbbbbbbbbb.tmp`, lockContent({ pid: deadPid(), host: 'elsewhere.example', time: Date.now(), token: 'remote' }));
    writeFileSync(`${lock}.cccccccccccc.tmp`, 'not a lock');
    writeFileSync(`${lock}.notes.tmp`, left);
    // Killed between creating it and writing it: empty. Removed once older than the stale limit; a fresh one is being written.
    writeFileSync(`${lock}.dddddddddddd.tmp`, '');
    utimesSync(`${lock}.dddddddddddd.tmp`, new Date(Date.now() - 60_000), new Date(Date.now() - 60_000));
    writeFileSync(`${lock}.eeeeeeeeeeee.tmp`, '');
    expect((await appendRecord(log, { kind: 'run' })).seq).toBe(1);
    expect(readdirSync(dir).sort()).toEqual(['audit.jsonl', 'audit.jsonl.head', 'audit.jsonl.lock.aaaaaaaaaaaa.tmp', 'audit.jsonl.lock.bbbbbbbbbbbb.tmp', 'audit.jsonl.lock.cccccccccccc.tmp', 'audit.jsonl.lock.eeeeeeeeeeee.tmp', 'audit.jsonl.lock.notes.tmp']);
  });

  it('never removes a file at the lock\'s path that is not an isolate lock: another program\'s lock, JSON or not, or an old empty file', async () => {
    const old = new Date(Date.now() - 60_000);
    for (const [name, content] of [
      ['Cargo', '[[package]]\nname = "serde"\n'],
      ['flake', '{\n  "nodes": {},\n  "root": "root",\n  "version": 7\n}\n'],
      ['composer', '{"pid": 1, "host": "x"}\n'],
      ['tool', ''],
    ] as const) {
      const victim = join(dir, `${name}.lock`);
      writeFileSync(victim, content);
      utimesSync(victim, old, old);
      const err = await expectIsolateRejection(appendRecord(join(dir, name), { kind: 'run' }, { lockTimeoutMs: 2_000 }), 'E_AUDIT_LOCKED');
      expect(err.message, name).toContain('not an isolate lock file');
      expect(err.fix).toContain('another audit log location');
      expect(readFileSync(victim, 'utf8'), name).toBe(content);
      expect(existsSync(join(dir, name)), `${name}: no log written`).toBe(false);
    }
    expect(readdirSync(dir).sort()).toEqual(['Cargo.lock', 'composer.lock', 'flake.lock', 'tool.lock']);
  });

  it('never removes a takeover lock that is not isolate\'s, even while taking over a stale lock', async () => {
    writeFileSync(lockPath(log), lockContent({ pid: deadPid(), host: hostname(), time: Date.now(), token: 'dead' }));
    const guard = `${lockPath(log)}.takeover`;
    writeFileSync(guard, 'not a lock\n');
    const old = new Date(Date.now() - 60_000);
    utimesSync(guard, old, old);
    await expectIsolateRejection(appendRecord(log, { kind: 'run' }, { lockTimeoutMs: 300 }), 'E_AUDIT_LOCKED');
    expect(readFileSync(guard, 'utf8')).toBe('not a lock\n');
  });

  it('leaves the takeover lock of a live taker on this host alone, however many seconds old: it may only be paused mid-takeover', async () => {
    // The interleaving this prevents: taker A holds the guard and has judged the lock stale, a busy machine pauses it;
    // taker B removed A's guard for its age, took the lock over and holds a fresh lock; A, resumed, removed B's lock.
    writeFileSync(lockPath(log), lockContent({ pid: deadPid(), host: hostname(), time: Date.now(), token: 'dead' }));
    const guard = `${lockPath(log)}.takeover`;
    const paused = lockContent({ pid: process.pid, host: hostname(), time: Date.now() - 10_000, token: 'paused-taker' });
    writeFileSync(guard, paused);
    const old = new Date(Date.now() - 10_000);
    utimesSync(guard, old, old);
    await expectIsolateRejection(appendRecord(log, { kind: 'run' }, { lockTimeoutMs: 300 }), 'E_AUDIT_LOCKED');
    expect(readFileSync(guard, 'utf8')).toBe(paused);
    expect(existsSync(log)).toBe(false);
    // A taker that died in the middle leaves a guard that goes at once, and the stale lock is taken over.
    writeFileSync(guard, lockContent({ pid: deadPid(), host: hostname(), time: Date.now(), token: 'dead-taker' }));
    expect((await appendRecord(log, { kind: 'run' }, { lockTimeoutMs: 2_000 })).seq).toBe(1);
    expect(existsSync(guard)).toBe(false);
  });

  it('waits for a fresh lock file that is empty (being written), and times out', async () => {
    writeFileSync(lockPath(log), '');
    const err = await expectIsolateRejection(appendRecord(log, { kind: 'run' }, { lockTimeoutMs: 200 }), 'E_AUDIT_LOCKED');
    expect(err.message).toContain('timed out');
    expect(existsSync(lockPath(log))).toBe(true);
  });

  it('does not take over a lock on another host by pid, only by age', async () => {
    writeFileSync(lockPath(log), lockContent({ pid: deadPid(), host: `not-${hostname()}`, time: Date.now(), token: 'remote' }));
    await expectIsolateRejection(appendRecord(log, { kind: 'run' }, { lockTimeoutMs: 200 }), 'E_AUDIT_LOCKED');
    expect((await appendRecord(log, { kind: 'run' }, { staleLockMs: 100, lockTimeoutMs: 2000 })).seq).toBe(1);
  });

  it('gives up after the wait limit while a live holder keeps the lock, naming the holder, and leaves its lock alone', async () => {
    const child = await holdInChild(lockPath(log), 5_000);
    const err = await expectIsolateRejection(appendRecord(log, { kind: 'run' }, { lockTimeoutMs: 300 }), 'E_AUDIT_LOCKED');
    expect(err.message).toContain('timed out');
    expect(err.detail).toContain(`pid ${child.pid}`);
    expect(err.fix).toContain(lockPath(log));
    expect(existsSync(lockPath(log))).toBe(true);
    expect(existsSync(log)).toBe(false);
  });

  it('waits longer than the wait limit while the lock keeps changing hands (a queue of appenders), then gets it', async () => {
    const path = lockPath(log);
    let n = 0;
    const next = (): void => writeFileSync(path, lockContent({ pid: process.pid, host: hostname(), time: Date.now(), token: `holder-${++n}` }));
    next();
    const handOver = setInterval(next, 150);
    setTimeout(() => {
      clearInterval(handOver);
      rmSync(path, { force: true });
    }, 1_200);
    const t0 = Date.now();
    expect((await appendRecord(log, { kind: 'run' }, { lockTimeoutMs: 400 })).seq).toBe(1);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(1_000);
    expect(n).toBeGreaterThanOrEqual(5);
  });

  it('releases the lock when the critical section throws', async () => {
    const path = join(dir, 'x.lock');
    await expect(withLock(path, AUDIT_LOCK, () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    expect(existsSync(path)).toBe(false);
    // and it can be taken again at once
    const again = await acquireLock(path, AUDIT_LOCK, { timeoutMs: 100 });
    again.release();
    expect(existsSync(path)).toBe(false);
  });

  it('release removes only its own lock (not one that replaced it after a takeover)', async () => {
    const path = join(dir, 'x.lock');
    const held = await acquireLock(path, AUDIT_LOCK);
    expect(JSON.parse(readFileSync(path, 'utf8'))).toMatchObject({ pid: process.pid, host: hostname(), token: held.token });
    const other = lockContent({ pid: process.pid, host: hostname(), time: Date.now(), token: 'someone-else' });
    writeFileSync(path, other);
    held.release();
    expect(readFileSync(path, 'utf8')).toBe(other);
  });

  it('excludes concurrent holders in one process', async () => {
    const path = join(dir, 'x.lock');
    let inside = 0;
    let most = 0;
    await Promise.all(
      Array.from({ length: 10 }, () =>
        withLock(path, AUDIT_LOCK, async () => {
          inside += 1;
          most = Math.max(most, inside);
          await new Promise((r) => setTimeout(r, 5));
          inside -= 1;
        }),
      ),
    );
    expect(most).toBe(1);
  });
});

const noTmpfs = tmpfsUnavailable();
if (noTmpfs !== undefined) console.warn(`skipping the full-disk lock tests: ${noTmpfs}`);
describe.skipIf(noTmpfs !== undefined)('the audit lock on a full disk (a 64 KiB tmpfs)', () => {
  let disk: SmallDisk;
  beforeAll(() => {
    disk = smallTmpfs(64);
    disk.fill();
  });
  afterAll(() => disk.unmount());

  it('a lock file whose content cannot be written is removed, so the next appender does not wait for it', async () => {
    expect(disk.free()).toBe(0);
    const path = join(disk.dir, 'x.lock');
    const err = await expectIsolateRejection(acquireLock(path, AUDIT_LOCK, { timeoutMs: 5_000 }), 'E_AUDIT_IO');
    expect(err.detail).toMatch(/ENOSPC|no space/i);
    expect(err.fix).toMatch(/is full/);
    expect(existsSync(path)).toBe(false);
    const t0 = Date.now();
    await expectIsolateRejection(acquireLock(path, AUDIT_LOCK, { timeoutMs: 5_000 }), 'E_AUDIT_IO');
    expect(Date.now() - t0).toBeLessThan(1_000);
    expect(existsSync(path)).toBe(false);
  });
});
