/**
 * isolate's own directories (its state directory, the audit log's, the
 * search caches, the runtime directory) are made with their missing
 * parents, but never inside a home directory that does not exist. A system
 * account's HOME is often a path meant not to exist (`/nonexistent`, shared
 * by many accounts): a run as root that made it would leave it behind,
 * root's and mode 0700, and every later program of those accounts would
 * find a home it cannot enter. So no directory is made inside a missing
 * home: this process's (every command of the CLI, `isolate doctor`'s check
 * among them), and the caller's a run was given (noteHome, for the API).
 * The code that needed one fails as it does when it cannot create it (as
 * an ordinary user's run does, refused by `/`), with its own message, and
 * this error's way out.
 */
import { chmodSync, mkdirSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, isAbsolute, resolve, sep } from 'node:path';

/** Home directories runs of this process were given that did not exist. */
const missingHomes = new Set<string>();

function exists(path: string): boolean {
  try {
    return statSync(path, { throwIfNoEntry: false }) !== undefined;
  } catch {
    return true; // cannot be looked at (EACCES above it): not known to be missing, and not isolate's to make either way
  }
}

/** Note the caller's home directory for makeOwnDir: nothing is made inside it while it does not exist. */
export function noteHome(home: string | undefined): void {
  const path = missingHome(home);
  if (path !== undefined) missingHomes.add(path);
}

/** `home`, resolved, when it is a directory that does not exist. */
function missingHome(home: string | undefined): string | undefined {
  if (home === undefined || !isAbsolute(home)) return undefined;
  const path = resolve(home);
  return path === '/' || exists(path) ? undefined : path;
}

const inside = (path: string, dir: string): boolean => path === dir || path.startsWith(`${dir}${sep}`);

/**
 * `mkdir -p` of one of isolate's own directories, each directory it makes
 * exactly 0700 whatever the umask; returns the first directory made, as
 * mkdirSync does. Throws ENOENT, having made nothing, when that would make
 * a missing home directory: this process's, or one noted by noteHome.
 */
export function makeOwnDir(path: string): string | undefined {
  const target = resolve(path);
  const own = missingHome(homedir());
  for (const home of own === undefined ? missingHomes : [...missingHomes, own]) {
    if (inside(target, home) && !exists(home)) {
      const why = `the home directory ${home} does not exist, and isolate does not create it: create it, or set XDG_STATE_HOME to a directory of yours`;
      throw Object.assign(new Error(why), { code: 'ENOENT' });
    }
  }
  return makeEach(target);
}

/**
 * Make `target` and its missing parents one by one, each set to 0700 before
 * the next is made inside it: a umask that takes the owner's bits (0277)
 * would otherwise leave a parent its owner cannot write, and the next mkdir
 * fails (root's runs alone would get by). One made meanwhile by another
 * process is left as it is.
 */
function makeEach(target: string): string | undefined {
  const missing: string[] = [];
  for (let p = target; !exists(p) && dirname(p) !== p; p = dirname(p)) missing.unshift(p);
  let first: string | undefined;
  for (const p of missing) {
    try {
      mkdirSync(p, { mode: 0o700 });
    } catch (e: unknown) {
      if ((e as NodeJS.ErrnoException).code === 'EEXIST') continue;
      throw e;
    }
    chmodSync(p, 0o700);
    first ??= p;
  }
  return first;
}
