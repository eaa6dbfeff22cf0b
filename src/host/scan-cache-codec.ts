/**
 * The protected-name search's cache as bytes: a header (what the search
 * looked for, where, and when), then every directory record depth first,
 * then a SHA-256 of all that. decodeScanCache throws on anything that is not
 * exactly such a file; the caller then ignores the file.
 */
import { createHash } from 'node:crypto';
import type { DirRecord, EntryKind, Hit, ScanClock } from './scan-cache.js';

const MAGIC = 'isolate-scan-cache 1\n';
const DIGEST_BYTES = 32;
const KINDS: readonly EntryKind[] = ['file', 'dir', 'symlink', 'other'];
const NONE: readonly never[] = Object.freeze([]);

export interface CacheHeader {
  /** The writable root the records start at. */
  root: string;
  /** The entry names the records' hits were taken for (protect-scan.ts). */
  names: readonly string[];
  clock: ScanClock;
}

/** A growing buffer written front to back. */
class Writer {
  buf = Buffer.allocUnsafe(1 << 16);
  at = 0;
  room(n: number): void {
    if (this.at + n <= this.buf.length) return;
    const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.at + n));
    this.buf.copy(next, 0, 0, this.at);
    this.buf = next;
  }
  text(s: string): void {
    const len = Buffer.byteLength(s);
    this.room(2 + len);
    this.at = this.buf.writeUInt16LE(len, this.at);
    this.at += this.buf.write(s, this.at);
  }
  record(r: DirRecord): void {
    this.text(r.name);
    this.room(6 * 8 + 1 + 2);
    const b = this.buf;
    this.at = b.writeDoubleLE(r.nlink, b.writeDoubleLE(r.size, b.writeDoubleLE(r.mtimeMs, b.writeDoubleLE(r.ctimeMs, b.writeDoubleLE(r.ino, b.writeDoubleLE(r.dev, this.at))))));
    this.at = this.buf.writeUInt8(r.reusable ? 1 : 0, this.at);
    this.at = this.buf.writeUInt16LE(r.hits.length, this.at);
    for (const hit of r.hits) {
      this.text(hit.name);
      this.room(1);
      this.at = this.buf.writeUInt8(KINDS.indexOf(hit.kind), this.at);
    }
    this.room(4);
    this.at = this.buf.writeUInt32LE(r.children.length, this.at);
    for (const child of r.children) this.record(child);
  }
}

export function encodeScanCache(header: CacheHeader, root: DirRecord): Buffer {
  const w = new Writer();
  w.room(MAGIC.length);
  w.at += w.buf.write(MAGIC, w.at, 'latin1');
  const json = Buffer.from(JSON.stringify(header));
  w.room(4 + json.length);
  w.at = w.buf.writeUInt32LE(json.length, w.at);
  w.at += json.copy(w.buf, w.at);
  w.record(root);
  const digest = createHash('sha256').update(w.buf.subarray(0, w.at)).digest();
  return Buffer.concat([w.buf.subarray(0, w.at), digest]);
}

/** Reads front to back, throwing a RangeError past the end. */
class Reader {
  at: number;
  constructor(readonly buf: Buffer, start: number, readonly end: number) {
    this.at = start;
  }
  take(n: number): number {
    const at = this.at;
    if (at + n > this.end) throw new RangeError('truncated scan cache');
    this.at = at + n;
    return at;
  }
  text(): string {
    const len = this.buf.readUInt16LE(this.take(2));
    const at = this.take(len);
    return this.buf.toString('utf8', at, at + len);
  }
  hit(): Hit {
    const name = this.text();
    const kind = KINDS[this.buf.readUInt8(this.take(1))];
    if (kind === undefined) throw new RangeError('bad entry kind in scan cache');
    return { name, kind };
  }
  record(): DirRecord {
    const name = this.text();
    const at = this.take(6 * 8 + 1 + 2);
    const b = this.buf;
    const record = { name, dev: b.readDoubleLE(at), ino: b.readDoubleLE(at + 8), ctimeMs: b.readDoubleLE(at + 16), mtimeMs: b.readDoubleLE(at + 24), size: b.readDoubleLE(at + 32), nlink: b.readDoubleLE(at + 40) };
    const reusable = b.readUInt8(at + 48) === 1;
    const hits = this.list(b.readUInt16LE(at + 49), () => this.hit());
    const children = this.list(b.readUInt32LE(this.take(4)), () => this.record());
    return { ...record, reusable, hits, children };
  }
  list<T>(count: number, read: () => T): readonly T[] {
    if (count === 0) return NONE;
    const out: T[] = [];
    for (let n = count; n > 0; n--) out.push(read());
    return out;
  }
}

function isHeader(value: unknown): value is CacheHeader {
  if (typeof value !== 'object' || value === null) return false;
  const h = value as Record<string, unknown>;
  const clock = h['clock'] as Record<string, unknown> | null | undefined;
  return (
    typeof h['root'] === 'string' &&
    Array.isArray(h['names']) &&
    h['names'].every((n) => typeof n === 'string') &&
    typeof clock === 'object' &&
    clock !== null &&
    typeof clock['bootId'] === 'string' &&
    typeof clock['wallMs'] === 'number' &&
    typeof clock['offsetMs'] === 'number'
  );
}

/** The header and the root's record; throws when the bytes are not a whole, intact cache. */
export function decodeScanCache(buf: Buffer): { header: CacheHeader; root: DirRecord } {
  const end = buf.length - DIGEST_BYTES;
  if (end < MAGIC.length + 4 || buf.toString('latin1', 0, MAGIC.length) !== MAGIC) throw new RangeError('not a scan cache');
  const digest = createHash('sha256').update(buf.subarray(0, end)).digest();
  if (!digest.equals(buf.subarray(end))) throw new RangeError('scan cache checksum mismatch');
  const r = new Reader(buf, MAGIC.length, end);
  const len = buf.readUInt32LE(r.take(4));
  const at = r.take(len);
  const header: unknown = JSON.parse(buf.toString('utf8', at, at + len));
  if (!isHeader(header)) throw new RangeError('bad scan cache header');
  const root = r.record();
  if (r.at !== end) throw new RangeError('trailing bytes in scan cache');
  return { header, root };
}
