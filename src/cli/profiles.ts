import { existsSync, readdirSync } from 'node:fs';
import { loadProfile } from '../index.js';
import { BUILTIN_NAMES, loadBuiltin } from '../profile/builtin.js';
import { userProfileDir } from '../profile/load.js';
import { policyOptions } from './common.js';
import type { CliContext } from './context.js';
import type { PolicyFlags } from './options.js';
import type { Invocation } from './program.js';

/** isolate profiles [list]: the built-in profiles, then the user's. */
export async function listProfiles(_inv: Invocation, ctx: CliContext): Promise<number> {
  const builtins = BUILTIN_NAMES.map((name) => ({ name, kind: 'builtin', description: loadBuiltin(name).description ?? '' }));
  const dir = userProfileDir(ctx.env);
  const users =
    dir !== undefined && existsSync(dir)
      ? readdirSync(dir)
          .filter((f) => /\.(ya?ml|json)$/.test(f))
          .map((f) => ({ name: f.replace(/\.(ya?ml|json)$/, ''), kind: 'user', description: `${dir}/${f}` }))
      : [];
  const all = [...builtins, ...users];
  if (ctx.json) ctx.output.out(`${JSON.stringify({ schemaVersion: 1, kind: 'profiles', profiles: all }, null, 2)}\n`);
  else for (const p of all) ctx.output.out(`${p.name.padEnd(10)} ${p.kind.padEnd(8)} ${p.description}\n`);
  return 0;
}

/** isolate profiles show <name|path>: the policy the profile and the options resolve to. */
export async function showProfile(inv: Invocation, ctx: CliContext): Promise<number> {
  const [ref = ''] = inv.args;
  const { policy } = await loadProfile(policyOptions(inv.options as PolicyFlags, ctx.env, ref));
  ctx.output.out(`${JSON.stringify(ctx.json ? { schemaVersion: 1, kind: 'profile', policy } : policy, null, 2)}\n`);
  return 0;
}
