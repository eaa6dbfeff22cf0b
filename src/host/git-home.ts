/**
 * Host facts: the user's other repositories in a home directory the
 * sandbox sees read-only (`dev`), so that their configuration is shown
 * without its secrets, as the project's is. A developer who cloned with a
 * token in the URL (`https://me:ghp_...@github.com/...`) has it in
 * `~/src/other/.git/config`, and a command run in one project, with the
 * host network, must not read the token of another.
 *
 * Walking a whole home on every run costs too much (caches and toolchains
 * hold tens of thousands of directories), so this walk is bounded: it
 * lists directories to five levels below the home (`~/go/src/github.com/
 * org/repo`), does not enter hidden directories (`.cache`, `.cargo`,
 * `.config`) nor `node_modules` (one that is a repository itself, `~/.dotfiles`,
 * is still looked up by name), and stops at each repository it finds
 * (its tree is that project's own; its submodules' configurations are read
 * from its git directory, git-repos.ts); a bare repository (a mirror) is
 * found by its own names. Read-only paths inside the home
 * that a profile names are walked the same way. Listings are kept between
 * runs by the rules of the protected-name search (scan-cache.ts), so an
 * unchanged home costs one lstat per directory walked.
 */
import type { ProtectFact } from '../backends/types.js';
import type { MountRule } from '../profile/types.js';
import { effectiveKind, isWithin } from '../profile/mount-rules.js';
import { PACKAGES_DIR } from './protect-names.js';
import { walkForGit, type GitWalk, type ReadOnlyGitOptions } from './git-read-only.js';

/** Levels below the home that are listed: `~/go/src/github.com/org/repo` is five. */
export const HOME_GIT_DEPTH = 5;

/** The cache's key (see git-read-only.ts): with bare repositories among the hits. */
const CACHE_KEY = '\0git-home\0bare';

/**
 * Hidden directories and installed packages: not where a user keeps projects, and where most of a home's directories
 * are. And a name that is not UTF-8 (an old archive unpacked in `~/Downloads`): isolate names every path it shows as
 * text, so it could show no copy there; not a reason to stop every run.
 */
const notProjects = (name: string): boolean => name.startsWith('.') || name === PACKAGES_DIR || name.includes('\uFFFD');

/** The read-only directories of the home outside the working directory: the home itself, or the paths inside it a rule shows read-only. */
function homeStarts(rules: readonly MountRule[], cwd: string, home: string): string[] {
  const outside = (path: string): boolean => path !== cwd && !isWithin(path, cwd);
  const candidates = [home, ...rules.filter((r) => r.kind === 'read' && r.type === 'dir' && isWithin(r.path, home)).map((r) => r.path)];
  const dirs = [...new Set(candidates)].filter((path) => outside(path) && effectiveKind(rules, path) === 'read');
  return dirs.filter((d) => !dirs.some((o) => o !== d && isWithin(d, o)));
}

/** Each `.git` of the user's repositories that the sandbox sees read-only in the home (`home`, a real path), outside the working directory. */
export function homeGitEntries(rules: readonly MountRule[], cwd: string, home: string | undefined, options: ReadOnlyGitOptions = {}): ProtectFact[] {
  if (home === undefined || home === '/' || home === cwd || isWithin(home, cwd)) return [];
  const walk: GitWalk = { starts: homeStarts(rules, cwd, home), excluded: [cwd], bounds: { maxDepth: HOME_GIT_DEPTH, skip: notProjects }, cacheKey: CACHE_KEY };
  return walkForGit(rules, walk, options);
}
