/**
 * The mount rules' meaning, the one rule users read in docs/profiles.md: the most
 * specific path wins; at the same path, deny beats write, write beats read,
 * read beats tmpfs. Pure; used by the profile's checks and every backend.
 */
import type { MountKind, MountRule } from './types.js';

export type Effective = MountKind | 'none';

const PRECEDENCE: Record<MountKind, number> = { tmpfs: 0, read: 1, write: 2, deny: 3 };

/** How many names deep `path` is: its number of slashes ('/' is 0). Counted, not split: it runs for every pair of rules. */
export function depth(path: string): number {
  if (path === '/') return 0;
  let n = 0;
  for (let i = path.indexOf('/'); i !== -1; i = path.indexOf('/', i + 1)) n++;
  return n;
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
  let bestDepth = -1;
  for (const rule of rules) {
    if (!isWithin(path, rule.path)) continue;
    const d = depth(rule.path);
    if (best === undefined || d > bestDepth || (d === bestDepth && PRECEDENCE[rule.kind] > PRECEDENCE[best.kind])) {
      best = rule;
      bestDepth = d;
    }
  }
  return best;
}

export function effectiveKind(rules: readonly MountRule[], path: string): Effective {
  return governing(rules, path)?.kind ?? 'none';
}

/** A host path the sandbox can write: a write rule governs it. */
export function isWritable(rules: readonly MountRule[], path: string): boolean {
  return effectiveKind(rules, path) === 'write';
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

/** Why a hidden path is left out of the rules (policy.filesystem.skipped): it does not exist when the run is planned. */
export const MISSING_DENY_REASON = 'deny: does not exist, nothing to hide';

/** The hidden paths that did not exist when the profile was resolved (skipped for MISSING_DENY_REASON). */
export function missingHiddenPaths(skipped: readonly { path: string; reason: string }[]): string[] {
  return skipped.flatMap((s) => (s.reason === MISSING_DENY_REASON ? [s.path] : []));
}
