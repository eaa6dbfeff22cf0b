/**
 * The audit log: one run report per line (JSON Lines), hash-chained, with a
 * head file so that cutting lines off the end is detectable.
 *
 * Each line is a JSON object: the report's fields plus the envelope
 *   seq       1, 2, 3, ... (consecutive)
 *   prevHash  the previous record's hash; GENESIS_HASH (64 zeros) for the first
 *   hash      hex sha256(prevHash + "\n" + canonical JSON of the record without `hash`)
 * (see chain.ts). `<log>.head` holds `{"seq": N, "hash": "..."}` of the last
 * record, padded to a fixed size and overwritten in place on every append
 * (made by temp file + rename when missing);
 * `<log>.lock` is the appenders' lock (see lock.ts).
 *
 * Appending holds the lock, checks the tail (the last line and the head file,
 * never the whole file), writes the line with one O_APPEND write, fsyncs,
 * then replaces the head file. A crash between the write and the head update
 * leaves the head exactly one record behind, which both appending and
 * verification accept; anything else inconsistent at the tail makes appending
 * refuse, so a damaged log is never silently extended (or its truncation
 * laundered by a fresh head file).
 *
 * The chain detects a changed, removed, reordered or cut-off line; it does
 * not stop someone who can write the log from rewriting all of it.
 */
