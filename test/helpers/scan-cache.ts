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
import type { DirStamp, EntryKind, Hit, ScanClock } from '../../src/host/scan-cache.js';
import type { ScanTree } from '../../src/host/scan-tree.js';
import { TreeBuilder } from '../../src/host/scan-tree-builder.js';

/** A directory of a ScanTree, as an object. */
export interface TreeNode {
  name: string;
  stamp: DirStamp;
  reusable: boolean;
  hits: Hit[];
  /** Its regular files with other names (hard links); absent when none. */
  linked?: string[];
  children: TreeNode[];
}

export function buildTree(root: TreeNode): ScanTree {
  const b = new TreeBuilder(undefined);
  const add = (n: TreeNode): void => {
    const i = b.open(n.name, n.stamp, n.reusable, n.hits, n.linked);
    n.children.forEach(add);
    b.close(i);
  };
  add(root);
  return b.finish().tree;
}

export function nodesOf(tree: ScanTree, i = 0): TreeNode {
  const t = tree.a;
  const [dev, ino, ctimeMs, mtimeMs, size, nlink] = Array.from(t.stamps.subarray(i * 6, i * 6 + 6));
  const stamp = { dev, ino, ctimeMs, mtimeMs, size, nlink } as DirStamp;
  const linked = tree.linked(i);
  return { name: tree.name(i), stamp, reusable: t.flags[i] === 1, hits: [...tree.hits(i)], ...(linked.length === 0 ? {} : { linked: [...linked] }), children: [...tree.children(i).values()].map((j) => nodesOf(tree, j)) };
}

function kindOf(path: string): EntryKind {
  const st = lstatSync(path);
  return st.isSymbolicLink() ? 'symlink' : st.isDirectory() ? 'dir' : st.isFile() ? 'file' : 'other';
}

function forge(path: string, name: string, names: ReadonlySet<string>, hide: string): TreeNode {
  const st = lstatSync(path);
  const entries = readdirSync(path, { withFileTypes: true });
  const hits = entries.filter((e) => names.has(e.name) && e.name !== hide).map((e) => ({ name: e.name, kind: kindOf(join(path, e.name)) }));
  const children = entries.filter((e) => e.isDirectory() && e.name !== 'node_modules' && e.name !== '.git').map((e) => forge(join(path, e.name), e.name, names, hide));
  const { dev, ino, ctimeMs, mtimeMs, size, nlink } = st;
  return { name, stamp: { dev, ino, ctimeMs, mtimeMs, size, nlink }, reusable: true, hits, children };
}

/** The names the cache for `root` in `dir` was written for, from its header (undefined: there is none). */
export function cachedNames(dir: string, root: string): readonly string[] | undefined {
  for (const file of cacheFiles(dir)) {
    const { header } = decodeScanCache(readFileSync(file));
    if (header.root === root) return header.names;
  }
  return undefined;
}

/** Write, as the cache for `root`, one that leaves `hide` out of every listing; returns its path. */
export function forgeCache(dir: string, root: string, names: readonly string[], hide: string, mode = 0o600): string {
  const clock = scanClock();
  if (clock === undefined) throw new Error('no boot id on this host: cannot forge a cache');
  const path = cacheFile(dir, root, names);
  writeFileSync(path, encodeScanCache({ root, names, clock }, buildTree(forge(root, '', new Set(names), hide))));
  chmodSync(path, mode);
  return path;
}

/** The record of the directory `rel` (below the tree's root), or undefined when it has none. */
export function recordAt(tree: ScanTree, rel: string): number | undefined {
  let i: number | undefined = 0;
  for (const segment of rel.split('/')) {
    i = tree.children(i).get(segment);
    if (i === undefined) return undefined;
  }
  return i;
}

/** Whether the cache file's tree records the directory `rel` (below its root) with a reusable listing. */
export function cachedAsReusable(file: string, rel: string): boolean {
  const { tree } = decodeScanCache(readFileSync(file));
  const i = recordAt(tree, rel);
  return i !== undefined && tree.reusable(i);
}

/** A search clock `skew.ms` ahead of the real one, as if the tree had been made that long ago; lowering it sets the clock back. */
export function skewedClock(skew: { ms: number }): () => ScanClock {
  return () => {
    const c = scanClock() as ScanClock;
    return { ...c, wallMs: c.wallMs + skew.ms, offsetMs: c.offsetMs + skew.ms };
  };
}

/** The cache files in a cache directory. */
export const cacheFiles = (dir: string): string[] => readdirSync(dir).filter((n) => n.endsWith('.bin')).map((n) => join(dir, n));
