/**
 * After a run, in one directory: the protected names there that the run
 * created, moved aside (the search around it is after-run-scan.ts). A name
 * is followed segment by segment through directories held open (no link
 * followed): it counts where it ends, where a symbolic link or a pointer
 * file stands on the way (a `.git` linked elsewhere, a second jj
 * workspace's `.jj/repo` file naming its repository), and a `.git` file
 * counts on its own. A directory on the way that cannot be examined is moved aside
 * whole, unless the sandbox could never have entered it.
 */
import { lstatSync, type Stats } from 'node:fs';
import { errnoCode } from '../errors.js';
import { PACKAGES_DIR, isPointerFile, nameKey, type NameIndex } from '../host/protect-names.js';
import { entryAt, entryPath, openChild, openDir, type DirHandle, type EntryName } from './dir-handle.js';
import { isEmpty, unexaminedReason, type Step } from './quarantine.js';
import { linksInGitDir, type GitEntry } from './git-links.js';
import { changedGitStates } from './git-states.js';
import { chainOf, localTimes, moveAndRecord, neverEntered, openFrames, unchangedSinceRun, type Frame, type Walk } from './after-run-walk.js';

/** A name found: the steps from the directory to it, and why it is moved when it is a directory that could not be examined. */
interface Found {
  steps: Step[];
  reason?: string;
}

/** The entries among a directory's that begin a protected name (or are `.git`), by nameKey. */
function hitsOf(index: NameIndex, names: readonly EntryName[]): Map<string, string> {
  const hits = new Map<string, string>();
  for (const name of names) if (typeof name === 'string' && (index.keySet.has(nameKey(name)) || nameKey(name) === nameKey('.git'))) hits.set(nameKey(name), name);
  return hits;
}

function lstatOf(dir: DirHandle, name: EntryName): Stats | string {
  try {
    return lstatSync(entryAt(dir, name));
  } catch (e: unknown) {
    return errnoCode(e) ?? String(e);
  }
}

/** Follow `segments` (the first as the directory spells it; `above`: the name's directories above `dir`, rootNames) from `dir`; record what counts in `found`, keep every handle opened in `opened`. */
function follow(w: Walk, dir: DirHandle, segments: readonly string[], above: readonly string[], found: Map<string, Found>, opened: DirHandle[]): void {
  const steps: Step[] = [];
  // What cannot be examined (the directory holding a name, one out of descriptors could not open) goes whole.
  const unexamined = (code: string): void => {
    const reason = unexaminedReason(code, 'examined');
    if (reason !== undefined) found.set(steps.map((s) => s.name).join('/'), { steps: [...steps], reason });
  };
  let cur = dir;
  for (const [i, name] of segments.entries()) {
    const st = lstatOf(cur, name);
    if (typeof st === 'string') return unexamined(st);
    steps.push({ dir: cur, name });
    // A link on the way stands for the name, and so does a pointer file (protect-names.ts).
    const pointer = st.isFile() && isPointerFile([...above, ...steps.map((s) => String(s.name))]);
    if (st.isSymbolicLink() || pointer || i === segments.length - 1) return void found.set(steps.map((s) => s.name).join('/'), { steps: [...steps] });
    if (!st.isDirectory() || neverEntered(w, st, cur, name)) return;
    try {
      cur = openChild(cur, name);
      opened.push(cur);
    } catch (e: unknown) {
      return unexamined(errnoCode(e) ?? String(e));
    }
  }
}

/**
 * What the run left in the git directory `git` of `dir` for host git to act on: the links placed in it
 * (git-links.ts), and a rebase, cherry-pick or revert it started or changed (git-states.ts). A git directory that was not
 * pinned for the run and changed since its start (made, or moved in whole) counts as the run's whole: its old links
 * and states are new there.
 */
function gitLeftovers(w: Walk, dir: DirHandle, git: string, st: Stats, opened: DirHandle[]): GitEntry[] {
  const movedIn = !w.pinned.has(entryPath(dir, git)) && !unchangedSinceRun(w, st, dir, git);
  const sinceMs = localTimes(w, st, dir, git) ? w.sinceMs : undefined;
  const links = linksInGitDir(dir, git, { sinceMs, kept: w.existed }, movedIn, opened) ?? [];
  return [...links, ...changedGitStates(dir, git, { sinceMs, movedIn }, opened)];
}