import {
  closeSync,
  constants,
  fsync,
  fchmodSync,
  fstatSync,
  ftruncateSync,
  openSync,
  readSync,
  statSync,
  existsSync,
  renameSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { promisify } from 'node:util';
import { randomBytes } from 'node:crypto';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { AUDIT_FULL_FIX, IsolateError, errnoCode, isIsolateError, auditWriteFix } from '../errors.js';
import {
  ENVELOPE_FIELDS,
  GENESIS_HASH,
  envelopeProblem,
  hashMatches,
  isHash,
  chainRecord,
  type AuditRecord,
  type JsonObject,
} from './chain.js';
import { headPath, lockPath } from './files.js';
import { withLock, type LockOptions, type LockUse } from './lock.js';
import { segmentLink } from './segment.js';
import { NOT_REGULAR, openRegular, readRegularFile } from './read-regular.js';
import { makeOwnDir } from '../own-dir.js';
import { duplicateJsonKey } from '../profile/json-duplicates.js';

export { GENESIS_HASH, canonicalJson, recordHash } from './chain.js';

const fsyncFd = promisify(fsync);
export type { AuditRecord } from './chain.js';

export { headPath, lockPath } from './files.js';

/**
 * Where the audit log lives by default: `$XDG_STATE_HOME/isolate/audit.jsonl`,
 * else `$HOME/.local/state/isolate/audit.jsonl`; undefined when neither is an
 * absolute path (the XDG spec says to ignore relative values).
 */
export function defaultAuditLogPath(env: Readonly<Record<string, string | undefined>>): string | undefined {
  const state = env['XDG_STATE_HOME'];
  if (state !== undefined && isAbsolute(state)) return join(state, 'isolate', 'audit.jsonl');
  const home = env['HOME'];
  if (home !== undefined && isAbsolute(home)) return join(home, '.local', 'state', 'isolate', 'audit.jsonl');
  return undefined;
}

// ---------------------------------------------------------------------------
// Errors

const CORRUPT_FIX = (file: string): string =>
  `run \`isolate audit verify ${file}\` to see what is wrong, then \`isolate audit seal ${file}\` to keep it aside and start a new log that continues its chain`;

/** What the audit log's lock (`<log>.lock`) says when it cannot be had. */
export const AUDIT_LOCK: LockUse = {
  guards: 'the audit log',
  ioCode: 'E_AUDIT_IO',
  lockedCode: 'E_AUDIT_LOCKED',
  fullDiskFix: AUDIT_FULL_FIX,
  cannotCreateFix: 'check that the directory exists and is writable by you',
  notOursFix: 'choose another audit log location (audit.log / --audit-log; its lock file is <log>.lock); if no isolate is running and an older isolate left this file empty, remove it',
};

function ioError(summary: string, e: unknown, fix?: string): IsolateError {
  if (isIsolateError(e)) return e;
  return new IsolateError('E_AUDIT_IO', summary, {
    detail: e instanceof Error ? e.message : String(e),
    fix: auditWriteFix(e, fix),
    cause: e,
  });
}

function corrupt(file: string, detail: string): IsolateError {
  return new IsolateError('E_AUDIT_CORRUPT', `the audit log ${file} is damaged; not appending to it`, { detail, fix: CORRUPT_FIX(file) });
}

// ---------------------------------------------------------------------------
// Directory, head file, reading lines

/**
 * Create `dir` and its missing parents with mode 0700 (own-dir.ts). Directories that
 * already exist are left as they are (never loosened, never tightened).
 */
function ensureDir(dir: string): void {
  makeOwnDir(resolve(dir));
}

type Head = { state: 'missing' } | { state: 'invalid'; detail: string } | { state: 'ok'; seq: number; hash: string; raw: string };

function readHead(file: string): Head {
  let raw: string;
  try {
    raw = readRegularFile(headPath(file)).text;
  } catch (e: unknown) {
    if (errnoCode(e) === 'ENOENT') return { state: 'missing' };
    if (errnoCode(e) === NOT_REGULAR) return { state: 'invalid', detail: `the head file ${headPath(file)} is not a regular file` };
    throw ioError(`cannot read the audit head file ${headPath(file)}`, e);
  }
  let v: unknown;
  try {
    v = JSON.parse(raw);
  } catch {
    return { state: 'invalid', detail: `the head file ${headPath(file)} is not JSON` };
  }
  if (typeof v !== 'object' || v === null) return { state: 'invalid', detail: `the head file ${headPath(file)} is not a JSON object` };
  const { seq, hash } = v as { seq?: unknown; hash?: unknown };
  if (typeof seq !== 'number' || !Number.isSafeInteger(seq) || seq < 0 || !isHash(hash) || (seq === 0 && hash !== GENESIS_HASH)) {
    return { state: 'invalid', detail: `the head file ${headPath(file)} does not hold a valid {"seq", "hash"}` };
  }
  return { state: 'ok', seq, hash, raw };
}

/** The head file's size: its JSON padded with spaces, so that an update overwrites all of it in place. */
const HEAD_BYTES = 128;

/**
 * Update the head file: in place (one write at offset 0, then fsync) when it is a regular file already, else made
 * whole and renamed into place (a temp file, fsync, rename, fsync of the directory). Not renamed over when it exists:
 * a sandbox that hides it (a mount over the path) would see the new file, as the kernel detaches a mount from a path
 * that is renamed over in another mount namespace (a dev run beside a log kept in the home directory did, whenever a
 * record was appended during it). Each fsync runs on Node's thread pool (the other steps take microseconds): isolate's
 * thread goes on with the run meanwhile (the sandbox's set-up, the cgroup's move, other calls of the MCP server),
 * while the append keeps its order.
 */
export async function writeHead(file: string, seq: number, hash: string): Promise<void> {
  const line = `${JSON.stringify({ seq, hash }).padEnd(HEAD_BYTES - 1)}\n`;
  if (!(await overwriteHead(headPath(file), line))) await replaceHead(file, line);
}

/** Write `line` over the head file if it is a regular file; false when it is missing or something else. */
async function overwriteHead(head: string, line: string): Promise<boolean> {
  let fd: number;
  try {
    fd = openRegular(head, constants.O_WRONLY | constants.O_NOFOLLOW);
  } catch {
    return false; // missing, a link, not a regular file, or not ours to open: made anew
  }
  try {
    const written = writeSync(fd, line, 0);
    if (written !== Buffer.byteLength(line)) throw new Error(`short write: ${written} bytes`);
    if (fstatSync(fd).size > written) ftruncateSync(fd, written);
    await fsyncFd(fd);
    return true;
  } finally {
    closeSync(fd);
  }
}

async function replaceHead(file: string, line: string): Promise<void> {
  const head = headPath(file);
  const tmp = `${head}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
  const fd = openSync(tmp, 'wx', 0o600);
  try {
    try {
      writeSync(fd, line);
      await fsyncFd(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, head);
  } catch (e: unknown) {
    try {
      unlinkSync(tmp);
    } catch {
      // already renamed or never written
    }
    throw e;
  }
  await fsyncDir(dirname(file));
}

export async function fsyncDir(dir: string): Promise<void> {
  let fd: number | undefined;
  try {
    fd = openSync(dir, 'r');
    await fsyncFd(fd);
  } catch {
    // Some file systems cannot fsync a directory; the rename itself is still atomic.
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

const CHUNK = 64 * 1024;
const NEWLINE = 0x0a;
// ignoreBOM keeps a byte-order mark in the text, so a line starting with one is not JSON.
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** Decode strict UTF-8; undefined when the bytes are not UTF-8. */
function decode(bytes: Uint8Array): string | undefined {
  try {
    return utf8.decode(bytes);
  } catch {
    return undefined;
  }
}

interface RawLine {
  /** 1-based line number. */
  line: number;
  /** The line without its newline; undefined when it is not valid UTF-8. */
  text: string | undefined;
  /** False only for a last line that does not end with a newline. */
  terminated: boolean;
}

/** Stream the lines of `file` in 64 KiB reads; nothing when it does not exist. */
function* rawLines(file: string): Generator<RawLine> {
  let fd: number;
  try {
    // A named pipe in the log's place must not hang `audit show` or `audit verify` (read-regular.ts).
    fd = openRegular(file);
  } catch (e: unknown) {
    if (errnoCode(e) === 'ENOENT') return;
    throw ioError(`cannot read the audit log ${file}`, e);
  }
  try {
    const buf = Buffer.allocUnsafe(CHUNK);
    let pending: Buffer[] = [];
    let line = 0;
    for (;;) {
      let n: number;
      try {
        n = readSync(fd, buf, 0, CHUNK, null);
      } catch (e: unknown) {
        throw ioError(`cannot read the audit log ${file}`, e);
      }
      if (n === 0) break;
      let start = 0;
      for (;;) {
        const nl = buf.indexOf(NEWLINE, start);
        if (nl === -1 || nl >= n) break;
        pending.push(buf.subarray(start, nl));
        line += 1;
        yield { line, text: decode(Buffer.concat(pending)), terminated: true };
        pending = [];
        start = nl + 1;
      }
      // Copy: `buf` is reused by the next read.
      if (start < n) pending.push(Buffer.from(buf.subarray(start, n)));
    }
    if (pending.length > 0) yield { line: line + 1, text: decode(Buffer.concat(pending)), terminated: false };
  } finally {
    closeSync(fd);
  }
}

/** The last line of the open file, read backwards from the end; undefined when empty. */
function lastLine(fd: number, size: number): { text: string | undefined; terminated: boolean } | undefined {
  if (size === 0) return undefined;
  const one = Buffer.alloc(1);
  readSync(fd, one, 0, 1, size - 1);
  const terminated = one[0] === NEWLINE;
  const end = terminated ? size - 1 : size;
  const chunks: Buffer[] = [];
  let pos = end;
  while (pos > 0) {
    const len = Math.min(CHUNK, pos);
    const buf = Buffer.alloc(len);
    readSync(fd, buf, 0, len, pos - len);
    const nl = buf.lastIndexOf(NEWLINE);
    if (nl !== -1) {
      chunks.unshift(buf.subarray(nl + 1));
      break;
    }
    chunks.unshift(buf);
    pos -= len;
  }
  return { text: decode(Buffer.concat(chunks)), terminated };
}

/**
 * A line that holds one key twice in an object was edited: isolate never
 * writes one, JSON.parse (and so the hash) keeps the last value, and a
 * reader that keeps the first (or a grep) sees another record than the one
 * the chain vouches for.
 */
function repeatedKey(text: string): ParsedLine | undefined {
  const repeated = duplicateJsonKey(text);
  if (repeated === undefined) return undefined;
  return { ok: false, reason: 'edited', detail: `the key ${JSON.stringify(repeated.key)} appears twice in one object: what the record says depends on the reader` };
}

type ParsedLine = { ok: true; record: AuditRecord } | { ok: false; reason: 'malformed' | 'edited'; detail: string };

/** Parse one line as a record: JSON object with a well-typed envelope. */
function parseRecord(text: string | undefined): ParsedLine {
  if (text === undefined) return { ok: false, reason: 'malformed', detail: 'the line is not valid UTF-8' };
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return { ok: false, reason: 'malformed', detail: text === '' ? 'the line is empty' : 'the line is not valid JSON' };
  }
  const problem = envelopeProblem(v);
  if (problem === undefined) return repeatedKey(text) ?? { ok: true, record: v as AuditRecord };
  // A JSON object with all three envelope fields, one of them with a wrong value, was edited.
  const hasAll = typeof v === 'object' && v !== null && !Array.isArray(v) && ENVELOPE_FIELDS.every((k) => k in v);
  return { ok: false, reason: hasAll ? 'edited' : 'malformed', detail: hasAll ? problem : `not an audit record: ${problem}` };
}

// ---------------------------------------------------------------------------
// Head consistency

/** Why verification fails (`broken-link`: a sealed log does not match the segment link to it, see seal.ts). */
export const VERIFY_REASONS = ['edited', 'deleted', 'reordered', 'truncated', 'malformed', 'head-mismatch', 'broken-link'] as const;
export type VerifyReason = (typeof VERIFY_REASONS)[number];

export type VerifyResult =
  | { ok: true; records: number }
  | { ok: false; line: number; reason: VerifyReason; detail: string };

export type Failure = Extract<VerifyResult, { ok: false }>;

/**
 * Compare the head file with the last record of a valid chain (whose line
 * numbers equal seq). Accepted: the head names the last record, or the one
 * before it (an append that stopped between writing its line and replacing
 * the head file), or is missing while there is at most one record.
 */
function headProblem(file: string, head: Head, last: AuditRecord | undefined): Failure | undefined {
  const L = last?.seq ?? 0;
  const lastLineNo = Math.max(L, 1);
  if (head.state === 'missing') {
    if (L <= 1) return undefined;
    return { ok: false, line: lastLineNo, reason: 'head-mismatch', detail: `the head file ${headPath(file)} is missing but the log has ${L} records` };
  }
  if (head.state === 'invalid') return { ok: false, line: lastLineNo, reason: 'head-mismatch', detail: head.detail };
  const H = head.seq;
  if (last === undefined) {
    if (H === 0) return undefined;
    return { ok: false, line: 1, reason: 'truncated', detail: `the log is empty but the head file records ${H} records: all were cut off` };
  }
  if (H > L) {
    const n = H - L;
    return {
      ok: false,
      line: L + 1,
      reason: 'truncated',
      detail: `the head file records seq ${H} but the log ends at seq ${L}: ${n} record${n === 1 ? '' : 's'} cut off the end`,
    };
  }
  if (H === L) {
    if (head.hash === last.hash) return undefined;
    return { ok: false, line: L, reason: 'head-mismatch', detail: `the head file's hash for seq ${H} differs from the last record's hash` };
  }
  if (H === L - 1) {
    if (head.hash === last.prevHash) return undefined;
    return { ok: false, line: L - 1 || 1, reason: 'head-mismatch', detail: `the head file's hash for seq ${H} differs from that record's hash` };
  }
  return {
    ok: false,
    line: H + 1,
    reason: 'head-mismatch',
    detail: `the head file records seq ${H} but the log continues to seq ${L}: records were added without updating it`,
  };
}

// ---------------------------------------------------------------------------
// Appending

export interface AppendOptions {
  /** Give up waiting for the lock after this long. Default 10 s. */
  lockTimeoutMs?: number | undefined;
  /** Take over a lock older than this. Default 30 s. */
  staleLockMs?: number | undefined;
}

/** The report as plain JSON data (what `JSON.stringify` makes of it). */
function toJsonObject(report: object): JsonObject {
  let data: unknown;
  try {
    data = JSON.parse(JSON.stringify(report)) as unknown;
  } catch (e: unknown) {
    throw new IsolateError('E_AUDIT_REPORT', 'the run report cannot be written to the audit log: it is not JSON data', { cause: e });
  }
  if (typeof data !== 'object' || data === null || Array.isArray(data)) {
    throw new IsolateError('E_AUDIT_REPORT', 'the run report cannot be written to the audit log: it is not a JSON object');
  }
  const obj = data as JsonObject;
  for (const k of ENVELOPE_FIELDS) {
    if (Object.prototype.hasOwnProperty.call(obj, k)) {
      throw new IsolateError('E_AUDIT_REPORT', `the run report cannot be written to the audit log: it has a field "${k}", which the log's envelope uses`);
    }
  }
  return obj;
}

