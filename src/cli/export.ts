import { resolve } from 'node:path';
import { exportPolicy, type ExportFormat, type ExportOptions } from '../index.js';
import { commandOf, sandboxOptions } from './common.js';
import type { CliContext } from './context.js';
import { prepareOutDir, writeEntries } from './export-write.js';
import type { Invocation } from './program.js';

export const EXPORT_SCHEMA_VERSION = 1;

/** --name, --image, --proxy-image and --seccomp, when given: Kubernetes only (the API refuses them for another format). */
function k8sSettings(flags: Record<string, unknown>): Pick<ExportOptions, 'k8s'> {
  const given = Object.entries({ name: flags['name'], image: flags['image'], proxyImage: flags['proxyImage'], seccomp: flags['seccomp'] }).filter(([, v]) => v !== undefined);
  return given.length === 0 ? {} : { k8s: Object.fromEntries(given) as NonNullable<ExportOptions['k8s']> };
}

/** isolate export: the profile rendered for another runner, printed or written into --out. */
export async function exportCommand(inv: Invocation, ctx: CliContext): Promise<number> {
  const format = inv.options['format'] as ExportFormat;
  const { backend: _backend, ...options } = sandboxOptions(inv, ctx.env);
  const exported = await exportPolicy(commandOf(inv), { ...options, format, ...k8sSettings(inv.options) });
  const outOption = inv.options['out'] as string | undefined;
  const out = outOption === undefined ? undefined : resolve(outOption);
  if (out !== undefined) {
    writeEntries(prepareOutDir(out, process.getuid?.() ?? -1), exported.entries);
  }
  if (ctx.json) {
    const entries = exported.entries.map((e) => ({ kind: e.kind, path: e.path }));
    ctx.output.out(`${JSON.stringify({ schemaVersion: EXPORT_SCHEMA_VERSION, kind: 'export', format, out: out ?? null, entries, notes: exported.notes }, null, 2)}\n`);
    return 0;
  }
  const main = exported.entries.find((e) => e.path === exported.main);
  if (out === undefined && main?.kind === 'file') ctx.output.out(main.content);
  const style = ctx.output.style('err');
  if (out !== undefined) ctx.output.err(`${style.bold('wrote')} ${out}: ${exported.entries.map((e) => e.path).join(', ')}\n`);
  for (const note of exported.notes) ctx.output.err(`${style.dim(`note: ${note}`)}\n`);
  return 0;
}
