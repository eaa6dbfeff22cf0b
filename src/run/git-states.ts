/**
 * A rebase, cherry-pick or revert in progress, in the git directory: the
 * list of what git does next, which `--continue` (and `--skip`) carry out.
 * `rebase-merge/git-rebase-todo` holds `exec` lines, run by the shell;
 * `rebase-merge/strategy` and `sequencer/opts` name a merge program
 * (`git-merge-<name>`, a path from the working tree when the name holds a
 * slash); `rebase-apply` is `git am`'s and the apply backend's. A command
 * that stopped a rebase in the sandbox (a `break` line) with such a state,
 * or wrote into the user's own rebase in progress, would have the user's
 * next `git rebase --continue` run its code on the host. A state directory
 * the run made or changed (its own change time, or any entry's below it,
 * since the run's start) is moved aside whole after the run, like a
 * protected name it created; one the run did not touch is the user's, and
 * stays. What cannot be examined counts as changed.
 */
import { lstatSync, readdirSync, type Stats } from 'node:fs';
import { entryAt, entryName, openChild, type DirHandle, type EntryName } from './dir-handle.js';
import { changedInRun } from './after-run-walk.js';
import type { GitEntry } from './git-links.js';

/** The directories of a rebase (merge and apply backends) and of a cherry-pick or revert in progress. */
const STATE_DIRS = ['rebase-merge', 'rebase-apply', 'sequencer'];

/** How deep below a state directory change times are looked at; deeper (git makes nothing so deep) counts as changed. */
const MAX_STATE_DEPTH = 4;

const REASON = 'a rebase, cherry-pick or revert in progress that the run started or changed: its next steps (exec lines, a merge program) would run on the host at --continue';

/** Whether anything below `name` of `parent` changed since `sinceMs`, or cannot be told. */
function changedBelow(parent: DirHandle, name: EntryName, sinceMs: number | undefined, depth: number): boolean {
  if (depth > MAX_STATE_DEPTH) return true;
  let dir: DirHandle;
  try {
    dir = openChild(parent, name);
  } catch {
    return true;
  }
  try {
    for (const e of readdirSync(dir.self, { withFileTypes: true, encoding: 'buffer' })) {
      const child = entryName(e.name);
      const st = lstatSync(entryAt(dir, child));
      if (changedInRun(sinceMs, st) || (st.isDirectory() && changedBelow(dir, child, sinceMs, depth + 1))) return true;
    }
    return false;
  } catch {
    return true;
  } finally {
    dir.close();
  }
}

function lstatIn(dir: DirHandle, name: string): Stats | undefined {
  try {
    return lstatSync(entryAt(dir, name));
  } catch {
    return undefined;
  }
}

/**
 * The state directories in the git directory `git` of `dir` that the run
 * made or changed (every one, when the git directory itself is new to the
 * run: `movedIn`). The git directory's handle, when one is found, is pushed
 * to `opened`: it is their step's directory. Linked worktrees' and
 * submodules' git directories (`worktrees/`, `modules/`) are protected
 * names, read-only during the run: it could write no state there.
 */
export function changedGitStates(dir: DirHandle, git: EntryName, at: { sinceMs: number | undefined; movedIn: boolean }, opened: DirHandle[]): GitEntry[] {
  let gitDir: DirHandle;
  try {
    gitDir = openChild(dir, git);
  } catch {
    return []; // git on the host, as the same user, could not open anything in it either
  }
  const found: GitEntry[] = [];
  for (const name of STATE_DIRS) {
    const st = lstatIn(gitDir, name);
    if (st === undefined || !st.isDirectory()) continue; // a link there is git-links.ts's
    if (at.movedIn || changedInRun(at.sinceMs, st) || changedBelow(gitDir, name, at.sinceMs, 1)) found.push({ steps: [{ dir, name: git }, { dir: gitDir, name }], reason: REASON });
  }
  if (found.length > 0) opened.push(gitDir);
  else gitDir.close();
  return found;
}
