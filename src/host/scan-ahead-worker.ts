/**
 * The worker thread of scan-ahead.ts: the lstat of each directory of a
 * tree, from the last record back, each one the search has not claimed
 * first; it stops where it meets the search. The state of record 0 (the
 * root, which the search opens itself) says when it is done, so a test can
 * let it work before the search begins.
 */
import { lstatSync } from 'node:fs';
import { workerData } from 'node:worker_threads';
import { STAMP_FIELDS } from './scan-cache.js';
import { ScanTree } from './scan-tree.js';
import { asTree } from './scan-split.js';
import { DIR, LOOKING, NOT_DIR, OPEN, type AheadData } from './scan-ahead.js';

const data = workerData as AheadData;
const tree = new ScanTree(asTree(data.tree));
const stamps = new Float64Array(data.stamps);
const state = new Int32Array(data.state);
const W = STAMP_FIELDS.length;

/** Each record's path, parents first. */
function paths(): string[] {
  const out: string[] = new Array<string>(tree.count);
  out[0] = data.root;
  const open: number[] = [0];
  for (let j = 1; j < tree.count; j++) {
    while (tree.end(open[open.length - 1] as number) <= j) open.pop();
    const parent = out[open[open.length - 1] as number] as string;
    out[j] = parent === '/' ? `/${tree.name(j)}` : `${parent}/${tree.name(j)}`;
    open.push(j);
  }
  return out;
}

function lookUp(j: number, path: string): void {
  let kind = NOT_DIR;
  try {
    const st = lstatSync(path, { throwIfNoEntry: false });
    if (st !== undefined && st.isDirectory()) {
      stamps.set([st.dev, st.ino, st.ctimeMs, st.mtimeMs, st.size, st.nlink], j * W);
      kind = DIR;
    }
  } catch {
    // not a directory to take a listing for: the search looks at it itself
  }
  Atomics.store(state, j, kind);
}

const all = paths();
for (let j = all.length - 1; j >= 1; j--) {
  if (!tree.reusable(j)) continue; // the search lists it afresh and asks for no stamp
  if (Atomics.compareExchange(state, j, OPEN, LOOKING) !== OPEN) break; // the search is here
  lookUp(j, all[j] as string);
}
Atomics.store(state, 0, 1);
Atomics.notify(state, 0);
