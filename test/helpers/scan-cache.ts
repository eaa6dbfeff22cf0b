/**
 * A forged protected-name cache: the real tree as it is now, every
 * directory's real stamp, but one name left out of every listing. A search
 * that trusted it would not see that name; the tests use it to show which
 * caches are trusted (the user's own private file) and which are ignored.
 */
import { chmodSync, lstatSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { decodeScanCache, encodeScanCache } from '../../src/host/scan-cache-codec.js';
import { cacheFile, scanClock } from '../../src/host/scan-cache-file.js';
import type { DirRecord, EntryKind } from '../../src/host/scan-cache.js';

function kindOf(path: string): EntryKind {
  const st = lstatSync(path);
  return st.isSymbolicLink() ? 'symlink' : st.isDirectory() ? 'dir' : st.isFile() ? 'file' : 'other';
}

function forge(path: string, name: string, names: ReadonlySet<string>, hide: string): DirRecord {
  const st = lstatSync(path);
  const entries = readdirSync(path, { withFileTypes: true });
  const hits = entries.filter((e) => names.has(e.name) && e.name !== hide).map((e) => ({ name: e.name, kind: kindOf(join(path, e.name)) }));
  const children = entries.filter((e) => e.isDirectory() && e.name !== 'node_modules' && e.name !== '.git').map((e) => forge(join(path, e.name), e.name, names, hide));
  const { dev, ino, ctimeMs, mtimeMs, size, nlink } = st;
  return { name, dev, ino, ctimeMs, mtimeMs, size, nlink, reusable: true, hits, children };
}

/** The names the cache for `root` in `dir` was written for, from its header (undefined: there is none). */
export function cachedNames(dir: string, root: string): readonly string[] | undefined {
  for (const file of readdirSync(dir).filter((n) => n.endsWith('.bin'))) {
    const { header } = decodeScanCache(readFileSync(join(dir, file)));
    if (header.root === root) return header.names;
  }
  return undefined;
}

/** Write, as the cache for `root`, one that leaves `hide` out of every listing; returns its path. */
export function forgeCache(dir: string, root: string, names: readonly string[], hide: string, mode = 0o600): string {
  const clock = scanClock();
  if (clock === undefined) throw new Error('no boot id on this host: cannot forge a cache');
  const path = cacheFile(dir, root, names);
  writeFileSync(path, encodeScanCache({ root, names, clock }, forge(root, '', new Set(names), hide)));
  chmodSync(path, mode);
  return path;
}
