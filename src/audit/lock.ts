/**
 * An exclusive lock between processes, as a lock file.
 *
 * Acquiring creates `<path>` holding `{"pid", "host", "time", "token"}` of
 * the holder: the content is written to a fresh temporary file beside it,
 * which is then hard-linked to `<path>` (link(2) fails with EEXIST, as
 * O_EXCL does): exactly one creator wins, and a lock file is never seen
 * without its holder. (Where the file system has no hard links, the file is
 * created with O_EXCL and written at once, as before.) A creator that cannot
 * write the content (a full disk) leaves nothing behind.
 * Others retry with a small randomized backoff, for as long as the lock
 * changes hands, and throw when one holder keeps it for `timeoutMs`. A lock is stale, and taken over, when its holder is a process
 * on this host that no longer exists, or when it is older than `staleMs`
 * (a holder keeps it for milliseconds; this also covers a reused pid and a
 * holder on another host of a shared file system).
 *
 * Only a file that holds a holder is isolate's lock. Anything else at the
 * lock's path is another program's (Cargo.lock beside an audit log named
 * Cargo, flake.lock, an empty file a tool locks with flock) and is never
 * removed or taken over: acquiring throws the caller's locked error naming it. An empty
 * one is waited for while it is younger than UNWRITTEN_STALE_MS, as an
 * isolate before the hard link wrote its holder just after creating the file.
 *
 * Takeover is serialized by a second, short-lived lock file
 * (`<path>.takeover`, made the same way): under it, the taker re-reads the
 * lock, and removes it only if it is still the stale one it judged (same
 * token). Only a takeover removes someone else's lock, so a fresh lock can
 * never be removed by mistake. (A takeover lock left by a process that died
 * in those few microseconds is removed once its pid is gone, or, for a taker
 * on another host, after TAKEOVER_STALE_MS.)
 *
 * Release removes the lock file only if it still holds our token.
 *
 * A locker killed (SIGKILL) between writing its temporary file and removing
 * it leaves that file beside the lock (`<path>.<12 hex>.tmp`, or
 * `<path>.takeover.<12 hex>.tmp`), empty when it was killed before it wrote
 * it. The next holder in another process removes each such file whose holder
 * is stale by the rule for locks (its pid gone on this host, or older than
 * `staleMs`), and an empty one older than `staleMs`; anything else is left.
 *
 * The lock is one definition for every caller (the audit log, the placeholder
 * registry); what its errors say is the caller's (LockUse): what the lock is
 * for, and how its user gets past a full disk or another program's file.
 */
import { randomBytes } from 'node:crypto';
import { closeSync, constants, fstatSync, linkSync, openSync, readdirSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { IsolateError, diskFull, errnoCode, type ErrorCode } from '../errors.js';
import { readRegularFile } from './read-regular.js';

/** What a lock's errors say, given by its caller: the lock is the same, what its user can do about it is not. */
export interface LockUse {
  /** What the lock guards, in a message: "the audit log", "isolate's placeholder registry". */
  guards: string;
  /** The code of the errors of reading or writing the lock file. */
  ioCode: ErrorCode;
  /** The code when the lock cannot be had: one holder kept it too long, or another program's file is in its place. */
  lockedCode: ErrorCode;
  /** The fix when the file system (or the user's quota) is full. */
  fullDiskFix: string;
  /** The fix when the lock file cannot be created or read for another reason (a missing or unwritable directory). */
  cannotCreateFix: string;
  /** The fix when another program's file is at the lock's path. */
  notOursFix: string;
}

export interface LockOptions {
  /** Give up (throw) after waiting this long for one holder. Default 10 s. */
  timeoutMs?: number | undefined;
  /** A lock older than this is stale whoever holds it. Default 30 s. */
  staleMs?: number | undefined;
}

/** What a lock file holds. */
export interface LockInfo {
  pid: number;
  host: string;
  /** When it was taken, milliseconds since the epoch. */
  time: number;
  token: string;
}

export interface HeldLock {
  readonly path: string;
  readonly token: string;
  /** Remove the lock if it is still ours. Safe to call more than once. */
  release(): void;
}

export const DEFAULT_LOCK_TIMEOUT_MS = 10_000;
export const DEFAULT_STALE_MS = 30_000;
const TAKEOVER_STALE_MS = 5_000;
/** An empty lock file is waited for this long: an isolate before the hard link wrote its holder just after creating it. */
export const UNWRITTEN_STALE_MS = 1_000;
const MIN_BACKOFF_MS = 2;
const MAX_BACKOFF_MS = 50;

/** The content of a lock file for `pid` (exported for tests and tools). */
export function lockContent(info: LockInfo): string {
  return `${JSON.stringify(info)}\n`;
}

/** Read and parse a lock file; undefined when it is gone. `info` is undefined when unparseable. */
function readLock(path: string): { info: LockInfo | undefined; raw: string; mtimeMs: number } | undefined {
  let raw: string;
  let mtimeMs: number;
  try {
    // Never through a link: a dangling one reads as no lock (ENOENT) while none can be made in its place (EEXIST).
    ({ text: raw, mtimeMs } = readRegularFile(path, constants.O_RDONLY | constants.O_NOFOLLOW));
  } catch (e: unknown) {
    if (errnoCode(e) === 'ENOENT') return undefined;
    throw e;
  }
  let info: LockInfo | undefined;
  try {
    const v = JSON.parse(raw) as Partial<LockInfo> | null;
    if (
      v !== null && typeof v === 'object' &&
      typeof v.pid === 'number' && Number.isSafeInteger(v.pid) && v.pid > 0 &&
      typeof v.host === 'string' && typeof v.time === 'number' && Number.isFinite(v.time) && typeof v.token === 'string'
    ) {
      info = { pid: v.pid, host: v.host, time: v.time, token: v.token };
    }
  } catch {
    info = undefined;
  }
  return { info, raw, mtimeMs };
}

/** True unless `pid` certainly does not exist (EPERM means it exists but is not ours). */
function processExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e: unknown) {
    return errnoCode(e) !== 'ESRCH';
  }
}

