/**
 * Host facts: the git repositories in the read-only part of the project, so
 * that their configuration is shown without its secrets (git-scrub.ts) as
 * that of a repository in a writable path is. `strict` shows the working
 * directory read-only, and a CI checkout there holds the job's token in
 * `.git/config` (actions/checkout's extraheader, GitLab's
 * `gitlab-ci-token:<token>@` remote), in each submodule's config, and in
 * every other repository the job checked out into its workspace. The
 * protected-name search walks only the writable paths; this walks what the
 * sandbox sees read-only at and below the working directory (the working
 * directory itself when it is read-only, and each read-only path inside it),
 * and reports each `.git` as that search does: a directory by its `config`,
 * a `.git` file (a submodule or a linked worktree) by itself. The rest of a
 * read-only system (/usr, /etc) is not searched, nor a readable home
 * directory (`dev`) beyond the working directory.
 */
import { readdirSync, statSync, type Dirent } from 'node:fs';
import { join } from 'node:path';
import { IsolateError, errnoCode } from '../errors.js';
import type { ProtectFact } from '../backends/types.js';
import type { MountRule } from '../profile/types.js';
import { effectiveKind, isWithin } from '../profile/mount-rules.js';

/** Where the walk starts: the working directory when it is read-only, and each read-only path inside it. */
function starts(rules: readonly MountRule[], cwd: string): string[] {
  const candidates = [cwd, ...rules.filter((r) => r.kind === 'read' && isWithin(r.path, cwd)).map((r) => r.path)];
  return [...new Set(candidates)].filter((path) => effectiveKind(rules, path) === 'read');
}

/** A directory's entries; none when the sandbox could not list it either (not there, not permitted). */
function entries(dir: string): Dirent[] {
  try {
    return readdirSync(dir, { withFileTypes: true });
  } catch (e: unknown) {
    const code = errnoCode(e);
    if (code === 'EACCES' || code === 'ENOENT' || code === 'ENOTDIR') return [];
    throw new IsolateError('E_IO', `cannot list ${dir} to find the git repositories the sandbox sees (their configuration may hold a token): ${code ?? String(e)}`, {
      cause: e,
      fix: `hide the directory (--deny ${dir}), or move it out of the working directory`,
    });
  }
}

/** A `.git` entry as the protected-name search reports it: a directory by its `config`, a `.git` file by itself. */
function gitFact(dir: string): ProtectFact | undefined {
  const path = join(dir, '.git');
  let st;
  try {
    st = statSync(path, { throwIfNoEntry: false });
  } catch {
    return undefined; // a link that leads nowhere git could read either
  }
  if (st?.isDirectory() === true) return { path: join(path, 'config'), state: 'file', pins: [] };
  return st?.isFile() === true ? { path, state: 'file', pins: [] } : undefined;
}

/** Each `.git` the sandbox sees read-only at or below the working directory `cwd`. */
export function readOnlyGitEntries(rules: readonly MountRule[], cwd: string): ProtectFact[] {
  const rulePaths = new Set(rules.map((r) => r.path));
  const seen = new Set<string>();
  const found: ProtectFact[] = [];
  const stack = starts(rules, cwd);
  for (let dir = stack.pop(); dir !== undefined; dir = stack.pop()) {
    if (seen.has(dir)) continue;
    seen.add(dir);
    for (const e of entries(dir)) {
      if (e.name === '.git') {
        const fact = gitFact(dir);
        if (fact !== undefined) found.push(fact);
      } else if (e.isDirectory()) {
        const sub = dir === '/' ? `/${e.name}` : `${dir}/${e.name}`;
        // A path with a rule of its own is searched here only while it is read-only (a writable one is the protected-name search's).
        if (!rulePaths.has(sub) || effectiveKind(rules, sub) === 'read') stack.push(sub);
      }
    }
  }
  return found;
}
