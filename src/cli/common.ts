/** From parsed options to the API's options, for run, explain, check and profiles show. */
import { IsolateError, requireCommand } from '../errors.js';
import type { IsolateOptions } from '../index.js';
import type { LimitsDoc } from '../profile/types.js';
import { UNLIMITED, parseCount } from '../profile/limits.js';
import type { PolicyFlags, SandboxFlags } from './options.js';
import type { Invocation } from './program.js';
import { currentDir } from '../current-dir.js';

type Env = Readonly<Record<string, string | undefined>>;

function limitsOf(flags: PolicyFlags): LimitsDoc {
  const limits: LimitsDoc = {};
  for (const key of ['timeout', 'cpu', 'memory', 'fileSize'] as const) {
    const v = flags[key];
    if (v !== undefined) limits[key] = v;
  }
  if (flags.tmpfsSize !== undefined) limits.tmpfs = flags.tmpfsSize;
  for (const [flag, key] of [
    ['processes', 'processes'],
    ['open-files', 'openFiles'],
  ] as const) {
    const v = flags[key];
    if (v === undefined) continue;
    if (v === UNLIMITED && key === 'processes') {
      limits[key] = UNLIMITED;
      continue;
    }
    const n = parseCount(v);
    if (!n.ok) throw new IsolateError('E_LIMIT_INVALID', `--${flag}: ${n.message}`, { fix: `--${flag} takes a positive whole number` });
    limits[key] = n.value;
  }
  return limits;
}

/** The API options the policy options describe, for `profile`. */
export function policyOptions(flags: PolicyFlags, env: Env, profile: string): IsolateOptions {
  const o: IsolateOptions = { profile, callerEnv: env, callerCwd: currentDir() };
  for (const key of ['allowRead', 'allowWrite', 'deny', 'env', 'allowDomain', 'denyDomain', 'credential'] as const) {
    const v = flags[key];
    if (v !== undefined) o[key] = v;
  }
  if (flags.net !== undefined) o.net = flags.net;
  const limits = limitsOf(flags);
  if (Object.keys(limits).length > 0) o.limits = limits;
  if (flags.cwd !== undefined) o.cwd = flags.cwd;
  return o;
}

/** --profile, or $ISOLATE_PROFILE (empty: unset), or "default". */
export function profileName(inv: Invocation): string {
  const value = inv.options['profile'] as string;
  return value === '' && inv.source('profile') === 'env' ? 'default' : value;
}

/** The API options of run, explain and check. */
export function sandboxOptions(inv: Invocation, env: Env): IsolateOptions {
  const flags = inv.options as unknown as SandboxFlags;
  return { ...policyOptions(flags, env, profileName(inv)), backend: flags.backend };
}

/** The command after `--`, which must name a program. */
export function commandOf(inv: Invocation): string[] {
  requireCommand(inv.args);
  return inv.args;
}