/**
 * Append `report` as the next record of the log at `file`; returns its seq
 * and hash, and a warning when the record is written but the head file could
 * not be updated. Creates the directory (0700) and the file (0600) when
 * missing. Throws an IsolateError when the record is not written: the log
 * cannot be written, its lock cannot be had in time, or its tail is damaged.
 */
export async function appendRecord(file: string, report: object, options: AppendOptions = {}): Promise<Appended> {
  const data = toJsonObject(report);
  try {
    ensureDir(dirname(file));
  } catch (e: unknown) {
    throw ioError(`cannot create the directory of the audit log ${file}`, e, 'check the path, or set another audit log location');
  }
  const lockOptions: LockOptions = { timeoutMs: options.lockTimeoutMs, staleMs: options.staleLockMs };
  return inTurn(file, () => withLock(lockPath(file), AUDIT_LOCK, async () => appendLocked(file, data), lockOptions));
}

/** This process's appends by log, each after the one before: they wait in line here instead of polling the lock file. */
const queues = new Map<string, Promise<unknown>>();

async function inTurn<T>(file: string, fn: () => Promise<T>): Promise<T> {
  const before = queues.get(file) ?? Promise.resolve();
  const mine = before.then(fn);
  const settled = mine.then(
    () => undefined,
    () => undefined,
  );
  queues.set(file, settled);
  try {
    return await mine;
  } finally {
    if (queues.get(file) === settled) queues.delete(file);
  }
}

