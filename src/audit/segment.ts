/**
 * The `segment` record: the first record of a log that continues a sealed
 * one (see seal.ts). Its prevHash is the hash of the sealed log's last
 * record that verified, which it names with the sealed file and what was
 * damaged after it, so the chain runs on across the two files.
 */
import { isHash, type JsonObject } from './chain.js';
import type { VerifyReason } from './log.js';

export const SEGMENT_KIND = 'segment';

/** Where a segment continues from: the sealed log and its last good record. */
export interface SegmentLink {
  /** The sealed log's file name, in the same directory as the log. */
  file: string;
  /** The last record of the sealed log that verified (0 and the genesis hash when none did). */
  seq: number;
  hash: string;
}

export interface SegmentRecord {
  schemaVersion: 2;
  kind: typeof SEGMENT_KIND;
  sealedAt: string;
  continues: SegmentLink;
  /** The first line of the sealed log that did not verify, and why. */
  damage: { line: number; reason: VerifyReason; detail: string };
}

/** A file name without a directory part: a link never points out of the log's directory. */
function isPlainName(name: string): boolean {
  return name !== '' && name !== '.' && name !== '..' && !name.includes('/') && !name.includes('\0');
}

/** The link of a `segment` record; undefined for any other record or a malformed one. */
export function segmentLink(record: JsonObject): SegmentLink | undefined {
  if (record['kind'] !== SEGMENT_KIND) return undefined;
  const c = record['continues'];
  if (typeof c !== 'object' || c === null) return undefined;
  const { file, seq, hash } = c as Record<string, unknown>;
  if (typeof file !== 'string' || !isPlainName(file)) return undefined;
  if (typeof seq !== 'number' || !Number.isSafeInteger(seq) || seq < 0 || !isHash(hash)) return undefined;
  return { file, seq, hash };
}
