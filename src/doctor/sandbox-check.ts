/**
 * doctor's last word: `true` in a bubblewrap sandbox under the default
 * profile, in a fresh empty directory (the check must not depend on what
 * else is in /tmp). Planned and run from the pieces `isolate run` uses
 * (profile, host facts, the backend's plan, run/'s execute), without the API
 * around them: nothing is recorded, and no command policy applies to `true`.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { asIsolateError, type IsolateError } from '../errors.js';
import { bwrapBackend } from '../backends/bwrap.js';
import { gatherHostFacts } from '../host/facts.js';
import { loadMergedProfile } from '../profile/load.js';
import { pathVars, resolvePolicy } from '../profile/resolve.js';
import { execute } from '../run/execute.js';
import type { Check } from './checks.js';

const NAME = 'sandbox with the default profile';
const CONTAINER_FIX = 'see the message above; if running inside a container, it must allow user namespaces (e.g. docker run --security-opt seccomp=unconfined --security-opt apparmor=unconfined)';

async function runTrue(dir: string, env: Readonly<Record<string, string | undefined>>): Promise<{ exitCode: number; summary: string; stderr: string; fix?: string }> {
  try {
    const policy = resolvePolicy(await loadMergedProfile('default', { callerCwd: dir, env }), { vars: pathVars(dir, env, homedir()), env });
    const plan = bwrapBackend.plan(policy, ['true'], gatherHostFacts(policy, ['true'], { env, backend: 'bwrap' }));
    const r = await execute(plan, { stdio: 'capture', input: 'ignore' });
    return { exitCode: r.exitCode, summary: r.error === undefined ? '' : said(r.error), stderr: r.stderr ?? '', ...(r.error?.fix === undefined ? {} : { fix: r.error.fix }) };
  } catch (e: unknown) {
    const err = asIsolateError(e);
    return { exitCode: err.exitCode, summary: said(err), stderr: '', ...(err.fix === undefined ? {} : { fix: err.fix }) };
  }
}

/** An error's summary with its detail, which says why (the missing home isolate does not create, the errno): without it the fix may not fit. */
function said(err: IsolateError): string {
  return err.detail === undefined ? err.message : `${err.message}: ${err.detail}`;
}

/** `env`: the caller's; the sandbox gets only a system PATH, and the bwrap ISOLATE_BWRAP names (the one the bubblewrap check reported). */
export async function sandboxCheck(env: Readonly<Record<string, string | undefined>>): Promise<Check> {
  const dir = mkdtempSync(join(tmpdir(), 'isolate-doctor-'));
  let r;
  try {
    r = await runTrue(dir, { PATH: '/usr/bin:/bin', ...(env['ISOLATE_BWRAP'] === undefined ? {} : { ISOLATE_BWRAP: env['ISOLATE_BWRAP'] }) });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  if (r.exitCode === 0) return { name: NAME, status: 'ok', detail: 'started and ran `true` (user, pid, ipc, uts, cgroup, net, mount namespaces)' };
  return { name: NAME, status: 'fail', detail: `exit ${r.exitCode}: ${r.summary} ${r.stderr.trim()}`.trim(), fix: r.fix ?? CONTAINER_FIX };
}
