import { IsolateError } from '../errors.js';
import { defaultAuditLogPath, filterRecords } from '../audit/log.js';
import { runEntries, unfinishedRuns, type RunEntry } from '../audit/runs.js';
import { continuedFrom, sealLog, verifyWithSegments, type SegmentCheck } from '../audit/seal.js';
import type { CliContext } from './context.js';
import type { Style } from './output.js';
import type { Invocation } from './program.js';

interface ShowFlags {
  since?: string;
  command?: string;
  denied?: true;
}

function logFile(arg: string | undefined, ctx: CliContext): string {
  const file = arg ?? defaultAuditLogPath(ctx.env);
  if (file === undefined) {
    throw new IsolateError('E_USAGE', 'no audit log location', { fix: 'name the file (isolate audit verify <file>), or set HOME or XDG_STATE_HOME' });
  }
  return file;
}

function segmentLine(s: SegmentCheck): string {
  const link = `the sealed log ${s.sealed} after its seq ${s.continues.seq}`;
  if (!s.present) return `continues ${link} (not present here: the link cannot be checked)`;
  if (s.problem !== null) return `continues ${link}, which does not match: ${s.problem}`;
  const damage = s.damage as { line?: number; reason?: string } | null;
  const damaged = damage?.line === undefined ? '' : `; it was sealed as damaged at line ${damage.line} (${damage.reason ?? ''})`;
  return `continues ${link}: verified up to that record${damaged}`;
}

/** isolate audit verify [file] */
export async function verifyCommand(inv: Invocation, ctx: CliContext): Promise<number> {
  const path = logFile(inv.args[0], ctx);
  const s = ctx.output.style('out');
  const { result: v, segments } = verifyWithSegments(path);
  const unfinished = v.ok ? unfinishedRuns(path) : [];
  if (ctx.json) {
    ctx.output.out(`${JSON.stringify({ schemaVersion: 2, kind: 'audit-verify', log: path, ...v, unfinished, segments }, null, 2)}\n`);
    return v.ok ? 0 : 1;
  }
  if (v.ok) ctx.output.out(`${s.green('intact')}: ${path}: ${v.records} record${v.records === 1 ? '' : 's'}, hash chain verified\n`);
  else ctx.output.out(`${s.red('NOT INTACT')}: ${path}: line ${v.line}: ${v.reason}: ${v.detail}\n`);
  if (!v.ok && v.reason !== 'broken-link') ctx.output.out(`  to record runs again: isolate audit seal ${path} (keeps this log as it is and starts a new one that continues its chain)\n`);
  for (const s of segments) ctx.output.out(`  ${segmentLine(s)}\n`);
  for (const u of unfinished) ctx.output.out(`  run ${u.runId} (line ${u.line}, started ${u.startedAt}): ${u.statusText}: ${u.command.join(' ')}\n`);
  return v.ok ? 0 : 1;
}

/** isolate audit seal [file] */
export async function sealCommand(inv: Invocation, ctx: CliContext): Promise<number> {
  const path = logFile(inv.args[0], ctx);
  const r = await sealLog(path);
  if (ctx.json) {
    ctx.output.out(`${JSON.stringify({ schemaVersion: 1, kind: 'audit-seal', ...r }, null, 2)}\n`);
    return 0;
  }
  ctx.output.out(`${ctx.output.style('out').green('sealed')}: ${path} was damaged at line ${r.damage.line}: ${r.damage.reason}: ${r.damage.detail}\n`);
  ctx.output.out(`  kept as ${r.sealed}${r.sealedHead === null ? '' : ` (head file: ${r.sealedHead})`}\n`);
  ctx.output.out(`  the new log ${path} continues its chain after seq ${r.continues.seq} (hash ${r.continues.hash})\n`);
  return 0;
}

function tableRow(entry: RunEntry, s: Style): string {
  const { record: r, unfinished } = entry;
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
  return `${String(r['startedAt'] ?? '').padEnd(24)} ${(exit === '0' ? exit : s.red(exit)).padStart(4)}  ${profile.slice(0, 10).padEnd(10)} ${String(user.name ?? user.uid ?? '').padEnd(8)} ${command}${notes === '' ? '' : `  [${notes}]`}\n`;
}

/** isolate audit show [file] [filters] */
export async function showCommand(inv: Invocation, ctx: CliContext): Promise<number> {
  const path = logFile(inv.args[0], ctx);
  const { since, command, denied } = inv.options as ShowFlags;
  const filter = {
    ...(since === undefined ? {} : { since }),
    ...(command === undefined ? {} : { command }),
    ...(denied === true ? { denied: true } : {}),
  };
  const rows = filterRecords(runEntries(path), filter);
  if (ctx.json) {
    for (const { record } of rows) ctx.output.out(`${JSON.stringify(record)}\n`);
    return 0;
  }
  const s = ctx.output.style('out');
  const segment = continuedFrom(path);
  if (segment !== undefined) ctx.output.out(`this log continues the sealed log ${segment.sealed} (after its seq ${segment.continues.seq})\n`);
  ctx.output.out(`${s.bold('started'.padEnd(24))} ${s.bold('exit'.padStart(4))}  ${s.bold('profile'.padEnd(10))} ${s.bold('user'.padEnd(8))} ${s.bold('command')}\n`);
  let n = 0;
  for (const entry of rows) {
    n++;
    ctx.output.out(tableRow(entry, s));
  }
  ctx.output.out(`${n} run${n === 1 ? '' : 's'}\n`);
  return 0;
}
