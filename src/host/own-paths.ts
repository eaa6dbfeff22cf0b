/**
 * Host facts for the absolute protected paths (profile/own-paths.ts):
 * isolate's own directories and the XDG configuration that host programs
 * run code from. For each one inside a writable root, the walk from the root
 * down to it gives the directories to pin and what to protect: the path
 * itself when it exists, else the topmost missing directory on the way (a
 * placeholder there keeps the command from creating the whole path), or the
 * first thing on the way that is not a directory or that the sandbox cannot
 * enter (its owner could open it with chmod). A symbolic link on the way
 * is reported as such, and refused by protectOps: the command could swap it.
 * The same walk gives the directories to pin above each path the profile
 * hides inside a writable root (deniedPathFacts).
 */
import { join, relative } from 'node:path';
import { IsolateError, errnoCode } from '../errors.js';
import type { MountRule, Policy } from '../profile/types.js';
import { registerStateDir } from '../profile/state-registry.js';
import { isolateStateDir } from '../profile/own-paths.js';
import { missingHiddenPaths } from '../profile/mount-rules.js';
import { effectiveKind, isWithin, isWritable, writableRoots } from '../backends/mounts.js';
import type { ProtectFact } from '../backends/types.js';
import { makeOwnDir } from '../own-dir.js';

export type PathState = ProtectFact['state'] | 'inaccessible';

/** What the walk needs from the host: the state of a path (lstat) and whether the sandbox could enter a directory. */
export interface WalkProbe {
  state(path: string): PathState;
  enterable(path: string): boolean;
}

/** The fact that protects `target` (absolute, strictly inside `root`), or undefined when the sandbox cannot reach it. */
export function ownPathFact(root: string, target: string, probe: WalkProbe): ProtectFact | undefined {
  const segments = relative(root, target).split('/');
  const pins: string[] = [];
  let path = root;
  for (const [i, segment] of segments.entries()) {
    path = join(path, segment);
    const state = probe.state(path);
    if (state === 'inaccessible') return undefined;
    const last = i === segments.length - 1;
    // A directory the sandbox cannot enter is kept read-only itself: it costs the command nothing, and its
    // owner's command could otherwise open it (chmod) and reach the path, in this run or after a run that locked it.
    if (state !== 'dir' || last || !probe.enterable(path)) return { path, state, pins };
    pins.push(path);
  }
  return undefined;
}

/**
 * Facts for every absolute protected path inside a writable root of the
 * policy, also one that is hidden there (isolate's own directories, where
 * they exist): the directories on the way to it are pinned, or the command
 * could move the hidden directory aside and put one of its own where isolate
 * looks next (a forged audit log, a runtime directory it can see into).
 */
export function ownPathFacts(policy: Policy, probe: WalkProbe): ProtectFact[] {
  return pathFacts(policy.filesystem.mounts, policy.filesystem.protectPaths ?? [], probe);
}

/** Facts for absolute paths to protect (`targets`) wherever they are inside a writable root of `rules`. */
export function pathFacts(rules: readonly MountRule[], targets: readonly string[], probe: WalkProbe): ProtectFact[] {
  const facts: ProtectFact[] = [];
  for (const target of targets) {
    const kind = effectiveKind(rules, target);
    if (kind !== 'write' && kind !== 'deny') continue;
    for (const root of writableRoots(rules)) {
      if (target === root || !isWithin(target, root)) continue;
      const fact = ownPathFact(root, target, probe);
      if (fact !== undefined) facts.push(fact);
    }
  }
  return facts;
}

/** Why a writable root is kept read-only whole (rootsInPaths, and protect-scan.ts for a root at or inside a protected name): explain's note. */
export const ROOT_IN_PROTECTED_WHY = 'a writable path at or inside a protected name or path, which stays read-only whatever the profile makes writable: read-only whole for the run (change it outside the sandbox)';

/**
 * Facts for the writable roots that lie at or inside an absolute protected
 * path (`--allow-write ~/.config/autostart`, the file `~/.bashrc` given as
 * a writable path): each is kept read-only as a whole, as the path is where
 * a root holds it. One the sandbox cannot reach needs nothing.
 */
export function rootsInPaths(rules: readonly MountRule[], targets: readonly string[], probe: WalkProbe): ProtectFact[] {
  const facts: ProtectFact[] = [];
  for (const root of writableRoots(rules)) {
    if (!targets.some((target) => isWithin(root, target))) continue;
    const state = probe.state(root);
    if (state !== 'missing' && state !== 'inaccessible') facts.push({ path: root, state, pins: [], why: ROOT_IN_PROTECTED_WHY });
  }
  return facts;
}

/**
 * Facts for the profile's hidden paths (deny rules) inside a writable root:
 * the directories on the way to each are pinned, or the command could rename
 * one (`mv config config2`) and read the hidden file under a name no rule
 * hides, later in the run or in the next one. A hidden path that is a mount
 * point itself needs nothing more: it cannot be renamed. Only the path itself
 * counts (it existed when the profile was resolved; if it is gone since,
 * there is nothing to keep in place, and no placeholder is made where a
 * directory on the way went missing), and a symbolic link on the way, which
 * protectOps refuses: a directory swapped for a link since the profile was
 * resolved.
 */
export function deniedPathFacts(rules: readonly MountRule[], probe: WalkProbe): ProtectFact[] {
  const targets = [...new Set(rules.filter((r) => r.kind === 'deny').map((r) => r.path))];
  return targets.flatMap((target) => pathFacts(rules, [target], probe).filter((f) => f.path === target || f.state === 'symlink'));
}

/**
 * Facts for the profile's hidden paths that do not exist, inside a writable
 * root (`deny: ["${CWD}/.env"]` before there is one): the first name on the
 * way that is missing gets a placeholder, as a missing protected name does.
 * Otherwise the path is only skipped (nothing to hide), and a file a host
 * program makes there during the run (`vercel env pull`, an editor) would
 * be the command's to read. With the placeholder there, neither the command
 * nor a host program can make it: a host program that replaces the
 * placeholder stops the run (replaced-guard.ts). Only what is still missing
 * counts: a path made since the profile was resolved is left as it is.
 */
export function missingDeniedFacts(policy: Policy, probe: WalkProbe): ProtectFact[] {
  return pathFacts(policy.filesystem.mounts, missingHiddenPaths(policy.filesystem.skipped), probe).filter((f) => f.state === 'missing');
}

/**
 * isolate's state directory exists before a run that could otherwise hold a
 * placeholder where it goes: concurrent runs record themselves there.
 */
export function ensureStateDir(policy: Policy, env: Readonly<Record<string, string | undefined>>): void {
  registerStateDir(env);
  const dir = isolateStateDir(env);
  if (dir === undefined || !isWritable(policy.filesystem.mounts, dir)) return;
  try {
    makeOwnDir(dir);
  } catch (e: unknown) {
    throw new IsolateError('E_IO', `cannot create isolate's state directory ${dir}: ${errnoCode(e) ?? String(e)}`, { cause: e });
  }
}
