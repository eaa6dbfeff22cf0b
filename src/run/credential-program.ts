/**
 * The program of a credential's `from: command`, which isolate runs on the
 * host, outside any sandbox, before each run. It is found on the caller's
 * PATH here, as the system would find it, and run by the path found: a
 * program inside a path the sandbox can write (a project's `bin/` that
 * direnv puts first on PATH, `node_modules/.bin`, `~/.local/bin` in a
 * writable home) is one the command of an earlier run could have put or
 * replaced there, and is refused. What the program itself reads (its
 * modules, PYTHONPATH, NODE_OPTIONS) is not looked at.
 */
import { accessSync, constants, realpathSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';

export type ProgramLookup = { ok: true; path: string } | { ok: false; why: string };

/** Where the system looks for a program when PATH is not set (libuv's _PATH_DEFPATH). */
const DEFAULT_PATH = '/usr/bin:/bin';

/** The executable `name` names from `cwd` with this PATH (a name with a slash: that path), as the system finds it. */
export function findProgram(name: string, path: string | undefined, cwd: string): string | undefined {
  const candidates = name.includes('/') ? [resolve(cwd, name)] : (path ?? DEFAULT_PATH).split(':').map((dir) => join(resolve(cwd, dir), name));
  return candidates.find(isExecutableFile);
}

function isExecutableFile(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

/**
 * The credential command's program as an absolute path (the name as given
 * when there is none: starting it then fails, ENOENT), or why it may not
 * run: it, or the file it finally names, is inside a path the sandbox can
 * write (`writable`).
 */
export function credentialProgram(name: string, env: Readonly<Record<string, string | undefined>>, cwd: string, writable: (path: string) => boolean): ProgramLookup {
  const found = findProgram(name, env['PATH'], cwd);
  if (found === undefined) return { ok: true, path: name };
  const real = realpathSync(found);
  const open = [found, real].find(writable);
  if (open === undefined) return { ok: true, path: found };
  return { ok: false, why: `its program ${found}${real === found ? '' : ` (${real})`} is inside a path the sandbox can write, where the command of a run could have put or changed it, and isolate runs it on the host` };
}
