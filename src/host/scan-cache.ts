/**
 * What the protected-name search remembers between runs, and the rules for
 * when a remembered directory listing may stand in for listing it again.
 * Pure; the tree it keeps is scan-tree.ts, the file that holds it
 * scan-cache-file.ts, the searches that use it protect-scan.ts and
 * run/after-run-scan.ts.
 *
 * Why a reused listing is never stale (the names in a directory are all the
 * search takes from it; the mode, owner and type of each subdirectory are
 * read afresh by an lstat every run):
 *
 * 1. A search takes the wall clock W before its first lstat, and for each
 *    directory lstats it (the stamp: device, inode, ctime, mtime, size, link
 *    count) before it lists it. A listing is recorded as reusable only when
 *    the directory's ctime C < W - SETTLE_MS, and only on a filesystem whose
 *    timestamps the local kernel sets (CACHEABLE_FS: ext2/3/4, XFS, btrfs,
 *    tmpfs, F2FS, ZFS; not NFS, FUSE, overlayfs, network or FAT file systems).
 * 2. A later search reuses it only while the directory's stamp is exactly the
 *    recorded one (sameStamp), on such a filesystem.
 * 3. Adding, removing or renaming an entry in a directory (a file, a
 *    directory, or a whole subtree moved in from elsewhere) sets the
 *    directory's ctime to the kernel's current time, to the filesystem's
 *    granularity (1 s at worst on these filesystems) from the kernel's coarse
 *    clock (one tick, <= 10 ms, behind the wall clock). No system call sets a
 *    ctime to a chosen value (utimensat sets it to now as well), and a
 *    sandboxed command cannot step the wall clock (CAP_SYS_TIME in the
 *    initial namespace; time namespaces move only the monotonic clocks).
 * 4. So a change after the recording search's first lstat stamps the
 *    directory with a ctime >= W - 1 s - 10 ms - (how far the clock went
 *    back since W), while a reusable listing has C < W - SETTLE_MS. Every
 *    cache records W, the boot and the wall clock's offset from the boot
 *    clock (which counts suspend); clockTrusted drops a cache from another
 *    boot, from the future, or when the wall clock has gone back by more
 *    than CLOCK_SLACK_MS since (net). With SETTLE_MS > 1 s + 10 ms +
 *    CLOCK_SLACK_MS, any such change leaves C' > C: the stamp differs, the
 *    directory is listed again.
 *    - a change within the same tick as the recording: its C is within
 *      SETTLE_MS of W, so that listing is not reusable at all;
 *    - a change between the lstat and the listing: the listing may show
 *      it, the stamp does not, and the next stamp differs: never reused;
 *    - a directory removed and another made at the same path with the same
 *      inode number: the new one's ctime is its creation, after W;
 *    - a subtree moved in: its parent's ctime changes, so the parent is
 *      listed and the moved directory is matched by its own stamp, which
 *      changed if anything in it was ever changed after W (a listing is a
 *      property of the directory, not of where it sits).
 *    Not covered: the clock stepped back, a name created, and the clock
 *    stepped forward again, all between two searches; only someone who can
 *    set the host's clock can do that, and they can write the project too.
 * 5. A listing carried from one cache into the next keeps its stamp, and
 *    C < W_old - SETTLE_MS <= W_new - SETTLE_MS (clockTrusted holds
 *    W_new >= W_old), so the rule holds for every cache ever written.
 * 6. The cache is only trusted when it is a regular file owned by the user
 *    and writable by no one else, in such a directory (scan-cache-file.ts),
 *    inside isolate's state directory, which no sandbox can write; and it
 *    is replaced atomically (rename), so concurrent runs read a whole file,
 *    and anything that does not decode is ignored, never an error.
 * 7. The search after a run (run/after-run-scan.ts) takes its listings from
 *    the tree the search before it built (scan-seen.ts: in memory, never
 *    written where a sandbox reaches) by rules 2-5: the sandbox starts after
 *    that search began, so whatever it adds, removes or renames changes the
 *    stamp. A listing with a subdirectory that got no record of its own (a
 *    name that is not UTF-8, which the search cannot name) is not reusable.
 * 8. A listing also keeps which of the directory's regular files had other
 *    names (hard links, linked-files.ts) when it was taken. That is not
 *    covered by rules 1-5: link(2) changes the file's ctime, not its
 *    directory's, so a link made from elsewhere to an existing file of a
 *    directory unchanged since the listing is not seen until the directory
 *    changes. A sandboxed command cannot make such a link itself (a link
 *    to a file outside the writable paths crosses a mount: EXDEV); a file
 *    removed, added or renamed in the directory changes its stamp, and it
 *    is listed (and its files looked at) again.
 */

/** A listing is reusable only for a directory unchanged this long before the search began. */
export const SETTLE_MS = 3000;
/** How far the wall clock may have gone back, net, since the cache was written (clock reads, rounding). */
export const CLOCK_SLACK_MS = 1000;

/** Filesystems (statfs f_type) whose timestamps the local kernel sets to its own clock. */
export const CACHEABLE_FS: ReadonlySet<number> = new Set([
  0xef53, // ext2, ext3, ext4
  0x58465342, // XFS
  0x9123683e, // btrfs
  0x01021994, // tmpfs
  0xf2f52010, // F2FS
  0x2fc12fc1, // ZFS
]);

/** A directory's identity and change state, from lstat. */
export interface DirStamp {
  dev: number;
  ino: number;
  ctimeMs: number;
  mtimeMs: number;
  size: number;
  nlink: number;
}

/** The stamp's fields, in the order a cache keeps them. */
export const STAMP_FIELDS = ['dev', 'ino', 'ctimeMs', 'mtimeMs', 'size', 'nlink'] as const satisfies readonly (keyof DirStamp)[];

export type EntryKind = 'file' | 'dir' | 'symlink' | 'other';

/** An entry that is, or begins, a protected name. */
export interface Hit {
  name: string;
  kind: EntryKind;
}

/** When and on which boot a search began. */
export interface ScanClock {
  bootId: string;
  wallMs: number;
  /** Wall clock minus the boot clock (which counts suspend): moves only when the wall clock is set or slewed. */
  offsetMs: number;
}

/** Whether the stamp kept at `stamps[at ..]` (STAMP_FIELDS order) is exactly `now` (rule 2). */
export function sameStamp(stamps: Float64Array, at: number, now: DirStamp): boolean {
  return (
    stamps[at + 2] === now.ctimeMs &&
    stamps[at + 1] === now.ino &&
    stamps[at] === now.dev &&
    stamps[at + 3] === now.mtimeMs &&
    stamps[at + 4] === now.size &&
    stamps[at + 5] === now.nlink
  );
}

/** Whether a listing taken after this stamp, by a search that began at `startMs`, may be reused later (rule 1). */
export function settled(stamp: DirStamp, startMs: number): boolean {
  return stamp.ctimeMs < startMs - SETTLE_MS;
}

/** Whether a cache written by a search that began at `then` may be used by one that begins at `now` (rule 4). */
export function clockTrusted(then: ScanClock, now: ScanClock): boolean {
  return then.bootId === now.bootId && now.wallMs >= then.wallMs && now.offsetMs >= then.offsetMs - CLOCK_SLACK_MS;
}
