/**
 * The rules for reusing a cached directory listing (src/host/scan-cache.ts):
 * each way a listing could be stale leaves it unused.
 */
import { describe, expect, it } from 'vitest';
import { CLOCK_SLACK_MS, SETTLE_MS, STAMP_FIELDS, clockTrusted, sameStamp, settled, type DirStamp, type ScanClock } from '../../src/host/scan-cache.js';
import { buildTree } from '../helpers/scan-cache.js';

const START = 1_760_000_000_000;
const stamp: DirStamp = { dev: 2049, ino: 4242, ctimeMs: START - 60_000 + 0.123456, mtimeMs: START - 60_000 + 0.123456, size: 4096, nlink: 3 };
const kept = (s: DirStamp): Float64Array => new Float64Array(STAMP_FIELDS.map((f) => s[f]));
const tree = (reusable: boolean) => buildTree({ name: '', stamp, reusable, hits: [], children: [] });
const clock = (over: Partial<ScanClock> = {}): ScanClock => ({ bootId: 'boot-a', wallMs: START, offsetMs: START - 5_000_000, ...over });

describe('reusing a cached listing', () => {
  it('reuses it only while every part of the stamp is the same', () => {
    expect(sameStamp(kept(stamp), 0, { ...stamp })).toBe(true);
    expect(tree(true).reusableFor(0, { ...stamp })).toBe(true);
    for (const key of STAMP_FIELDS) {
      expect(sameStamp(kept(stamp), 0, { ...stamp, [key]: stamp[key] + 1 }), key).toBe(false);
      expect(tree(true).reusableFor(0, { ...stamp, [key]: stamp[key] + 1 }), key).toBe(false);
    }
  });

  it('tells ctimes apart below a millisecond (a change 1 µs later is a change)', () => {
    expect(tree(true).reusableFor(0, { ...stamp, ctimeMs: stamp.ctimeMs + 0.001 })).toBe(false);
  });

  it('never reuses a listing that was not recorded as reusable', () => {
    expect(tree(false).reusableFor(0, stamp)).toBe(false);
  });

  it('a directory made again with the same inode number is a new stamp (its ctime is its creation)', () => {
    const remade = { ...stamp, ctimeMs: START + 10, mtimeMs: START + 10 };
    expect(tree(true).reusableFor(0, remade)).toBe(false);
  });
});

describe('recording a listing as reusable', () => {
  it('only for a directory unchanged for SETTLE_MS before the search began', () => {
    expect(settled({ ...stamp, ctimeMs: START - SETTLE_MS - 1 }, START)).toBe(true);
    expect(settled({ ...stamp, ctimeMs: START - SETTLE_MS }, START)).toBe(false);
  });

  it('not for one changed in the same timestamp tick as the search, nor after its start, nor with a ctime in the future', () => {
    for (const ctimeMs of [START - 1000, START - 1, START, START + 1, START + 3_600_000]) {
      expect(settled({ ...stamp, ctimeMs }, START), String(ctimeMs - START)).toBe(false);
    }
  });

  it('the margin covers the worst timestamp granularity (1 s), the coarse clock (10 ms) and the clock slack', () => {
    expect(SETTLE_MS).toBeGreaterThan(1000 + 10 + CLOCK_SLACK_MS);
  });
});

describe('trusting a cache by the clock it was written at', () => {
  it('on the same boot, later, with the wall clock not set back', () => {
    expect(clockTrusted(clock(), clock({ wallMs: START + 60_000, offsetMs: START - 5_000_000 }))).toBe(true);
  });

  it('not from another boot', () => {
    expect(clockTrusted(clock(), clock({ bootId: 'boot-b', wallMs: START + 60_000 }))).toBe(false);
  });

  it('not when the wall clock now reads earlier than when it was written', () => {
    expect(clockTrusted(clock(), clock({ wallMs: START - 1 }))).toBe(false);
  });

  it('not when the wall clock was set back since (its offset from the boot clock dropped), even if it reads later now', () => {
    const back = 10 * 60_000;
    expect(clockTrusted(clock(), clock({ wallMs: START + 60 * 60_000, offsetMs: START - 5_000_000 - back }))).toBe(false);
    expect(clockTrusted(clock(), clock({ wallMs: START + 60_000, offsetMs: START - 5_000_000 - CLOCK_SLACK_MS - 1 }))).toBe(false);
  });

  it('after a suspend or the clock set forward (the offset grew), and through the rounding of the boot clock', () => {
    expect(clockTrusted(clock(), clock({ wallMs: START + 86_400_000, offsetMs: START - 5_000_000 + 3_600_000 }))).toBe(true);
    expect(clockTrusted(clock(), clock({ wallMs: START + 1000, offsetMs: START - 5_000_000 - 20 }))).toBe(true);
  });
});