/**
 * Whether the file at the lock's path is not, or no longer can be, an
 * isolate lock: it holds no holder, and is not an empty one young enough to
 * be still being written by an older isolate.
 */
function notALock(lock: { info: LockInfo | undefined; raw: string; mtimeMs: number }, now: number): boolean {
  return lock.info === undefined && (lock.raw !== '' || now - lock.mtimeMs > UNWRITTEN_STALE_MS);
}

/** Why the lock is stale, or undefined when it must be waited for. */
function staleReason(info: LockInfo, mtimeMs: number, staleMs: number, now: number): string | undefined {
  if (now - Math.min(info.time, mtimeMs) > staleMs) return `older than ${staleMs} ms`;
  if (info.host === hostname() && !processExists(info.pid)) return `holder pid ${info.pid} is gone`;
  return undefined;
}

/** File systems without hard links (vfat, some FUSE and network ones) answer link(2) with one of these. */
const NO_HARD_LINKS = new Set(['EPERM', 'ENOTSUP', 'EOPNOTSUPP', 'ENOSYS', 'EXDEV']);

/**
 * Create `path` holding `content`; false when it already exists. The
 * content is complete before the file appears (see the top of this file).
 */
function createExclusive(path: string, content: string): boolean {
  const tmp = `${path}.${randomBytes(6).toString('hex')}.tmp`;
  if (!writeExclusive(tmp, content)) throw new Error(`${tmp} exists already`);
  try {
    linkSync(tmp, path);
    return true;
  } catch (e: unknown) {
    const code = errnoCode(e);
    if (code === 'EEXIST') return false;
    if (code !== undefined && NO_HARD_LINKS.has(code)) return writeExclusive(path, content);
    throw e;
  } finally {
    unlinkIfExists(tmp);
  }
}

/**
 * Create `path` exclusively (O_EXCL) with `content`; false when it already
 * exists. When the content cannot be written whole, the file we created is
 * removed before the error is thrown.
 */
function writeExclusive(path: string, content: string): boolean {
  let fd: number;
  try {
    fd = openSync(path, 'wx', 0o600);
  } catch (e: unknown) {
    if (errnoCode(e) === 'EEXIST') return false;
    throw e;
  }
  try {
    // No fsync: a lock does not need to survive a crash (its holder would be gone).
    const bytes = Buffer.from(content, 'utf8');
    const written = writeSync(fd, bytes);
    if (written !== bytes.length) throw new Error(`short write to ${path}: ${written} of ${bytes.length} bytes`);
  } catch (e: unknown) {
    removeIfSameFile(path, fd);
    closeSync(fd);
    throw e;
  }
  closeSync(fd);
  return true;
}

