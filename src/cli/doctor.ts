// The doctor's findings come from runChecks (doctor/checks.ts); within the CLI, "check" is the command policy's command.
import { runChecks as examineHost } from '../doctor/checks.js';
import type { CliContext } from './context.js';
import type { Invocation } from './program.js';

/** isolate doctor: can this host enforce the sandbox, and how to fix what it cannot. */
export async function doctorCommand(_inv: Invocation, ctx: CliContext): Promise<number> {
  const findings = await examineHost(ctx.env);
  const ok = !findings.some((f) => f.status === 'fail');
  if (ctx.json) {
    // `checks` is the key of the published document.
    ctx.output.out(`${JSON.stringify({ schemaVersion: 1, kind: 'doctor', ok, checks: findings }, null, 2)}\n`);
  } else {
    const s = ctx.output.style('out');
    for (const f of findings) {
      const mark = f.status === 'ok' ? s.green('ok  ') : f.status === 'warn' ? s.yellow('warn') : s.red('FAIL');
      ctx.output.out(`${mark} ${s.bold(f.name)}: ${f.detail}\n`);
      if (f.fix !== undefined && f.status !== 'ok') ctx.output.out(`     fix: ${f.fix.replace(/\n/g, '\n          ')}\n`);
    }
    ctx.output.out(ok ? '\nisolate run can enforce the default profile on this host.\n' : '\nisolate run would refuse to run here; fix the FAIL lines above.\n');
  }
  return ok ? 0 : 1;
}
