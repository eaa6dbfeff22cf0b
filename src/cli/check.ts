import { check } from '../index.js';
import { commandOf, sandboxOptions } from './common.js';
import type { CliContext } from './context.js';
import type { Invocation } from './program.js';

/** isolate check: the command policy's verdict on a command. */
export async function checkCommand(inv: Invocation, ctx: CliContext): Promise<number> {
  const r = await check(commandOf(inv), sandboxOptions(inv, ctx.env));
  if (ctx.json) {
    ctx.output.out(`${JSON.stringify(r, null, 2)}\n`);
  } else {
    const s = ctx.output.style('out');
    const verdict = r.decision === 'allowed' ? s.green('allowed') : s.red('refused');
    ctx.output.out(`${verdict}: ${r.command.join(' ')} (${r.resolved}): ${r.reason}\n`);
  }
  return r.decision === 'allowed' ? 0 : 126;
}
