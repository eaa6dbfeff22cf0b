/**
 * Protecting names inside writable roots, for every backend that mounts.
 * The rules' precedence lives in profile/mount-rules.ts (re-exported here).
 */
import { IsolateError } from '../errors.js';
import type { MountRule } from '../profile/types.js';
import { effectiveKind } from '../profile/mount-rules.js';
import type { ProtectFact } from './types.js';

export { depth, effectiveKind, governing, isVisible, isWithin, orderRules, writableRoots, type Effective } from '../profile/mount-rules.js';

/** One step of protecting the names inside writable roots. */
export type ProtectOp =
  /** Bind a writable directory above a protected name onto itself, so it cannot be renamed away and replaced. */
  | { kind: 'pin'; path: string }
  /** The name is missing: an empty read-only placeholder blocks it for the run. */
  | { kind: 'placeholder'; path: string }
  /** The name exists: bind it read-only onto itself. */
  | { kind: 'protect'; path: string; dir: boolean };

/**
 * What protecting the names inside writable roots takes, for every backend
 * that mounts: for each name, its writable parent directories not yet
 * pinned or bound (`bound`), then the name itself. A protected name that is
 * a symbolic link is refused: a link cannot be kept read-only.
 */
export function protectOps(rules: readonly MountRule[], facts: readonly ProtectFact[], bound: ReadonlySet<string>): ProtectOp[] {
  const ops: ProtectOp[] = [];
  const pinned = new Set<string>();
  for (const fact of facts) {
    if (effectiveKind(rules, fact.path) !== 'write') continue;
    if (fact.state === 'symlink') {
      throw new IsolateError('E_PROTECT_SYMLINK', `protected path ${fact.path} is a symbolic link; isolate cannot keep a link read-only`, {
        fix: 'replace the link with the file it points to, or run with a profile in which this directory is read-only (--profile strict)',
      });
    }
    for (const pin of fact.pins) {
      if (pinned.has(pin) || effectiveKind(rules, pin) !== 'write' || bound.has(pin)) continue;
      pinned.add(pin);
      ops.push({ kind: 'pin', path: pin });
    }
    ops.push(fact.state === 'missing' ? { kind: 'placeholder', path: fact.path } : { kind: 'protect', path: fact.path, dir: fact.state === 'dir' });
  }
  return ops;
}
