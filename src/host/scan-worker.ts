/**
 * The worker thread of a large protected-name search (scan-split.ts): it
 * searches the subtrees the walk hands it, from the back of each batch, each
 * one it claims first, with the walk's own code (scan-walk.ts), and sends
 * back each subtree's records and facts. It reads the disk and nothing else;
 * every failure goes back with its ticket, to be thrown where the walk would
 * have met it.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { isIsolateError } from '../errors.js';
import { nameIndex, packagesIndex } from './protect-names.js';
import { STAMP_FIELDS } from './scan-cache.js';
import { ScanTree, type TreeArrays } from './scan-tree.js';
import { TreeBuilder } from './scan-tree-builder.js';
import { Facts, child, type Search } from './scan-walk.js';
import { asTree, BEAT, BY_WORKER, DONE, OPEN, TICKETS, WANT, type Batch, type Ticket, type TicketResult, type WorkerData } from './scan-split.js';

const data = workerData as WorkerData;
const state = new Int32Array(data.state);
const old = data.old === undefined ? undefined : new ScanTree(asTree(data.old));
const names = nameIndex(data.filesystem);
let visited = 0;
const s: Search = {
  finder: new Facts(data.self),
  names,
  packages: packagesIndex(names),
  inPackages: false,
  rules: data.rules,
  rulePaths: new Set(data.rules.map((r) => r.path)),
  self: data.self,
  startMs: data.startMs,
  fsTypes: new Map(),
  pins: [],
  pending: [],
  old,
  out: new TreeBuilder(undefined),
  // Progress the walk can see while it waits on this thread.
  split: { tick: () => void ((++visited & 63) === 0 && Atomics.add(state, BEAT, 1)), settle: () => false },
};

/** The first `n` records of a builder's arrays, copied out. */
function trimmed(a: TreeArrays): TreeArrays {
  const n = a.count;
  const hits = n === 0 ? 0 : (a.hitEnds[n - 1] as number);
  return {
    count: n,
    stamps: a.stamps.slice(0, n * STAMP_FIELDS.length),
    ends: a.ends.slice(0, n),
    flags: a.flags.slice(0, n),
    nameEnds: a.nameEnds.slice(0, n),
    names: Buffer.from(a.names.subarray(0, n === 0 ? 0 : a.nameEnds[n - 1])),
    hitEnds: a.hitEnds.slice(0, n),
    hitKinds: a.hitKinds.slice(0, hits),
    hitNameEnds: a.hitNameEnds.slice(0, hits),
    hitNames: Buffer.from(a.hitNames.subarray(0, hits === 0 ? 0 : a.hitNameEnds[hits - 1])),
  };
}

function search(t: Ticket): TicketResult {
  const from = s.finder.paths.length;
  const linkedFrom = s.finder.linked.length;
  s.out = new TreeBuilder(t.old >= 0 ? old : undefined, Math.max(0, t.old));
  s.pins = [...t.pins];
  s.inPackages = t.inPackages;
  try {
    const recorded = child(s, t.parent, t.name, t.old);
    const { tree, changed } = s.out.finish();
    return { id: t.id, recorded, tree: trimmed(tree.a), same: !changed, facts: s.finder.facts(from), linked: s.finder.linked.slice(linkedFrom) };
  } catch (e: unknown) {
    const error = isIsolateError(e) ? { code: e.code, message: e.message, fix: e.fix, detail: e.detail } : { code: undefined, message: e instanceof Error ? e.message : String(e), fix: undefined, detail: undefined };
    return { id: t.id, recorded: false, tree: trimmed(new TreeBuilder(undefined).finish().tree.a), same: false, facts: [], linked: [], error };
  }
}

parentPort?.on('message', (batch: Batch) => {
  for (const path of batch.facts) s.finder.add(path, 'dir', []); // protected as a whole: not entered (never sent back)
  for (let i = batch.tickets.length - 1; i >= 0; i--) {
    const t = batch.tickets[i] as Ticket;
    if (Atomics.compareExchange(state, TICKETS + t.id, OPEN, BY_WORKER) !== OPEN) continue; // the walk got there first
    Atomics.notify(state, TICKETS + t.id);
    data.results.postMessage(search(t));
    Atomics.store(state, TICKETS + t.id, DONE);
    Atomics.notify(state, TICKETS + t.id);
  }
  Atomics.store(state, WANT, 1);
});
