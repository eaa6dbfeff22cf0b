import { oneLine } from '../errors.js';
import { check, type CheckResult } from '../index.js';
import { commandOf, sandboxOptions } from './common.js';
import type { CliContext } from './context.js';
import type { Invocation } from './program.js';

/** The lines after the verdict: the script's command that decided, what could not be decided, and what the check is. */
function details(r: CheckResult): string[] {
  const lines: string[] = [];
  if (r.subcommand !== null) lines.push(`  decided by the script's command: ${r.subcommand.join(' ')}`);
  for (const u of r.undecidable) lines.push(`  undecidable: ${u.command.join(' ')}: ${u.reason}`);
  if (r.subcommand !== null || r.undecidable.length > 0) {
    lines.push('  note: this checks what the command says it will run (its intent), not a boundary: the sandbox bounds what it can do');
  }
  return lines;
}

/** isolate check: the command policy's verdict on a command. */
export async function checkCommand(inv: Invocation, ctx: CliContext): Promise<number> {
  const r = await check(commandOf(inv), sandboxOptions(inv, ctx.env));
  if (ctx.json) {
    ctx.output.out(`${JSON.stringify(r, null, 2)}\n`);
  } else {
    const s = ctx.output.style('out');
    const verdict = r.decision === 'allowed' ? s.green('allowed') : s.red('refused');
    // The command and the rules are the caller's and the profile's words: shown escaped (errors.ts, oneLine).
    ctx.output.out(`${verdict}: ${oneLine(`${r.command.join(' ')} (${r.resolved}): ${r.reason}`)}\n`);
    for (const line of details(r)) ctx.output.out(`${s.dim(oneLine(line))}\n`);
  }
  return r.decision === 'allowed' ? 0 : 126;
}
