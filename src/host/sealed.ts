/**
 * Host facts: the listing of each directory the sandbox seals
 * (backends/seal.ts): the read-only parents of the profile's hidden paths.
 * One readdir per directory, and one readlink per symbolic link in it.
 * Names and link targets are read as bytes: one that is not UTF-8 cannot be
 * handed to a backend (isolate names every path it mounts as text), and
 * leaving it out or sealing the directory without it would show a
 * directory that is not the host's, or none: the run is refused, naming it.
 */
import { lstatSync, readdirSync, readlinkSync, statSync, type Dirent, type Stats } from 'node:fs';
import { dirname } from 'node:path';
import { IsolateError, errnoCode } from '../errors.js';
import type { Policy } from '../profile/types.js';
import { sealedParents, sealsAbsent } from '../backends/seal.js';
import { isWithin, missingHiddenPaths } from '../profile/mount-rules.js';
import type { SealEntry, SealFact } from '../backends/types.js';
import { escapedName } from './unnamable-dirs.js';

const isUtf8 = (bytes: Buffer): boolean => Buffer.from(bytes.toString('utf8')).equals(bytes);

/** `home`: the run's home directory (real path), whose root-owned directories a run by root still seals (keptUnsealed). */
export function sealedListings(policy: Policy, home: string | undefined): SealFact[] {
  const rules = policy.filesystem.mounts;
  const parents = sealedParents(rules);
  const absent = [...new Set(nearestDirs(missingHiddenPaths(policy.filesystem.skipped)))]
    .filter((dir): dir is string => dir !== undefined && !parents.includes(dir) && sealsAbsent(rules, dir))
    .map((path) => ({ path, absent: true as const }));
  return [...parents.map((path) => ({ path })), ...absent].map(({ path, ...more }): SealFact => {
    const keep = keptUnsealed(path, process.getuid?.() ?? 0, home);
    return keep === undefined ? { path, entries: listEntries(path), ...more } : { path, entries: [], keep, ...more };
  });
}

/**
 * For each hidden path that does not exist, the nearest directory above it (`~/.config` for
 * `~/.config/gh/hosts.yml`), when it is a directory itself, not a link to one (a seal mounts on the path as it is
 * named). Each directory on the way is looked at once for the whole list: the paths share most of their ancestors
 * (a profile hides some hundred paths under the home directory, most of them missing).
 */
function nearestDirs(paths: readonly string[]): (string | undefined)[] {
  const nearest = new Map<string, string | undefined>();
  return paths.map((path) => {
    const walked: string[] = [];
    let found: string | undefined;
    for (let dir = dirname(path); ; dir = dirname(dir)) {
      if (nearest.has(dir)) {
        found = nearest.get(dir);
        break;
      }
      walked.push(dir);
      const st = lstatOrError(dir);
      if (st === 'error') break; // one the user cannot search: what is in it is not listed, nor seen by the sandbox's user
      if (st !== undefined) {
        found = st.isDirectory() ? dir : undefined;
        break;
      }
      if (dir === '/') break;
    }
    for (const dir of walked) nearest.set(dir, found);
    return found;
  });
}

function lstatOrError(path: string): Stats | undefined | 'error' {
  try {
    return lstatSync(path, { throwIfNoEntry: false });
  } catch {
    return 'error';
  }
}

/**
 * Why a directory is left a view of the host's (its hidden paths then watched during the run: setup-plan.ts,
 * uncoverable), or undefined to seal it. Left: a directory only root can add, remove or rename entries in (owned by
 * root, writable by no group and no other user; an ACL's mask shows in the group bits), when the run is not root's
 * (only a program running as root could replace a hidden path there), or when it lies outside the home directory of
 * a run by root (a system directory such as /etc, changed by the system's administration). Sealing /etc cost every
 * run about 25 ms (a mount per entry). A run by root whose home is unknown seals it.
 */
export function keptUnsealed(dir: string, uid: number, home: string | undefined): string | undefined {
  const st = statSync(dir, { throwIfNoEntry: false });
  if (st === undefined || !st.isDirectory() || st.uid !== 0 || (st.mode & 0o022) !== 0) return undefined;
  if (uid !== 0) return 'only root can add, remove or rename its entries, and the run is not root\'s';
  if (home === undefined || isWithin(dir, home)) return undefined;
  return 'a system directory only root changes, outside your home';
}

function listEntries(dir: string): SealEntry[] {
  let entries: Dirent<Buffer>[];
  try {
    entries = readdirSync(dir, { encoding: 'buffer', withFileTypes: true });
  } catch (e: unknown) {
    throw new IsolateError('E_SANDBOX_SETUP', `cannot list ${dir} (${errnoCode(e) ?? String(e)}), which holds a hidden path: isolate rebuilds such a directory from its listing so that a host program replacing the hidden path cannot show it; the command was not run`, {
      fix: `give your user read permission on ${dir} (to list it, not only enter it), or make it hidden or writable in the profile rather than read-only`,
    });
  }
  const prefix = Buffer.from(`${dir === '/' ? '' : dir}/`);
  return entries.flatMap((entry): SealEntry[] => {
    const name = text(entry.name, () => `${dir === '/' ? '' : dir}/${escapedName(entry.name)}: a name that is not UTF-8`);
    if (entry.isSymbolicLink()) {
      const target = readTarget(Buffer.concat([prefix, entry.name]));
      return target === undefined ? [] : [{ name, type: 'symlink', target: text(target, () => `${dir === '/' ? '' : dir}/${name}: a symbolic link whose target (${escapedName(target)}) is not UTF-8`) }];
    }
    return [{ name, type: entry.isDirectory() ? 'dir' : entry.isFile() ? 'file' : 'other' }];
  });
}

/** A link's target as bytes; undefined when the link is gone since the listing. */
function readTarget(path: Buffer): Buffer | undefined {
  try {
    return readlinkSync(path, { encoding: 'buffer' });
  } catch (e: unknown) {
    if (errnoCode(e) === 'ENOENT') return undefined;
    throw e;
  }
}

/** `bytes` as text, or the run refused with `what()` (the entry, escaped). */
function text(bytes: Buffer, what: () => string): string {
  if (isUtf8(bytes)) return bytes.toString('utf8');
  throw new IsolateError('E_PATH_INVALID', `${what()}, in a directory that holds a hidden path; isolate rebuilds such a directory from its listing and cannot name this entry; the command was not run`, {
    fix: 'rename it to a UTF-8 name (e.g. with convmv), or remove it, or make the directory hidden or writable in the profile rather than read-only',
  });
}
