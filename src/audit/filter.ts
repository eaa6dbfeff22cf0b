/**
 * What `isolate audit show` selects: --since (ISO or relative to now,
 * against startedAt), --command (a `*` glob against the argv joined by
 * spaces) and --denied (refused by policy, a denied network event, or exit
 * code 126). Works on records the schema describes (records.ts): a record it
 * does not describe matches no criterion, since none of its fields can be
 * trusted to mean what the criterion asks.
 */
import { IsolateError } from '../errors.js';
import { globRegExp } from '../glob.js';
import { isRunRecord, type AuditEntry, type KnownRecord } from './records.js';

export interface AuditFilter {
  /** Records whose `startedAt` is at or after this time: a Date, an ISO timestamp, or relative (`30s`, `15m`, `1h`, `2d`, `1w`). */
  since?: Date | string | undefined;
  /** A glob (`*` matches anything, including spaces) against the command's argv joined by spaces. */
  command?: string | undefined;
  /** Only refused or denied runs: `policy.decision` "refused", a denied network event, or exit code 126. */
  denied?: boolean | undefined;
}

const RELATIVE = /^(\d+)(s|m|h|d|w)$/;
const UNIT_MS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

/**
 * Parse a `--since` value: an ISO timestamp (`2026-11-26`, `2026-11-26T18:00:00Z`)
 * or a time before `now` (`30s`, `15m`, `1h`, `2d`, `1w`). Throws E_USAGE.
 */
export function parseSince(text: string, now: Date = new Date()): Date {
  const value = text.trim();
  const rel = RELATIVE.exec(value);
  if (rel?.[1] !== undefined && rel[2] !== undefined) {
    return new Date(now.getTime() - Number(rel[1]) * (UNIT_MS[rel[2]] ?? 0));
  }
  if (/^\d{4}-\d{2}-\d{2}/.test(value)) {
    const t = Date.parse(value);
    if (!Number.isNaN(t)) return new Date(t);
  }
  throw new IsolateError('E_USAGE', `--since: cannot read "${text}" as a time`, {
    fix: 'give an ISO timestamp (2026-11-26 or 2026-11-26T18:00:00Z) or a duration back from now (30s, 15m, 1h, 2d, 1w)',
  });
}

/** A matcher for a command glob: `*` matches any run of characters; everything else is literal. */
export function commandGlob(glob: string): (command: string) => boolean {
  const re = globRegExp(glob);
  return (command) => re.test(command);
}

/** True when the record is a refused or denied run (see AuditFilter.denied). */
export function isDenied(record: KnownRecord): boolean {
  if (record.kind !== 'run') return false;
  if (record.policy?.decision === 'refused' || record.exitCode === 126) return true;
  return record.network?.events.some((e) => e.decision === 'denied') ?? false;
}

/** The time a run started and its argv; the records that are not of runs have none. */
function runFields(record: KnownRecord): { startedAt: string; command: string[] } | undefined {
  return isRunRecord(record) ? record : undefined;
}

/** The predicate for `filter`; parses `since` now, so a bad value throws here. */
export function recordFilter(filter: AuditFilter, now: Date = new Date()): (record: KnownRecord | null) => boolean {
  const since = filter.since === undefined ? undefined : filter.since instanceof Date ? filter.since : parseSince(filter.since, now);
  const command = filter.command === undefined ? undefined : commandGlob(filter.command);
  const denied = filter.denied === true;
  if (since === undefined && command === undefined && !denied) return () => true;
  return (record) => {
    const run = record === null ? undefined : runFields(record);
    if (record === null || run === undefined) return false;
    if (since !== undefined && !(Date.parse(run.startedAt) >= since.getTime())) return false;
    if (command !== undefined && !command(run.command.join(' '))) return false;
    return !denied || isDenied(record);
  };
}

/**
 * The entries of `entries` (e.g. auditEntries(file)) that match `filter`,
 * lazily. A bad `since` throws when this is called, not when iterating.
 */
export function filterRecords<T extends Pick<AuditEntry, 'record'>>(entries: Iterable<T>, filter: AuditFilter, now: Date = new Date()): Iterable<T> {
  const keep = recordFilter(filter, now);
  return (function* () {
    for (const e of entries) if (keep(e.record)) yield e;
  })();
}
