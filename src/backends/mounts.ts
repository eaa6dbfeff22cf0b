/**
 * Protecting names inside writable roots, for every backend.
 * The rules' precedence lives in profile/mount-rules.ts (re-exported here).
 */
import { basename, dirname } from 'node:path';
import { IsolateError } from '../errors.js';
import type { MountRule } from '../profile/types.js';
import { effectiveKind, isWithin, isWritable } from '../profile/mount-rules.js';
import type { SetupOp } from './setup-ops.js';
import type { ProtectFact } from './types.js';

export { depth, effectiveKind, governing, isVisible, isWithin, isWritable, orderRules, writableRoots, type Effective } from '../profile/mount-rules.js';

/**
 * The protected names whose placeholder is an empty directory, not an empty
 * file: `.git`. git takes an empty `.git` file for a broken pointer and
 * stops (`fatal: invalid gitfile format`), so a run in a subdirectory of a
 * checkout could not use git; an empty directory is no repository to git
 * (no HEAD, objects or refs), which then goes on to the repository above.
 * Bound read-only, nothing can be made in it (`git init` there fails).
 */
const DIR_PLACEHOLDERS: ReadonlySet<string> = new Set(['.git']);

/** Whether a placeholder at `path` stands where a hidden path that does not exist (`hiddenMissing`), or a directory of one, would be made. */
export function standsForHidden(path: string, hiddenMissing: readonly string[]): boolean {
  return hiddenMissing.some((m) => m === path || isWithin(m, path));
}

/**
 * Whether the placeholder at `path` is an empty directory (DIR_PLACEHOLDERS).
 * One that stands where a hidden path that does not exist would be made
 * (`hiddenMissing`) stays a file, which the hiding covers with an empty one.
 */
export function placeholderIsDir(path: string, hiddenMissing: readonly string[] = []): boolean {
  return DIR_PLACEHOLDERS.has(basename(path)) && !standsForHidden(path, hiddenMissing);
}

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
 * does a file in `shownInstead`, which another text covers. `hiddenMissing`:
 * the hidden paths that do not exist (placeholderIsDir).
 */
export function protectOps(rules: readonly MountRule[], facts: readonly ProtectFact[], bound: ReadonlySet<string>, shownInstead: ReadonlySet<string> = new Set(), hiddenMissing: readonly string[] = []): ProtectOp[] {
  const ops: ProtectOp[] = [];
  // A directory protected as a whole is bound read-only itself: it is not pinned (writable) as well.
  const whole = new Set<string>(facts.filter((f) => f.state === 'dir' && effectiveKind(rules, f.path) === 'write').map((f) => f.path));
  const pinned = new Set<string>(facts.filter((f) => f.state === 'dir').map((f) => f.path));
  // Nor is a directory inside one (a writable root kept read-only whole, holding other names; a bare repository's
  // `worktrees/<name>` beneath its read-only `worktrees`): its pin would bind it writable again.
  const inWhole = (path: string): boolean => {
    for (let p = dirname(path); p !== path && p !== '/' && p !== '.'; path = p, p = dirname(p)) if (whole.has(p)) return true;
    return false;
  };
  for (const fact of facts) {
    const kind = effectiveKind(rules, fact.path);
    if (kind !== 'write' && kind !== 'deny') continue;
    if (kind === 'write' && fact.state === 'symlink') {
      throw new IsolateError('E_PROTECT_SYMLINK', `protected path ${fact.path} is a symbolic link; isolate cannot keep a link read-only`, {
        fix: 'replace the link with the file it points to, or run with a profile in which this directory is read-only (--profile strict)',
      });
    }
    for (const pin of fact.pins) {
      if (pinned.has(pin) || !isWritable(rules, pin) || bound.has(pin) || inWhole(pin)) continue;
      pinned.add(pin);
      ops.push({ kind: 'pin', path: pin, slot: ops.length });
    }
    // A git configuration file shown without its secrets (setup-ops.ts, gitConfigOps) is bound from that text instead.
    if (kind === 'deny' || (fact.state === 'file' && shownInstead.has(fact.path))) continue;
    const slot = ops.length;
    ops.push(fact.state === 'missing' ? { kind: 'placeholder', path: fact.path, ...(placeholderIsDir(fact.path, hiddenMissing) ? { dir: true as const } : {}), slot } : { kind: 'protect', path: fact.path, dir: fact.state === 'dir', slot, ...(fact.why === undefined ? {} : { why: fact.why }) });
  }
  return ops;
}