/**
 * Bring a head file that is one record behind (an append that could not
 * update it) up to the last record, before anything else is appended: a
 * second record on top of a stale head would leave it two behind, which is
 * indistinguishable from tampering.
 */
async function catchUpHead(file: string, last: AuditRecord): Promise<void> {
  try {
    await writeHead(file, last.seq, last.hash);
  } catch (e: unknown) {
    throw ioError(`the audit record is not written: the head file ${headPath(file)} is one record behind and cannot be brought up to date`, e);
  }
}

/** Write `bytes` at the end (O_APPEND) and fsync; on failure, cut the file back to `size` so no partial line is left. */
async function writeLine(fd: number, size: number, bytes: Buffer, seq: number): Promise<void> {
  try {
    const written = writeSync(fd, bytes);
    if (written !== bytes.length) throw new Error(`short write: ${written} of ${bytes.length} bytes`);
    await fsyncFd(fd);
  } catch (e: unknown) {
    // We hold the lock: nobody appended since `size`.
    try {
      ftruncateSync(fd, size);
    } catch (cut: unknown) {
      const why = cut instanceof Error ? cut.message : String(cut);
      throw ioError(`the audit record (seq ${seq}) may be in the log unconfirmed: writing it failed and it could not be removed (${why})`, e);
    }
    throw e;
  }
}

