import { runWithError } from '../index.js';
import { auditedExitCode } from '../audit/run-audit.js';
import { oneLine } from '../errors.js';
import { commandOf, sandboxOptions } from './common.js';
import type { CliContext } from './context.js';
import type { Invocation } from './program.js';
import { reportTarget, writeReport } from './report-file.js';
import { currentDir } from '../current-dir.js';

interface RunFlags {
  report?: string;
  auditLog?: string;
  /** false with --no-audit */
  audit: boolean;
  /** false with --no-tty */
  tty: boolean;
  rawTerminal?: true;
}

/** A terminal of its own for the command, unless --json or --no-tty: given when isolate's stdin and stdout are terminals (host/terminal.ts). */
function wantsTerminal(flags: RunFlags, json: boolean): boolean {
  return flags.tty && !json;
}

export async function runCommand(inv: Invocation, ctx: CliContext): Promise<number> {
  const command = commandOf(inv);
  const flags = inv.options as unknown as RunFlags;
  const { report: reportFile, auditLog, audit: record } = flags;
  // Resolved before the run: the command may change what the path leads to (report-file.ts).
  const target = reportFile === undefined ? undefined : reportTarget(reportFile, currentDir());
  const { report, error, audit } = await runWithError(command, {
    ...sandboxOptions(inv, ctx.env),
    audit: { ...(record ? {} : { enabled: false }), ...(auditLog === undefined ? {} : { log: auditLog }) },
    stdio: ctx.json ? 'capture' : 'inherit',
    forwardSignals: true,
    terminal: wantsTerminal(flags, ctx.json),
    rawTerminal: flags.rawTerminal === true,
  });
  if (target !== undefined) writeReport(target, `${JSON.stringify(report, null, 2)}\n`);
  if (ctx.json) {
    ctx.output.out(`${JSON.stringify(report, null, 2)}\n`);
  } else if (report.error !== null) {
    ctx.printError(report.error);
  }
  if (ctx.debug && error !== undefined) ctx.printStack(error);
  if (report.leftBehind !== undefined) {
    ctx.output.err(`isolate: warning: the run directory could not be removed safely (${report.leftBehind.reason}); remove it yourself: ${oneLine(report.leftBehind.path)} (or a sibling named isolate-removing-*)\n`);
  }
  // Paths the sandboxed command chose: printed with their control characters escaped, so none can rewrite this warning.
  for (const q of report.quarantined ?? []) {
    const why = q.reason === undefined ? '' : ` (${oneLine(q.reason)})`;
    ctx.output.err(
      q.movedTo === null
        ? `isolate: warning: the run left ${oneLine(q.path)}, which programs on the host may obey, and it could not be moved aside${why}: ${oneLine(q.error ?? 'unknown')}; look at it before you use this directory\n`
        : q.reason === undefined
          ? `isolate: the run created ${oneLine(q.path)}, which programs on the host would obey; moved aside to ${oneLine(q.movedTo)}\n`
          : `isolate: moved ${oneLine(q.path)} aside to ${oneLine(q.movedTo)}${why}\n`,
    );
  }
  if (report.terminal?.given === false) ctx.output.err(`isolate: warning: ${report.terminal.reason ?? ''} (fix: ${report.terminal.fix ?? ''})\n`);
  for (const e of report.cleanupErrors ?? []) ctx.output.err(`isolate: warning: ${oneLine(e)}\n`);
  for (const w of audit.warnings) ctx.output.err(`isolate: warning: ${oneLine(w)}\n`);
  const code = auditedExitCode(report);
  if (code !== report.exitCode) {
    ctx.output.err(`isolate: exit ${code}: the profile requires the audit log (audit.required), and the outcome of this run is not in it (its own exit code was ${report.exitCode})\n`);
  }
  return code;
}
