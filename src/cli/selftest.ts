import { selftest, type ProbeResult } from '../selftest/run.js';
import { optionString, type Parsed } from './args.js';
import type { CliContext } from './main.js';
import { bold, dim, green, red, yellow } from './output.js';
import type { BackendChoice } from '../backends/index.js';

const MARK: Record<ProbeResult['outcome'], string> = { blocked: 'ok', escaped: 'ESCAPED', allowed: 'allowed', skipped: 'skip', error: 'ERROR' };

export async function selftestCommand(parsed: Parsed, ctx: CliContext): Promise<number> {
  const c = ctx.output.color('out');
  const profile = optionString(parsed, 'profile') ?? (ctx.env['ISOLATE_PROFILE'] || 'default');
  const backend = optionString(parsed, 'backend');
  const paint = (r: ProbeResult): string => {
    const m = MARK[r.outcome].padEnd(8);
    return r.outcome === 'blocked' ? green(c, m) : r.outcome === 'escaped' || r.outcome === 'error' ? red(c, m) : r.outcome === 'allowed' ? yellow(c, m) : dim(c, m);
  };
  if (!ctx.json) ctx.output.out(`${bold(c, 'isolate selftest')}: profile ${profile}, as uid ${process.getuid?.() ?? '?'}\n`);
  const report = await selftest({
    profile,
    callerEnv: ctx.env,
    ...(backend === undefined ? {} : { backend: backend as BackendChoice }),
    onProbe: (r) => {
      if (!ctx.json) ctx.output.out(`  ${paint(r)} ${r.title.padEnd(52)} ${dim(c, r.detail)}\n`);
    },
  });
  if (ctx.json) {
    ctx.output.out(`${JSON.stringify(report, null, 2)}\n`);
  } else {
    const n = report.counts;
    ctx.output.out(
      `\n${report.probes.length} probes: ${n.blocked} blocked, ${n.escaped} escaped, ${n.allowed} allowed by the profile, ${n.skipped} skipped, ${n.error} could not run` +
        (report.backend === null ? '' : ` (${report.backend})`) +
        '\n',
    );
  }
  return report.ok ? 0 : 1;
}
