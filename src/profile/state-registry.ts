/**
 * isolate's other state directories. A run with another XDG_STATE_HOME
 * keeps its audit log, scan cache and device node copies elsewhere (with
 * another XDG_RUNTIME_DIR, its proxies' sockets and spare placeholders); a run
 * without it would not know to hide them, and a profile that makes that
 * place writable (the project, the home) would let its command append to
 * the other's audit log or forge its scan cache so that its next run misses
 * a protected name. So every state directory other than the default one
 * ($HOME/.local/state/isolate, which every run hides), and every runtime
 * directory other than /run/user/<uid>/isolate, is listed in the
 * default one's `state-dirs` (when ~/.local/state is there), and every run hides each listed one that
 * exists. A state directory listed for the first time may hold what a
 * sandbox put there before: its search caches are emptied then.
 */
import { closeSync, constants, fstatSync, openSync, readFileSync, rmSync, statSync, writeSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import { isolateRuntimeDirs, isolateStateDir, STATE_CACHE_DIRS } from './own-paths.js';
import { makeOwnDir } from '../own-dir.js';

type Env = Readonly<Record<string, string | undefined>>;

const FILE = 'state-dirs';
/** A longer list is not read (thousands of state directories). */
const MAX_BYTES = 256 * 1024;

function registryFile(env: Env): string | undefined {
  const home = isolateStateDir({ HOME: env['HOME'] });
  return home === undefined ? undefined : join(home, FILE);
}

const euid = (): number => process.geteuid?.() ?? -1;

/** The state directories listed, when the list is a regular file of this user that no one else can write. */
export function registeredStateDirs(env: Env): string[] {
  const file = registryFile(env);
  if (file === undefined) return [];
  let fd: number | undefined;
  try {
    fd = openSync(file, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
    const st = fstatSync(fd);
    if (!st.isFile() || st.uid !== euid() || (st.mode & 0o022) !== 0 || st.size > MAX_BYTES) return [];
    return readFileSync(fd, 'utf8')
      .split('\n')
      .filter((line) => isAbsolute(line));
  } catch {
    return [];
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/**
 * Whether the home's state base ($HOME/.local/state) is a directory of this
 * user's: the list is made there, never a home or a ~/.local that is not
 * there (a home of a test or a service account stays as it is).
 */
function ownStateBase(env: Env): boolean {
  const home = env['HOME'];
  const st = home === undefined || !isAbsolute(home) ? undefined : statSync(join(home, '.local/state'), { throwIfNoEntry: false });
  return st !== undefined && st.isDirectory() && st.uid === euid();
}

/** List this run's state directory when it is not the default one (the first time, its search caches are emptied), and its runtime directory when $XDG_RUNTIME_DIR puts it elsewhere than usual. */
export function registerStateDir(env: Env): void {
  const file = registryFile(env);
  if (file === undefined || !ownStateBase(env)) return;
  const listed = registeredStateDirs(env);
  const state = isolateStateDir(env);
  const usual = isolateRuntimeDirs({});
  const runtimes = isolateRuntimeDirs(env).filter((d) => !usual.includes(d));
  const fresh = [state, ...runtimes].filter((d): d is string => d !== undefined && d !== join(file, '..') && !listed.includes(d));
  if (fresh.length === 0) return;
  try {
    makeOwnDir(join(file, '..'));
    const fd = openSync(file, constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT | constants.O_NOFOLLOW, 0o600);
    try {
      writeSync(fd, fresh.map((d) => `${d}\n`).join(''));
    } finally {
      closeSync(fd);
    }
    if (state !== undefined && fresh.includes(state)) for (const cache of STATE_CACHE_DIRS) rmSync(join(state, cache), { recursive: true, force: true });
  } catch {
    // no home state directory to list them in: the next run without these variables cannot know of them
  }
}
