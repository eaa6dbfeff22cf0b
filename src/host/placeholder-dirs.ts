/**
 * The directories where a run makes placeholders for missing protected
 * names (run/launch/path-fds.ts) must be writable by isolate: one that is
 * not (a project of one's own made read-only under a profile that makes it
 * writable, a read-only mount) cannot get them, while a command that owns
 * the directory could make it writable again and create the name. Checked
 * when a run is planned, so `explain` says what `run` would, and said the
 * same way when the creation itself fails.
 */
import { accessSync, constants } from 'node:fs';
import { dirname } from 'node:path';
import { IsolateError, errnoCode } from '../errors.js';

const READ_ONLY = new Set(['EACCES', 'EPERM', 'EROFS']);

/** The refusal for a placeholder that could not be made at `path` (`e`: the error of the attempt). */
export function placeholderRefused(path: string, e: unknown): IsolateError {
  const code = errnoCode(e) ?? String(e);
  const dir = dirname(path);
  if (!READ_ONLY.has(code)) {
    return new IsolateError('E_SANDBOX_SETUP', `cannot create the placeholder ${path} for a protected name; the command was not run`, {
      detail: code,
      fix: 'run again; if it keeps happening, check that the directory is writable and nothing is replacing it',
      cause: e,
    });
  }
  return new IsolateError('E_SANDBOX_SETUP', `cannot create the placeholder ${path} for a protected name: ${dir} is writable in the profile but not writable by isolate, which must block the missing name there (a command that owns a directory can make it writable again); the command was not run`, {
    detail: code,
    fix: `make the directory writable (chmod u+w ${dir}), or run with a profile that shows it read-only (--profile strict)`,
    cause: e,
  });
}

/** Refuse, as the run would, when a directory a placeholder goes in is not writable by isolate. */
export function checkPlaceholderDirs(paths: readonly string[]): void {
  const seen = new Set<string>();
  for (const path of paths) {
    const dir = dirname(path);
    if (seen.has(dir)) continue;
    seen.add(dir);
    try {
      accessSync(dir, constants.W_OK);
    } catch (e: unknown) {
      if (READ_ONLY.has(errnoCode(e) ?? '')) throw placeholderRefused(path, e);
    }
  }
}