/** What an append wrote; `warning` when the record is written but something around it failed. */
export interface Appended {
  seq: number;
  hash: string;
  warning?: string;
}

async function appendLocked(file: string, data: JsonObject): Promise<Appended> {
  let fd: number;
  let existed = true;
  // Never through a link: one a repository ships where its profile puts the log would lead the records anywhere the
  // caller may write, and a dangling one would create that file (~/.bash_profile, whose next login shell runs them).
  const flags = constants.O_RDWR | constants.O_APPEND | constants.O_NOFOLLOW;
  try {
    try {
      fd = openSync(file, flags);
    } catch (e: unknown) {
      if (errnoCode(e) !== 'ENOENT') throw e;
      existed = false;
      fd = openSync(file, flags | constants.O_CREAT | constants.O_EXCL, 0o600);
      fchmodSync(fd, 0o600); // exactly 0600 whatever the umask
    }
  } catch (e: unknown) {
    if (errnoCode(e) === 'ELOOP') throw ioError(`the audit log ${file} is a symbolic link; isolate writes the log only where it is named`, e, 'name the file the link leads to as the log (audit.log, --audit-log), or remove the link');
    throw ioError(`cannot open the audit log ${file}`, e, 'check that the file and its directory are writable by you');
  }
  try {
    const stat = fstatSync(fd);
    if (!stat.isFile()) throw new IsolateError('E_AUDIT_IO', `the audit log ${file} is not a regular file`);
    // A file with another name is another file too (a repository's log hard-linked to an empty ~/.bashrc).
    if (stat.nlink > 1) throw new IsolateError('E_AUDIT_IO', `the audit log ${file} has ${stat.nlink - 1} other name${stat.nlink > 2 ? 's' : ''} (a hard link): its records would be written into a file that is also elsewhere`, { fix: 'give the log a file of its own (audit.log, --audit-log), or remove the other names' });
    const size = stat.size;

    // The tail: the last record and the head file must agree.
    let last: AuditRecord | undefined;
    const tail = lastLine(fd, size);
    if (tail !== undefined) {
      if (!tail.terminated) throw corrupt(file, 'the last line is incomplete (no newline at the end)');
      const parsed = parseRecord(tail.text);
      if (!parsed.ok) throw corrupt(file, `the last line: ${parsed.detail}`);
      if (!hashMatches(parsed.record)) throw corrupt(file, `the last record (seq ${parsed.record.seq}) does not match its hash`);
      last = parsed.record;
    }
    const head = readHead(file);
    const problem = headProblem(file, head, last);
    if (problem !== undefined) throw corrupt(file, `${problem.reason}: ${problem.detail}`);
    if (last !== undefined && (head.state !== 'ok' || head.seq !== last.seq)) await catchUpHead(file, last);

    const { record, line } = chainRecord(data, last?.seq ?? 0, last?.hash ?? GENESIS_HASH);
    await writeLine(fd, size, Buffer.from(`${line}\n`, 'utf8'), record.seq);
    try {
      await writeHead(file, record.seq, record.hash);
    } catch (e: unknown) {
      // The record is written; the head is one behind, which verification accepts and the next append repairs first.
      const why = e instanceof Error ? e.message : String(e);
      return { seq: record.seq, hash: record.hash, warning: `the audit record (seq ${record.seq}) is written, but the head file ${headPath(file)} could not be updated (${why}); the next append brings it up to date` };
    }
    return { seq: record.seq, hash: record.hash };
  } catch (e: unknown) {
    throw ioError(`the audit record is not written: cannot append to the audit log ${file}`, e);
  } finally {
    closeSync(fd);
    if (!existed) await fsyncDir(dirname(file));
  }
}