/** Whether the top frame's directory is a package manager's directory or below one (not counting the root's own name). */
const inPackages = (frames: readonly Frame[]): boolean => frames.some((f, i) => i > 0 && typeof f.name === 'string' && nameKey(f.name) === nameKey(PACKAGES_DIR));

/**
 * Move aside the protected names the run created in the top frame's
 * directory (`names`: its entries). True when the directory itself had to
 * be moved instead (its frames are gone).
 */
export function createdIn(w: Walk, frames: Frame[], names: readonly EntryName[]): boolean {
  const index = frames.length === 1 && w.top !== undefined ? w.top : inPackages(frames) ? w.packages : w.index;
  const hits = hitsOf(index, names);
  if (hits.size === 0) return false;
  const dir = openFrames(w, frames);
  const found = new Map<string, Found>();
  const opened: DirHandle[] = [];
  try {
    for (const rule of index.rules) {
      const first = hits.get(nameKey(rule.segments[0] ?? ''));
      if (first !== undefined) follow(w, dir, [first, ...rule.segments.slice(1)], rule.above ?? [], found, opened);
    }
    // A `.git` that is not a directory (a worktree or submodule pointer, a link): it would send git to other hooks.
    const git = hits.get(nameKey('.git'));
    const gitSt = git === undefined ? undefined : lstatOf(dir, git);
    if (git !== undefined && typeof gitSt !== 'string' && gitSt?.isDirectory() === false) found.set(git, { steps: [{ dir, name: git }] });
    // Links among git's own files, through which git on the host would write elsewhere, and a rebase's next steps.
    if (git !== undefined && typeof gitSt !== 'string' && gitSt?.isDirectory() === true) {
      for (const f of gitLeftovers(w, dir, git, gitSt, opened)) found.set(f.steps.map((s) => String(s.name)).join('/'), f);
    }
    const chain = chainOf(frames);
    for (const f of [...found.values()].sort((a, b) => b.steps.length - a.steps.length)) {
      // No steps: the directory itself could not be examined (it can be listed, not searched).
      const target = [...chain, ...f.steps];
      const last = target[target.length - 1];
      if (last === undefined) {
        w.out.push({ path: dir.path, movedTo: null, reason: 'the writable path could not be searched after the run', error: f.reason ?? 'unknown' });
        continue; // a writable root is never moved
      }
      if (f.steps.length > 0 && w.existed.has(entryPath(last.dir, last.name))) continue;
      if (f.reason === undefined && isEmpty(last)) continue;
      if (moveAndRecord(w, frames, target, f.reason)) return true;
    }
    return false;
  } finally {
    for (const h of opened) h.close();
  }
}

/**
 * A writable root that is a repository's git directory or lies inside one
 * (`--allow-write .git`, `--allow-write .git/logs`): what the run left in it
 * for host git to act on, links and a rebase's next steps (gitLeftovers), as
 * for a `.git` found in a directory searched. Only what lies in the root
 * counts (the rest of the git directory was not writable); the git directory
 * was not moved in by the run (the root is a mount point in the sandbox).
 */
export function leftInGitRoot(w: Walk, frames: Frame[], root: string): void {
  const parts = root.split('/');
  const at = parts.map(nameKey).lastIndexOf(nameKey('.git'));
  const git = parts[at];
  if (at < 1 || git === undefined) return;
  const opened: DirHandle[] = [];
  try {
    const dir = openDir(parts.slice(0, at).join('/') || '/');
    opened.push(dir);
    const st = lstatOf(dir, git);
    if (typeof st === 'string' || !st.isDirectory()) return;
    const sinceMs = localTimes(w, st, dir, git) ? w.sinceMs : undefined;
    const found = [...(linksInGitDir(dir, git, { sinceMs, kept: w.existed }, false, opened) ?? []), ...changedGitStates(dir, git, { sinceMs, movedIn: false }, opened)];
    for (const f of found.sort((a, b) => b.steps.length - a.steps.length)) {
      const last = f.steps[f.steps.length - 1];
      if (last === undefined) continue;
      const path = entryPath(last.dir, last.name);
      if (!path.startsWith(`${root}/`) || w.existed.has(path)) continue;
      moveAndRecord(w, frames, f.steps, f.reason);
    }
  } catch {
    return; // the directories above the root cannot be opened: git on the host, as the same user, could not reach it either
  } finally {
    for (const h of opened) h.close();
  }
}
