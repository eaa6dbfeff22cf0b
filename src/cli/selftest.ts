import { selftest, type ProbeResult } from '../selftest/run.js';
import { profileName } from './common.js';
import type { CliContext } from './context.js';
import type { SandboxFlags } from './options.js';
import type { Invocation } from './program.js';

const MARK: Record<ProbeResult['outcome'], string> = { blocked: 'ok', escaped: 'ESCAPED', allowed: 'allowed', skipped: 'skip', error: 'ERROR' };

/** isolate selftest: try to escape the sandbox the profile builds. */
export async function selftestCommand(inv: Invocation, ctx: CliContext): Promise<number> {
  const s = ctx.output.style('out');
  const profile = profileName(inv);
  const { backend } = inv.options as unknown as Pick<SandboxFlags, 'backend'>;
  const paint = (r: ProbeResult): string => {
    const m = MARK[r.outcome].padEnd(8);
    return r.outcome === 'blocked' ? s.green(m) : r.outcome === 'escaped' || r.outcome === 'error' ? s.red(m) : r.outcome === 'allowed' ? s.yellow(m) : s.dim(m);
  };
  if (!ctx.json) ctx.output.out(`${s.bold('isolate selftest')}: profile ${profile}, as uid ${process.getuid?.() ?? '?'}\n`);
  const report = await selftest({
    profile,
    callerEnv: ctx.env,
    backend,
    onProbe: (r) => {
      if (!ctx.json) ctx.output.out(`  ${paint(r)} ${r.title.padEnd(52)} ${s.dim(r.detail)}\n`);
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
