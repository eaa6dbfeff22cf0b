import { existsSync, readdirSync } from 'node:fs';
import { loadProfile } from '../index.js';
import { BUILTIN_NAMES, loadBuiltin } from '../profile/builtin.js';
import { userProfileDir } from '../profile/load.js';
import { IsolateError } from '../errors.js';
import type { Parsed } from './args.js';
import { sandboxOptions } from './common.js';
import { profilesSpec } from './specs.js';
import type { CliContext } from './main.js';

export async function profilesCommand(parsed: Parsed, ctx: CliContext): Promise<number> {
  const [sub = 'list', ...rest] = parsed.positionals;
  if (sub === 'list') {
    if (rest.length > 0) throw new IsolateError('E_USAGE', `unexpected argument "${rest[0]}"`, { fix: profilesSpec.usage });
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
  if (sub === 'show') {
    const ref = rest[0];
    if (ref === undefined || rest.length > 1) throw new IsolateError('E_USAGE', 'profiles show takes one profile name or path', { fix: profilesSpec.usage });
    const { policy } = await loadProfile(sandboxOptions(parsed, ctx.env, ref));
    ctx.output.out(`${JSON.stringify(ctx.json ? { schemaVersion: 1, kind: 'profile', policy } : policy, null, 2)}\n`);
    return 0;
  }
  throw new IsolateError('E_USAGE', `unknown profiles subcommand "${sub}"`, { fix: profilesSpec.usage });
}
