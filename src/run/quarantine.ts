/**
 * After a run: protected names the run created (a new repository's config
 * and hooks, a .git file pointing elsewhere, a .git/commondir, an .envrc, an
 * editor's or package manager's configuration, at any depth) must not take
 * effect on the host, where git, direnv or an editor would run what they
 * name. Each is renamed aside, next to where it was, and reported; the user
 * can look at it and restore it. Empty files and directories are left alone:
 * they configure nothing (and placeholders of concurrent runs are such).
 */
import { lstatSync, readdirSync, renameSync } from 'node:fs';
import { basename, dirname } from 'node:path';
import { errnoCode } from '../errors.js';
import type { ProtectFact } from '../backends/types.js';
import { inDirectory } from './fd-paths.js';

export interface Quarantined {
  path: string;
  /** Where it was moved, or null when it could not be (see error). */
  movedTo: string | null;
  error?: string;
}

function isEmpty(path: string): boolean {
  try {
    const st = lstatSync(path);
    if (st.isFile()) return st.size === 0;
    if (st.isDirectory()) return readdirSync(path).length === 0;
    return false;
  } catch {
    return true; // gone: nothing to do
  }
}

/** The names present after the run that were not there before it, and configure something. */
export function createdNames(before: readonly ProtectFact[], after: readonly ProtectFact[]): string[] {
  const existed = new Set(before.filter((f) => f.state !== 'missing').map((f) => f.path));
  return after.filter((f) => f.state !== 'missing' && !existed.has(f.path) && !isEmpty(f.path)).map((f) => f.path).sort();
}

/** Rename `path` to `<path>.isolate-quarantined-<tag>`, never through a symbolic link on the way. */
export function renameAside(path: string, tag: string): Quarantined {
  const name = basename(path);
  const aside = `${name}.isolate-quarantined-${tag}`;
  try {
    const moved = inDirectory(dirname(path), (at) => {
      renameSync(at(name), at(aside));
      return true;
    });
    if (moved === undefined) return { path, movedTo: null, error: 'its directory is reached through a symbolic link now' };
    return { path, movedTo: `${dirname(path)}/${aside}` };
  } catch (e: unknown) {
    return { path, movedTo: null, error: errnoCode(e) ?? String(e) };
  }
}

/** Rename aside every name `after` has that `before` did not; deeper names first, so a parent's rename does not move them first. */
export function quarantineCreated(before: readonly ProtectFact[], after: readonly ProtectFact[], tag: string): Quarantined[] {
  return createdNames(before, after)
    .sort((a, b) => b.split('/').length - a.split('/').length)
    .map((path) => renameAside(path, tag));
}
