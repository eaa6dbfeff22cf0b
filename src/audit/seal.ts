/**
 * Sealing a damaged audit log, so that recording can go on without losing
 * or rewriting anything: under the log's lock, the damaged log is renamed to
 * `<log>.sealed-<UTC time>` (its head file to `<that>.head`), kept as it is,
 * and a new log is started whose first record (kind `segment`) continues
 * the chain from the sealed log's last record that verified: its prevHash
 * is that record's hash, and it names the sealed file, that record's seq
 * and hash, and the damage. verifyWithSegments() checks the new log and
 * follows the links back through the sealed logs that are present.
 *
 * Each step leaves a state that either verifies or is still damaged (and
 * can be sealed again): the new log is written and fsynced under a temp
 * name first; the head file is moved aside before the log (a log without a
 * head file is damaged once it has two records); the new log, one record
 * long, is valid without a head file until its head is written.
 */
import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, fchmodSync, fsyncSync, openSync, renameSync, unlinkSync, writeFileSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { IsolateError, errnoCode } from '../errors.js';
import { GENESIS_HASH, chainRecord, type AuditRecord, type JsonObject } from './chain.js';
import { withLock } from './lock.js';
import { AUDIT_LOCK, fsyncDir, headPath, lockPath, readRecords, verifyLog, walkChain, writeHead, type AppendOptions, type VerifyResult } from './log.js';
import { segmentSchema } from './report-schema.js';
import { SEGMENT_KIND, segmentLink, type SegmentLink, type SegmentRecord } from './segment.js';

export interface SealResult {
  log: string;
  /** Where the damaged log is kept. */
  sealed: string;
  /** Where its head file is kept; null when it had none. */
  sealedHead: string | null;
  /** The sealed log's last record that verified (seq 0 and the genesis hash when none did). */
  continues: SegmentLink;
  damage: SegmentRecord['damage'];
  /** The new log's first record. */
  segment: { seq: number; hash: string };
}

/** `<log>.sealed-20261202T011500Z`, with `-2`, `-3`, ... when that name (or its head file) is taken. */
function sealedName(file: string, now: Date): string {
  const stamp = now.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
  for (let i = 1; ; i++) {
    const name = `${file}.sealed-${stamp}${i === 1 ? '' : `-${i}`}`;
    if (!existsSync(name) && !existsSync(`${name}.head`)) return name;
  }
}

/** Write `line` as a new 0600 file `tmp`, fsynced; the file is removed when that fails. */
function writeNewFile(tmp: string, line: string): void {
  const fd = openSync(tmp, 'wx', 0o600);
  try {
    fchmodSync(fd, 0o600);
    const bytes = Buffer.from(`${line}\n`, 'utf8');
    if (writeSync(fd, bytes) !== bytes.length) throw new Error(`short write to ${tmp}`);
    fsyncSync(fd);
    closeSync(fd);
  } catch (e: unknown) {
    closeSync(fd);
    unlinkSync(tmp);
    throw e;
  }
}

async function sealLocked(file: string, now: Date): Promise<SealResult> {
  const v = verifyLog(file);
  if (v.ok) {
    throw new IsolateError('E_AUDIT_INTACT', `the audit log ${file} is intact: nothing to seal`, {
      exitCode: 1,
      detail: `its ${v.records} record${v.records === 1 ? '' : 's'} verify`,
      fix: 'seal only a log that `isolate audit verify` reports as not intact',
    });
  }
  const last = walkChain(file).last;
  const sealed = sealedName(file, now);
  const continues: SegmentLink = { file: basename(sealed), seq: last?.seq ?? 0, hash: last?.hash ?? GENESIS_HASH };
  const damage = { line: v.line, reason: v.reason, detail: v.detail };
  const segment: SegmentRecord = { schemaVersion: 2, kind: SEGMENT_KIND, sealedAt: now.toISOString(), continues, damage };
  const { record, line } = chainRecord(segment as unknown as JsonObject, 0, continues.hash);

  const done: string[] = [];
  const tmp = `${file}.seal-${process.pid}-${randomBytes(6).toString('hex')}.tmp`;
  let sealedHead: string | null = null;
  try {
    writeNewFile(tmp, line);
    if (existsSync(headPath(file))) {
      sealedHead = `${sealed}.head`;
      renameSync(headPath(file), sealedHead);
      done.push(`moved the head file to ${sealedHead}`);
    }
    if (existsSync(file)) renameSync(file, sealed);
    else writeFileSync(sealed, '', { flag: 'wx', mode: 0o600 }); // all records were cut off: keep an empty log under the name
    done.push(`moved the damaged log to ${sealed}`);
    renameSync(tmp, file);
    done.push(`started the new log ${file}`);
    await writeHead(file, record.seq, record.hash);
  } catch (e: unknown) {
    if (!done.includes(`started the new log ${file}`) && existsSync(tmp)) unlinkSync(tmp);
    throw new IsolateError('E_AUDIT_IO', `sealing the audit log ${file} stopped: ${errnoCode(e) ?? String(e)}`, {
      detail: done.length === 0 ? 'nothing was changed' : `done so far: ${done.join('; ')}`,
      fix: 'fix the cause (free space, permissions), then run `isolate audit verify` and `isolate audit seal` again; no record was removed',
      cause: e,
    });
  }
  await fsyncDir(dirname(file));
  return { log: file, sealed, sealedHead, continues, damage, segment: { seq: record.seq, hash: record.hash } };
}

