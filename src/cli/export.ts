import { resolve } from 'node:path';
import { exportPolicy, type ExportFormat } from '../index.js';
import { commandOf, sandboxOptions } from './common.js';
import type { CliContext } from './context.js';
import { prepareOutDir, writeEntries } from './export-write.js';
import type { Invocation } from './program.js';

export const EXPORT_SCHEMA_VERSION = 1;

/** isolate export: the profile rendered for another runner, printed or written into --out. */
export async function exportCommand(inv: Invocation, ctx: CliContext): Promise<number> {
  const format = inv.options['format'] as ExportFormat;
  const { backend: _backend, ...options } = sandboxOptions(inv, ctx.env);
  const exported = await exportPolicy(commandOf(inv), { ...options, format });
  const outOption = inv.options['out'] as string | undefined;
  const out = outOption === undefined ? undefined : resolve(outOption);
  if (out !== undefined) {
    prepareOutDir(out, process.getuid?.() ?? -1);
    writeEntries(out, exported.entries);
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
