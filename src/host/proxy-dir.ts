/**
 * The directory that holds a filtered run's proxy socket, in isolate's
 * private runtime directory (runtime-dir.ts), and the sweep that removes
 * those of runs killed before they could (SIGKILL, a power cut): the next
 * filtered run does it.
 *
 * The name says whose a directory is: net-<pid>-<start>-<pidns>-<random>,
 * with the start time of the isolate process that made it (clock ticks since
 * boot) and its PID namespace, both in base 36, and 32 random bits so that
 * two runs of one process (the Node API) never share one. It is short, as
 * the socket path must fit in a unix socket address. A directory is removed
 * only when all of this holds: the name is exactly that pattern; it was made
 * in this PID namespace (in another one its pid means another process); no
 * process with that pid runs, or the one that does started at another time
 * (the pid was reused); it is a real directory (lstat: a symlink is never
 * followed), owned by this user, mode 0700, holding nothing but a socket
 * named proxy.sock and, with credentials, the trust bundle ca-bundle.pem (a
 * regular file of certificates); and the base directory cannot be rearranged by other
 * users (private, or sticky like /tmp).
 */
import { randomBytes } from 'node:crypto';
import { lstatSync, readdirSync, rmdirSync, statSync, unlinkSync, type Stats } from 'node:fs';
import { join } from 'node:path';
import { CA_BUNDLE_NAME } from '../backends/forwarder.js';
import { pidNamespaceOf, processAlive, processStart } from './alive.js';

const NAME = /^net-([1-9][0-9]{0,9})-([0-9a-z]{1,12})-([0-9a-z]{1,12})-[0-9a-f]{8}$/;
const SOCKET = 'proxy.sock';

/** This process's start and PID namespace, as the name writes them; 0 where /proc does not say (never swept). */
export function ownMarks(): { start: string; ns: string } {
  return { start: (processStart('self') ?? 0).toString(36), ns: (pidNamespaceOf('self') ?? 0).toString(36) };
}

/** A fresh name for this run's proxy directory. */
export function proxyDirName(): string {
  const { start, ns } = ownMarks();
  return `net-${process.pid}-${start}-${ns}-${randomBytes(4).toString('hex')}`;
}

/** Whether the isolate process that made a directory may still be running: it is, or we cannot tell. */
export function ownerMayRun(pid: number, start: string): boolean {
  if (!processAlive(pid)) return false;
  const now = processStart(pid);
  return now === undefined || now.toString(36) === start;
}

/**
 * Only where other users cannot swap a directory for a symlink between our checks and our removal:
 * a base of ours or root's that only its owner can write to, or that is sticky (/tmp). The base
 * itself may be a symlink (TMPDIR often is): it is where this run puts its own directory too.
 */
export function safeBase(base: string, uid: number): boolean {
  try {
    const st = statSync(base);
    const sticky = (st.mode & 0o1000) !== 0;
    return st.isDirectory() && (st.uid === uid || st.uid === 0) && ((st.mode & 0o022) === 0 || sticky);
  } catch {
    return false;
  }
}

/** What a run puts in its directory: the proxy's socket and, with credentials, the trust bundle (certificates only). */
const LEFT: Readonly<Record<string, (st: Stats) => boolean>> = {
  [SOCKET]: (st) => st.isSocket(),
  [CA_BUNDLE_NAME]: (st) => st.isFile(),
};

/** Remove a dead run's directory if it is exactly what isolate leaves behind: ours, 0700, holding only what a run puts there. */
function removeLeftover(dir: string, uid: number): boolean {
  try {
    const st = lstatSync(dir);
    if (!st.isDirectory() || st.uid !== uid || (st.mode & 0o7777) !== 0o700) return false;
    const entries = readdirSync(dir);
    if (!entries.every((e) => Object.hasOwn(LEFT, e) && LEFT[e]?.(lstatSync(join(dir, e))) === true)) return false;
    for (const e of entries) unlinkSync(join(dir, e));
    rmdirSync(dir);
    return true;
  } catch {
    return false; // gone meanwhile (another run swept it), or changed: leave it
  }
}

/**
 * The names in `base`, for a sweep of what killed runs of this user left there, with this user's uid; nothing
 * when runs cannot be told apart (no PID namespace mark) or other users could rearrange `base` (safeBase).
 */
export function sweepableNames(base: string): { uid: number; names: string[] } {
  const uid = process.getuid?.();
  if (uid === undefined || ownMarks().ns === '0' || !safeBase(base, uid)) return { uid: -1, names: [] };
  try {
    return { uid, names: readdirSync(base) };
  } catch {
    return { uid, names: [] };
  }
}

/** Remove the proxy directories in `base` left by killed isolate runs of this user; returns their paths. */
export function sweepProxyDirs(base: string): string[] {
  const { uid, names } = sweepableNames(base);
  const own = ownMarks();
  const removed: string[] = [];
  for (const name of names) {
    const m = NAME.exec(name);
    if (m === null || m[3] !== own.ns || ownerMayRun(Number(m[1]), m[2] as string)) continue;
    const dir = join(base, name);
    if (removeLeftover(dir, uid)) removed.push(dir);
  }
  return removed;
}