/**
 * Seal the damaged log at `file` and start a new one that continues its
 * chain (see the module comment). Throws E_AUDIT_INTACT (exit 1) when the
 * log verifies: there is nothing to seal.
 */
export async function sealLog(file: string, options: AppendOptions & { now?: Date } = {}): Promise<SealResult> {
  const now = options.now ?? new Date();
  return withLock(lockPath(file), AUDIT_LOCK, async () => sealLocked(file, now), { timeoutMs: options.lockTimeoutMs, staleMs: options.staleLockMs });
}

// ---------------------------------------------------------------------------
// Verifying across segments

/** One link back to a sealed log, as checked. */
export interface SegmentCheck {
  /** The sealed log's path. */
  sealed: string;
  continues: SegmentLink;
  /** What the segment record says was damaged in the sealed log; null when it does not say it in the record's schema. */
  damage: SegmentRecord['damage'] | null;
  /** False when the sealed log is not here (the link cannot be checked). */
  present: boolean;
  /** Why the sealed log does not match the link; null when it does (or is not present). */
  problem: string | null;
}

const MAX_SEGMENTS = 1000;

/** The first record of the log at `file`, or undefined when it has none (or its first line is damaged). */
function firstRecord(file: string): AuditRecord | undefined {
  try {
    for (const { record } of readRecords(file)) return record as AuditRecord;
  } catch {
    // a damaged first line has no link
  }
  return undefined;
}

/** Does the sealed log at `path` verify up to the record the link names, with that hash? */
function linkProblem(path: string, link: SegmentLink): string | null {
  if (link.seq === 0) return link.hash === GENESIS_HASH ? null : 'a link to seq 0 must carry the genesis hash';
  const walk = walkChain(path);
  const lastSeq = walk.last?.seq ?? 0;
  if (lastSeq < link.seq) return `it verifies only up to seq ${lastSeq}, but the link is to its seq ${link.seq}`;
  for (const { record } of readRecords(path)) {
    if (record['seq'] !== link.seq) continue;
    return record['hash'] === link.hash ? null : `its record seq ${link.seq} does not have the hash the link names: it was changed after sealing`;
  }
  return `it has no record seq ${link.seq}`;
}

/** The sealed log the log at `file` continues (its first record's link), unchecked; undefined when it starts a chain. */
export function continuedFrom(file: string): Pick<SegmentCheck, 'sealed' | 'continues' | 'damage'> | undefined {
  const first = firstRecord(file);
  const link = first === undefined ? undefined : segmentLink(first);
  if (first === undefined || link === undefined) return undefined;
  const damage = segmentSchema.shape.damage.safeParse(first['damage']);
  return { sealed: join(dirname(file), link.file), continues: link, damage: damage.success ? damage.data : null };
}

/** Follow the `segment` links from the log at `file` back through the sealed logs that are present. */
export function segmentChecks(file: string): SegmentCheck[] {
  const out: SegmentCheck[] = [];
  let current = file;
  for (let i = 0; i < MAX_SEGMENTS; i++) {
    const from = continuedFrom(current);
    if (from === undefined) break;
    const { sealed, continues: link } = from;
    const present = existsSync(sealed);
    const problem = present ? linkProblem(sealed, link) : null;
    out.push({ ...from, present, problem });
    if (!present || problem !== null || sealed === current) break;
    current = sealed;
  }
  return out;
}

/** verifyLog(), then the links back to the sealed logs: a link that does not hold fails as `broken-link` at line 1. */
export function verifyWithSegments(file: string): { result: VerifyResult; segments: SegmentCheck[] } {
  const result = verifyLog(file);
  if (!result.ok) return { result, segments: [] };
  const segments = segmentChecks(file);
  const broken = segments.find((s) => s.problem !== null);
  if (broken === undefined) return { result, segments };
  return { result: { ok: false, line: 1, reason: 'broken-link', detail: `the sealed log ${broken.sealed} this log continues: ${broken.problem ?? ''}` }, segments };
}
