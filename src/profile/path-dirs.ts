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
export const LOGIN_PATH = "on your PATH at your next login (the ~/.profile of Debian and Ubuntu adds ~/bin when it exists, Fedora's ~/.bashrc always): a program put there would run on the host";

/** The directories of the caller's PATH: absolute entries only (a relative one means a different place in every directory), normalized, each once. */
function pathEntries(env: Env): string[] {
  const entries = (env['PATH'] ?? '').split(':').filter((e) => isAbsolute(e));
  return [...new Set(entries.map((e) => normalize(e).replace(/(.)\/+$/, '$1')))];
}

/**
 * Whether a PATH directory holds the programs of a project's dependencies:
 * a package manager's `node_modules/.bin` (where `npm run`, `npx` and
 * direnv's `layout node` put it) or a Python virtual environment's `bin`
 * (beside its `pyvenv.cfg`, holding its `activate`: an activated
 * environment; both, since a command could add a `pyvenv.cfg` beside a
 * protected `bin` for the next run, but nothing inside it). Every install adds
 * what each package names (npm's `bin`, Python's console scripts), under any
 * name (`ls` too), running the package's own files, which stay writable
 * (a `.pth` file in the environment runs at every start of its Python).
 * Keeping it read-only would protect nothing an install inside the sandbox
 * cannot put there anyway, and would make every install fail when isolate
 * is started from an npm script, `npx` or an activated environment.
 */
function isDependencyBin(dir: string, disk: Disk): boolean {
  if (dir.endsWith('/node_modules/.bin')) return true;
  if (basename(dir) !== 'bin') return false;
  try {
    return disk.stat(join(dirname(dir), 'pyvenv.cfg')) === 'file' && disk.stat(join(dir, 'activate')) === 'file';
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
 * The directories of the caller's PATH that exist, and `~/bin` in the home
 * (`home`, absolute) whether it exists or not: it is a fixed name, so a
 * missing one is blocked for the run where the home is writable.
 */
export function pathDirs(env: Env, home: string | undefined, disk: Disk): PathDir[] {
  const dirs: PathDir[] = [];
  for (const written of pathEntries(env)) {
    const real = realDir(written, disk);
    if (real !== undefined && !isDependencyBin(real, disk)) dirs.push({ written, real, why: ON_PATH });
  }
  if (home !== undefined && isAbsolute(home)) {
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
 * command could point the link at a directory of its own).
 */
export function checkPathDirs(dirs: readonly PathDir[], mounts: readonly MountRule[]): void {
  const roots = writableRoots(mounts);
  for (const dir of dirs) {
    if (roots.includes(dir.real)) {
      throw new IsolateError('E_PATH_INVALID', `${dir.real} is a path the sandbox can write, and it is ${dir.why}`, {
        fix: `run from another directory, take ${dir.written} off PATH for the run (PATH=... isolate run ...), or make it read-only (--profile strict)`,
      });
    }
    if (dir.written !== dir.real && isWritable(mounts, dir.written)) {
      throw new IsolateError('E_PROTECT_SYMLINK', `${dir.written} is reached through a symbolic link inside a path the sandbox can write, and it is ${dir.why}: the command could point the link at programs of its own`, {
        fix: `put ${dir.real}, where the link leads, on PATH instead, or replace the link with the directory it points to`,
      });
    }
  }
}
