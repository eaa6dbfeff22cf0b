/**
 * Host facts: where git's own ways of writing a path in its configuration
 * lead, found as the git on this host finds them, without running git (a
 * `git` on PATH may be one a sandboxed command left in a writable
 * directory). `~user/` is that user's home in the password database (as
 * git's getpwnam reads it: /etc/passwd, then getent from the system's
 * directories for a user of a directory service, within one time budget per
 * search: user-homes.ts). `%(prefix)/` is below
 * the prefix git was installed to, and git's system configuration file is
 * `$(prefix)/etc/gitconfig` (`/etc/gitconfig` for a git in /usr): a git
 * built into /usr/local reads /usr/local/etc/gitconfig. The prefix is told
 * from where each `git` on PATH and in the system's directories is
 * (`<prefix>/bin/git`, and where a link there leads), every one of them:
 * which runs depends on the PATH of whoever runs git.
 */
import { realpathSync } from 'node:fs';
import { basename, delimiter, dirname, isAbsolute, join } from 'node:path';
import { mayExecute } from './access-x.js';
import { SYSTEM_PATH } from './system-programs.js';
import { HomeSearch, type DirectoryLookup } from './user-homes.js';

type Env = Readonly<Record<string, string | undefined>>;

/** Where git's paths lead on this host: the prefixes of its gits, and a user's home. */
export interface GitPlaces {
  /** Every prefix a git on this host may have been installed to (`/usr` for /usr/bin/git). */
  prefixes: readonly string[];
  /** A user's home directory (absolute); undefined when it cannot be told. */
  userHome(name: string): string | undefined;
}

/** The prefix of a git at `path` (`<prefix>/bin/git`); undefined for one elsewhere. */
const prefixOf = (path: string): string | undefined => (basename(dirname(path)) === 'bin' ? dirname(dirname(path)) : undefined);

/** The prefixes of each `git` in the system's directories and on PATH (absolute entries), as named and as its links lead. */
export function gitPrefixes(env: Env): string[] {
  const dirs = [...SYSTEM_PATH.split(':'), ...(env['PATH'] ?? '').split(delimiter)].filter((d) => isAbsolute(d));
  const prefixes = new Set<string>();
  for (const dir of dirs) {
    const git = join(dir, 'git');
    if (!mayExecute(git)) continue;
    let real: string | undefined;
    try {
      real = realpathSync.native(git);
    } catch {
      real = undefined;
    }
    for (const p of [prefixOf(git), real === undefined ? undefined : prefixOf(real)]) if (p !== undefined) prefixes.add(p);
  }
  return [...prefixes];
}

/** The system configuration files git reads: $GIT_CONFIG_SYSTEM, or `/etc/gitconfig` and each prefix's `etc/gitconfig`. */
export function systemGitConfigs(env: Env, prefixes: readonly string[]): string[] {
  const named = env['GIT_CONFIG_SYSTEM'];
  if (named !== undefined) return isAbsolute(named) ? [named] : [];
  return [...new Set(['/etc/gitconfig', ...prefixes.map((p) => join(p, 'etc', 'gitconfig'))])];
}

/**
 * How many users' homes one search looks up: a repository the command made can name any number of `~user/`
 * includes; past this, the include is one whose file cannot be told (left out of the copy).
 */
const MAX_USER_LOOKUPS = 16;

/** How one search asks for users' homes (tests give a slow or a scripted directory service). */
export interface HomeLookupOptions {
  /** The system's directories; default getent, its answers kept for the process (user-homes.ts). */
  lookup?: DirectoryLookup | undefined;
  /** The time all the search's directory look-ups may take together; default SEARCH_BUDGET_MS. */
  budgetMs?: number | undefined;
}

/** This host's places: the prefixes found once, each user's home looked up once, all of them within one time budget. */
export function hostGitPlaces(env: Env, options: HomeLookupOptions = {}): GitPlaces {
  const search = new HomeSearch(options.lookup, options.budgetMs);
  const homes = new Map<string, string | undefined>();
  const lookUp = (name: string): string | undefined => {
    if (!homes.has(name) && homes.size < MAX_USER_LOOKUPS) homes.set(name, search.home(name));
    return homes.get(name);
  };
  return { prefixes: gitPrefixes(env), userHome: lookUp };
}
