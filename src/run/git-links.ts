/**
 * Symbolic links among git's own files. git writes several files of its
 * directory by opening them, which follows a link there: `COMMIT_EDITMSG`
 * (the message of every commit), `MERGE_MSG`, `SQUASH_MSG`, `TAG_EDITMSG`,
 * `FETCH_HEAD`, and the directories of a rebase or a cherry-pick in
 * progress. A link the run put there (`.git/COMMIT_EDITMSG -> ~/.bashrc`)
 * would have the user's next git command on the host write outside every
 * writable path, with a text the command can choose (a planted `MERGE_MSG`
 * becomes the next commit's message). git makes no links there itself; a
 * link changed since the run started is moved aside after it like a
 * protected name (after-run-names.ts). Links older than the run (tools such
 * as git-new-workdir make a git directory of links) are left alone.
 */
import { lstatSync, readdirSync } from 'node:fs';
import { entryAt, entryName, openChild, type DirHandle, type EntryName } from './dir-handle.js';

/** How far before the run's start a link's change time may be and still count as the run's: the kernel stamps files from a clock that lags the wall clock by a tick. */
const CLOCK_SLACK_MS = 100;

/**
 * What git writes by opening it, in its directory: looked at by name when the
 * directory cannot be listed (a command can take the read permission away
 * and keep the search permission, which is all git needs to open these).
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
  'rebase-merge',
  'rebase-apply',
  'sequencer',
];

/** The entries of the git directory that are links: all of them when it can be listed, else those of GIT_OPENS. */
function linkNames(gitDir: DirHandle): EntryName[] {
  try {
    return readdirSync(gitDir.self, { withFileTypes: true, encoding: 'buffer' })
      .filter((e) => e.isSymbolicLink())
      .map((e) => entryName(e.name));
  } catch {
    return GIT_OPENS.filter((name) => lstatSync(entryAt(gitDir, name), { throwIfNoEntry: false })?.isSymbolicLink() === true);
  }
}

/**
 * The links directly in the git directory `name` of `dir` made since
 * `sinceMs` (every link when the clock or the file system cannot tell), with the handle they
 * were found through (pushed to `opened`). None when the directory cannot
 * be entered: git on the host, as the same user, could not open anything in it either.
 */
export function linksInGitDir(dir: DirHandle, name: EntryName, sinceMs: number | undefined, opened: DirHandle[]): { gitDir: DirHandle; links: EntryName[] } | undefined {
  let gitDir: DirHandle;
  try {
    gitDir = openChild(dir, name);
  } catch {
    return undefined;
  }
  opened.push(gitDir);
  try {
    const links = linkNames(gitDir).filter((link) => sinceMs === undefined || lstatSync(entryAt(gitDir, link)).ctimeMs >= sinceMs - CLOCK_SLACK_MS);
    return { gitDir, links };
  } catch {
    return undefined;
  }
}
