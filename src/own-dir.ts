/**
 * isolate's own directories (its state directory, the audit log's, the
 * search caches, the runtime directory) are made with their missing
 * parents, but never inside a home directory that does not exist. A system
 * account's HOME is often a path meant not to exist (`/nonexistent`, shared
 * by many accounts): a run as root that made it would leave it behind,
 * root's and mode 0700, and every later program of those accounts would
 * find a home it cannot enter. So a run notes its caller's home when it is
 * missing (noteHome), and no directory is made inside it: the code that
 * needed one fails as it does when it cannot create it (as an ordinary
 * user's run does, refused by `/`), with its own message and fix.
 */
import { mkdirSync, statSync } from 'node:fs';
import { isAbsolute, resolve, sep } from 'node:path';

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
  if (home === undefined || !isAbsolute(home)) return;
  const path = resolve(home);
  if (path === '/' || exists(path)) return;
  missingHomes.add(path);
}

const inside = (path: string, dir: string): boolean => path === dir || path.startsWith(`${dir}${sep}`);

/**
 * `mkdir -p` of one of isolate's own directories, mode 0700; returns the
 * first directory made, as mkdirSync does. Throws ENOENT, having made
 * nothing, when that would make a missing home directory noted by noteHome.
 */
export function makeOwnDir(path: string): string | undefined {
  const target = resolve(path);
  for (const home of missingHomes) {
    if (inside(target, home) && !exists(home)) {
      throw Object.assign(new Error(`the home directory ${home} does not exist, and isolate does not create it`), { code: 'ENOENT' });
    }
  }
  return mkdirSync(target, { recursive: true, mode: 0o700 });
}