// ---------------------------------------------------------------------------
// Verifying

/** Line number of the first record with `seq` after line `after`, or undefined. */
function findSeq(file: string, after: number, seq: number): number | undefined {
  for (const l of rawLines(file)) {
    if (l.line <= after) continue;
    const p = parseRecord(l.text);
    if (p.ok && p.record.seq === seq) return l.line;
  }
  return undefined;
}

/** How far the records of a log chain from its start. */
export interface ChainWalk {
  /** The first record (a `segment` record there continues a sealed log). */
  first: AuditRecord | undefined;
  /** The last record that chains from the start: everything up to it verifies. */
  last: AuditRecord | undefined;
  /** The first line that does not chain, and why; undefined when every line does. */
  failure: Failure | undefined;
}

/** The prevHash the first record must have: the genesis value, or for a `segment` record the hash it continues from. */
function firstPrevHash(record: AuditRecord): string {
  return segmentLink(record)?.hash ?? GENESIS_HASH;
}

/**
 * Walk the chain of the log at `file` from its first line (without the head
 * file): the records that verify, and the first line that does not.
 */
export function walkChain(file: string): ChainWalk {
  let expectedSeq = 1;
  let expectedPrev = GENESIS_HASH;
  let first: AuditRecord | undefined;
  let last: AuditRecord | undefined;
  for (const l of rawLines(file)) {
    const fail = (reason: VerifyReason, detail: string): ChainWalk => ({ first, last, failure: { ok: false, line: l.line, reason, detail } });
    const parsed = parseRecord(l.text);
    if (!parsed.ok) {
      if (!l.terminated) return fail('truncated', `the last line is incomplete: ${parsed.detail}`);
      return fail(parsed.reason, parsed.detail);
    }
    const r = parsed.record;
    if (l.line === 1) {
      expectedPrev = firstPrevHash(r);
      first = r;
    }
    if (!hashMatches(r)) return fail('edited', `the record (seq ${r.seq}) does not match its hash: its content was changed`);
    if (r.seq < expectedSeq) {
      return fail('reordered', `seq ${r.seq} comes after seq ${expectedSeq - 1}: the records are out of order`);
    }
    if (r.seq > expectedSeq) {
      const at = findSeq(file, l.line, expectedSeq);
      if (at !== undefined) {
        return fail('reordered', `seq ${r.seq} where seq ${expectedSeq} was expected; seq ${expectedSeq} is at line ${at}: the records are out of order`);
      }
      const missing = r.seq - expectedSeq;
      return fail(
        'deleted',
        `seq ${r.seq} where seq ${expectedSeq} was expected: ${missing} record${missing === 1 ? ' was' : 's were'} removed before this line`,
      );
    }
    if (r.prevHash !== expectedPrev) {
      return fail(
        'edited',
        l.line === 1
          ? "the first record's prevHash is neither the genesis value nor the hash of the sealed log it continues"
          : `prevHash does not match the hash of line ${l.line - 1}: that record or this one was rewritten`,
      );
    }
    if (!l.terminated) return fail('truncated', 'the last line has no newline at the end: the log was cut');
    expectedSeq += 1;
    expectedPrev = r.hash;
    last = r;
  }
  return { first, last, failure: undefined };
}

