/**
 * The protected-name search's cache as bytes: a header (what the search
 * looked for, where, and when), the tree's arrays (scan-tree.ts) in this
 * machine's byte order (a cache never leaves it), then a SHA-256 of all
 * that. decodeScanCache throws on anything that is not exactly such a file,
 * whole and consistent; the caller then ignores the file.
 */
import { createHash } from 'node:crypto';
import type { ScanClock } from './scan-cache.js';
import { LINKED, ScanTree, type TreeArrays } from './scan-tree.js';
import { STAMP_FIELDS } from './scan-cache.js';

// Version 3: the listings below node_modules are kept (version 2 left them out, so a listing it kept lacks them).
// Version 4: a listing keeps its regular files with other names (hard links) (version 3 did not look, so a listing it kept lacks them).
const MAGIC = `isolate-scan-cache 4 ${new Uint8Array(new Uint16Array([1]).buffer)[0] === 1 ? 'le' : 'be'}\n`;
const DIGEST_BYTES = 32;
const W = STAMP_FIELDS.length;

export interface CacheHeader {
  /** The writable root the tree starts at. */
  root: string;
  /** The entry names the tree's hits were taken for (protect-names.ts). */
  names: readonly string[];
  clock: ScanClock;
}

const bytesOf = (a: Float64Array | Uint32Array | Uint8Array, n: number): Buffer => Buffer.from(a.buffer, a.byteOffset, n * a.BYTES_PER_ELEMENT);

export function encodeScanCache(header: CacheHeader, tree: ScanTree): Buffer {
  const t = tree.a;
  const hits = t.count === 0 ? 0 : (t.hitEnds[t.count - 1] as number);
  const nameBytes = t.count === 0 ? 0 : (t.nameEnds[t.count - 1] as number);
  const hitNameBytes = hits === 0 ? 0 : (t.hitNameEnds[hits - 1] as number);
  const json = Buffer.from(JSON.stringify(header));
  const counts = Buffer.from(new Uint32Array([json.length, t.count, hits, nameBytes, hitNameBytes]).buffer);
  const body = Buffer.concat([
    Buffer.from(MAGIC, 'latin1'),
    counts,
    json,
    bytesOf(t.stamps, t.count * W),
    bytesOf(t.ends, t.count),
    bytesOf(t.flags, t.count),
    bytesOf(t.nameEnds, t.count),
    bytesOf(t.hitEnds, t.count),
    bytesOf(t.hitKinds, hits),
    bytesOf(t.hitNameEnds, hits),
    t.names.subarray(0, nameBytes),
    t.hitNames.subarray(0, hitNameBytes),
  ]);
  return Buffer.concat([body, createHash('sha256').update(body).digest()]);
}

/** Reads sections front to back, copying each into an array of its own (aligned, whatever the file's offsets). */
class Sections {
  constructor(private readonly buf: Buffer, public at: number, private readonly end: number) {}
  take(bytes: number): Buffer {
    if (this.at + bytes > this.end) throw new RangeError('truncated scan cache');
    this.at += bytes;
    return this.buf.subarray(this.at - bytes, this.at);
  }
  array<T extends Float64Array | Uint32Array | Uint8Array>(make: new (n: number) => T, n: number): T {
    const out = new make(n);
    new Uint8Array(out.buffer).set(this.take(n * out.BYTES_PER_ELEMENT));
    return out;
  }
  copy(bytes: number): Buffer {
    return Buffer.from(this.take(bytes));
  }
}

/** Whether ends are non-decreasing and the last is `total`. */
function ascending(ends: Uint32Array, total: number): boolean {
  for (let i = 1; i < ends.length; i++) if ((ends[i] as number) < (ends[i - 1] as number)) return false;
  return (ends.length === 0 ? 0 : ends[ends.length - 1]) === total;
}

/** Whether each record's subtree lies inside its parent's, beginning after it (so every walk of it ends). */
function nested(ends: Uint32Array): boolean {
  const open: number[] = [];
  for (let i = 0; i < ends.length; i++) {
    while (open.length > 0 && (ends[open[open.length - 1] as number] as number) <= i) open.pop();
    const end = ends[i] as number;
    const limit = open.length === 0 ? (i === 0 ? ends.length : -1) : (ends[open[open.length - 1] as number] as number);
    if (end <= i || end > limit) return false;
    open.push(i);
  }
  return true;
}

function checkTree(t: TreeArrays, hits: number, nameBytes: number, hitNameBytes: number): void {
  const ok =
    t.count > 0 &&
    nested(t.ends) &&
    t.flags.every((f) => f <= 1) &&
    t.hitKinds.every((k) => k <= LINKED) &&
    ascending(t.nameEnds, nameBytes) &&
    ascending(t.hitEnds, hits) &&
    ascending(t.hitNameEnds, hitNameBytes);
  if (!ok) throw new RangeError('inconsistent scan cache');
}

/** The header and the tree; throws when the bytes are not a whole, intact, consistent cache. */
export function decodeScanCache(buf: Buffer): { header: CacheHeader; tree: ScanTree } {
  const end = buf.length - DIGEST_BYTES;
  if (end < MAGIC.length + 20 || buf.toString('latin1', 0, MAGIC.length) !== MAGIC) throw new RangeError('not a scan cache');
  if (!createHash('sha256').update(buf.subarray(0, end)).digest().equals(buf.subarray(end))) throw new RangeError('scan cache checksum mismatch');
  const s = new Sections(buf, MAGIC.length, end);
  const [jsonBytes, count, hits, nameBytes, hitNameBytes] = s.array(Uint32Array, 5);
  const header = JSON.parse(s.take(jsonBytes as number).toString('utf8')) as CacheHeader;
  const n = count as number;
  const h = hits as number;
  const t: TreeArrays = {
    count: n,
    stamps: s.array(Float64Array, n * W),
    ends: s.array(Uint32Array, n),
    flags: s.array(Uint8Array, n),
    nameEnds: s.array(Uint32Array, n),
    hitEnds: s.array(Uint32Array, n),
    hitKinds: s.array(Uint8Array, h),
    hitNameEnds: s.array(Uint32Array, h),
    names: s.copy(nameBytes as number),
    hitNames: s.copy(hitNameBytes as number),
  };
  if (s.at !== end) throw new RangeError('trailing bytes in scan cache');
  checkTree(t, h, nameBytes as number, hitNameBytes as number);
  if (!isHeader(header)) throw new RangeError('bad scan cache header');
  return { header, tree: new ScanTree(t) };
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
