/**
 * isolate's private runtime directory: the socket directories of filtered
 * runs' proxies and the registry of placeholders live there. No sandbox may
 * see into it: a run that could would reach another run's proxy, and so the
 * domains that run is allowed (profile/own-paths.ts hides it from every
 * sandbox, and a rule that names it is refused).
 *
 * $XDG_RUNTIME_DIR/isolate when $XDG_RUNTIME_DIR is an existing directory of
 * this user's (short, on a tmpfs, removed at logout); else `run` in isolate's
 * state directory. Never the shared temp directory: another user, or the
 * sandbox of another run that shows /tmp, could reach or take the name.
 */
import { accessSync, constants, lstatSync, statSync, type Stats } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { IsolateError, errnoCode } from '../errors.js';
import { isolateStateDir } from '../profile/own-paths.js';
import { makeOwnDir } from '../own-dir.js';

type Env = Readonly<Record<string, string | undefined>>;

/** $XDG_RUNTIME_DIR when it is absolute, a directory (not a symlink) owned by this user, and writable: a variable kept from another user's session (sudo -E) is not. */
function usableRuntimeBase(env: Env, uid: number | undefined): string | undefined {
  const xdg = env['XDG_RUNTIME_DIR'];
  if (xdg === undefined || !xdg.startsWith('/')) return undefined;
  try {
    const st = lstatSync(xdg);
    if (!st.isDirectory() || (uid !== undefined && st.uid !== uid)) return undefined;
    accessSync(xdg, constants.W_OK | constants.X_OK);
    return xdg;
  } catch {
    return undefined;
  }
}

/** Where isolate's runtime directory is for this environment (it may not exist yet). */
export function runtimeDir(env: Env): string {
  const base = usableRuntimeBase(env, process.getuid?.());
  if (base !== undefined) return join(base, 'isolate');
  const state = isolateStateDir({ ...env, HOME: env['HOME'] || homedir() });
  if (state === undefined) {
    throw new IsolateError('E_IO', 'isolate has no private directory for its sockets: neither XDG_RUNTIME_DIR nor HOME is an absolute path', {
      fix: 'set XDG_RUNTIME_DIR to a private directory of yours (mode 0700), or HOME',
    });
  }
  return join(state, 'run');
}

/** What isolate says when it cannot make its runtime directory (a parent not writable, or not a directory). */
function cannotCreate(path: string, e: unknown): IsolateError {
  return new IsolateError('E_IO', `cannot create isolate's runtime directory ${path}: ${errnoCode(e) ?? String(e)}`, {
    cause: e,
    ...(e instanceof Error ? { detail: e.message } : {}),
    fix: 'set XDG_RUNTIME_DIR to a writable private directory of yours',
  });
}

/** Refuse a directory another user, or this user's group, could enter, or one reached through a symlink. */
function checkPrivate(path: string, uid: number | undefined): void {
  let st: Stats;
  try {
    st = lstatSync(path);
  } catch (e: unknown) {
    throw cannotCreate(path, e);
  }
  const problem = !st.isDirectory()
    ? 'is not a directory (a symlink is never followed)'
    : uid !== undefined && st.uid !== uid
      ? `belongs to uid ${st.uid}, not to you (uid ${uid})`
      : (st.mode & 0o077) !== 0
        ? `is open to other users (mode 0${(st.mode & 0o777).toString(8)}; it must be 0700)`
        : undefined;
  if (problem === undefined) return;
  throw new IsolateError('E_IO', `isolate's runtime directory ${path} ${problem}`, {
    fix: `isolate recreates it private: remove ${path} if it is yours (else ask who made it), or set XDG_RUNTIME_DIR to a private directory of yours`,
  });
}

/** Create `path` (and missing parents) mode 0700, or accept it as it is when it is a private directory of this user; else exit 125 with a fix. */
export function ensurePrivateDir(path: string): string {
  try {
    makeOwnDir(path);
  } catch (e: unknown) {
    if (errnoCode(e) !== 'EEXIST') throw cannotCreate(path, e);
  }
  checkPrivate(path, process.getuid?.());
  return path;
}

/** The runtime directory, created private or checked to be: what the proxy and the placeholder registry use. */
export function ensureRuntimeDir(env: Env): string {
  return ensurePrivateDir(runtimeDir(env));
}

/**
 * Before a policy is resolved: create the runtime directory if it is missing,
 * so that the resolution finds it and hides it from this run's sandbox; a
 * directory that first appeared after that would be visible to a sandbox
 * that shows its parent. Best effort: a run that needs the directory checks
 * it itself, and one that does not is not refused for it.
 */
export function prepareRuntimeDir(env: Env): void {
  try {
    const dir = runtimeDir(env);
    if (statSync(dir, { throwIfNoEntry: false }) === undefined) ensurePrivateDir(dir);
  } catch {
    // checked where it is used
  }
}
