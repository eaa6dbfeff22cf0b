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
import { lstatSync, realpathSync } from 'node:fs';
import { dirname, join, sep } from 'node:path';
import { openAncestor } from '../ancestors.js';
import { errnoCode } from '../errors.js';

const ROOT_ONLY = [0];

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
    const open = openAncestor(realpathSync(dirname(path)), ROOT_ONLY);
    if (open !== undefined) return open;
  }
  return openAncestor(realpathSync(dir), ROOT_ONLY);
}
