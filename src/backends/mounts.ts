/**
 * Protecting names inside writable roots, for every backend.
 * The rules' precedence lives in profile/mount-rules.ts (re-exported here).
 */
import { IsolateError } from '../errors.js';
import type { MountRule } from '../profile/types.js';
import { effectiveKind, isWritable } from '../profile/mount-rules.js';
import type { SetupOp } from './setup-ops.js';
import type { ProtectFact } from './types.js';

export { depth, effectiveKind, governing, isVisible, isWithin, isWritable, orderRules, writableRoots, type Effective } from '../profile/mount-rules.js';

/** The setup operations that protect names inside writable roots (see setup-ops.ts). */
export type ProtectOp = Extract<SetupOp, { kind: 'pin' | 'protect' | 'placeholder' }>;

/**
 * What protecting the names inside writable roots takes, for every backend:
 * for each name, its writable parent directories not yet pinned or bound
 * (`bound`), then the name itself. Each is handed over on a descriptor run/
 * opens (`slot`: its place in Plan.pathFds, in this order). A protected name
 * that is a symbolic link is refused: a link cannot be kept read-only. A
 * protected path that is hidden (isolate's own directories) gets only its
 * parents pinned: the hiding keeps it, the pins keep it where it is. So
 * does a file in `shownInstead`, which another text covers.
 */
export function protectOps(rules: readonly MountRule[], facts: readonly ProtectFact[], bound: ReadonlySet<string>, shownInstead: ReadonlySet<string> = new Set()): ProtectOp[] {
  const ops: ProtectOp[] = [];
  // A directory protected as a whole is bound read-only itself: it is not pinned (writable) as well.
  const pinned = new Set<string>(facts.filter((f) => f.state === 'dir').map((f) => f.path));
  for (const fact of facts) {
    const kind = effectiveKind(rules, fact.path);
    if (kind !== 'write' && kind !== 'deny') continue;
    if (kind === 'write' && fact.state === 'symlink') {
      throw new IsolateError('E_PROTECT_SYMLINK', `protected path ${fact.path} is a symbolic link; isolate cannot keep a link read-only`, {
        fix: 'replace the link with the file it points to, or run with a profile in which this directory is read-only (--profile strict)',
      });
    }
    for (const pin of fact.pins) {
      if (pinned.has(pin) || !isWritable(rules, pin) || bound.has(pin)) continue;
      pinned.add(pin);
      ops.push({ kind: 'pin', path: pin, slot: ops.length });
    }
    // A git configuration file shown without its secrets (setup-ops.ts, gitConfigOps) is bound from that text instead.
    if (kind === 'deny' || (fact.state === 'file' && shownInstead.has(fact.path))) continue;
    const slot = ops.length;
    ops.push(fact.state === 'missing' ? { kind: 'placeholder', path: fact.path, slot } : { kind: 'protect', path: fact.path, dir: fact.state === 'dir', slot });
  }
  return ops;
}
