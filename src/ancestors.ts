/**
 * Whether anyone but the trusted users can swap the entries of a directory
 * or of any directory above it: its owner can, and so can everyone when it
 * is writable by others and not sticky (as /tmp is). Whoever can do that can
 * put a symbolic link where isolate checked or made something, between the
 * check and the use. One rule for every path isolate acts on as its user
 * (an export's output, root's device-node copies).
 */
import { statSync } from 'node:fs';
import { dirname } from 'node:path';

/** Why a directory from `real` (a path without symbolic links) up to / lets someone not in `trusted` swap its entries, or undefined. */
export function openAncestor(real: string, trusted: readonly number[]): string | undefined {
  for (let d = real; ; d = dirname(d)) {
    const st = statSync(d);
    if (!trusted.includes(st.uid)) return `${d} belongs to uid ${String(st.uid)}`;
    if ((st.mode & 0o022) !== 0 && (st.mode & 0o1000) === 0) return `${d} can be written by other users and is not sticky`;
    if (dirname(d) === d) return undefined;
  }
}
