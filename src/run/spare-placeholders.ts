/**
 * Spare placeholders: the empty files of earlier runs' placeholders, moved
 * into isolate's private runtime directory (host/runtime-dir.ts: no sandbox
 * sees it) instead of being deleted, and linked into place for a later run's
 * missing protected names. A new file costs the file system an inode; on
 * ext4 without a journal, allocating one scans past every inode freed in the
 * last minutes, a millisecond and more per file on a busy host, and a run
 * makes one per missing protected name. A link and a rename allocate none.
 *
 * A spare is used only when it is what a new placeholder would be: a
 * regular, empty file of this user, without a write, execute or special mode
 * bit, and with no other name. One inode is never two placeholders, so no
 * run can write into another run's (the reason placeholders are not hard
 * links of one file). Each run first renames a spare to a name of its own,
 * so two runs never take the same one; anything else found among the spares
 * is removed. A spare is linked where no file exists (link(2) never
 * replaces one), and the caller then checks what is there as for a file it
 * created. Across file systems, or when none is left, the caller creates
 * the placeholder as before.
 */
import { randomBytes } from 'node:crypto';
import { linkSync, lstatSync, readdirSync, renameSync, rmdirSync, unlinkSync, type Stats } from 'node:fs';
import { dirname, join } from 'node:path';
import { errnoCode } from '../errors.js';

/** At most this many spares are kept (a burst of concurrent runs returns more). */
export const MAX_SPARES = 512;

/** No write (0222), execute (0111), set-id or sticky (07000) bit. */
const FORBIDDEN_MODE = 0o7333;

/** What a new placeholder would be: a regular empty file of this user, read-only, with one name. */
export function isSpareShape(st: Stats): boolean {
  return st.isFile() && st.size === 0 && st.nlink === 1 && st.uid === process.geteuid?.() && (st.mode & FORBIDDEN_MODE) === 0;
}

function discard(path: string): void {
  try {
    if (lstatSync(path).isDirectory()) rmdirSync(path);
    else unlinkSync(path);
  } catch {
    // gone, or a directory with entries: left for a later look
  }
}

export class SparePool {
  private names: string[] | undefined;
  private count = 0;
  private serial = 0;
  private readonly tag = `${process.pid}-${randomBytes(6).toString('hex')}`;
  /** Parent directories on another file system than the spares. */
  private readonly elsewhere = new Set<string>();

  /** `dir`: a private directory of this user's, hidden from every sandbox. */
  constructor(private readonly dir: string) {}

  private list(): string[] {
    if (this.names === undefined) {
      try {
        this.names = readdirSync(this.dir);
      } catch {
        this.names = [];
      }
      this.count = this.names.length;
    }
    return this.names;
  }

  private ownName(): string {
    return join(this.dir, `.${this.tag}-${this.serial++}`);
  }

  /** A spare renamed to a name of this run's and checked; undefined when none is left. */
  private claim(): string | undefined {
    const names = this.list();
    for (let name = names.pop(); name !== undefined; name = names.pop()) {
      const claimed = this.ownName();
      try {
        renameSync(join(this.dir, name), claimed);
      } catch {
        continue; // another run took it
      }
      try {
        if (isSpareShape(lstatSync(claimed))) return claimed;
      } catch {
        continue;
      }
      discard(claimed);
    }
    return undefined;
  }

  /**
   * Link a spare to `path`, never replacing what is there. True when `path`
   * exists now (the spare, or what was there already: the caller checks it);
   * false when the caller must create the placeholder itself.
   */
  take(path: string): boolean {
    const parent = dirname(path);
    if (this.elsewhere.has(parent)) return false;
    const claimed = this.claim();
    if (claimed === undefined) return false;
    try {
      linkSync(claimed, path);
    } catch (e: unknown) {
      const code = errnoCode(e);
      if (code === 'EXDEV') this.elsewhere.add(parent);
      this.list().push(claimed.slice(this.dir.length + 1)); // still a spare, under this run's name
      return code === 'EEXIST';
    }
    try {
      unlinkSync(claimed);
    } catch {
      // gone already; the placeholder has its one name either way
    }
    return true;
  }

  /** Keep the placeholder at `path` (as lstat saw it) as a spare instead of deleting it; false when the caller must delete it. */
  give(path: string, st: Stats): boolean {
    this.list();
    if (!isSpareShape(st) || this.count >= MAX_SPARES) return false;
    try {
      renameSync(path, this.ownName());
    } catch {
      return false;
    }
    this.count++;
    return true;
  }
}
