import { IsolateError } from '../errors.js';
import { defaultAuditLogPath, filterRecords, verifyLog } from '../audit/log.js';
import { runEntries, unfinishedRuns } from '../audit/runs.js';
import { optionFlag, optionString, type Parsed } from './args.js';
import { auditSpec } from './specs.js';
import type { CliContext } from './main.js';
import { bold, green, red } from './output.js';

function logFile(arg: string | undefined, ctx: CliContext): string {
  const file = arg ?? defaultAuditLogPath(ctx.env);
  if (file === undefined) {
    throw new IsolateError('E_USAGE', 'no audit log location', { fix: 'name the file (isolate audit verify <file>), or set HOME or XDG_STATE_HOME' });
  }
  return file;
}

function verify(path: string, ctx: CliContext): number {
  const c = ctx.output.color('out');
  const v = verifyLog(path);
  const unfinished = v.ok ? unfinishedRuns(path) : [];
  if (ctx.json) {
    ctx.output.out(`${JSON.stringify({ schemaVersion: 2, kind: 'audit-verify', log: path, ...v, unfinished }, null, 2)}\n`);
  } else if (v.ok) {
    ctx.output.out(`${green(c, 'intact')}: ${path}: ${v.records} record${v.records === 1 ? '' : 's'}, hash chain verified\n`);
    for (const u of unfinished) ctx.output.out(`  run ${u.runId} (line ${u.line}, started ${u.startedAt}): ${u.statusText}: ${u.command.join(' ')}\n`);
  } else {
    ctx.output.out(`${red(c, 'NOT INTACT')}: ${path}: line ${v.line}: ${v.reason}: ${v.detail}\n`);
  }
  return v.ok ? 0 : 1;
}

export async function auditCommand(parsed: Parsed, ctx: CliContext): Promise<number> {
  const [sub, file, ...rest] = parsed.positionals;
  if (rest.length > 0 || (sub !== 'verify' && sub !== 'show')) {
    throw new IsolateError('E_USAGE', sub === undefined ? 'audit needs a subcommand' : `unknown audit subcommand "${sub}"`, { fix: auditSpec.usage });
  }
  const path = logFile(file, ctx);
  const c = ctx.output.color('out');
  if (sub === 'verify') return verify(path, ctx);
  const filter = {
    ...(optionString(parsed, 'since') === undefined ? {} : { since: optionString(parsed, 'since') as string }),
    ...(optionString(parsed, 'command') === undefined ? {} : { command: optionString(parsed, 'command') as string }),
    ...(optionFlag(parsed, 'denied') ? { denied: true } : {}),
  };
  const rows = filterRecords(runEntries(path), filter);
  if (ctx.json) {
    for (const { record } of rows) ctx.output.out(`${JSON.stringify(record)}\n`);
    return 0;
  }
  ctx.output.out(`${bold(c, 'started'.padEnd(24))} ${bold(c, 'exit'.padStart(4))}  ${bold(c, 'profile'.padEnd(10))} ${bold(c, 'user'.padEnd(8))} ${bold(c, 'command')}\n`);
  let n = 0;
  for (const { record: r, unfinished } of rows) {
    n++;
    const command = Array.isArray(r['command']) ? (r['command'] as unknown[]).join(' ') : '';
    const profile = (r['profile'] as { name?: string } | undefined)?.name ?? '';
    const user = (r['user'] as { name?: string | null; uid?: number } | undefined) ?? {};
    const policy = r['policy'] as { decision?: string; reason?: string } | null | undefined;
    const events = ((r['network'] as { events?: { decision?: string }[] } | null | undefined)?.events ?? []).filter((e) => e.decision === 'denied').length;
    const notes = [
      unfinished?.statusText ?? '',
      policy?.decision === 'refused' ? `refused: ${policy.reason ?? ''}` : '',
      events > 0 ? `${events} connection${events === 1 ? '' : 's'} denied` : '',
    ]
      .filter(Boolean)
      .join('; ');
    const exit = unfinished === undefined ? String(r['exitCode'] ?? '') : '-';
    ctx.output.out(
      `${String(r['startedAt'] ?? '').padEnd(24)} ${(exit === '0' ? exit : red(c, exit)).padStart(4)}  ${profile.slice(0, 10).padEnd(10)} ${String(user.name ?? user.uid ?? '').padEnd(8)} ${command}${notes === '' ? '' : `  [${notes}]`}\n`,
    );
  }
  ctx.output.out(`${n} run${n === 1 ? '' : 's'}\n`);
  return 0;
}
