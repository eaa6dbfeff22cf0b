/**
 * A large protected-name search shared with a worker thread. Listing and
 * lstat-ing directories is nearly all of a search's time, one directory at
 * a time, so a tree of 200,000 directories takes seconds on one core. Once
 * a walk has proved large (SPLIT_AFTER directories), a worker thread is
 * started, and whenever it is idle the walk hands it the back half of the
 * subdirectories still waiting at the shallowest level (scan-walk.ts,
 * Search.pending), each as a ticket. The worker searches its tickets from
 * the back with the same code (scan-worker.ts); the walk, reaching a ticket
 * in its own order, either claims it first and searches it itself, or waits
 * for the worker's records and facts and takes them in at that place. So
 * the facts, their order and the tree come out exactly as one thread makes
 * them, and every directory is still looked at after the search began (the
 * rules of scan-cache.ts hold as they are). A claim is one atomic
 * compare-and-swap on shared memory, so no ticket is searched twice.
 * Small projects never start the thread. A worker that cannot start claims
 * nothing, and one that stops answering is given up: the walk then
 * searches what it held itself.
 */
import { existsSync } from 'node:fs';
import { availableParallelism, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import type { MessagePort, Worker } from 'node:worker_threads';
import { workerThreads } from './worker-threads.js';
import { IsolateError, type ErrorCode } from '../errors.js';
import type { MountRule } from '../profile/types.js';
import { packageRoot } from '../profile/builtin.js';
import type { ProtectFact } from '../backends/types.js';
import type { TreeArrays } from './scan-tree.js';
import type { Linked } from './linked-files.js';
import { child, type Pending, type Search, type Self, type Split } from './scan-walk.js';

/**
 * Directories a walk searches alone before it may start a worker: below
 * this, the thread's start (about 70 ms before it takes its first subtree)
 * does not pay. Measured on a 2-core VM: at 10,000 directories the thread
 * saved its main thread nothing; at 50,000 a first run's main thread took
 * 0.5 s instead of 0.7 s.
 */
export const SPLIT_AFTER = 16_384;

/** For tests: when and how the walk shares its subtrees. */
export interface SplitOptions {
  /** SPLIT_AFTER. */
  after?: number;
  /** Start the worker even while every core is busy. */
  ignoreLoad?: boolean;
  /** How long the walk lets a ticket wait for the worker before searching it itself (0). */
  waitMs?: number;
  /** Told which subtrees the worker searched. */
  onEnd?: (subtrees: string[]) => void;
}

/**
 * Whether a core is free for the worker: the machine's load average (over
 * the last minute, this search included) is below the cores there are less
 * half a core. On a machine busy with other work, a second thread only adds
 * its start and its copies (about 0.1 s of CPU at 200,000 directories) to
 * what the others wait for.
 */
export function coreFree(): boolean {
  const cores = availableParallelism();
  return cores > 1 && (loadavg()[0] as number) < cores - 0.5;
}
/** How long the walk waits on a worker that shows no progress before searching what it holds itself. */
const STALL_MS = 10_000;
/** Tickets per search at most (then the walk goes on alone). */
const MAX_TICKETS = 1 << 16;

/** Shared words: whether the worker wants work, its progress counter, then each ticket's state. */
export const WANT = 0;
export const BEAT = 1;
export const TICKETS = 2;
export const OPEN = 0;
export const BY_WORKER = 1;
export const BY_WALK = 2;
export const DONE = 3;

/** What the worker is started with (besides its shared memory and its port for results). */
export interface SplitSetup {
  filesystem: { protect: readonly string[]; protectExisting?: readonly string[] | undefined };
  rules: readonly MountRule[];
  self: Self;
  startMs: number | undefined;
  /** The root's cached tree, when there is one. */
  old: TreeArrays | undefined;
}

export interface WorkerData extends SplitSetup {
  state: SharedArrayBuffer;
  results: MessagePort;
}

export interface Ticket {
  id: number;
  parent: string;
  name: string;
  old: number;
  pins: readonly string[];
  inPackages: boolean;
}

/** A batch of tickets, and the paths of the facts found since the last batch (protected as a whole: not entered). */
export interface Batch {
  tickets: Ticket[];
  facts: string[];
}

export interface TicketResult {
  id: number;
  /** What child() returned: whether the subdirectory got a record. */
  recorded: boolean;
  tree: TreeArrays;
  /** The subtree is the cached one at the ticket's record. */
  same: boolean;
  facts: ProtectFact[];
  /** The files with other names it found (scan-walk.ts, Facts.linked). */
  linked: Linked[];
  error?: { code: ErrorCode | undefined; message: string; fix: string | undefined; detail: string | undefined };
}

/** The worker's file: built beside this one (dist/host/), found from the package root (bundles and the start-up snapshot have no file of their own). */
function workerFile(): string | undefined {
  const file = fileURLToPath(new URL('dist/host/scan-worker.js', packageRoot()));
  return existsSync(file) ? file : undefined;
}

/** Buffers cross to the worker as plain bytes: make them Buffers again. */
export function asTree(a: TreeArrays): TreeArrays {
  return { ...a, names: Buffer.from(a.names.buffer, a.names.byteOffset, a.names.byteLength), hitNames: Buffer.from(a.hitNames.buffer, a.hitNames.byteOffset, a.hitNames.byteLength) };
}

export class ScanSplit implements Split {
  private visited = 0;
  private worker: Worker | undefined;
  private port: MessagePort | undefined;
  /** Made when the worker starts (a start-up snapshot's build has no SharedArrayBuffer). */
  private state: Int32Array<ArrayBufferLike> = new Int32Array(TICKETS);
  private tickets = 0;
  private factsSent = 0;
  /** The subtrees the worker searched. */
  private readonly byWorker: string[] = [];
  private off = false;
  private readonly arrived = new Map<number, TicketResult>();

  private readonly after: number;
  private readonly waitMs: number;

  constructor(
    private readonly setup: SplitSetup,
    private readonly options: SplitOptions = {},
  ) {
    this.after = options.after ?? SPLIT_AFTER;
    this.waitMs = options.waitMs ?? 0;
  }

  tick(s: Search): void {
    if (this.off || (++this.visited & 63) !== 0 || this.visited < this.after) return;
    if (this.worker === undefined && !this.start()) return;
    if (Atomics.load(this.state, WANT) === 1) this.donate(s);
  }

  settle(s: Search, at: Pending, k: number): boolean {
    const id = (at.tickets as Int32Array)[k] as number;
    const slot = TICKETS + id;
    if (this.waitMs > 0 && !this.off) Atomics.wait(this.state, slot, OPEN, this.waitMs);
    if (this.off || Atomics.compareExchange(this.state, slot, OPEN, BY_WALK) === OPEN) return this.alone(s, at, k);
    const result = this.await(id);
    if (result === undefined) return this.alone(s, at, k);
    this.byWorker.push(at.path === '/' ? `/${at.names[k] as string}` : `${at.path}/${at.names[k] as string}`);
    if (result.error !== undefined) {
      const { code, message, fix, detail } = result.error;
      throw code === undefined ? new Error(message) : new IsolateError(code, message, { fix, detail });
    }
    for (const f of result.facts) s.finder.add(f.path, f.state, f.pins);
    for (const l of result.linked) s.finder.linked.push(l);
    s.out.graft(asTree(result.tree), result.same, at.olds[k] as number);
    return result.recorded;
  }

  /** Stop the worker; the subtrees it searched. */
  end(): string[] {
    this.off = true;
    void this.worker?.terminate().catch(() => undefined);
    this.port?.close();
    return this.byWorker;
  }

  private start(): boolean {
    const file = this.options.ignoreLoad === true || coreFree() ? workerFile() : undefined;
    if (file === undefined) {
      this.off = true;
      return false;
    }
    this.state = new Int32Array(new SharedArrayBuffer(4 * (TICKETS + MAX_TICKETS)));
    const { MessageChannel, Worker } = workerThreads();
    const { port1, port2 } = new MessageChannel();
    const data: WorkerData = { ...this.setup, state: this.state.buffer as SharedArrayBuffer, results: port2 };
    try {
      this.worker = new Worker(file, { workerData: data, transferList: [port2] });
    } catch {
      this.off = true;
      return false;
    }
    this.worker.unref();
    this.worker.on('error', () => undefined); // it claims nothing more; what it held is searched here (await)
    this.port = port1;
    Atomics.store(this.state, WANT, 1);
    return true;
  }

  /** The back half of the subdirectories waiting at the shallowest level, as tickets for the worker. */
  private donate(s: Search): void {
    const at = s.pending.find((p) => p.limit - p.next > 1);
    if (at === undefined || this.tickets >= MAX_TICKETS) return;
    const count = Math.min(Math.ceil((at.limit - at.next - 1) / 2), MAX_TICKETS - this.tickets);
    at.tickets ??= new Int32Array(at.names.length);
    const tickets: Ticket[] = [];
    for (let k = at.limit - count; k < at.limit; k++) {
      const id = this.tickets++;
      at.tickets[k] = id;
      tickets.push({ id, parent: at.path, name: at.names[k] as string, old: at.olds[k] as number, pins: s.pins.slice(0, at.depth), inPackages: at.inPackages });
    }
    at.limit -= count;
    const facts = s.finder.paths.slice(this.factsSent);
    this.factsSent = s.finder.paths.length;
    Atomics.store(this.state, WANT, 0);
    this.worker?.postMessage({ tickets, facts } satisfies Batch);
  }

  /** The worker's result for a ticket it claimed; undefined when it stopped answering (then nothing more is handed to it). */
  private await(id: number): TicketResult | undefined {
    const slot = TICKETS + id;
    let beat = Atomics.load(this.state, BEAT);
    let since = Date.now();
    while (Atomics.load(this.state, slot) !== DONE) {
      Atomics.wait(this.state, slot, BY_WORKER, 50);
      const now = Atomics.load(this.state, BEAT);
      if (now !== beat) [beat, since] = [now, Date.now()];
      else if (Date.now() - since > STALL_MS) return this.giveUp();
    }
    for (since = Date.now(); !this.arrived.has(id); ) {
      const m = this.port === undefined ? undefined : workerThreads().receiveMessageOnPort(this.port);
      if (m !== undefined) this.arrived.set((m.message as TicketResult).id, m.message as TicketResult);
      else if (Date.now() - since > STALL_MS) return this.giveUp();
      else Atomics.wait(this.state, slot, DONE, 1);
    }
    const result = this.arrived.get(id);
    this.arrived.delete(id);
    return result;
  }

  private giveUp(): undefined {
    this.off = true;
    return undefined;
  }

  /** Search subdirectory `k` of `at` here, as the walk does its own (it is back at `at`'s level: its pins and package state are `at`'s). */
  private alone(s: Search, at: Pending, k: number): boolean {
    return child(s, at.path, at.names[k] as string, at.olds[k] as number);
  }
}
