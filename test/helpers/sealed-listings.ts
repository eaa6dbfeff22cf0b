/** The listings a host gathers for a policy's sealed directories (backends/seal.ts), for plans of made-up hosts. */
import { sealedParents } from '../../src/backends/seal.js';
import type { SealEntry, SealFact } from '../../src/backends/types.js';
import type { Policy } from '../../src/profile/types.js';

/** Each sealed directory of `policy` with `entries[dir]` in it (none when not given). */
export function listingsFor(policy: Policy, entries: Readonly<Record<string, readonly SealEntry[]>> = {}): SealFact[] {
  return sealedParents(policy.filesystem.mounts).map((path) => ({ path, entries: [...(entries[path] ?? [])] }));
}
