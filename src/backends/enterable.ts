/**
 * A run whose working directory, or a path bound from the host, lies behind
 * a directory the sandbox cannot enter (host/unenterable.ts) is refused
 * before anything starts: the launcher could not reach the path to mount
 * it, nor the command use it. Pure, like plan().
 */
import { IsolateError } from '../errors.js';
import type { Policy } from '../profile/types.js';
import { isVisible, isWithin } from './mounts.js';
import type { HostFacts, UnenterableFact } from './types.js';

/** What the refusal says: the directory, its owner and mode, the path behind it, and how to run. */
function refusal(dir: UnenterableFact, behind: string, uid: number): IsolateError {
  const mode = dir.mode.toString(8).padStart(4, '0');
  const way = behind === dir.path ? '' : `, on the way to ${behind}`;
  const own = dir.uid === uid;
  // A directory only passed through needs others' x bit; the one the command works in, its owner.
  const others = behind === dir.path ? '' : `, or let others pass through it (chmod o+x ${dir.path})`;
  return new IsolateError('E_PATH_INVALID', `the sandbox cannot enter ${dir.path} (owner uid ${dir.uid}, mode ${mode})${way}; the command was not run`, {
    detail: `the sandbox has no capabilities over the host's files, so ${uid === 0 ? 'even root' : 'it'} gets only the directory's permission bits${own ? ', and they do not let its owner enter it' : ''}`,
    fix: own ? `chmod u+x ${dir.path}` : `run isolate as the directory's owner (uid ${dir.uid}: sudo -u '#${dir.uid}' isolate ...)${others}`,
  });
}

/**
 * How a backend's launcher reaches the paths it binds. `host-paths`: by their host paths, with the sandbox's
 * credentials (bubblewrap, nsjail): every directory on the way counts. `sandbox-view`: it opens each source with
 * privileges of its own (an OCI runtime): only the host's directories the sandbox itself sees (inside a path the
 * profile shows) count, on the way to the working directory and to what is bound inside them.
 */
export type Reach = 'host-paths' | 'sandbox-view';

/**
 * Refuse when the working directory is, or is beneath, a directory the sandbox cannot enter, or when a path
 * bound from the host (a path the profile shows, a protected path) is beneath one.
 */
export function checkEnterable(policy: Policy, host: Pick<HostFacts, 'uid' | 'protect' | 'unenterable'>, reach: Reach): void {
  const rules = policy.filesystem.mounts;
  const blocked = (host.unenterable ?? []).filter((dir) => reach === 'host-paths' || isVisible(rules, dir.path));
  if (blocked.length === 0) return;
  const cwd = policy.process.cwd;
  const bound = [...rules.filter((r) => r.kind === 'read' || r.kind === 'write').map((r) => r.path), ...host.protect.map((f) => f.path)];
  for (const dir of blocked) {
    if (isWithin(cwd, dir.path)) throw refusal(dir, cwd, host.uid);
  }
  for (const dir of blocked) {
    const behind = bound.find((path) => path !== dir.path && isWithin(path, dir.path));
    if (behind !== undefined) throw refusal(dir, behind, host.uid);
  }
}
