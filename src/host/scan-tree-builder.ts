/**
 * Builds the ScanTree of a search as it walks, and tells whether it came
 * out the same as the cached one (then the cache is not written again).
 */
import { STAMP_FIELDS, type DirStamp, type Hit } from './scan-cache.js';
import { KINDS, LINKED, ScanTree, type TreeArrays } from './scan-tree.js';
import { allowOptimizer } from '../tiering.js';

type Typed = Float64Array | Uint32Array | Uint8Array;

function grow<T extends Typed>(a: T, need: number): T {
  if (need <= a.length) return a;
  const b = new (a.constructor as new (n: number) => T)(Math.max(need, a.length * 2));
  b.set(a);
  return b;
}

function growBuffer(b: Buffer, need: number): Buffer {
  if (need <= b.length) return b;
  const next = Buffer.allocUnsafe(Math.max(need, b.length * 2));
  b.copy(next);
  return next;
}

const W = STAMP_FIELDS.length;

/** A tree of this many directories takes a search long enough for V8's optimizing compiler to pay (src/tiering.ts). */
const LARGE_TREE = 2000;

export class TreeBuilder {
  private t: TreeArrays;
  private hitCount = 0;
  /** 1 for a record copied from the cached record at the same index. */
  private copied: Uint8Array;
  /** Whether a record so far differs from the cached one at the same index. */
  private differs: boolean;

  /**
   * `base`: the index in `old` of this builder's first record (0 for a whole
   * root; a subtree searched apart, scan-split.ts, starts where its cached
   * record is).
   */
  constructor(
    private readonly old: ScanTree | undefined,
    private readonly base = 0,
  ) {
    this.differs = old === undefined;
    // Room for as many records as the cached tree has: an unchanged tree is built without growing an array.
    const n = Math.max(256, (old === undefined ? 0 : old.end(base) - base) + 64);
    const nameBytes = Math.max(4096, (old?.a.names.length ?? 0) + 1024);
    this.t = {
      count: 0,
      stamps: new Float64Array(W * n),
      ends: new Uint32Array(n),
      flags: new Uint8Array(n),
      nameEnds: new Uint32Array(n),
      names: Buffer.allocUnsafe(nameBytes),
      hitEnds: new Uint32Array(n),
      hitKinds: new Uint8Array(16),
      hitNameEnds: new Uint32Array(16),
      hitNames: Buffer.allocUnsafe(256),
    };
    this.copied = new Uint8Array(n);
  }

  /** Start a record: its children follow until close(). `linked`: the names of its regular files with other names (hard links). */
  open(name: string, st: DirStamp, reusable: boolean, hits: readonly Hit[], linked: readonly string[] = []): number {
    const i = this.room();
    const t = this.t;
    for (let k = 0; k < W; k++) t.stamps[i * W + k] = st[STAMP_FIELDS[k] as keyof DirStamp];
    t.flags[i] = reusable ? 1 : 0;
    t.nameEnds[i] = this.put('names', start(t.nameEnds, i), name);
    for (const hit of hits) this.hit(hit.name, KINDS.indexOf(hit.kind));
    for (const file of linked) this.hit(file, LINKED);
    t.hitEnds[i] = this.hitCount;
    this.copied[i] = 0;
    return i;
  }

  /** Start a record that repeats record `j` of the cached tree (its children follow until close()). */
  openCopy(j: number): number {
    const old = (this.old as ScanTree).a;
    const i = this.room();
    const t = this.t;
    t.stamps.set(old.stamps.subarray(j * W, j * W + W), i * W);
    t.flags[i] = old.flags[j] as number;
    t.nameEnds[i] = this.copy('names', start(t.nameEnds, i), old.names, start(old.nameEnds, j), old.nameEnds[j] as number);
    for (let h = start(old.hitEnds, j); h < (old.hitEnds[j] as number); h++) {
      const n = this.hitCount++;
      this.room(n);
      t.hitKinds[n] = old.hitKinds[h] as number;
      t.hitNameEnds[n] = this.copy('hitNames', start(t.hitNameEnds, n), old.hitNames, start(old.hitNameEnds, h), old.hitNameEnds[h] as number);
    }
    t.hitEnds[i] = this.hitCount;
    this.copied[i] = 1;
    if (i + this.base !== j) this.differs = true;
    return i;
  }

  /** Record i's listing is not to be reused after all (a subdirectory of it could not be recorded). */
  unflag(i: number): void {
    this.t.flags[i] = 0;
    this.copied[i] = 0;
  }

  close(i: number): void {
    this.t.ends[i] = this.t.count;
    if (this.differs) return;
    const old = (this.old as ScanTree).a;
    this.differs = this.copied[i] === 1 ? old.ends[i + this.base] !== (this.t.ends[i] as number) + this.base : !this.sameAsOld(i, old);
  }

  /** The tree, and whether it differs from the cached one (from `base`, its subtree there). */
  finish(): { tree: ScanTree; changed: boolean } {
    const changed = this.differs || this.old === undefined || this.t.count !== this.old.end(this.base) - this.base;
    return { tree: new ScanTree(this.t), changed };
  }

