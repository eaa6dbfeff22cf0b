/**
 * Spare placeholders: the empty files of earlier runs' placeholders, moved
 * into isolate's private runtime directory (host/runtime-dir.ts: no sandbox
 * sees it) instead of being deleted, and linked into place again when a
 * later run needs a placeholder for the same name in the same directory. A
 * new file costs the file system an inode; on ext4 without a journal,
 * allocating one skips the inodes freed recently, a millisecond and more
 * per file on a busy host, and a run makes one per missing protected name.
 * A link and a rename allocate none.
 *
 * A spare goes back only to the name it was taken from: the same name in
 * the same directory (its device and inode, not its path). A sandbox that
 * kept a descriptor of a placeholder it could reach (a concurrent run whose
 * profile leaves that name writable) can reach that name anyway; moved to
 * another name, the file would give it that name too (the reason
 * placeholders are not hard links of one file). A spare is used only when it
 * is what a new placeholder would be: a regular, empty file of this user,
 * without a write, execute or special mode bit, and with no other name. Each
 * run first renames a spare to a name of its own, so two runs never take the
 * same one; one found changed is deleted. It is linked only where no file
 * exists (link(2) never replaces one), and the caller checks what is there
 * as for a file it created. Across file systems, or without a spare, the
 * caller creates the placeholder as before.
 *
 * A run killed between renaming a spare to its own name and linking it
 * leaves that `.taken.<pid>-<start>-<unique>` file. The next run to use the
 * spares removes each whose taker is gone: its pid ended, or now belongs to
 * a process that started at another time (the number was reused). One whose
 * taker's start cannot be told (not Linux, or an isolate before the start
 * was in the name) is removed once it is older than the stale limit the
 * locks use. A live taker's is never removed: it holds it only while it
 * links it, and would then create its placeholder itself.
 */
import { createHash, randomBytes } from 'node:crypto';
import { linkSync, lstatSync, readdirSync, renameSync, rmdirSync, statSync, unlinkSync, type Stats } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { DEFAULT_STALE_MS } from '../audit/lock.js';
import { errnoCode } from '../errors.js';
import { processAlive, processStart } from '../host/alive.js';

/** At most this many spares are kept; beyond, another name's spare makes room. */
export const MAX_SPARES = 512;

/** A spare a run has taken: its pid and (where /proc tells) start time in base 36, a unique part, a serial. */
const TAKEN_NAME = /^\.taken\.([0-9a-z]+)-(?:([0-9a-z]+)-)?[0-9a-f]{12}-[0-9]+$/;

/** Whether the taken spare `name` (ctime `ctimeMs`) was left by a taker that is gone (see the top of this file). */
function takerGone(name: string, ctimeMs: number, staleMs: number, now: number): boolean {
  const m = TAKEN_NAME.exec(name);
  if (m?.[1] === undefined) return false;
  const pid = parseInt(m[1], 36);
  if (!processAlive(pid)) return true;
  const start = processStart(pid);
  if (m[2] !== undefined && start !== undefined) return parseInt(m[2], 36) !== start;
  return now - ctimeMs > staleMs;
}

/** This process's tag in the names of the spares it takes and gives (see TAKEN_NAME). */
function processTag(): string {
  const start = processStart('self');
  return [process.pid.toString(36), ...(start === undefined ? [] : [start.toString(36)]), randomBytes(6).toString('hex')].join('-');
}

/** No write (0222), execute (0111), set-id or sticky (07000) bit. */
const FORBIDDEN_MODE = 0o7333;

/** A spare's file name: the key of the name it stands for, a dot, a unique part. */
const SPARE_NAME = /^([0-9a-f]{32})\.[0-9a-z-]+$/;

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

/** The directory at `path` named by device and inode; undefined when it is not there. */
function dirId(path: string): string | undefined {
  const st = statSync(path, { throwIfNoEntry: false, bigint: true });
  return st === undefined ? undefined : `${st.dev}:${st.ino}`;
}

export class SparePool {
  /** Spare file names by key; undefined until the directory is read (once per run). */
  private byKey: Map<string, string[]> | undefined;
  /** Names that are no spare (one a killed run had taken): the first to go when room is needed. */
  private others: string[] = [];
  private count = 0;
  private serial = 0;
  private readonly tag = processTag();
  /** Directories' keys by path, for this run. */
  private readonly dirIds = new Map<string, string | undefined>();

  private readonly staleMs: number;

