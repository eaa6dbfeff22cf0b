/**
 * The directories the host runs programs from by name: those on the
 * caller's PATH, and `~/bin`, which the stock ~/.profile of Debian and
 * Ubuntu puts on PATH at login, ahead of the system, when it exists (and
 * Fedora's ~/.bashrc whether it exists or not). A
 * command that could put a program in one (`~/.nvm/versions/node/v20/bin/node`,
 * a project's own `bin/` that direnv put on PATH, `~/bin/git`) would have it
 * run on the host at the user's next command. Each such directory inside a
 * writable path is kept read-only like a protected name; a writable path
 * that is itself on the PATH is refused, as the command could add any name
 * to it.
 */
import { basename, dirname, isAbsolute, join, normalize } from 'node:path';
import { IsolateError } from '../errors.js';
import type { MountRule } from './types.js';
import { isWritable, writableRoots } from './mount-rules.js';

type Env = Readonly<Record<string, string | undefined>>;

/** What resolving needs from the disk (resolve.ts PathLookup). */
interface Disk {
  stat(path: string): 'dir' | 'file' | 'other' | undefined;
  realpath(path: string): string;
}

/** A directory the host runs programs from, as the PATH names it (`written`) and as it really is (`real`). */
export interface PathDir {
  written: string;
  real: string;
  why: string;
}

/** Why a directory of the caller's PATH is protected. */
export const ON_PATH = 'on your PATH: a program put there would run on the host at your next command';

/** Why `~/bin` is protected, also where it does not exist yet. */
export const LOGIN_PATH = "on your PATH at your next login (Debian's and Ubuntu's .profile add the home's bin when it exists, Fedora's .bashrc always): a program put there would run on the host";

/** Why a relative entry of the caller's PATH (`.`, an empty one, `bin`) is protected: it names a directory inside the one you are in. */
export const HERE_ON_PATH = 'on your PATH relative to the directory you are in, where "." or an empty entry names that directory itself: a program put there would run on the host when you type its name there';

/** An entry of the PATH as an absolute path, and why it is protected: bash's `~/` is the home, a relative one is from `cwd` (the shell looks it up from where you are). */
function absoluteEntry(entry: string, cwd: string, home: string | undefined): { path: string; why: string } {
  if (home !== undefined && isAbsolute(home) && (entry === '~' || entry.startsWith('~/'))) return { path: `${home}/${entry.slice(1)}`, why: ON_PATH };
  return isAbsolute(entry) ? { path: entry, why: ON_PATH } : { path: `${cwd}/${entry}`, why: HERE_ON_PATH };
}

/** A path with its empty and `.` names dropped, its `..` kept (the kernel takes a `..` after a link from where the link leads). */
function tidied(path: string): string {
  return `/${path.split('/').filter((n) => n !== '' && n !== '.').join('/')}`;
}

/** The entries of the caller's PATH as paths, each once, with why: a relative one from `cwd`, where the command runs and you most likely are (none without a PATH). */
function pathEntries(env: Env, cwd: string): { written: string; why: string }[] {
  const path = env['PATH'] ?? '';
  const entries = (path === '' ? [] : path.split(':')).map((e) => absoluteEntry(e, cwd, env['HOME'])).map(({ path: p, why }) => ({ written: tidied(p), why }));
  return entries.filter((e, i) => entries.findIndex((o) => o.written === e.written) === i);
}

/**
 * Whether a PATH entry (`written`, really `real`) holds the programs of a
 * project's dependencies, named as such: a package manager's
 * `node_modules/.bin` (where `npm run`, `npx` and direnv's `layout node` put
 * it) or the `bin` of the activated Python virtual environment (`venv`: the
 * real path VIRTUAL_ENV names, which activate, `uv run`, `poetry run`, tox
 * and direnv's `layout python` set, with its `pyvenv.cfg`; a file a command
 * could leave beside a project's own `bin/` says nothing). Every install
 * adds what each package names (npm's `bin`, Python's console scripts),
 * under any name (`ls` too), running the package's own files, which stay
 * writable (a `.pth` file in the environment runs at every start of its
 * Python). Keeping it read-only would protect nothing an install inside the
 * sandbox cannot put there anyway, and would make every install fail when
 * isolate is started from an npm script, `npx` or an activated environment.
 */