/** Remove `path` if it is still the file open as `fd` (not one that replaced it after a takeover). */
function removeIfSameFile(path: string, fd: number): void {
  try {
    const mine = fstatSync(fd);
    const there = statSync(path);
    if (mine.ino === there.ino && mine.dev === there.dev) unlinkIfExists(path);
  } catch {
    // gone already
  }
}

function unlinkIfExists(path: string): void {
  try {
    unlinkSync(path);
  } catch (e: unknown) {
    if (errnoCode(e) !== 'ENOENT') throw e;
  }
}

/**
 * Whether a takeover lock was left by a taker that died: its holder on this
 * host is gone, or it is older than `staleMs` (a holder elsewhere), as the
 * lock itself. Never by a few seconds of age alone: a taker that a busy
 * machine pauses between re-reading the stale lock and removing it would
 * otherwise lose its guard to a second taker, which removes the stale lock
 * and takes the lock; the first, resumed, would then remove the second's
 * fresh lock, and two appenders would hold it.
 */
function guardAbandoned(info: LockInfo, mtimeMs: number, staleMs: number, now: number): boolean {
  if (info.host === hostname()) return !processExists(info.pid) || now - Math.min(info.time, mtimeMs) > staleMs;
  return now - Math.min(info.time, mtimeMs) > Math.min(staleMs, TAKEOVER_STALE_MS);
}

/**
 * Remove the lock at `path` if it is still the stale one with `raw` content,
 * under the takeover lock. Returns whether anything was removed.
 */
function takeOver(path: string, raw: string, staleMs: number): boolean {
  const guard = `${path}.takeover`;
  const me: LockInfo = { pid: process.pid, host: hostname(), time: Date.now(), token: randomBytes(12).toString('hex') };
  if (!createExclusive(guard, lockContent(me))) {
    const other = readLock(guard);
    // Only a takeover lock of isolate's, and only an abandoned one: anything else there is left alone.
    if (other?.info !== undefined && guardAbandoned(other.info, other.mtimeMs, staleMs, Date.now())) unlinkIfExists(guard);
    return false;
  }
  try {
    const again = readLock(path);
    if (again === undefined) return true; // released meanwhile
    if (again.raw !== raw || again.info === undefined || staleReason(again.info, again.mtimeMs, staleMs, Date.now()) === undefined) return false;
    unlinkIfExists(path);
    return true;
  } finally {
    const mine = readLock(guard);
    if (mine?.info?.token === me.token) unlinkIfExists(guard);
  }
}

/**
 * Take the lock at `path`. Waits as long as the lock changes hands (other
 * appenders make progress: many runs at once on a loaded machine queue up),
 * but gives up when one holder keeps it for `timeoutMs`. Throws an
 * IsolateError then, or when the lock file cannot be created.
 */
export async function acquireLock(path: string, use: LockUse, options: LockOptions = {}): Promise<HeldLock> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_LOCK_TIMEOUT_MS;
  const staleMs = options.staleMs ?? DEFAULT_STALE_MS;
  const token = randomBytes(12).toString('hex');
  let deadline = Date.now() + timeoutMs;
  let backoff = MIN_BACKOFF_MS;
  let holder: LockInfo | undefined;
  let seen: string | undefined;
  for (;;) {
    const info: LockInfo = { pid: process.pid, host: hostname(), time: Date.now(), token };
    let created: boolean;
    try {
      created = createExclusive(path, lockContent(info));
    } catch (e: unknown) {
      throw ioError(`cannot create the lock file ${path} of ${use.guards}`, e, use);
    }
    if (created) {
      removeLeftTemps(path, staleMs);
      return heldLock(path, token);
    }

    const current = readLockOrThrow(path, use);
    if (current === undefined) continue; // released between our attempt and the read: retry at once
    if (notALock(current, Date.now())) throw notOurs(path, current.raw, use);
    if (current.info !== undefined && staleReason(current.info, current.mtimeMs, staleMs, Date.now()) !== undefined && takeOverOrThrow(path, current.raw, staleMs, use)) continue;
    holder = current.info;
    if (current.raw !== seen) {
      // Another holder than last time: the queue moves, so wait on.
      seen = current.raw;
      deadline = Date.now() + timeoutMs;
    }

    const left = deadline - Date.now();
    if (left <= 0) {
      const who = holder === undefined ? 'an unknown process' : `pid ${holder.pid} on ${holder.host} since ${new Date(holder.time).toISOString()}`;
      throw new IsolateError(use.lockedCode, `timed out after ${timeoutMs} ms waiting for the lock ${path} of ${use.guards}, which one holder kept all that time`, {
        detail: `it is held by ${who}`,
        fix: `if no isolate process is running, remove ${path}`,
      });
    }
    // Randomized exponential backoff: spreads out many waiters.
    const wait = Math.min(left, backoff / 2 + Math.random() * backoff);
    await sleep(wait);
    backoff = Math.min(MAX_BACKOFF_MS, backoff * 2);
  }
}

