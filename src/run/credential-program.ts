/**
 * The program of a credential's `from: command`, which isolate runs on the
 * host, outside any sandbox, before each run. It is found on the caller's
 * PATH here, as the system would find it, and run by the path found: a
 * program inside a path the sandbox can write (a project's `bin/` that
 * direnv puts first on PATH, `node_modules/.bin`, `~/.local/bin` in a
 * writable home), or one reached through a link that lies in such a path,
 * is one the command of an earlier run could have put or replaced there,
 * and is refused; so is one not found, rather than left to the system to
 * look up again as it starts. What the program itself reads (its modules,
 * PYTHONPATH, NODE_OPTIONS) is not looked at.
 */
import { accessSync, constants, statSync } from 'node:fs';
import { join, resolve } from 'node:path';

export type ProgramLookup = { ok: true; path: string } | { ok: false; why: string; fix: string };

/**
 * Where a sandbox could change a program at `path` (the caller's rules: profile/links.ts hostFileWay): `open` names
 * the path, link or file inside a path the sandbox can write (undefined: none is); `shown` names the program in a
 * message.
 */
export type ProgramCheck = (path: string) => { open: string | undefined; shown: string };

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
 * The credential command's program as an absolute path, or why it may not
 * run: it is not found (it is never left to a second lookup when it starts,
 * which could find one a sandbox put on PATH since), or it, a link on the
 * way to it, or the file it finally names is inside a path the sandbox can
 * write (`check`).
 */
export function credentialProgram(name: string, env: Readonly<Record<string, string | undefined>>, cwd: string, check: ProgramCheck): ProgramLookup {
  const found = findProgram(name, env['PATH'], cwd);
  if (found === undefined) {
    const where = name.includes('/') ? `from ${cwd}` : `on PATH (${env['PATH'] ?? DEFAULT_PATH})`;
    return { ok: false, why: `its program ${name} is not found ${where} as an executable file`, fix: 'install the program, or name it by its absolute path' };
  }
  const way = check(found);
  if (way.open === undefined) return { ok: true, path: found };
  return {
    ok: false,
    why: `its program ${way.shown} is inside a path the sandbox can write, where the command of a run could have put or changed it, and isolate runs it on the host`,
    fix: 'install the program outside the paths the sandbox can write, or name it by a path outside them (and take such directories off PATH)',
  };
}
