import { check } from '../index.js';
import type { Parsed } from './args.js';
import { requireCommand, sandboxOptions } from './common.js';
import type { CliContext } from './main.js';
import { green, red } from './output.js';

export async function checkCommand(parsed: Parsed, ctx: CliContext): Promise<number> {
  const r = await check(requireCommand(parsed), sandboxOptions(parsed, ctx.env));
  if (ctx.json) {
    ctx.output.out(`${JSON.stringify(r, null, 2)}\n`);
  } else {
    const c = ctx.output.color('out');
    const verdict = r.decision === 'allowed' ? green(c, 'allowed') : red(c, 'refused');
    ctx.output.out(`${verdict}: ${r.command.join(' ')} (${r.resolved}): ${r.reason}\n`);
  }
  return r.decision === 'allowed' ? 0 : 126;
}
