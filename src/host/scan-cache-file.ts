/**
 * Where the protected-name search keeps its cache, and how it reads and
 * replaces it: one file per writable root and set of names, in
 * `scan-cache/` of isolate's state directory (which no sandbox can write:
 * profile/own-paths.ts). A file is used only when it and its directory
 * belong to the user and no one else can write them; it is replaced by an
 * atomic rename. Every failure here means "no cache": never an error.
 */
import { createHash, randomBytes } from 'node:crypto';
import { closeSync, constants, fstatSync, futimesSync, lstatSync, openSync, readdirSync, readFileSync, readSync, renameSync, statfsSync, unlinkSync, writeFileSync, type Stats } from 'node:fs';
import { uptime } from 'node:os';
import { join } from 'node:path';
import { isolateStateDir, STATE_CACHE_DIRS } from '../profile/own-paths.js';
import { decodeScanCache, encodeScanCache, type CacheHeader } from './scan-cache-codec.js';
import { CACHEABLE_FS, clockTrusted, type ScanClock } from './scan-cache.js';
import type { ScanTree } from './scan-tree.js';
import { makeOwnDir } from '../own-dir.js';

/** Caches kept; the least recently used beyond these are removed. */
const MAX_FILES = 64;
/** A cache larger than this is not read (several million directories). */
const MAX_BYTES = 512 * 1024 * 1024;

/** The cache directory of a search for a caller's environment; undefined when isolate has no state directory there. */
export function scanCacheDir(env: Readonly<Record<string, string | undefined>>, name: (typeof STATE_CACHE_DIRS)[number] = 'scan-cache'): string | undefined {
  if (process.platform !== 'linux') return undefined; // CACHEABLE_FS are Linux's f_type numbers
  const state = isolateStateDir(env);
  return state === undefined ? undefined : join(state, name);
}

let bootId: string | undefined;

/** Now, on this boot; undefined when the boot cannot be told apart (no cache then). */
export function scanClock(): ScanClock | undefined {
  try {
    bootId ??= readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
    const wallMs = Date.now();
    return { bootId, wallMs, offsetMs: wallMs - uptime() * 1000 };
  } catch {
    return undefined;
  }
}

const euid = (): number => process.geteuid?.() ?? -1;

/** Whether a file or directory's metadata lets only this user have written it. */
function ownedPrivately(st: { uid: number; mode: number }): boolean {
  return st.uid === euid() && (st.mode & 0o022) === 0;
}

function trustedDir(dir: string): boolean {
  const st = lstatSync(dir, { throwIfNoEntry: false });
  return st !== undefined && st.isDirectory() && ownedPrivately(st);
}

export function cacheFile(dir: string, root: string, names: readonly string[]): string {
  return join(dir, `${createHash('sha256').update(JSON.stringify([root, names])).digest('hex').slice(0, 32)}.bin`);
}

/** The last cache this process read or wrote, and its file's identity then: read again only when the file changed. */
let last: { path: string; id: string; header: CacheHeader; tree: ScanTree } | undefined;

/** Forget this boot's id and the last cache read: the start-up snapshot's warm-up (src/warm-up-host.ts) keeps nothing of the machine that built it. */
export function forgetScanState(): void {
  bootId = undefined;
  last = undefined;
}

const fileId = (st: Stats): string => `${st.dev}:${st.ino}:${st.size}:${st.mtimeMs}:${st.ctimeMs}`;

function readAll(fd: number, size: number): Buffer {
  const buf = Buffer.allocUnsafe(size);
  for (let at = 0; at < size; ) {
    const n = readSync(fd, buf, at, size - at, at);
    if (n === 0) throw new RangeError('scan cache shrank while read');
    at += n;
  }
  return buf;
}

/** The header and tree of the file, read through a descriptor checked to be a private regular file of this user (not a link). */
function readPrivate(path: string, use: (header: CacheHeader) => boolean): ScanTree | undefined {
  const fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  try {
    const st = fstatSync(fd);
    if (!st.isFile() || !ownedPrivately(st) || st.size > MAX_BYTES) return undefined;
    const cached = last?.path === path && last.id === fileId(st) ? last : { path, ...decodeScanCache(readAll(fd, st.size)) };
    if (!use(cached.header)) return undefined;
    const now = new Date();
    futimesSync(fd, now, now); // recently used: kept by evict()
    last = { ...cached, id: fileId(fstatSync(fd)) };
    return cached.tree;
  } finally {
    closeSync(fd);
  }
}

/** The tree the cache holds for this root and names, when there is one this search may trust. */
export function readScanCache(dir: string, root: string, names: readonly string[], now: ScanClock): ScanTree | undefined {
  try {
    if (!trustedDir(dir)) return undefined;
    return readPrivate(cacheFile(dir, root, names), (h) => h.root === root && JSON.stringify(h.names) === JSON.stringify(names) && clockTrusted(h.clock, now));
  } catch {
    return undefined;
  }
}

/** Replace the cache for this root and names (atomically); nothing happens when it cannot be written. */
export function writeScanCache(dir: string, header: CacheHeader, tree: ScanTree): void {
  const tmp = join(dir, `.${process.pid}-${randomBytes(6).toString('hex')}.tmp`);
  let fd: number | undefined;
  try {
    makeOwnDir(dir);
    if (!trustedDir(dir)) return;
    fd = openSync(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
    writeFileSync(fd, encodeScanCache(header, tree));
    const path = cacheFile(dir, header.root, header.names);
    renameSync(tmp, path);
    last = { path, id: fileId(fstatSync(fd)), header, tree };
    evict(dir);
  } catch {
    try {
      unlinkSync(tmp);
    } catch {
      // not written, or already renamed
    }
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/** Keep the most recently used caches; remove the rest, and temp files a killed writer left. */
function evict(dir: string): void {
  const files = readdirSync(dir).flatMap((name) => {
    const st = lstatSync(join(dir, name), { throwIfNoEntry: false });
    return st === undefined ? [] : [{ name, mtimeMs: st.mtimeMs }];
  });
  const stale = Date.now() - 10 * 60_000;
  const caches = files.filter((f) => f.name.endsWith('.bin')).sort((a, b) => b.mtimeMs - a.mtimeMs);
  const remove = [...caches.slice(MAX_FILES), ...files.filter((f) => f.name.endsWith('.tmp') && f.mtimeMs < stale)];
  for (const f of remove) unlinkSync(join(dir, f.name));
}

/** The file system type (statfs f_type) of the device `dev`, which holds `path`: read once per device, into `known`; undefined when it cannot be read. */
export function fsType(known: Map<number, number | undefined>, dev: number, path: string): number | undefined {
  if (known.has(dev)) return known.get(dev);
  let type: number | undefined;
  try {
    type = statfsSync(path).type;
  } catch {
    type = undefined;
  }
  known.set(dev, type);
  return type;
}

/** Whether a search may keep the listings of the file system of `dev` (which holds `path`). */
export function cacheableFs(known: Map<number, number | undefined>, dev: number, path: string): boolean {
  const type = fsType(known, dev, path);
  return type !== undefined && CACHEABLE_FS.has(type);
}
