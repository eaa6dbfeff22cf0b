/**
 * Host facts: the files by which git finds a git directory elsewhere, read as
 * git reads them. A `.git` file (a linked worktree's, a submodule's, `git
 * init --separate-git-dir`'s, the bare clone and worktrees layout's `gitdir:
 * ./.bare`) names the git directory of the directory it is in; a git
 * directory's `commondir` names the one it shares config, hooks, objects and
 * refs with (a linked worktree's). Each gives the path as git builds it
 * before it resolves it (setup.c: read_gitfile_gently, get_common_dir_noenv):
 * a relative one follows the directory of the file it was read from, with
 * no `..` or link resolved yet (git-dirs.ts resolves it as git does).
 */
import { lstatSync } from 'node:fs';
import { dirname, isAbsolute } from 'node:path';
import { IsolateError } from '../errors.js';
import { readSmallFile } from './small-file.js';

/** The most a `.git` file may weigh: git refuses a larger one (setup.c, max_file_size). */
const MAX_GITFILE_BYTES = 1024 * 1024;
/** The most a `commondir` file is read: git reads any size; a larger one refuses the run (it cannot be followed here). */
const MAX_COMMONDIR_BYTES = 1024 * 1024;
const PREFIX = 'gitdir: ';

/** `text` up to its first NUL (git handles it as a C string), without the line ends git strips from its end. */
function asGitReads(text: string): string {
  const nul = text.indexOf('\0');
  return (nul < 0 ? text : text.slice(0, nul)).replace(/[\r\n]+$/, '');
}

/** `value` as a path from the directory of `file`, as git joins them: a relative one after that directory's path. */
const from = (file: string, value: string): string => (isAbsolute(value) ? value : `${dirname(file)}/${value}`);

/**
 * The path the `.git` file `file` names, as git builds it, or undefined where git finds no git directory through it
 * (no `gitdir: ` at its start, no path, larger than git reads, not a regular file, unreadable).
 */
export function gitFileTarget(file: string): string | undefined {
  const bytes = readSmallFile(file, { maxBytes: MAX_GITFILE_BYTES, exact: true });
  if (bytes === null || bytes === undefined) return undefined;
  const text = bytes.toString('utf8');
  if (!text.startsWith(PREFIX)) return undefined;
  const path = asGitReads(text).slice(PREFIX.length);
  return path === '' ? undefined : from(file, path);
}

/**
 * The path the `commondir` of the git directory `gitDir` names, as git builds it, or undefined when it has none (or
 * none git could read either). One too large to read here refuses the run: git would follow it.
 */
export function commonDirTarget(gitDir: string): string | undefined {
  const file = `${gitDir}/commondir`;
  const bytes = readSmallFile(file, { maxBytes: MAX_COMMONDIR_BYTES });
  if (bytes === null) return undefined;
  if (bytes === undefined) {
    let size = 0;
    try {
      size = lstatSync(file, { throwIfNoEntry: false })?.size ?? 0;
    } catch {
      return undefined; // not for git to read either
    }
    if (size <= MAX_COMMONDIR_BYTES) return undefined; // unreadable: git stops there too
    throw new IsolateError('E_IO', `cannot follow ${file}: it is larger than ${MAX_COMMONDIR_BYTES} bytes, and git would follow it to a git directory isolate could not protect`, {
      fix: `remove or repair ${file} (it holds one line: the path of the repository's shared git directory)`,
    });
  }
  const path = asGitReads(bytes.toString('utf8'));
  return path === '' ? undefined : from(file, path);
}

/** The pointers read during one search, each once: the protected-name search (git-dirs.ts) and the search of the repositories' configuration (git-repos.ts) share them. */
export class GitPointers {
  private readonly gitFiles = new Map<string, string | undefined>();
  private readonly commonDirs = new Map<string, string | undefined>();

  /** gitFileTarget, read once. */
  gitFile(file: string): string | undefined {
    if (!this.gitFiles.has(file)) this.gitFiles.set(file, gitFileTarget(file));
    return this.gitFiles.get(file);
  }

  /** commonDirTarget, read once. */
  commonDir(gitDir: string): string | undefined {
    if (!this.commonDirs.has(gitDir)) this.commonDirs.set(gitDir, commonDirTarget(gitDir));
    return this.commonDirs.get(gitDir);
  }
}