/** The error for a file at the lock's path that is not isolate's: it is left alone. */
function notOurs(path: string, raw: string, use: LockUse): IsolateError {
  return new IsolateError(use.lockedCode, `${path} is in the way of the lock of ${use.guards}, and it is not an isolate lock file (${raw === '' ? 'it is empty' : 'it holds no lock holder'}); isolate leaves it alone`, {
    fix: use.notOursFix,
  });
}

function readLockOrThrow(path: string, use: LockUse): ReturnType<typeof readLock> {
  try {
    return readLock(path);
  } catch (e: unknown) {
    throw ioError(`cannot read the lock file ${path} of ${use.guards}`, e, use);
  }
}

function takeOverOrThrow(path: string, raw: string, staleMs: number, use: LockUse): boolean {
  try {
    return takeOver(path, raw, staleMs);
  } catch (e: unknown) {
    throw ioError(`cannot take over the stale lock file ${path} of ${use.guards}`, e, use);
  }
}

/** A lock file that could not be read or written, with the caller's fix (a full disk has its own). */
function ioError(summary: string, e: unknown, use: LockUse): IsolateError {
  return new IsolateError(use.ioCode, summary, {
    detail: e instanceof Error ? e.message : String(e),
    fix: diskFull(e) ? use.fullDiskFix : use.cannotCreateFix,
    cause: e,
  });
}

function heldLock(path: string, token: string): HeldLock {
  let released = false;
  return {
    path,
    token,
    release(): void {
      if (released) return;
      released = true;
      try {
        const current = readLock(path);
        // Not ours any more (taken over as stale): leave the new holder's lock alone.
        if (current?.info?.token === token) unlinkIfExists(path);
      } catch {
        // Best effort: a lock we could not remove is stale as soon as we exit.
      }
    },
  };
}

/** The names of the temporary files createExclusive writes beside the lock at `path` (its own, and its takeover lock's). */
function tempNames(path: string): RegExp {
  const base = basename(path).replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return new RegExp(`^${base}(\\.takeover)?\\.[0-9a-f]{12}\\.tmp$`);
}

/**
 * Whether a temporary lock file was left by a locker that is gone: its holder is stale, or it is empty (killed
 * between creating and writing it) and older than `staleMs` (a live locker writes it at once).
 */
function abandoned(left: { info: LockInfo | undefined; raw: string; mtimeMs: number }, staleMs: number, now: number): boolean {
  if (left.info !== undefined) return staleReason(left.info, left.mtimeMs, staleMs, now) !== undefined;
  return left.raw === '' && now - left.mtimeMs > staleMs;
}

/** Lock paths this process has swept already: a killed locker's file is left by another process, once. */
const swept = new Set<string>();

/** Remove the temporary files killed lockers left beside the lock at `path` (see the top of this file). Best effort. */
function removeLeftTemps(path: string, staleMs: number): void {
  if (swept.has(path)) return;
  swept.add(path);
  try {
    const dir = dirname(path);
    const names = tempNames(path);
    for (const name of readdirSync(dir)) {
      if (!names.test(name)) continue;
      const left = readLock(join(dir, name));
      if (left !== undefined && abandoned(left, staleMs, Date.now())) unlinkIfExists(join(dir, name));
    }
  } catch {
    // left for the next holder
  }
}

/** Run `fn` holding the lock at `path`; the lock is released however `fn` ends. */
export async function withLock<T>(path: string, use: LockUse, fn: () => Promise<T>, options: LockOptions = {}): Promise<T> {
  const lock = await acquireLock(path, use, options);
  try {
    return await fn();
  } finally {
    lock.release();
  }
}
