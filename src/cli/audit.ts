import { IsolateError, oneLine } from '../errors.js';
import { filterRecords } from '../audit/filter.js';
import { defaultAuditLogPath } from '../audit/log.js';
import { isRunRecord, type KnownRecord } from '../audit/records.js';
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
  const damaged = s.damage === null ? '' : `; it was sealed as damaged at line ${s.damage.line} (${s.damage.reason})`;
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
  // A run's command came from whoever asked for it (an MCP call's): shown escaped, as the show table does.
  for (const u of unfinished) ctx.output.out(`  ${oneLine(`run ${u.runId} (line ${u.line}, started ${u.startedAt}): ${u.statusText}: ${u.command.join(' ')}`)}\n`);
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

/** What the table says of a run besides its columns: unfinished, refused, connections denied. */
function runNotes(record: Extract<KnownRecord, { kind: 'run' }> | undefined, unfinished: RunEntry['unfinished']): string {
  const denied = record?.network?.events.filter((e) => e.decision === 'denied').length ?? 0;
  return [
    unfinished?.statusText ?? '',
    record?.policy?.decision === 'refused' ? `refused: ${record.policy.reason}` : '',
    denied > 0 ? `${denied} connection${denied === 1 ? '' : 's'} denied` : '',
  ]
    .filter(Boolean)
    .join('; ');
}

function tableRow(entry: RunEntry, s: Style): string {
  const { record: r, unfinished } = entry;
  if (r === null) return `${s.red(`line ${entry.line}`)}: not a record this version of isolate reads (${oneLine(entry.problem ?? '')}); \`--json\` shows it as it is\n`;
  if (!isRunRecord(r)) return '';
  const run = r.kind === 'run' ? r : undefined;
  // The record's strings came from whoever asked for the run (an MCP call's command): shown escaped, never sent to the terminal as they are.
  const notes = oneLine(runNotes(run, unfinished));
  const exit = run === undefined ? '-' : String(run.exitCode);
  const who = oneLine(r.user.name ?? String(r.user.uid));
  return `${oneLine(r.startedAt).padEnd(24)} ${(exit === '0' ? exit : s.red(exit)).padStart(4)}  ${oneLine(r.profile.name.slice(0, 10)).padEnd(10)} ${who.padEnd(8)} ${oneLine(r.command.join(' '))}${notes === '' ? '' : `  [${notes}]`}\n`;
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
    for (const { raw } of rows) ctx.output.out(`${JSON.stringify(raw)}\n`);
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
