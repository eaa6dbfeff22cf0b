/**
 * The audit log's hash chain: canonical JSON, the record hash and the
 * envelope (`seq`, `prevHash`, `hash`) every line of the log carries.
 *
 *   hash = hex sha256( prevHash + "\n" + canonicalJson(record without `hash`) )
 *
 * The first record's `prevHash` is GENESIS_HASH (64 zeros). The chain makes a
 * changed, removed or reordered line detectable by anyone who re-reads the
 * log; it is not a signature: whoever can write the log can also rewrite the
 * whole chain consistently.
 */
import { createHash } from 'node:crypto';

/** `prevHash` of the first record. */
export const GENESIS_HASH = '0'.repeat(64);

/** The envelope fields; a report must not carry fields with these names. */
export const ENVELOPE_FIELDS = ['seq', 'prevHash', 'hash'] as const;

const HEX64 = /^[0-9a-f]{64}$/;

/** A JSON object as parsed: string keys, JSON values. */
export type JsonObject = Record<string, unknown>;

/** One line of the log, parsed. */
export interface AuditRecord extends JsonObject {
  seq: number;
  prevHash: string;
  hash: string;
}

/**
 * Canonical JSON: object keys sorted (by UTF-16 code units, JavaScript's
 * default sort) at every depth, no whitespace, strings and numbers written as
 * JSON.stringify writes them. Only JSON data is accepted (null, booleans,
 * finite numbers, strings, arrays, plain objects); anything else throws a
 * TypeError, so a value can never hash differently from what is written.
 */
export function canonicalJson(value: unknown): string {
  if (value === null) return 'null';
  switch (typeof value) {
    case 'boolean':
      return value ? 'true' : 'false';
    case 'string':
      return JSON.stringify(value);
    case 'number':
      if (!Number.isFinite(value)) throw new TypeError(`canonical JSON: ${String(value)} is not a JSON number`);
      return JSON.stringify(value);
    case 'object': {
      if (Array.isArray(value)) return `[${value.map((v: unknown) => canonicalJson(v)).join(',')}]`;
      const proto: unknown = Object.getPrototypeOf(value);
      if (proto !== Object.prototype && proto !== null) {
        throw new TypeError('canonical JSON: only plain objects are JSON objects');
      }
      const obj = value as JsonObject;
      const keys = Object.keys(obj).sort();
      return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(obj[k])}`).join(',')}}`;
    }
    default:
      throw new TypeError(`canonical JSON: a ${typeof value} is not JSON data`);
  }
}

/** hex sha256 of `prevHash + "\n" + canonicalJson(body)`; `body` is the record without `hash`. */
export function recordHash(prevHash: string, body: JsonObject): string {
  return createHash('sha256').update(`${prevHash}\n${canonicalJson(body)}`, 'utf8').digest('hex');
}

/** The record without its `hash` field: what the hash covers. */
export function hashedBody(record: JsonObject): JsonObject {
  const { hash: _hash, ...body } = record;
  return body;
}

/**
 * Build the record that follows (`prevSeq`, `prevHash`), as the line to
 * write (without the newline). The envelope comes first so a line is easy to
 * read; the hash does not depend on key order.
 */
export function chainRecord(report: JsonObject, prevSeq: number, prevHash: string): { record: AuditRecord; line: string } {
  const seq = prevSeq + 1;
  const body: JsonObject = { seq, prevHash, ...report };
  const hash = recordHash(prevHash, body);
  const record: AuditRecord = { seq, prevHash, hash, ...report };
  return { record, line: JSON.stringify(record) };
}

/** Why a parsed value is not a well-formed record, or undefined when it is one. */
export function envelopeProblem(value: unknown): string | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return 'the line is not a JSON object';
  const v = value as JsonObject;
  if (typeof v['seq'] !== 'number' || !Number.isSafeInteger(v['seq']) || v['seq'] < 1) return '"seq" is not a positive integer';
  if (typeof v['prevHash'] !== 'string' || !HEX64.test(v['prevHash'])) return '"prevHash" is not 64 lower-case hex digits';
  if (typeof v['hash'] !== 'string' || !HEX64.test(v['hash'])) return '"hash" is not 64 lower-case hex digits';
  return undefined;
}

/** True when `value` is a well-formed record (envelope present and typed). */
export function isAuditRecord(value: unknown): value is AuditRecord {
  return envelopeProblem(value) === undefined;
}

/** True when the record's own hash matches its content. */
export function hashMatches(record: AuditRecord): boolean {
  return recordHash(record.prevHash, hashedBody(record)) === record.hash;
}

/** True for 64 lower-case hex digits. */
export function isHash(value: unknown): value is string {
  return typeof value === 'string' && HEX64.test(value);
}
