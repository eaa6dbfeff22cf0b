/**
 * Paths a sandboxed command must never change, whatever the profile says:
 * isolate's own state (the audit log), runtime directory (the sockets of
 * the filtering proxies of concurrent runs) and configuration (user profiles), and
 * the per-user configuration that programs on the host run code from (the
 * protected names under `.config/` and `.local/share/`, found wherever
 * $XDG_CONFIG_HOME and $XDG_DATA_HOME point). A command that could write
 * them would forge the record of its own run, or plant a profile or a git
 * setting that the next run, or host git, obeys.
 */
import { isAbsolute, join } from 'node:path';
import { IsolateError } from '../errors.js';
import type { MountKind } from './types.js';
import { isWithin } from './mount-rules.js';

type Env = Readonly<Record<string, string | undefined>>;

/** An XDG base directory: the variable when it is absolute (the spec ignores relative values), else `$HOME/<fallback>`. */
function xdgBase(env: Env, variable: string, fallback: string): string | undefined {
  const value = env[variable];
  if (value !== undefined && isAbsolute(value)) return value;
  const home = env['HOME'];
  return home !== undefined && isAbsolute(home) ? join(home, fallback) : undefined;
}

/** isolate's own directories wherever it may look for them: where the XDG variables put them, and where they are without those. */
export function ownDirs(env: Env): string[] {
  const plain = { HOME: env['HOME'] };
  const dirs = [isolateStateDir(env), isolateConfigDir(env), isolateStateDir(plain), isolateConfigDir(plain)];
  return [...new Set(dirs.filter((d): d is string => d !== undefined))];
}

/**
 * What no sandbox may see into: isolate's own directories and its runtime
 * directories (hidden where they exist, which the run makes sure of before
 * its policy is resolved: host/runtime-dir.ts).
 */
export function hiddenOwnDirs(env: Env): string[] {
  return [...new Set([...ownDirs(env), ...isolateRuntimeDirs(env)])];
}

/** Where the login manager puts $XDG_RUNTIME_DIR (systemd-logind, elogind): a run without the variable still hides isolate's directory there. */
export const RUNTIME_DIR_CONVENTION = '/run/user';

/**
 * isolate's runtime directory under $XDG_RUNTIME_DIR (when absolute), and
 * under /run/user/<uid>, where that variable usually points: host/runtime-dir.ts
 * uses the first when it is usable, else `run` in the state directory.
 */
export function isolateRuntimeDirs(env: Env, uid = process.getuid?.()): string[] {
  const xdg = env['XDG_RUNTIME_DIR'];
  const dirs = xdg !== undefined && isAbsolute(xdg) ? [join(xdg, 'isolate')] : [];
  if (uid !== undefined) dirs.push(join(RUNTIME_DIR_CONVENTION, String(uid), 'isolate'));
  return dirs;
}

/** The directories of a state directory that hold search caches: the protected-name search's, and that of root-only files (host/root-only.ts). */
export const STATE_CACHE_DIRS = ['scan-cache', 'root-only-cache'] as const;

/** isolate's state directory, where the audit log lives by default. */
export function isolateStateDir(env: Env): string | undefined {
  const base = xdgBase(env, 'XDG_STATE_HOME', '.local/state');
  return base === undefined ? undefined : join(base, 'isolate');
}

/** isolate's configuration directory (user profiles live in its `profiles/`). */
export function isolateConfigDir(env: Env): string | undefined {
  const base = xdgBase(env, 'XDG_CONFIG_HOME', '.config');
  return base === undefined ? undefined : join(base, 'isolate');
}

/** Protected names under `.config/` and `.local/share/` mean these XDG directories, wherever they are. */
const XDG_NAME_PREFIXES: readonly [prefix: string, variable: string, fallback: string][] = [
  ['.config/', 'XDG_CONFIG_HOME', '.config'],
  ['.local/share/', 'XDG_DATA_HOME', '.local/share'],
];

/** A protected entry written `~/name`: a name that only means something in the home directory. */
export const HOME_PREFIX = '~/';

/**
 * The absolute paths kept read-only in every sandbox where they are inside a
 * writable path (and kept in place where they are hidden there): isolate's
 * own directories (also where a run without the XDG variables would look)
 * and its runtime directories, each `~/name` entry in the caller's home, and each
 * protected name under `.config/` or `.local/share/` where the XDG variables
 * put those directories.
 */
export function ownProtectedPaths(env: Env, protect: readonly string[]): string[] {
  const out: (string | undefined)[] = hiddenOwnDirs(env);
  const home = env['HOME'];
  for (const entry of protect) {
    const inHome = entry.startsWith(HOME_PREFIX);
    const name = inHome ? entry.slice(HOME_PREFIX.length) : entry;
    if (inHome && home !== undefined && isAbsolute(home)) out.push(join(home, name));
    for (const [prefix, variable, fallback] of XDG_NAME_PREFIXES) {
      if (!name.startsWith(prefix)) continue;
      const base = xdgBase(env, variable, fallback);
      if (base !== undefined) out.push(join(base, name.slice(prefix.length)));
    }
  }
  return [...new Set(out.filter((p): p is string => p !== undefined))];
}

/**
 * The protected entries as names for the search of every writable path:
 * plain names are blocked where missing; `~/name` entries are protected
 * where they exist, and one a run creates elsewhere is moved aside after it
 * (a `.bashrc` matters in a home directory, not at the top of every project).
 */
export function protectedNames(protect: readonly string[]): { blocked: string[]; existing: string[] } {
  const blocked = protect.filter((e) => !e.startsWith(HOME_PREFIX));
  const existing = protect.filter((e) => e.startsWith(HOME_PREFIX)).map((e) => e.slice(HOME_PREFIX.length));
  return { blocked, existing: existing.filter((name) => !blocked.includes(name)) };
}

/** Throw when a rule would make one of isolate's own directories visible or writable (a deeper rule would win over its protection). */
export function checkOwnPath(kind: MountKind, real: string, from: string, written: string, env: Env): void {
  if (kind === 'deny') return;
  for (const dir of hiddenOwnDirs(env)) {
    if (!isWithin(real, dir)) continue;
    throw new IsolateError('E_PATH_INVALID', `${from}: "${written}" is inside ${dir}, isolate's own directory, which no sandbox may see into or change`, {
      fix: 'remove the rule; run isolate from another directory',
    });
  }
}

/** Whether a policy protects anything at all (names, existing names or absolute paths). */
export function protectsAnything(fs: { protect: readonly string[]; protectExisting?: readonly string[]; protectPaths?: readonly string[] }): boolean {
  return fs.protect.length > 0 || (fs.protectExisting ?? []).length > 0 || (fs.protectPaths ?? []).length > 0;
}
