/**
 * doctor reads and may start the launchers it reports on (bwrap, nsjail:
 * `--version`, `--help` when the binary does not say), on the host, as
 * `isolate run` would. One inside a path the sandbox can write is one the
 * command of a run could have put there, and `isolate run` refuses it before
 * it reads it (host/launcher-check.ts); doctor applies the same check, for
 * the default profile in the caller's directory, before it touches the
 * binary, and reports the refusal as a failed check.
 */
import { homedir } from 'node:os';
import { asIsolateError, type IsolateError } from '../errors.js';
import { checkLauncher } from '../host/launcher-check.js';
import { loadMergedProfile } from '../profile/load.js';
import { pathVars, resolvePolicy } from '../profile/resolve.js';
import type { Policy } from '../profile/types.js';

/** Why isolate run would refuse the launcher `name` found at `path`; undefined when it would not. */
export type LauncherGate = (name: 'bwrap' | 'nsjail', path: string | undefined) => IsolateError | undefined;

/**
 * The gate of `isolate run` with the default profile in `cwd`. A policy that cannot be resolved leaves nothing
 * known to be safe to start: every launcher found is refused with that error.
 */
export async function launcherGate(env: Readonly<Record<string, string | undefined>>, cwd: string): Promise<LauncherGate> {
  let policy: Pick<Policy, 'filesystem'>;
  try {
    policy = resolvePolicy(await loadMergedProfile('default', { callerCwd: cwd, env }), { vars: pathVars(cwd, env, homedir()), env });
  } catch (e: unknown) {
    const failed = asIsolateError(e);
    return (_name, path) => (path === undefined ? undefined : failed);
  }
  return (name, path) => {
    try {
      checkLauncher(policy, name, path);
      return undefined;
    } catch (e: unknown) {
      return asIsolateError(e);
    }
  };
}
