/**
 * Host facts: git's configuration files, each read once per run. A file is
 * read at its real path (the sandbox's mounts are made at real paths),
 * through no symbolic link, and only while it is the file at that path.
 * The same bytes serve the search for what the configuration makes git run
 * or read (git-repos.ts) and the copy the sandbox sees without its secrets
 * (git-scrub.ts), so what is protected and what is shown come from one
 * reading of the file.
 */
import { realpathSync } from 'node:fs';
import { readSmallFile, readSmallFileStat, type SmallFileRead } from './small-file.js';
import type { FileAccess } from './sandbox-reach.js';

/** The most a configuration file may weigh to be read (git's own are a few KiB); a larger one is shown empty. */
const MAX_BYTES = 1024 * 1024;
/** How a configuration file is read: whole, through no symbolic link, while it is the file at its path. */
const EXACT: SmallFileRead = { maxBytes: MAX_BYTES, exact: true };

/** One configuration file as it was read. */
export interface GitConfigFile {
  /** Its real path. */
  path: string;
  /** Its bytes; undefined when it could not be read whole, or was no longer at exactly `path`. */
  bytes: Buffer | undefined;
  /** Who may read the file the bytes came from (its owner, group and mode, from that very file); undefined with no bytes. */
  access?: FileAccess;
  /** How many names the file has (st_nlink, from that very file); undefined with no bytes. */
  links?: number;
  /** The includes it names (as written) whose file isolate cannot tell (`~user/` of no user it finds): left out of the copy the sandbox sees. */
  unresolved?: string[];
}


/**
 * The file's bytes, read through no symbolic link: null when it is not there or not a regular file (git reads no
 * configuration from it); undefined when it cannot be read whole, or is no longer at exactly `path`.
 */
export function readExact(path: string): Buffer | undefined | null {
  return readSmallFile(path, EXACT);
}

/** The real path; undefined when it is not there. */
function realPath(path: string): string | undefined {
  try {
    return realpathSync.native(path);
  } catch {
    return undefined;
  }
}

/** The configuration files read during one search, each once, by real path. */
export class GitConfigReads {
  /** null: there is no regular file at that real path. */
  private readonly byPath = new Map<string, GitConfigFile | null>();

  /** The file git reads at `path` (following links, as git does); undefined when there is no regular file there. */
  read(path: string): GitConfigFile | undefined {
    const real = realPath(path);
    if (real === undefined) return undefined;
    let file = this.byPath.get(real);
    if (file === undefined) {
      const read = readSmallFileStat(real, EXACT);
      file = read === null ? null : read === undefined ? { path: real, bytes: undefined } : { path: real, bytes: read.bytes, access: { uid: read.st.uid, gid: read.st.gid, mode: read.st.mode }, links: read.st.nlink };
      this.byPath.set(real, file);
    }
    return file ?? undefined;
  }

  /** Notes that the file read at real path `path` names an include (`value`, as written) whose file cannot be told. */
  unresolved(path: string, value: string): void {
    const file = this.byPath.get(path);
    if (file === undefined || file === null || file.unresolved?.includes(value) === true) return;
    file.unresolved = [...(file.unresolved ?? []), value];
  }

  /** Every file read that is there, once each. */
  files(): GitConfigFile[] {
    return [...this.byPath.values()].filter((f): f is GitConfigFile => f !== null);
  }
}
