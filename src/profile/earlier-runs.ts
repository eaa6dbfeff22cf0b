/**
 * What the command of an earlier run could have written, whatever this
 * run's profile says: a host-acting file (a profile with credential
 * sources, the CA the proxy trusts) must lie outside it as well as outside
 * this run's writable paths. A profile that makes the project read-only
 * (`extends: strict`) says nothing of the run before it, which the default
 * profile let write its working directory: a `ci.yaml` planted there by
 * that run must not choose a program isolate runs on the host. Earlier
 * runs are taken to have worked where this one is started: the working
 * directory and the repository around it (a run from its top writes it
 * all), not above the home directory. isolate's own directories are hidden
 * from every sandbox, so no run wrote them.
 */
import { dirname, join } from 'node:path';
import { isWithin, isWritable } from './mount-rules.js';
import type { MountRule } from './types.js';

/** What `stat` says of a path: enough of resolve.ts's PathLookup. */
export type Stat = (path: string) => 'dir' | 'file' | 'other' | undefined;

/** The top of the git repository `cwd` is in (the nearest directory above with a .git), below `home`; else `cwd`. */
function projectOf(cwd: string, home: string | undefined, stat: Stat): string {
  for (let d = cwd; ; d = dirname(d)) {
    if (d === '/' || (home !== undefined && (d === home || isWithin(home, d)))) return cwd;
    if (hasGit(d, stat)) return d;
  }
}

/** Whether `dir` holds a .git; a directory that cannot be searched (its refusal is said elsewhere) is taken to hold none. */
function hasGit(dir: string, stat: Stat): boolean {
  try {
    return stat(join(dir, '.git')) !== undefined;
  } catch {
    return false;
  }
}

/** Whether the command of this run (its `mounts`) or of an earlier one in `cwds` could have written `path` (a real path). */
export function writtenByRuns(mounts: readonly MountRule[], cwds: readonly string[], own: readonly string[], home: string | undefined, stat: Stat): (path: string) => boolean {
  const earlier = earlierRunWrote(cwds, own, home, stat);
  return (path) => isWritable(mounts, path) || earlier(path);
}

/** Whether an earlier run in `cwds` could have written `path` (a real path): inside one's project and outside isolate's own directories. */
export function earlierRunWrote(cwds: readonly string[], own: readonly string[], home: string | undefined, stat: Stat): (path: string) => boolean {
  const projects = cwds.map((cwd) => projectOf(cwd, home, stat));
  return (path) => projects.some((p) => isWithin(path, p)) && !own.some((o) => isWithin(path, o));
}
