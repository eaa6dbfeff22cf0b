/**
 * Host facts: where the protected names (filesystem.protect) are inside the
 * writable roots, at any depth, and which of them are missing and must be
 * blocked for the run. Reads the disk; plan() turns the facts into mounts.
 * The walk of each root is scan-walk.ts; a large one is shared with a
 * worker thread (scan-split.ts).
 */
import { dirname, join } from 'node:path';
import type { MountRule, Policy } from '../profile/types.js';
import { isWithin, isWritable, writableRoots } from '../backends/mounts.js';
import type { ProtectFact } from '../backends/types.js';
import { protectsAnything } from '../profile/own-paths.js';
import { missingHiddenPaths } from '../profile/mount-rules.js';
import { ROOT_IN_PROTECTED_WHY, deniedPathFacts, missingDeniedFacts, ownPathFacts, pathFacts, rootsInPaths } from './own-paths.js';
import { GIT_HOOK_NAMES, gitTargets } from './git-repos.js';
import { GitConfigReads } from './git-config-reads.js';
import { addGitDirFacts, type GitDirProbe } from './git-dirs.js';
import { GitPointers } from './git-pointers.js';
import type { GitPlaces } from './git-paths.js';
import { indexOf, lstatState, nameIndex, namesIn, packagesIndex, rootNames, type NameIndex } from './protect-names.js';
import { clockTrusted, type ScanClock } from './scan-cache.js';
import type { ScanTree } from './scan-tree.js';
import { TreeBuilder } from './scan-tree-builder.js';
import { readScanCache, scanClock, writeScanCache } from './scan-cache-file.js';
import { recordSeen } from './scan-seen.js';
import { versionedRcPaths } from './versioned-rc.js';
import { Facts, dirStat, visit, type Search } from './scan-walk.js';
import { ScanSplit, type SplitOptions } from './scan-split.js';
import { linkedFacts } from './linked-files.js';

export { MAX_SCAN_DEPTH, MAX_SCAN_PATH_BYTES, sandboxMayEnter } from './scan-walk.js';

export interface ScanOptions {
  /** Where the search keeps what it saw between runs (scan-cache-file.ts); undefined: nothing is kept. */
  cacheDir?: string | undefined;
  /** @internal The clock, for tests: undefined when the boot cannot be told apart (no cache then). */
  clock?: () => ScanClock | undefined;
  /** The caller's environment: where git's own configuration is, and the home directory it expands `~/` to (git-repos.ts). */
  env?: Readonly<Record<string, string | undefined>> | undefined;
  /** @internal For tests: when and how a large search is shared with a worker thread (scan-split.ts). */
  split?: SplitOptions;
  /** Where paths in git's configuration lead on this host (git-paths.ts), found once for the run; undefined: found here. */
  gitPlaces?: GitPlaces | undefined;
}

/** What the search found, and the git configuration files it read on the way (git-repos.ts). */
export interface ProtectScan {
  facts: ProtectFact[];
  /** git's configuration files as the search read them, for the copies the sandbox sees without their secrets (git-scrub.ts): each read once. */
  gitReads: GitConfigReads;
}

interface Searched extends ProtectScan {
  /** Each root's tree, and whether it differs from the cached one. */
  trees: { root: string; tree: ScanTree; changed: boolean }[];
}

