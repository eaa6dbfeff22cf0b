/**
 * Start-up files a program reads under names with its own version in them,
 * in preference to the one the profile names: psql reads
 * `~/.psqlrc-<version>` (`.psqlrc-16.2`, `.psqlrc-9.6.24`) and then
 * `~/.psqlrc-<major>` (`.psqlrc-16`, `.psqlrc-9.6`) before `~/.psqlrc`. No
 * fixed list of names covers every version, so where the profile protects
 * such a file, the names with its prefix that exist beside it when the run
 * starts are protected too (read-only, as the file itself). Missing ones are
 * not blocked: a command in a writable home can still create one
 * (docs/protected-files.md).
 */
import { readdirSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

/** The protected files whose version-named variants their programs read first, and the prefix of those names. */
const VERSIONED: ReadonlyMap<string, string> = new Map([['.psqlrc', '.psqlrc-']]);

/** The existing version-named variants of the protected paths `protectPaths` (absolute), where a directory of them can be listed. */
export function versionedRcPaths(protectPaths: readonly string[]): string[] {
  const out: string[] = [];
  for (const path of protectPaths) {
    const prefix = VERSIONED.get(basename(path));
    if (prefix === undefined) continue;
    let names: string[];
    try {
      names = readdirSync(dirname(path));
    } catch {
      continue; // no directory to list: nothing there to protect
    }
    for (const name of names) if (name.startsWith(prefix)) out.push(join(dirname(path), name));
  }
  return out;
}
