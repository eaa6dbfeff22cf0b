/**
 * What the protected-name search before a run saw, handed to the search
 * after it (run/after-run-scan.ts): each writable root's tree (scan-tree.ts)
 * and when the search began. Kept beside the facts it produced, for as long
 * as they are in use; the search after the run takes a listing from it only
 * under the rules of scan-cache.ts, exactly as the next search takes one
 * from the cache.
 */
import type { ProtectFact } from '../backends/types.js';
import type { ScanClock } from './scan-cache.js';
import type { ScanTree } from './scan-tree.js';

export interface SeenTrees {
  /** When the search began: its listings are reusable only when their change time is settled before it. */
  clock: ScanClock;
  /** The entry names the trees' hits were taken for (protect-names.ts, NameIndex.keys). */
  names: readonly string[];
  /** Each writable root's tree. */
  trees: ReadonlyMap<string, ScanTree>;
}

const seen = new WeakMap<readonly ProtectFact[], SeenTrees>();

export function recordSeen(facts: readonly ProtectFact[], trees: SeenTrees): void {
  seen.set(facts, trees);
}

/** What the search that produced these facts saw; undefined when it kept nothing reusable. */
export function seenBy(facts: readonly ProtectFact[]): SeenTrees | undefined {
  return seen.get(facts);
}
