/**
 * One search without a cache at a time per cache directory. A search with
 * no cache to reuse lstats every entry (seconds under /usr); a burst of runs
 * that find none would all do that at once, each slower for the others. So
 * the first takes a turn (a lock file of its pid), and the others wait until
 * it is done and then read the cache it wrote. A turn whose holder is gone,
 * or that is older than STALE_MS, is taken over; no one waits longer than
 * WAIT_MS (then it searches without the cache). Every failure here means
 * "search now": never an error.
 */
import { closeSync, constants, openSync, readFileSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { errnoCode } from '../errors.js';
import { processAlive } from './alive.js';
import { makeOwnDir } from '../own-dir.js';

const STALE_MS = 60_000;
const WAIT_MS = 30_000;
const POLL_MS = 50;

const sleep = (ms: number): void => void Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);

function take(file: string): boolean {
  const fd = openSync(file, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
  try {
    writeSync(fd, String(process.pid));
  } finally {
    closeSync(fd);
  }
  return true;
}

/** Whether a turn is held by a live process and recent. */
function held(file: string): boolean {
  try {
    const pid = Number.parseInt(readFileSync(file, 'utf8'), 10);
    const age = Date.now() - statSync(file).mtimeMs;
    return age < STALE_MS && (!Number.isInteger(pid) || pid <= 0 || processAlive(pid));
  } catch {
    return false;
  }
}

/**
 * Take the turn of the cold search in `dir`: returns its release when this
 * process searches first, or undefined after another one's turn ended (its
 * cache is there to read now).
 */
export function coldSearchTurn(dir: string): (() => void) | undefined {
  const file = join(dir, '.cold-search');
  const release = (): void => {
    try {
      unlinkSync(file);
    } catch {
      // already gone
    }
  };
  try {
    makeOwnDir(dir);
    for (const until = Date.now() + WAIT_MS; Date.now() < until; ) {
      try {
        if (take(file)) return release;
      } catch (e: unknown) {
        if (errnoCode(e) !== 'EEXIST') return () => undefined;
      }
      if (!held(file)) {
        release(); // its holder is gone: taken over on the next try
        continue;
      }
      while (held(file) && Date.now() < until) sleep(POLL_MS);
      if (Date.now() < until) return undefined;
    }
  } catch {
    // search now
  }
  return () => undefined;
}
