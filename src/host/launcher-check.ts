/**
 * The launcher (bwrap, nsjail) is the program isolate starts on the host,
 * outside any sandbox, for every run, and reads (or starts, for its
 * version) before that. One inside a path the sandbox can write (a build of
 * it in the project, ISOLATE_BWRAP or ISOLATE_NSJAIL naming one there, a
 * directory of the project on PATH) is one the command of a run could have
 * put or replaced there for the next: refused before it is read. So is one
 * in the project under a profile that makes the project read-only: an
 * earlier run, with the default profile, could have (profile/earlier-runs.ts).
 */
import { IsolateError } from '../errors.js';
import { hostFileWay } from '../profile/links.js';

/** Throw when `path` (the launcher found), a link on the way to it, or the file it finally names, is inside a path a sandbox could write (`written`). */
export function checkLauncher(written: (path: string) => boolean, name: string, path: string | undefined): void {
  if (path === undefined) return;
  const way = hostFileWay(path, written);
  if (way.open === undefined) return;
  throw new IsolateError('E_BACKEND_UNSUPPORTED', `${name} at ${way.shown} is inside a path the sandbox can write: the command of a run could replace the program isolate starts on the host`, {
    fix: `install ${name} outside the paths the profile makes writable (e.g. /usr/local/bin/${name}), or point ISOLATE_${name.toUpperCase()} at one there`,
  });
}
