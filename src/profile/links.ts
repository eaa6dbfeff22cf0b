/**
 * The symbolic links a path is reached through. A profile file named
 * through a link that a sandboxed command can replace (one inside a writable
 * path) is a profile that command chooses for the next run, however
 * read-only the file the link points to is kept; so is a rule's path
 * (rule-links.ts). Reads the disk (lstat, readlink) through a lookup, as
 * loading a profile and resolving its paths do.
 */
import { lstatSync, readlinkSync, realpathSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';

/** What the walk asks of a disk: resolvePolicy's PathLookup, or this machine's. */
export interface LinkLookup {
  /** lstat(2): whether the path itself is a symbolic link. */
  isSymlink(path: string): boolean;
  /** realpath(3) of an existing path. */
  realpath(path: string): string;
  /** readlink(2) of a link; without it the walk goes on at the link's real path (a disk whose link targets hold no other links). */
  readlink?(path: string): string;
}

/** This machine's disk. */
export const NODE_LINKS: LinkLookup = {
  isSymlink: (path) => lstatSync(path).isSymbolicLink(),
  realpath: (path) => realpathSync(path),
  readlink: (path) => readlinkSync(path),
};

/** The kernel's limit on links followed in one lookup (ELOOP beyond it). */
const MAX_LINKS = 40;

/**
 * Where each symbolic link on the way to `path` lies (absolute, with no link
 * before it), the links inside link targets included. Stops quietly at a
 * missing or unreadable component: reading the profile reports that.
 */
export function linksOnTheWay(path: string, disk: LinkLookup = NODE_LINKS): string[] {
  const found: string[] = [];
  walk(path, found, disk);
  return [...new Set(found)];
}

function walk(path: string, found: string[], disk: LinkLookup): void {
  let dir = '/';
  for (const part of path.split('/').filter((p) => p !== '')) {
    const at = join(dir, part);
    let link: boolean;
    try {
      link = disk.isSymlink(at);
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
      if (disk.readlink !== undefined) walk(resolve(dirname(at), disk.readlink(at)), found, disk);
      dir = disk.realpath(at);
    } catch {
      return;
    }
  }
}

/** A file isolate starts or trusts on the host, and the first name on the way to it that a run could change (if any). */
export interface HostFileWay {
  /** The file it finally names (the path itself when that cannot be resolved: starting or reading it then says why). */
  real: string;
  /** The path itself, a link on the way, or the real file, inside a path the sandbox can write; undefined when none is. */
  open: string | undefined;
  /** How a message names it: `path`, `path (real)`, or `path (through the link L)`. */
  shown: string;
}

/**
 * Where a file isolate starts or trusts on the host (a launcher: host/launcher-check.ts; a credential's command:
 * run/credential-program.ts; the CA its proxy trusts for credential hosts, network.upstreamCa:
 * profile/upstream-ca.ts) could be changed by a sandboxed command: its path, any symbolic link on the way to it
 * (one the command points at a file of its own), or the file it finally names, inside a path `writable` says the
 * sandbox can write. The one rule for all of them.
 */
export function hostFileWay(path: string, writable: (path: string) => boolean): HostFileWay {
  let real = path;
  try {
    real = realpathSync(path);
  } catch {
    // Missing or unreadable: starting or reading it says so.
  }
  const open = [path, ...linksOnTheWay(path), real].find(writable);
  const link = open !== undefined && open !== path && open !== real;
  const shown = link ? `${path} (through the link ${open})` : real === path ? path : `${path} (${real})`;
  return { real, open, shown };
}
