/**
 * The directories a protected-name search saw, as flat arrays in the order
 * it walked them (each directory, then its subdirectories): a 200,000
 * directory tree is a few typed arrays, not a million objects, so keeping
 * and reading it costs little besides the lstat per directory that
 * validates it. The rules for using it are in scan-cache.ts.
 */
import { sameStamp, STAMP_FIELDS, type DirStamp, type EntryKind, type Hit } from './scan-cache.js';

export const KINDS: readonly EntryKind[] = ['file', 'dir', 'symlink', 'other'];
/** The kind a hit is kept with when it is a regular file with other names (hard links), whatever its name: after the record's hits of KINDS. */
export const LINKED = KINDS.length;
const NONE: readonly Hit[] = Object.freeze([]);
const NO_NAMES: readonly string[] = Object.freeze([]);

/**
 * The arrays of a tree; record i's name is names[nameEnds[i-1] .. nameEnds[i]), its hits hitEnds[i-1] .. hitEnds[i]:
 * first the entries that are or begin a protected name (a kind of KINDS), then its regular files with other names (LINKED).
 */
export interface TreeArrays {
  count: number;
  /** STAMP_FIELDS of each record. */
  stamps: Float64Array;
  /** The index after the last record beneath each one. */
  ends: Uint32Array;
  /** 1 when the record's listing is reusable (scan-cache.ts, rule 1). */
  flags: Uint8Array;
  nameEnds: Uint32Array;
  names: Buffer;
  hitEnds: Uint32Array;
  hitKinds: Uint8Array;
  hitNameEnds: Uint32Array;
  hitNames: Buffer;
}

export class ScanTree {
  constructor(readonly a: TreeArrays) {}

  get count(): number {
    return this.a.count;
  }
  end(i: number): number {
    return this.a.ends[i] as number;
  }
  name(i: number): string {
    return this.a.names.toString('utf8', i === 0 ? 0 : this.a.nameEnds[i - 1], this.a.nameEnds[i]);
  }
  /** Whether record i's listing was recorded as reusable (scan-cache.ts, rule 1). */
  reusable(i: number): boolean {
    return this.a.flags[i] === 1;
  }
  /** Whether record i's listing stands for the directory that now has stamp `st` (scan-cache.ts, rule 2). */
  reusableFor(i: number, st: DirStamp): boolean {
    return this.a.flags[i] === 1 && sameStamp(this.a.stamps, i * STAMP_FIELDS.length, st);
  }
  hits(i: number): readonly Hit[] {
    const { hitEnds, hitKinds, hitNameEnds, hitNames } = this.a;
    const from = i === 0 ? 0 : (hitEnds[i - 1] as number);
    const to = hitEnds[i] as number;
    if (from === to) return NONE;
    const out: Hit[] = [];
    for (let h = from; h < to; h++) {
      if (hitKinds[h] === LINKED) continue;
      out.push({ name: hitNames.toString('utf8', h === 0 ? 0 : hitNameEnds[h - 1], hitNameEnds[h]), kind: KINDS[hitKinds[h] as number] ?? 'other' });
    }
    return out.length === 0 ? NONE : out;
  }
  /** The names of record i's regular files that had other names (hard links) when it was listed. */
  linked(i: number): readonly string[] {
    const { hitEnds, hitKinds, hitNameEnds, hitNames } = this.a;
    let out: string[] | undefined;
    for (let h = i === 0 ? 0 : (hitEnds[i - 1] as number); h < (hitEnds[i] as number); h++) {
      if (hitKinds[h] === LINKED) (out ??= []).push(hitNames.toString('utf8', h === 0 ? 0 : hitNameEnds[h - 1], hitNameEnds[h]));
    }
    return out ?? NO_NAMES;
  }
  /** The subdirectory records of record i, by name. */
  children(i: number): Map<string, number> {
    const out = new Map<string, number>();
    for (let j = i + 1; j < this.end(i); j = this.end(j)) out.set(this.name(j), j);
    return out;
  }
}
