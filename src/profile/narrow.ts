/**
 * What a caller may change of a resolved policy for one run (the API's
 * `workdir` and `timeoutAtMostMs`, the MCP server's `cwd` and `timeout` per
 * call): only ever narrower. A working directory moves the command, never
 * the sandbox: `${CWD}` and every path stay as resolved, and the directory
 * must be one the sandbox shows (inside a readable or writable path, not
 * under a hidden one); what isolate hides or cleans around the profile's
 * working directory is still found from there (`profileCwd`). A timeout can
 * only shorten the profile's.
 */
import { realpathSync, statSync } from 'node:fs';
import { IsolateError } from '../errors.js';
import { MAX_DURATION_MS } from './limits.js';
import { effectiveKind } from './mount-rules.js';
import type { Policy } from './types.js';

const FIX = 'give a directory inside one of the profile\'s readable or writable paths (isolate explain lists them)';

function realDir(dir: string, from: string): string {
  let real: string;
  try {
    real = realpathSync(dir);
  } catch {
    throw new IsolateError('E_PATH_MISSING', `${from}: working directory ${dir} does not exist`, { fix: FIX });
  }
  if (!statSync(real).isDirectory()) throw new IsolateError('E_PATH_INVALID', `${from}: working directory ${dir} is not a directory`, { fix: FIX });
  return real;
}

/** The policy with `dir` (absolute) as the command's working directory; refused (E_PATH_INVALID) when the sandbox does not show it. */
export function withWorkdir(policy: Policy, dir: string, from = 'workdir'): Policy {
  const real = realDir(dir, from);
  const kind = effectiveKind(policy.filesystem.mounts, real);
  if (kind !== 'read' && kind !== 'write') {
    const what = kind === 'deny' ? 'hidden by the profile' : kind === 'tmpfs' ? 'on an empty tmpfs in the sandbox' : 'not inside a readable or writable path of the profile';
    throw new IsolateError('E_PATH_INVALID', `${from}: working directory ${dir} is ${what}`, { fix: FIX });
  }
  return { ...policy, process: { ...policy.process, cwd: real, profileCwd: policy.process.profileCwd ?? policy.process.cwd } };
}

/** The policy with its timeout no longer than `ms` (a longer one is refused, E_LIMIT_INVALID: it would widen the policy). */
export function withTimeoutAtMost(policy: Policy, ms: number, from = 'timeout'): Policy {
  const current = policy.limits.timeoutMs;
  if (!(Number.isFinite(ms) && ms >= 1)) throw new IsolateError('E_LIMIT_INVALID', `${from}: expected a positive duration, received ${ms} ms`);
  if (ms > MAX_DURATION_MS) throw new IsolateError('E_LIMIT_INVALID', `${from}: expected at most ${MAX_DURATION_MS / 3_600_000}h (the longest a timer can wait)`);
  if (current !== undefined && ms > current) {
    throw new IsolateError('E_LIMIT_INVALID', `${from}: ${ms / 1000}s is longer than the profile's timeout (${current / 1000}s)`, {
      fix: `give a timeout of at most ${current / 1000} seconds`,
    });
  }
  return { ...policy, limits: { ...policy.limits, timeoutMs: Math.round(ms) } };
}
