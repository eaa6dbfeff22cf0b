/**
 * Stamps looked up ahead, for the search after a run (run/after-run-scan.ts)
 * in a large tree. That search takes a directory's listing from the search
 * before the run while its stamp is unchanged, so an unchanged tree costs
 * one lstat per directory, one after another. Here a worker thread
 * (scan-ahead-worker.ts), started once the run has ended, lstats the
 * tree's directories from the last record back, while the search goes
 * forward; each record is claimed by one side with an atomic
 * compare-and-swap, and the search takes a stamp the worker has finished,
 * or lstats the directory itself: it never waits. A stamp taken by the
 * worker is as good as the search's own: it was taken after the run ended,
 * and a listing stands only while the stamp is exactly the recorded one
 * (scan-cache.ts). Started only for a tree of AHEAD_AFTER directories or
 * more, while a core is free (scan-split.ts).
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Worker } from 'node:worker_threads';
import { workerThreads } from './worker-threads.js';
import { packageRoot } from '../profile/builtin.js';
import { STAMP_FIELDS, type DirStamp } from './scan-cache.js';
import type { ScanTree, TreeArrays } from './scan-tree.js';
import { coreFree } from './scan-split.js';

/** A record's state: not looked at, being looked up by the worker, taken by the search, looked up (a directory), looked up (anything else). */
export const OPEN = 0;
export const LOOKING = 1;
export const TAKEN = 2;
export const DIR = 3;
export const NOT_DIR = 4;

export interface AheadData {
  root: string;
  tree: TreeArrays;
  stamps: SharedArrayBuffer;
  state: SharedArrayBuffer;
}

/** For tests: when the worker starts, and how long the search lets it work before it begins (0). */
export interface AheadOptions {
  after?: number;
  ignoreLoad?: boolean;
  waitMs?: number;
}

const W = STAMP_FIELDS.length;

/**
 * The directories a tree must have for the worker to pay. Measured on a
 * 2-core VM, an unchanged tree: at 50,000 directories it saved the search
 * nothing; at 200,000, 0.13 s of the run's main thread (1.02 s to 0.89 s).
 */
export const AHEAD_AFTER = 65_536;

export class StampsAhead {
  private taken = 0;
  private constructor(
    private readonly worker: Worker,
    private readonly stamps: Float64Array,
    private readonly state: Int32Array,
  ) {}

  /** Start looking up the stamps of `tree` (the tree of `root`); undefined when it is too small, no core is free, or the worker is not built. */
  static start(root: string, tree: ScanTree, options: AheadOptions = {}): StampsAhead | undefined {
    if (tree.count < (options.after ?? AHEAD_AFTER) || (options.ignoreLoad !== true && !coreFree())) return undefined;
    const file = fileURLToPath(new URL('dist/host/scan-ahead-worker.js', packageRoot()));
    if (!existsSync(file)) return undefined;
    const stamps = new SharedArrayBuffer(8 * W * tree.count);
    const state = new SharedArrayBuffer(4 * tree.count);
    let worker: Worker;
    try {
      worker = new (workerThreads().Worker)(file, { workerData: { root, tree: tree.a, stamps, state } satisfies AheadData });
    } catch {
      return undefined;
    }
    worker.unref();
    worker.on('error', () => undefined); // it looks nothing more up; the search lstats what is left
    const ahead = new StampsAhead(worker, new Float64Array(stamps), new Int32Array(state));
    if (options.waitMs !== undefined) Atomics.wait(ahead.state, 0, 0, options.waitMs); // the worker's done (scan-ahead-worker.ts)
    return ahead;
  }

  /** Record j's stamp as the worker found it, and whether it is a directory; undefined: lstat it yourself. */
  take(j: number): { stamp: DirStamp; dir: boolean } | undefined {
    const was = Atomics.compareExchange(this.state, j, OPEN, TAKEN);
    if (was !== DIR && was !== NOT_DIR) return undefined;
    this.taken++;
    const s = this.stamps;
    const at = j * W;
    const stamp = { dev: s[at] as number, ino: s[at + 1] as number, ctimeMs: s[at + 2] as number, mtimeMs: s[at + 3] as number, size: s[at + 4] as number, nlink: s[at + 5] as number };
    return { stamp, dir: was === DIR };
  }

  /** Stop the worker; how many stamps the search took from it. */
  end(): number {
    void this.worker.terminate().catch(() => undefined);
    return this.taken;
  }
}
