/**
 * Symbolic links among git's own files. git writes several files of its
 * directory by opening them, which follows a link there: `COMMIT_EDITMSG`
 * (the message of every commit), `MERGE_MSG`, `SQUASH_MSG`, `TAG_EDITMSG`,
 * `FETCH_HEAD`, the reflogs (`logs/HEAD`, `logs/refs/heads/<branch>`: a
 * line appended each time a branch moves, naming the branch it came from),
 * and the files of a rebase or a cherry-pick in progress. A link the run put
 * there (`.git/logs/HEAD -> ~/.bashrc`) would have the user's next git
 * command on the host write outside every writable path, with a text the
 * command can choose (a branch named `x;cmd;` becomes a line of the user's
 * shell). git makes no links in its directory itself; one placed there
 * during the run is moved aside after it like a protected name
 * (after-run-names.ts). Links older than the run (tools such as
 * git-new-workdir make a git directory of links) are left alone.
 *
 * Placed during the run: a link whose change time is since the run's start
 * (made, or renamed there: a rename sets it), or any link below a directory
 * of the git directory whose change time is (a directory of old links from
 * an earlier run, moved in whole). A git directory that was not pinned for
 * the run (a new repository, or one moved in) counts as such a directory
 * itself. The loose-object directories (`objects/ab`) are not searched: git
 * writes an object by renaming a new file into place, which follows no link.
 */
import { lstatSync, readdirSync, type Stats } from 'node:fs';
import { errnoCode } from '../errors.js';
import { entryAt, entryName, entryPath, openChild, type DirHandle, type EntryName } from './dir-handle.js';
import { unexaminedReason, type Step } from './quarantine.js';
import { changedInRun } from './after-run-walk.js';

/** How deep below a git directory links are looked for; a directory deeper is moved aside whole (git makes none: refs nest by the slashes of a branch name). */
export const MAX_GIT_DEPTH = 64;

/** A link found (the steps from the directory holding the git directory to it), or a directory moved aside whole, with why. */
export interface GitEntry {
  steps: Step[];
  reason?: string;
}

interface Search {
  /** The run's start (wall clock), or undefined when change times cannot tell: then every link counts. */
  sinceMs: number | undefined;
  /** Directories kept read-only as a whole during the run (.git/hooks): the command could put nothing in them. */
  kept: ReadonlySet<string>;
  opened: DirHandle[];
  out: GitEntry[];
}

const LOOSE_OBJECTS = /^[0-9a-f]{2}$/;

/**
 * What git writes by opening it, in its directory (or below, for `logs` and
 * a rebase's or cherry-pick's directories): looked at by name when the git
 * directory cannot be listed (a command can take the read permission away
 * and keep the search permission, which is all git needs to open these).
 * A subdirectory that cannot be listed is moved aside whole.
 */
const GIT_OPENS = [
  'COMMIT_EDITMSG',
  'MERGE_MSG',
  'SQUASH_MSG',
  'TAG_EDITMSG',
  'NOTES_EDITMSG',
  'EDIT_DESCRIPTION',
  'FETCH_HEAD',
  'MERGE_HEAD',
  'MERGE_MODE',
  'ORIG_HEAD',
  'AUTO_MERGE',
  'CHERRY_PICK_HEAD',
  'REVERT_HEAD',
  'BISECT_LOG',
  'BISECT_START',
  'BISECT_TERMS',
  'BISECT_EXPECTED_REV',
  'gitk.cache',
  'logs',
  'rebase-merge',
  'rebase-apply',
  'sequencer',
];

/** The names in `here`, each with whether it is a regular file; for the git directory itself (`top`) that cannot be listed, GIT_OPENS. */
function namesIn(here: DirHandle, top: boolean): { name: EntryName; file: boolean }[] {
  try {
    return readdirSync(here.self, { withFileTypes: true, encoding: 'buffer' }).map((e) => ({ name: entryName(e.name), file: e.isFile() }));
  } catch (e: unknown) {
    if (!top) throw e;
    return GIT_OPENS.map((name) => ({ name, file: false }));
  }
}

/** Whether `name` in the directory `chain` reaches is a loose-object directory (`objects/ab` of the git directory). */
const looseObjects = (chain: readonly Step[], name: EntryName): boolean => chain.length === 2 && chain[1]?.name === 'objects' && typeof name === 'string' && LOOSE_OBJECTS.test(name);


/**
 * The links placed during the run anywhere in the git directory `name` of
 * `dir` (not following links), and the directories below it that could not
 * be searched. `movedIn`: the git directory itself counts as placed during
 * the run; `at.kept`: directories not searched. Every handle opened is pushed to `opened`. Undefined when the git
 * directory cannot be entered: git on the host, as the same user, could not
 * open anything in it either.
 */
export function linksInGitDir(dir: DirHandle, name: EntryName, at: { sinceMs: number | undefined; kept: ReadonlySet<string> }, movedIn: boolean, opened: DirHandle[]): GitEntry[] | undefined {
  const s: Search = { ...at, opened, out: [] };
  try {
    const gitDir = openChild(dir, name);
    opened.push(gitDir);
    lstatSync(entryAt(gitDir, '.')); // throws when it cannot be searched
    searchIn(s, gitDir, [{ dir, name }], movedIn, 0);
  } catch {
    return undefined;
  }
  return s.out;
}

/** The entries of `here` (reached by `chain`); throws when it cannot be listed. */
function searchIn(s: Search, here: DirHandle, chain: readonly Step[], under: boolean, depth: number): void {
  for (const { name, file } of namesIn(here, chain.length === 1)) {
    if (file) continue;
    const steps = [...chain, { dir: here, name }];
    let st: Stats;
    try {
      st = lstatSync(entryAt(here, name));
    } catch (e: unknown) {
      if (errnoCode(e) !== 'ENOENT') s.out.push({ steps, reason: `could not be examined after the run (${errnoCode(e) ?? String(e)}): moved aside whole` });
      continue;
    }
    if (st.isSymbolicLink()) {
      if (under || changedInRun(s.sinceMs, st)) s.out.push({ steps });
    } else if (st.isDirectory() && !looseObjects(chain, name) && !s.kept.has(entryPath(here, name))) {
      searchDir(s, steps, under || changedInRun(s.sinceMs, st), depth + 1);
    }
  }
}

/** Search the directory the last of `steps` names, or record it to be moved aside whole when it cannot be. */
function searchDir(s: Search, steps: Step[], under: boolean, depth: number): void {
  const last = steps[steps.length - 1] as Step;
  if (depth > MAX_GIT_DEPTH) return void s.out.push({ steps, reason: `more than ${MAX_GIT_DEPTH} directories deep in a git directory: moved aside whole, not searched` });
  const cannot = (e: unknown): string | undefined => unexaminedReason(errnoCode(e) ?? String(e), 'searched');
  let handle: DirHandle;
  try {
    handle = openChild(last.dir, last.name);
  } catch (e: unknown) {
    const reason = cannot(e);
    return void (reason === undefined || s.out.push({ steps, reason }));
  }
  const before = s.out.length;
  try {
    searchIn(s, handle, steps, under, depth);
  } catch (e: unknown) {
    const reason = cannot(e);
    if (reason !== undefined) s.out.push({ steps, reason });
  }
  // Kept open while what was found in it is still to be moved: its handle is their step's directory.
  if (s.out.length > before) s.opened.push(handle);
  else handle.close();
}
