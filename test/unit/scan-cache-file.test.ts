/**
 * The scan cache on disk: private to the user, replaced atomically, and
 * ignored (never an error) whenever it could have been written by someone
 * else, is damaged, or belongs to another root, set of names, boot or clock.
 */
import { chmodSync, chownSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, truncateSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { cacheFile, readScanCache, scanCacheDir, scanClock, writeScanCache } from '../../src/host/scan-cache-file.js';
import type { ScanClock } from '../../src/host/scan-cache.js';
import type { ScanTree } from '../../src/host/scan-tree.js';
import { buildTree, nodesOf, type TreeNode } from '../helpers/scan-cache.js';

const OTHER_UID = 54_321;
const isRoot = process.getuid?.() === 0;
let base: string;
let dir: string;
beforeEach(() => {
  base = mkdtempSync(join(tmpdir(), 'isolate-scan-cache-'));
  dir = join(base, 'scan-cache');
});
afterEach(() => rmSync(base, { recursive: true, force: true }));

const now = (): ScanClock => {
  const c = scanClock();
  if (c === undefined) throw new Error('no boot id on this host');
  return c;
};
const record: TreeNode = { name: '', stamp: { dev: 1, ino: 2, ctimeMs: 3, mtimeMs: 4, size: 5, nlink: 6 }, reusable: true, hits: [{ name: '.envrc', kind: 'file' }], children: [] };
const read = (root = '/p', clock = now(), n = names): TreeNode | undefined => {
  const tree: ScanTree | undefined = readScanCache(dir, root, n, clock);
  return tree === undefined ? undefined : nodesOf(tree);
};
const names = ['.envrc', '.git'];
const write = (root = '/p', clock = now()): string => {
  writeScanCache(dir, { root, names, clock }, buildTree(record));
  return cacheFile(dir, root, names);
};

describe('scan cache file', () => {
  it('lives in isolate\'s state directory, on Linux only', () => {
    const expected = process.platform === 'linux' ? '/home/u/.local/state/isolate/scan-cache' : undefined;
    expect(scanCacheDir({ HOME: '/home/u' })).toBe(expected);
    expect(scanCacheDir({})).toBeUndefined();
  });

  it('is written private (0600 in a 0700 directory), atomically, and read back', () => {
    const path = write();
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(readdirSync(dir)).toEqual([path.slice(dir.length + 1)]); // no temp file left
    expect(read()).toEqual(record);
  });

  it('is ignored for another root, another set of names, another boot, or a clock set back', () => {
    write();
    expect(read('/q')).toBeUndefined();
    expect(read('/p', now(), ['.envrc'])).toBeUndefined();
    expect(read('/p', { ...now(), bootId: 'another boot' })).toBeUndefined();
    const c = now();
    expect(read('/p', { ...c, wallMs: c.wallMs - 60_000, offsetMs: c.offsetMs - 60_000 })).toBeUndefined();
  });

  it('is ignored when damaged: garbage, cut short, empty', () => {
    const path = write();
    const good = readFileSync(path);
    for (const bad of [Buffer.from('garbage'), good.subarray(0, good.length - 1), Buffer.alloc(0)]) {
      writeFileSync(path, bad);
      expect(read()).toBeUndefined();
    }
    truncateSync(path, 10);
    expect(read()).toBeUndefined();
  });

  it('is ignored when others could have written it: group- or world-writable file or directory, or a symbolic link', () => {
    const path = write();
    for (const [target, mode] of [[path, 0o620], [path, 0o602], [dir, 0o770], [dir, 0o707]] as const) {
      chmodSync(target, mode);
      expect(read(), `${target} ${mode.toString(8)}`).toBeUndefined();
      chmodSync(target, target === dir ? 0o700 : 0o600);
    }
    expect(read()).toEqual(record); // control
    const real = join(base, 'elsewhere.bin');
    writeFileSync(real, readFileSync(path), { mode: 0o600 });
    rmSync(path);
    symlinkSync(real, path);
    expect(read()).toBeUndefined();
  });

  it.skipIf(!isRoot)('is ignored when another user owns the file or its directory (needs root to chown)', () => {
    const path = write();
    chownSync(path, OTHER_UID, OTHER_UID);
    expect(read()).toBeUndefined();
    chownSync(path, 0, 0);
    chownSync(dir, OTHER_UID, OTHER_UID);
    expect(read()).toBeUndefined();
    write('/r'); // nor is anything written into a directory of someone else
    expect(readdirSync(dir).some((n) => n === cacheFile(dir, '/r', names).slice(dir.length + 1))).toBe(false);
  });

  it('keeps the 64 most recently used caches', () => {
    mkdirSync(dir, { mode: 0o700 });
    for (let i = 0; i < 70; i++) {
      const path = write(`/p${i}`);
      const t = new Date(Date.now() - (100 - i) * 1000);
      utimesSync(path, t, t);
    }
    expect(readdirSync(dir).filter((n) => n.endsWith('.bin'))).toHaveLength(64);
    expect(read('/p0')).toBeUndefined();
    expect(read('/p69')).toEqual(record);
  });
});
