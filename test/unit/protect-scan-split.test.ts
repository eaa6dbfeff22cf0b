/**
 * The protected-name search shared with a worker thread (host/scan-split.ts),
 * made to start after 64 directories instead of thousands (and whatever
 * the machine's load): what it finds,
 * and in which order, is what one thread finds, on the first search and
 * with the cache, and a name created deep in the tree since the last search
 * is found where the worker searched. The worker runs the built code
 * (dist/host/scan-worker.js): `npm run build` first.
 */
import { existsSync, linkSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { scanProtected } from '../../src/host/protect-scan.js';
import { IsolateError } from '../../src/errors.js';
import type { ProtectFact } from '../../src/backends/types.js';
import { writablePolicy } from '../helpers/scan-policy.js';
import { cacheFiles, skewedClock } from '../helpers/scan-cache.js';
import { generateTree } from '../bench/tree.mjs';

const PROTECT = ['.git/hooks', '.git/config', '.envrc', '.vscode', '.npmrc'];
const DIRS = 3000;
/** The worker after 64 directories, however busy the machine, and given the time to take what it is handed. */
const SPLIT = { after: 64, ignoreLoad: true, waitMs: 2000 };
const WORKER = fileURLToPath(new URL('../../dist/host/scan-worker.js', import.meta.url));
const built = existsSync(WORKER);
if (!built) console.warn(`protect-scan-split: skipped, ${WORKER} is not built (run npm run build first)`);

let base: string;
let root: string;
let cacheDir: string;
const skew = { ms: 0 };
const clock = skewedClock(skew);
const sleep = (ms: number): void => void Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);

beforeAll(() => {
  base = mkdtempSync(join(tmpdir(), 'isolate-scan-split-'));
  root = join(base, 'project');
  generateTree(root, DIRS, { fanout: 6, files: 1 });
});
afterAll(() => rmSync(base, { recursive: true, force: true }));
beforeEach(() => {
  cacheDir = join(base, `cache-${Math.random().toString(36).slice(2)}`);
  skew.ms = 10_000;
});

/** A search with the worker after 64 directories, and one without it; both with `cache` or without. */
function both(cache: boolean): { split: ProtectFact[]; alone: ProtectFact[]; byWorker: string[] } {
  let byWorker: string[] = [];
  const policy = writablePolicy(root, PROTECT);
  const split = scanProtected(policy, { ...(cache ? { cacheDir, clock } : {}), split: { ...SPLIT, onEnd: (s) => (byWorker = s) } });
  const alone = scanProtected(policy, { split: { after: Number.POSITIVE_INFINITY } });
  sleep(15); // what the tree does next happens at least one timestamp tick later, as between two runs
  return { split, alone, byWorker };
}

/** A name put in every directory three levels down: whichever subtrees the worker takes, some of them are in it. */
function plantDeep(name: string): string[] {
  const made: string[] = [];
  for (const a of ['d0', 'd1', 'd2', 'd3', 'd4', 'd5'])
    for (const b of ['d0', 'd3', 'd5'])
      for (const c of ['d1', 'd4']) {
        const path = join(root, a, b, c, name);
        writeFileSync(path, 'x');
        made.push(path);
      }
  return made;
}

const within = (path: string, dirs: string[]): boolean => dirs.some((d) => path.startsWith(`${d}/`));

describe.skipIf(!built)('the protected-name search shared with a worker thread', () => {
  it('finds what one thread finds, in the same order, the first time and with the cache', () => {
    const first = both(true);
    expect(first.byWorker.length).toBeGreaterThan(0);
    expect(first.split).toEqual(first.alone);
    const again = both(true);
    expect(again.byWorker.length).toBeGreaterThan(0);
    expect(again.split).toEqual(again.alone);
  });

  it('finds a name created deep in the tree since the last search, where the worker searched, on a first search and an unchanged-cache one', () => {
    const made = plantDeep('.envrc');
    try {
      const first = both(false);
      expect(first.split).toEqual(first.alone);
      const byWorker = made.filter((p) => within(p, first.byWorker));
      expect(byWorker.length).toBeGreaterThan(0);
      for (const path of made) expect(first.split).toContainEqual(expect.objectContaining({ path, state: 'file' }));

      both(true); // the cache, with the tree as it is now
      skew.ms += 5_000; // the next run comes after the settling time
      const unchanged = both(true);
      expect(unchanged.split).toEqual(unchanged.alone);
      const npmrc = plantDeep('.npmrc');
      const later = both(true);
      expect(later.split).toEqual(later.alone);
      expect(npmrc.filter((p) => within(p, later.byWorker)).length).toBeGreaterThan(0);
      for (const path of npmrc) expect(later.split).toContainEqual(expect.objectContaining({ path, state: 'file' }));
      for (const path of npmrc) rmSync(path);
    } finally {
      for (const path of made) rmSync(path, { force: true });
    }
  });

  it('finds files with other names (hard links) where the worker searched, the first time and from the cache', () => {
    const made = plantDeep('linked.js');
    const store = join(base, 'store');
    mkdirSync(store, { recursive: true });
    made.forEach((path, i) => linkSync(path, join(store, `f${String(i)}`)));
    try {
      skew.ms += 5_000; // the directories changed settle
      const first = both(true);
      expect(first.split).toEqual(first.alone);
      expect(made.filter((p) => within(p, first.byWorker)).length).toBeGreaterThan(0);
      for (const path of made) expect(first.split).toContainEqual(expect.objectContaining({ path, state: 'file', why: expect.stringContaining('other names') }));
      skew.ms += 5_000;
      const cached = both(true);
      expect(cached.split).toEqual(cached.alone);
      expect(made.filter((p) => within(p, cached.byWorker)).length).toBeGreaterThan(0);
      for (const path of made) expect(cached.split).toContainEqual(expect.objectContaining({ path, state: 'file' }));
    } finally {
      for (const path of made) rmSync(path, { force: true });
      rmSync(store, { recursive: true, force: true });
    }
  });

  it('refuses as one thread does when the worker meets a directory it cannot search (a name not UTF-8)', () => {
    const bad = Buffer.concat([Buffer.from(join(root, 'd5', 'd2') + '/'), Buffer.from([0x66, 0xff])]);
    mkdirSync(bad);
    try {
      const policy = writablePolicy(root, PROTECT);
      let byWorker: string[] = [];
      const run = (options: Parameters<typeof scanProtected>[1]) => {
        try {
          scanProtected(policy, options);
        } catch (e: unknown) {
          return e;
        }
        return undefined;
      };
      const split = run({ split: { ...SPLIT, onEnd: (s) => (byWorker = s) } });
      const alone = run({ split: { after: Number.POSITIVE_INFINITY } });
      expect(byWorker).toContain(join(root, 'd5'));
      expect(alone).toMatchObject({ code: 'E_PATH_INVALID' });
      expect(split).toBeInstanceOf(IsolateError);
      expect(split).toMatchObject({ code: 'E_PATH_INVALID', message: (alone as Error).message, fix: (alone as IsolateError).fix });
    } finally {
      rmSync(bad, { recursive: true });
    }
  });

  it('leaves the cache as it is when the tree did not change, with subtrees searched by the worker', () => {
    both(true);
    const [file] = cacheFiles(cacheDir);
    const bytes = readFileSync(file as string);
    skew.ms += 5_000;
    const again = both(true);
    expect(again.byWorker.length).toBeGreaterThan(0);
    expect(readFileSync(file as string).equals(bytes)).toBe(true);
  });
});