function isDependencyBin(written: string, real: string, venv: string | undefined, disk: Disk): boolean {
  if (written.endsWith('/node_modules/.bin') && real.endsWith('/node_modules/.bin')) return true;
  if (venv === undefined || basename(written) !== 'bin' || real !== join(venv, 'bin')) return false;
  try {
    return disk.stat(join(venv, 'pyvenv.cfg')) === 'file';
  } catch {
    return false;
  }
}

/** The real path of an existing directory, or undefined (missing, a file, unreadable on the way: the host runs nothing from it). */
function realDir(path: string, disk: Disk): string | undefined {
  try {
    return disk.stat(path) === 'dir' ? disk.realpath(path) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Where a PATH entry that is not a directory yet would be made: under the
 * nearest directory above it that exists (`mkdir -p ~/go/bin` makes it
 * where there is no ~/go either), as that directory really is; undefined
 * when none can be found.
 */
function futureDir(path: string, disk: Disk): string | undefined {
  const parent = dirname(path);
  if (parent === path || !canLook(parent, disk)) return undefined;
  const real = realDir(parent, disk) ?? futureDir(parent, disk);
  return real === undefined ? undefined : join(real, basename(path));
}

/** Whether the disk can say what is at `path` (a directory on the way it cannot look into: the host runs nothing from there). */
function canLook(path: string, disk: Disk): boolean {
  try {
    disk.stat(path);
    return true;
  } catch {
    return false;
  }
}

/**
 * The directories of the caller's PATH, also those that do not exist yet (a
 * command could make `~/go/bin`, with `~/go` where that is missing too, and
 * the host would run what it put there: the first missing directory on the
 * way is blocked for the run), and `~/bin`
 * in the home whether it exists or not: it is a fixed
 * name, so a missing one is blocked for the run where the home is writable.
 * A dependency bin is left out only when the PATH names it as one too: a
 * link elsewhere that leads to one is the link's choice, not the dependencies'.
 * `homes`: HOME, and the home the password database gives, where a login
 * starts when HOME names another (an assistant's own HOME, `sudo -E`).
 */
export function pathDirs(env: Env, cwd: string, homes: readonly (string | undefined)[], disk: Disk): PathDir[] {
  const dirs: PathDir[] = [];
  const venv = env['VIRTUAL_ENV'] !== undefined && isAbsolute(env['VIRTUAL_ENV']) ? realDir(env['VIRTUAL_ENV'], disk) : undefined;
  for (const { written, why } of pathEntries(env, cwd)) {
    const real = realDir(written, disk) ?? futureDir(written, disk);
    if (real !== undefined && !isDependencyBin(written, real, venv, disk)) dirs.push({ written, real, why });
  }
  for (const home of new Set(homes.filter((h): h is string => h !== undefined && isAbsolute(h)))) {
    const bin = join(home, 'bin');
    dirs.push({ written: bin, real: realDir(bin, disk) ?? join(realDir(home, disk) ?? home, 'bin'), why: LOGIN_PATH });
  }
  return dirs;
}

/**
 * Refuse a run in which a directory the host runs programs from cannot be
 * kept read-only: one that is a writable path itself (the command could add
 * any program to it; making the whole path read-only would defeat the run),
 * or one reached through a symbolic link inside a writable path (the
 * command could point the link at a directory of its own), or through a
 * `..` there (the command could make the name before it such a link).
 */
export function checkPathDirs(dirs: readonly PathDir[], mounts: readonly MountRule[]): void {
  const roots = writableRoots(mounts);
  for (const dir of dirs) {
    if (roots.includes(dir.real)) {
      throw new IsolateError('E_PATH_INVALID', `${dir.real} is a path the sandbox can write, and it is ${dir.why}`, {
        fix: `run from another directory, take ${dir.written} off PATH for the run (PATH=... isolate run ...; an empty entry or "." is the directory you are in), or make it read-only (--profile strict)`,
      });
    }
    if (dir.written !== dir.real && isWritable(mounts, normalize(dir.written))) {
      throw new IsolateError('E_PROTECT_SYMLINK', `${dir.written} is reached through a symbolic link or a ".." inside a path the sandbox can write, and it is ${dir.why}: the command could point the link at programs of its own`, {
        fix: `put ${dir.real}, where it leads, on PATH instead, or replace the link with the directory it points to`,
      });
    }
  }
}
