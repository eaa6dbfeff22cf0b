import { runChecks } from '../backends/checks.js';
import type { Parsed } from './args.js';
import type { CliContext } from './main.js';
import { bold, green, red, yellow } from './output.js';

export async function doctorCommand(_parsed: Parsed, ctx: CliContext): Promise<number> {
  const checks = await runChecks(ctx.env);
  const ok = !checks.some((c) => c.status === 'fail');
  if (ctx.json) {
    ctx.output.out(`${JSON.stringify({ schemaVersion: 1, kind: 'doctor', ok, checks }, null, 2)}\n`);
  } else {
    const c = ctx.output.color('out');
    for (const check of checks) {
      const mark = check.status === 'ok' ? green(c, 'ok  ') : check.status === 'warn' ? yellow(c, 'warn') : red(c, 'FAIL');
      ctx.output.out(`${mark} ${bold(c, check.name)}: ${check.detail}\n`);
      if (check.fix !== undefined && check.status !== 'ok') ctx.output.out(`     fix: ${check.fix.replace(/\n/g, '\n          ')}\n`);
    }
    ctx.output.out(ok ? '\nisolate run can enforce the default profile on this host.\n' : '\nisolate run would refuse to run here; fix the FAIL lines above.\n');
  }
  return ok ? 0 : 1;
}
