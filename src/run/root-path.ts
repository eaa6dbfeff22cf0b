/**
 * Whether a directory of root's can be changed by no one but root, all the
 * way up to /: a path that bubblewrap mounts from as root is looked up again
 * when it mounts, after isolate's checks. Whoever may rename or replace a
 * directory on the way (its owner, or anyone when it is writable by others
 * and not sticky, as /tmp is) could put a symbolic link there in between,
 * and have a block device or /dev/mem mounted where the check saw isolate's
 * copy of /dev/null. A symbolic link on the way counts too: it must be
 * root's, in a directory only root can change, and lead to one.
 */
import { lstatSync, realpathSync, statSync } from 'node:fs';
import { dirname, join, sep } from 'node:path';
import { errnoCode } from '../errors.js';

/** Why a directory from `real` (a path without symbolic links) up to / lets someone else than root swap its entries, or undefined. */
function openAncestor(real: string): string | undefined {
  for (let d = real; ; d = dirname(d)) {
    const st = statSync(d);
    if (st.uid !== 0) return `${d} belongs to uid ${String(st.uid)}, not root`;
    if ((st.mode & 0o022) !== 0 && (st.mode & 0o1000) === 0) return `${d} can be written by other users and is not sticky`;
    if (dirname(d) === d) return undefined;
  }
}

/** Why someone else than root could change what the absolute, existing path `dir` leads to, or undefined when no one can. */
export function rootOnlyPath(dir: string): string | undefined {
  try {
    return openPath(dir);
  } catch (e: unknown) {
    return `${dir} cannot be checked (${errnoCode(e) ?? String(e)})`;
  }
}

function openPath(dir: string): string | undefined {
  let path: string = sep;
  for (const part of dir.split(sep).filter((p) => p !== '')) {
    path = join(path, part);
    const st = lstatSync(path);
    if (!st.isSymbolicLink()) continue;
    if (st.uid !== 0) return `${path} is a symbolic link of uid ${String(st.uid)}, not root's`;
    const open = openAncestor(realpathSync(dirname(path)));
    if (open !== undefined) return open;
  }
  return openAncestor(realpathSync(dir));
}