  /**
   * Append a subtree searched apart (scan-split.ts) as the next records.
   * `same`: it is record by record the cached subtree at `old` (its
   * builder's base); the tree stays unchanged only when it also lands there.
   */
  graft(sub: TreeArrays, same: boolean, old: number): void {
    const t = this.t;
    const at = t.count;
    const n = sub.count;
    if (!same || at !== old) this.differs = true;
    for (let k = 0; k < n; k++) this.room();
    const nameBase = start(t.nameEnds, at);
    const hitBase = this.hitCount;
    const hitNameBase = hitBase === 0 ? 0 : (t.hitNameEnds[hitBase - 1] as number);
    const hits = n === 0 ? 0 : (sub.hitEnds[n - 1] as number);
    t.stamps.set(sub.stamps.subarray(0, n * W), at * W);
    t.flags.set(sub.flags.subarray(0, n), at);
    this.copied.fill(1, at, at + n);
    for (let k = 0; k < n; k++) {
      t.ends[at + k] = (sub.ends[k] as number) + at;
      t.nameEnds[at + k] = (sub.nameEnds[k] as number) + nameBase;
      t.hitEnds[at + k] = (sub.hitEnds[k] as number) + hitBase;
    }
    const nameBytes = n === 0 ? 0 : (sub.nameEnds[n - 1] as number);
    this.t.names = growBuffer(t.names, nameBase + nameBytes);
    sub.names.copy(this.t.names, nameBase, 0, nameBytes);
    if (hits === 0) return;
    this.room(hitBase + hits - 1);
    this.hitCount += hits;
    const hitNameBytes = sub.hitNameEnds[hits - 1] as number;
    t.hitKinds.set(sub.hitKinds.subarray(0, hits), hitBase);
    for (let h = 0; h < hits; h++) t.hitNameEnds[hitBase + h] = (sub.hitNameEnds[h] as number) + hitNameBase;
    this.t.hitNames = growBuffer(this.t.hitNames, hitNameBase + hitNameBytes);
    sub.hitNames.copy(this.t.hitNames, hitNameBase, 0, hitNameBytes);
  }

  /** Room for one more record (returns its index), or for hit `hit`. */
  private room(hit?: number): number {
    const t = this.t;
    if (hit !== undefined) {
      t.hitKinds = grow(t.hitKinds, hit + 1);
      t.hitNameEnds = grow(t.hitNameEnds, hit + 1);
      return hit;
    }
    const i = t.count++;
    if (i === LARGE_TREE) allowOptimizer();
    t.stamps = grow(t.stamps, t.count * W);
    t.ends = grow(t.ends, t.count);
    t.flags = grow(t.flags, t.count);
    t.nameEnds = grow(t.nameEnds, t.count);
    t.hitEnds = grow(t.hitEnds, t.count);
    this.copied = grow(this.copied, t.count);
    return i;
  }

  /** Write `s` at `at` of names or hitNames; returns where it ends. */
  private put(bytes: 'names' | 'hitNames', at: number, s: string): number {
    this.t[bytes] = growBuffer(this.t[bytes], at + Buffer.byteLength(s));
    return at + this.t[bytes].write(s, at);
  }

  private copy(bytes: 'names' | 'hitNames', at: number, from: Buffer, a: number, b: number): number {
    this.t[bytes] = growBuffer(this.t[bytes], at + b - a);
    return at + from.copy(this.t[bytes], at, a, b);
  }

  private hit(name: string, kind: number): void {
    const h = this.room(this.hitCount++);
    this.t.hitKinds[h] = kind;
    this.t.hitNameEnds[h] = this.put('hitNames', start(this.t.hitNameEnds, h), name);
  }

  /**
   * Whether record i, built afresh, is the cached record i in every field a
   * later search uses: a listing that is not reusable is never used, so its
   * stamp and hits may differ (the top of a project changes with every run,
   * as placeholders come and go, and is not written again for that).
   */
  private sameAsOld(i: number, old: TreeArrays): boolean {
    const t = this.t;
    const o = i + this.base;
    if (o >= old.count || old.ends[o] !== (t.ends[i] as number) + this.base || old.flags[o] !== t.flags[i]) return false;
    if (!sameBytes(t.names, t.nameEnds, i, old.names, old.nameEnds, o)) return false;
    if (t.flags[i] === 0) return true;
    for (let k = 0; k < W; k++) if (old.stamps[o * W + k] !== t.stamps[i * W + k]) return false;
    const h = start(t.hitEnds, i);
    const oh = start(old.hitEnds, o);
    const n = (t.hitEnds[i] as number) - h;
    if (n !== (old.hitEnds[o] as number) - oh) return false;
    for (let k = 0; k < n; k++) {
      if (t.hitKinds[h + k] !== old.hitKinds[oh + k] || !sameBytes(t.hitNames, t.hitNameEnds, h + k, old.hitNames, old.hitNameEnds, oh + k)) return false;
    }
    return true;
  }
}

/** Where item i of a list of ends starts. */
const start = (ends: Uint32Array, i: number): number => (i === 0 ? 0 : (ends[i - 1] as number));

/** Whether item i of one list of strings has the bytes of item j of another. */
function sameBytes(a: Buffer, aEnds: Uint32Array, i: number, b: Buffer, bEnds: Uint32Array, j: number): boolean {
  return a.compare(b, start(bEnds, j), bEnds[j], start(aEnds, i), aEnds[i]) === 0;
}
