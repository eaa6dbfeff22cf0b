/**
 * The symbolic links a path is reached through. A profile file named
 * through a link that a sandboxed command can replace (one inside a writable
 * path) is a profile that command chooses for the next run, however
 * read-only the file the link points to is kept. Reads the disk (lstat,
 * readlink), as loading a profile does.
 */
import { lstatSync, readlinkSync, realpathSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';

/** The kernel's limit on links followed in one lookup (ELOOP beyond it). */
const MAX_LINKS = 40;

/**
 * Where each symbolic link on the way to `path` lies (absolute, with no link
 * before it), the links inside link targets included. Stops quietly at a
 * missing or unreadable component: reading the profile reports that.
 */
export function linksOnTheWay(path: string): string[] {
  const found: string[] = [];
  walk(path, found);
  return [...new Set(found)];
}

function walk(path: string, found: string[]): void {
  let dir = '/';
  for (const part of path.split('/').filter((p) => p !== '')) {
    const at = join(dir, part);
    let link: boolean;
    try {
      link = lstatSync(at).isSymbolicLink();
    } catch {
      return;
    }
    if (!link) {
      dir = at;
      continue;
    }
    if (found.length >= MAX_LINKS) return;
    found.push(at);
    try {
      walk(resolve(dirname(at), readlinkSync(at)), found);
      dir = realpathSync(at);
    } catch {
      return;
    }
  }
}