/** Every root searched, with the cached trees when `start` is given. */
function search(policy: Policy, cacheDir: string | undefined, start: ScanClock | undefined, options: ScanOptions): Searched {
  const env = options.env ?? {};
  const rules = policy.filesystem.mounts;
  const self = { uid: process.getuid?.() ?? -1, groups: [process.getgid?.() ?? -1, ...(process.getgroups?.() ?? [])] };
  const names = nameIndex(policy.filesystem);
  const s: Search = { finder: new Facts(self), names, packages: packagesIndex(names), inPackages: false, rules, rulePaths: new Set(rules.map((r) => r.path)), self, startMs: start?.wallMs, fsTypes: new Map(), pins: [], pending: [], old: undefined, out: new TreeBuilder(undefined), split: undefined };
  // Absolute protected paths first: the walk then does not enter what they protect as a whole. Then the hidden paths' pins.
  const enterable = (path: string): boolean => s.finder.enterable(path);
  const probe = { state: lstatState, enterable };
  const versionedPaths = versionedRcPaths(policy.filesystem.protectPaths ?? []);
  const versioned = pathFacts(rules, versionedPaths, probe);
  for (const fact of [...ownPathFacts(policy, probe), ...versioned, ...deniedPathFacts(rules, probe), ...missingDeniedFacts(policy, probe)]) s.finder.add(fact.path, fact.state, fact.pins);
  // A root at or inside a protected path (`--allow-write ~/.config/autostart`) is kept read-only whole; so is one at or inside a protected name (below).
  for (const fact of rootsInPaths(rules, [...rootProtectingPaths(policy), ...versionedPaths], probe)) s.finder.add(fact.path, fact.state, fact.pins, fact.why);
  const trees = [];
  for (const root of writableRoots(rules)) {
    const st = dirStat(root);
    if (st === undefined || s.finder.has(root)) continue;
    const at = rootNames(names, root);
    if (at.whole) {
      const state = lstatState(root);
      if (state !== 'missing' && state !== 'inaccessible') s.finder.add(root, state, [], ROOT_IN_PROTECTED_WHY);
      continue;
    }
    if (!st.isDirectory()) continue;
    // The rest of each name the root's path begins (a root `<p>/.git`: its `hooks`, `config`), at its top.
    if (at.rules.length > 0) namesIn(s.finder, indexOf(at.rules), root, undefined, true, []);
    s.old = cacheDir === undefined || start === undefined ? undefined : readScanCache(cacheDir, root, names.keys, start);
    s.out = new TreeBuilder(s.old);
    const split = new ScanSplit({ filesystem: { protect: policy.filesystem.protect, protectExisting: policy.filesystem.protectExisting }, rules, self, startMs: s.startMs, old: s.old?.a }, options.split);
    s.split = split;
    try {
      visit(s, root, '', st, s.old === undefined ? -1 : 0, true);
    } finally {
      s.split = undefined;
      options.split?.onEnd?.(split.end());
    }
    trees.push({ root, ...s.out.finish() });
  }
  for (const fact of linkedFacts(s.finder.linked)) s.finder.add(fact.path, fact.state, fact.pins, fact.why);
  // The git directories not named `.git` that the walk's `.git` files, `HEAD`s and `commondir`s lead to: protected as a `.git` is.
  const pointers = new GitPointers();
  const gitDirs = addGitDirFacts(s.finder, s.finder.facts(), names, gitDirProbe(rules, enterable), pointers);
  const gitReads = new GitConfigReads();
  for (const fact of gitTargetFacts(rules, s.finder.facts(), env, enterable, gitReads, options.gitPlaces, { pointers, gitDirs })) s.finder.add(fact.path, fact.state, fact.pins);
  return { facts: s.finder.facts(), gitReads, trees };
}

/** What resolving a git directory's path takes from the host and the policy (git-dirs.ts). */
function gitDirProbe(rules: readonly MountRule[], enterable: (path: string) => boolean): GitDirProbe {
  const roots = writableRoots(rules);
  return {
    state: lstatState,
    enterable,
    replaceable: (path) => isWritable(rules, dirname(path)),
    inWritable: (path) => roots.some((root) => isWithin(path, root)),
  };
}

/**
 * The absolute protected paths whose inside is protected too: all but the
 * directories protected only for being on PATH (path-dirs.ts), inside which
 * a writable path is fine (the sandbox cannot add a name to the directory
 * itself), and which a writable path cannot be (the run is refused).
 */
function rootProtectingPaths(policy: Policy): string[] {
  const onPath = new Set((policy.filesystem.protectWhy ?? []).map((w) => w.path));
  return (policy.filesystem.protectPaths ?? []).filter((path) => !onPath.has(path));
}

/**
 * What the configuration of the repositories found (and of the git
 * directories with other names, git-dirs.ts) makes git run or read
 * (git-repos.ts): each hooks directory and included file inside a writable
 * root, protected as a whole; a hooks directory that is a writable root
 * itself by the hook names in it.
 */