function verifyOnce(file: string): VerifyResult {
  // The head first: a concurrent append can then only put the log ahead of
  // it, by at most the one record in flight, which headProblem accepts.
  const head = readHead(file);
  const walk = walkChain(file);
  return walk.failure ?? headProblem(file, head, walk.last) ?? { ok: true, records: walk.last?.seq ?? 0 };
}

/** The log's size and head content, to see whether an append happened meanwhile. */
function fingerprint(file: string): string {
  let size = -1;
  let head = '';
  try {
    size = statSync(file).size;
  } catch {
    // missing
  }
  try {
    head = readRegularFile(headPath(file)).text;
  } catch {
    // missing, or not a file
  }
  return `${size}\n${head}`;
}

function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/**
 * Check the whole log at `file` and its head file. On failure, names the
 * first bad line (1-based) and why:
 * - `edited`: a record does not match its hash, or its prevHash does not
 *   match the previous record's hash (a record rewritten with a new hash);
 * - `deleted`: seq skips ahead and the missing seq appears nowhere later;
 * - `reordered`: seq goes backwards, or skips ahead to a seq that appears later;
 * - `truncated`: an incomplete last line, or the head file names a later
 *   record than the last one (the line is then one past the end);
 * - `malformed`: a line that is not a JSON object with the envelope fields;
 * - `head-mismatch`: the head file is missing (with more than one record),
 *   unreadable, or disagrees with the records.
 * A missing or empty log without a head file is ok with 0 records.
 * Does not take the lock: when the log changes while it is read, it reads
 * again. Throws an IsolateError only when the files cannot be read.
 */
export function verifyLog(file: string): VerifyResult {
  let result: VerifyResult = { ok: true, records: 0 };
  for (let attempt = 0; attempt < 10; attempt++) {
    const before = fingerprint(file);
    result = verifyOnce(file);
    if (result.ok) return result;
    if (fingerprint(file) === before && !mayBeInFlight(file, result)) return result;
    sleepSync(10 + attempt * 10);
  }
  return result;
}

/**
 * Whether a failure may be an append still being written: a cut-off last
 * line while an appender holds the log's lock. The kernel makes an append
 * visible page by page (a line that crosses a page boundary is seen half
 * written), and an appender descheduled between the two pages leaves the
 * log's size unchanged across a whole verification; it is read again
 * shortly. Without a lock held, a cut-off line is damage, reported at once.
 */
function mayBeInFlight(file: string, failure: Failure): boolean {
  return failure.reason === 'truncated' && appendUnderway(file);
}

/** Whether an appender holds the log's lock now (its last line may be still being written). */
function appendUnderway(file: string): boolean {
  return existsSync(lockPath(file));
}

// ---------------------------------------------------------------------------
// Reading and filtering

export interface LogEntry {
  /** 1-based line number in the log. */
  line: number;
  record: Record<string, unknown>;
}

/**
 * The records of the log at `file`, in order, read in chunks (never the
 * whole file at once); nothing when it does not exist. A cut-off last line
 * while an append is under way is left out (it is being written). Does not check the
 * chain (that is verifyLog's job), but throws an IsolateError at a line that
 * is not a JSON object, after yielding the ones before it.
 */
export function* readRecords(file: string): Generator<LogEntry, void, undefined> {
  for (const l of rawLines(file)) {
    // A last line seen cut off while an append is under way is the record being written (see mayBeInFlight): not yet there.
    if (!l.terminated && appendUnderway(file)) return;
    let v: unknown;
    try {
      v = l.text === undefined ? undefined : JSON.parse(l.text);
    } catch {
      v = undefined;
    }
    if (typeof v !== 'object' || v === null || Array.isArray(v) || !l.terminated) {
      throw new IsolateError('E_AUDIT_CORRUPT', `the audit log ${file} is damaged at line ${l.line}`, {
        detail: l.terminated ? 'the line is not a JSON object' : 'the last line is incomplete',
        fix: 'run `isolate audit verify` to see what is wrong',
      });
    }
    yield { line: l.line, record: v as Record<string, unknown> };
  }
}
