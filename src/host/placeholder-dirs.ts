/**
 * The directories where a run makes placeholders for missing protected
 * names (run/launch/path-fds.ts) must be writable by isolate: one that is
 * not (a project of one's own made read-only under a profile that makes it
 * writable, another user's directory, a read-only mount) cannot get them,
 * while a command that owns the directory could make it writable again and
 * create the name; the way out differs for a directory of one's own and
 * another user's. Checked
 * when a run is planned, so `explain` says what `run` would, and said the
 * same way when the creation itself fails.
 */
import { accessSync, constants, lstatSync, readdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { placeholderIsDir } from '../backends/mounts.js';
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
  const owner = ownerOf(dir);
  if (owner !== undefined && owner !== process.getuid?.()) {
    return new IsolateError('E_SANDBOX_SETUP', `cannot create the placeholder ${path} for a protected name: ${dir} is writable in the profile but not writable by isolate (it is owned by uid ${owner}), which must block the missing name there; the command was not run`, {
      detail: code,
      fix: 'run isolate from a directory of your own, or with a profile that shows this one read-only (--profile strict)',
      cause: e,
    });
  }
  return new IsolateError('E_SANDBOX_SETUP', `cannot create the placeholder ${path} for a protected name: ${dir} is writable in the profile but not writable by isolate, which must block the missing name there (a command that owns a directory can make it writable again); the command was not run`, {
    detail: code,
    fix: `make the directory writable (chmod u+w ${dir}), or run with a profile that shows it read-only (--profile strict)`,
    cause: e,
  });
}

/** The directory's owner; undefined when it cannot be looked at. */
function ownerOf(dir: string): number | undefined {
  try {
    return lstatSync(dir, { throwIfNoEntry: false })?.uid;
  } catch {
    return undefined;
  }
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

/**
 * Whether `path` is, as far as can be told, the directory placeholder of a run (backends/mounts.ts,
 * placeholderIsDir): a directory of that name that nobody may write in (mode 0555) and that is empty. A search
 * beside that run keeps it read-only whole, rather than blocking the names beneath it with placeholders of its own,
 * which it could not make there (and which would keep the other run from removing it). An empty read-only `.git`
 * of the user's own is kept the same way: it configures nothing, and nothing can be made in it.
 */
export function foundPlaceholderDir(path: string): boolean {
  if (!placeholderIsDir(path)) return false;
  try {
    const st = lstatSync(path, { throwIfNoEntry: false });
    return st !== undefined && st.isDirectory() && (st.mode & 0o222) === 0 && readdirSync(path).length === 0;
  } catch {
    return false;
  }
}
