/**
 * Pure mount-table logic shared by every backend and by host-fact gathering.
 *
 * The rule users read in README: the most specific path wins; at the same
 * path, deny beats write, write beats read, read beats tmpfs.
 */
import { IsolateError } from '../errors.js';
import type { MountKind, MountRule } from '../profile/types.js';
import type { ProtectFact } from './types.js';

export type Effective = MountKind | 'none';

const PRECEDENCE: Record<MountKind, number> = { tmpfs: 0, read: 1, write: 2, deny: 3 };

export function depth(path: string): number {
  return path === '/' ? 0 : path.split('/').length - 1;
}

export function isWithin(path: string, root: string): boolean {
  return path === root || root === '/' || path.startsWith(root + '/');
}

/** Rules in the order they must be applied: parents first, stronger kinds last. */
export function orderRules(rules: readonly MountRule[]): MountRule[] {
  return [...rules].sort((a, b) => depth(a.path) - depth(b.path) || PRECEDENCE[a.kind] - PRECEDENCE[b.kind] || (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

/** Which rule governs `path`: the deepest rule at or above it (the strongest at equal depth). */
export function governing(rules: readonly MountRule[], path: string): MountRule | undefined {
  let best: MountRule | undefined;
  for (const rule of rules) {
    if (!isWithin(path, rule.path)) continue;
    if (
      best === undefined ||
      depth(rule.path) > depth(best.path) ||
      (depth(rule.path) === depth(best.path) && PRECEDENCE[rule.kind] > PRECEDENCE[best.kind])
    ) {
      best = rule;
    }
  }
  return best;
}

export function effectiveKind(rules: readonly MountRule[], path: string): Effective {
  return governing(rules, path)?.kind ?? 'none';
}

/** A host path is visible inside the sandbox when a read or write rule governs it. */
export function isVisible(rules: readonly MountRule[], realPath: string): boolean {
  const kind = effectiveKind(rules, realPath);
  return kind === 'read' || kind === 'write';
}

export function writableRoots(rules: readonly MountRule[]): string[] {
  return rules
    .filter((r) => r.kind === 'write' && governing(rules, r.path) === r)
    .map((r) => r.path);
}

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
