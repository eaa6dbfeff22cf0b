/**
 * doctor reads and may start the launchers it reports on (bwrap, nsjail:
 * `--version`, `--help` when the binary does not say), on the host, as
 * `isolate run` would. One inside a path the sandbox can write is one the
 * command of a run could have put there, and `isolate run` refuses it before
 * it reads it (host/launcher-check.ts); doctor applies the same check, for
 * the default profile in the caller's directory, before it touches the
 * binary, and reports the refusal as a failed check.
 *
 * A directory the default profile refuses as the working directory (/tmp,
 * the runtime directory: profile/socket-dirs.ts) says nothing about the
 * launchers: doctor reports it on its own, and checks them against the
 * default profile in a fresh empty directory, as its sandbox check runs.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { asIsolateError, type IsolateError } from '../errors.js';
import { checkLauncher } from '../host/launcher-check.js';
import { loadMergedProfile } from '../profile/load.js';
import { pathVars, resolvePolicy } from '../profile/resolve.js';
import { isWritable } from '../profile/mount-rules.js';
import type { Policy } from '../profile/types.js';

type Env = Readonly<Record<string, string | undefined>>;

/** Why isolate run would refuse the launcher `name` found at `path`; undefined when it would not. */
export type LauncherGate = (name: 'bwrap' | 'nsjail', path: string | undefined) => IsolateError | undefined;

export interface LauncherGates {
  gate: LauncherGate;
  /** Why the default profile refuses the caller's directory itself (then `gate` is that of a fresh directory). */
  refusedHere?: IsolateError;
}

async function defaultPolicy(env: Env, cwd: string): Promise<Pick<Policy, 'filesystem'>> {
  return resolvePolicy(await loadMergedProfile('default', { callerCwd: cwd, env }), { vars: pathVars(cwd, env, homedir()), env });
}

/** The default policy in a fresh empty directory, removed once resolved. */
async function freshPolicy(env: Env): Promise<Pick<Policy, 'filesystem'>> {
  const dir = mkdtempSync(join(tmpdir(), 'isolate-doctor-'));
  try {
    return await defaultPolicy(env, dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function gateOf(policy: Pick<Policy, 'filesystem'>): LauncherGate {
  return (name, path) => {
    try {
      checkLauncher((p) => isWritable(policy.filesystem.mounts, p), name, path);
      return undefined;
    } catch (e: unknown) {
      return asIsolateError(e);
    }
  };
}

/**
 * The gate of `isolate run` with the default profile in `cwd`. When that directory is refused, the gate of a fresh
 * one, and the refusal. A policy that cannot be resolved there either leaves nothing known to be safe to start:
 * every launcher found is refused with that error.
 */
export async function launcherGate(env: Env, cwd: string): Promise<LauncherGates> {
  let here: IsolateError;
  try {
    return { gate: gateOf(await defaultPolicy(env, cwd)) };
  } catch (e: unknown) {
    here = asIsolateError(e);
  }
  try {
    return { gate: gateOf(await freshPolicy(env)), refusedHere: here };
  } catch {
    return { gate: (_name, path) => (path === undefined ? undefined : here) };
  }
}