  /** `dir`: a private directory of this user's, hidden from every sandbox. `staleMs`: the age at which a taken spare whose taker cannot be told is removed. */
  constructor(
    private readonly dir: string,
    options: { staleMs?: number } = {},
  ) {
    this.staleMs = options.staleMs ?? DEFAULT_STALE_MS;
  }

  private spares(): Map<string, string[]> {
    if (this.byKey !== undefined) return this.byKey;
    const byKey = new Map<string, string[]>();
    let names: string[] = [];
    try {
      names = readdirSync(this.dir);
    } catch {
      names = [];
    }
    names = names.filter((name) => !this.removedAsLeft(name));
    for (const name of names) {
      const key = SPARE_NAME.exec(name)?.[1];
      if (key === undefined) this.others.push(name);
      else byKey.set(key, [...(byKey.get(key) ?? []), name]);
    }
    this.count = names.length;
    this.byKey = byKey;
    return byKey;
  }

  /** Whether `name` was a spare a killed run had taken, and is removed now. */
  private removedAsLeft(name: string): boolean {
    if (!name.startsWith('.taken.')) return false;
    const path = join(this.dir, name);
    try {
      if (!takerGone(name, lstatSync(path).ctimeMs, this.staleMs, Date.now())) return false;
      unlinkSync(path);
      return true;
    } catch {
      return false; // gone already, or left for makeRoom
    }
  }

  /**
   * The key of `path`: its name in its directory, the directory named by device and inode. `at` reaches the entry
   * through a descriptor of its directory (/proc/self/fd/N/name): the directory is then that one, not whatever the
   * path leads to now (a directory swapped for a link since would give another directory's key).
   */
  private keyOf(path: string, at = path): string | undefined {
    const id = at === path ? this.cachedDirId(dirname(path)) : dirId(dirname(at));
    return id === undefined ? undefined : createHash('sha256').update(`${id}/${basename(path)}`).digest('hex').slice(0, 32);
  }

  private cachedDirId(parent: string): string | undefined {
    if (!this.dirIds.has(parent)) this.dirIds.set(parent, dirId(parent));
    return this.dirIds.get(parent);
  }

  private uniqueName(prefix: string): string {
    return join(this.dir, `${prefix}.${this.tag}-${this.serial++}`);
  }

  /** A spare for `key`, renamed to a name of this run's and checked; undefined when none is left. */
  private claim(key: string): string | undefined {
    const names = this.spares().get(key) ?? [];
    for (let name = names.pop(); name !== undefined; name = names.pop()) {
      const claimed = this.uniqueName('.taken');
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
   * Link a spare of the same name to `path`, never replacing what is there.
   * True when `path` exists now (the spare, or what was there already: the
   * caller checks it); false when the caller must create the placeholder.
   * `at`: where to link it, when the caller reaches the path's directory
   * through a descriptor of its own (/proc/self/fd/N/name).
   */
  take(path: string, at = path): boolean {
    const key = this.keyOf(path, at);
    const claimed = key === undefined ? undefined : this.claim(key);
    if (key === undefined || claimed === undefined) return false;
    try {
      linkSync(claimed, at);
    } catch (e: unknown) {
      this.putBack(claimed, key);
      return errnoCode(e) === 'EEXIST';
    }
    // Its other name (a file claim checked, in this private directory): the placeholder keeps the file.
    try {
      unlinkSync(claimed);
    } catch {
      // left for makeRoom, as a name that is no spare
    }
    return true;
  }

  /** A claimed spare that was not used goes back under its key. */
  private putBack(claimed: string, key: string): void {
    const name = this.uniqueName(key);
    try {
      renameSync(claimed, name);
    } catch {
      discard(claimed);
    }
  }

  /**
   * Keep the placeholder at `path` (as lstat saw it) as a spare instead of deleting it; false when the caller must
   * delete it. `at`: where it is, when the caller reaches the path's directory through a descriptor of its own.
   */
  give(path: string, st: Stats, at = path): boolean {
    const byKey = this.spares();
    const key = isSpareShape(st) ? this.keyOf(path, at) : undefined;
    if (key === undefined || !this.makeRoom(byKey)) return false;
    try {
      renameSync(at, this.uniqueName(key));
    } catch {
      return false;
    }
    this.count++;
    return true;
  }

  /** Below MAX_SPARES, or one entry deleted to get there: a name that is no spare first, else another name's spare. */
  private makeRoom(byKey: Map<string, string[]>): boolean {
    if (this.count < MAX_SPARES) return true;
    const name = this.others.shift() ?? [...byKey.values()].find((names) => names.length > 0)?.shift();
    if (name === undefined) return false;
    discard(join(this.dir, name));
    this.count--;
    return true;
  }
}