function gitTargetFacts(rules: readonly MountRule[], found: readonly ProtectFact[], env: Readonly<Record<string, string | undefined>>, enterable: (path: string) => boolean, reads: GitConfigReads, places: GitPlaces | undefined, git: { pointers: GitPointers; gitDirs: readonly string[] }): ProtectFact[] {
  const { hooks, include, anchors } = gitTargets(found, env, reads, places, git.pointers, git.gitDirs);
  const roots = new Set(writableRoots(rules));
  const atRoots = hooks.filter((dir) => roots.has(dir)).flatMap((dir) => GIT_HOOK_NAMES.map((name) => join(dir, name)));
  // A directory a path leaves by `..` is kept as it is (read-only, or blocked where missing): made a link, it would lead elsewhere.
  return pathFacts(rules, [...hooks, ...include, ...atRoots, ...anchors], { state: lstatState, enterable });
}

/**
 * Find every protected name under each writable root, at any depth.
 * A name that exists is protected wherever it is. A missing one is blocked
 * for the run (a placeholder is mounted): a single name (`.bashrc`) at the
 * top of each root; a nested name (`.git/hooks`) wherever its parent
 * directory exists, and at the top of each root also when directories on
 * the way are missing: then the first missing one is blocked (no `.git`,
 * `.github` or `.config` can be created there, so nothing can be put
 * beneath). `.git` files (worktree and submodule pointers) are protected
 * too: rewriting one would redirect git to another hooks directory.
 * With `cacheDir`, unchanged directories are not listed again. What the
 * search saw is kept for the search after the run (scan-seen.ts).
 */
export function scanProtected(policy: Policy, options: ScanOptions = {}): ProtectFact[] {
  return scanProtectedAndGit(policy, options).facts;
}

/** scanProtected, and git's configuration files as it read them; with nothing to search, git's own for this user. */
export function scanProtectedAndGit(policy: Policy, options: ScanOptions = {}): ProtectScan {
  // A hidden path inside a writable root has directories to pin (own-paths.ts, deniedPathFacts), and a missing one a placeholder.
  const hides = policy.filesystem.mounts.some((r) => r.kind === 'deny') || missingHiddenPaths(policy.filesystem.skipped).length > 0;
  if (!protectsAnything(policy.filesystem) && !hides) {
    const gitReads = new GitConfigReads();
    gitTargets([], options.env ?? {}, gitReads, options.gitPlaces);
    return { facts: [], gitReads };
  }
  const clock = options.clock ?? scanClock;
  const start = clock();
  const { trees, ...result } = search(policy, options.cacheDir, start, options);
  if (start === undefined) return result;
  const end = clock();
  // The wall clock went back during the search: its reuse of listings is not proven; search again without them.
  if (end === undefined || !clockTrusted(start, end)) {
    const { facts, gitReads } = search(policy, undefined, undefined, options);
    return { facts, gitReads };
  }
  const names = nameIndex(policy.filesystem).keys;
  // The search after the run (run/after-run-scan.ts) takes its listings from these trees.
  recordSeen(result.facts, { clock: start, names, trees: new Map(trees.map((t) => [t.root, t.tree])) });
  if (options.cacheDir === undefined) return result;
  for (const { root, tree, changed } of trees) {
    if (changed) writeScanCache(options.cacheDir, { root, names, clock: start }, tree);
  }
  return result;
}

/** What the search after a run (run/after-run-scan.ts) takes from the policy: the same roots and names as this search. */
export interface SearchScope {
  /** The roots, but those at or inside a protected name: read-only whole during the run. */
  roots: string[];
  names: NameIndex;
  /** The names at the top of each root whose path begins some (a root `<p>/.git`: `names` and `hooks`, `config`, ...): rootNames. */
  tops: ReadonlyMap<string, NameIndex>;
  /** Paths inside the roots with a rule of their own that does not make them writable: not searched. */
  notWritable: ReadonlySet<string>;
}

export function searchScope(policy: Policy): SearchScope {
  const rules = policy.filesystem.mounts;
  const names = nameIndex(policy.filesystem);
  const roots = writableRoots(rules).map((root) => ({ root, at: rootNames(names, root) }));
  return {
    roots: roots.filter(({ at }) => !at.whole).map(({ root }) => root),
    names,
    tops: new Map(roots.filter(({ at }) => !at.whole && at.rules.length > 0).map(({ root, at }) => [root, indexOf([...names.rules, ...at.rules])])),
    notWritable: new Set(rules.filter((r) => !isWritable(rules, r.path)).map((r) => r.path)),
  };
}
