/**
 * What a sandbox-exec (Seatbelt) sandbox refused, read from macOS's unified
 * log after the run, for the run report. The kernel's Sandbox extension logs
 * each refusal as one message, e.g.
 *
 *   Sandbox: cat(4242) deny(1) file-read-data /Users/alice/.ssh/id_ed25519
 *
 * These records carry the refused process's pid in their text (the record's
 * own processID is the kernel's, 0), and no process group or sandbox name, so
 * the denials are attributed by pid: to the processes isolate saw in the
 * sandbox's process group (run/sandbox-exec.ts). Everything else the log
 * holds (other sandboxed programs on the Mac) is dropped.
 *
 * Best effort, bounded in time and size, and never a reason to fail the run:
 * the unified log persists records lazily, so a denial from the last moments
 * of a run can reach it after isolate has read it; a process that lived less
 * than a sampling interval is not attributed; and reading the log needs a
 * user that may read it. Whatever went wrong is in `error`.
 *
 * Only run/ spawns: the parser is pure and tested on sample lines; the
 * collector starts /usr/bin/log.
 */
import { runHelper } from './io/helper.js';

export interface SandboxDenial {
  /** When the log first recorded it (ISO 8601), or the log's own timestamp text if that could not be read. */
  time: string;
  pid: number;
  /** The process name as the kernel logged it (possibly truncated). */
  process: string;
  /** The Seatbelt operation, e.g. file-read-data, file-write-create, network-outbound, mach-lookup. */
  operation: string;
  /** What the operation was on (a path, an address, a service name), when logged. */
  target: string | null;
  /** How many records reported this pid, operation and target. */
  count: number;
  /** Refused by macOS's own system policy rather than by the profile isolate generated. */
  systemPolicy?: true;
  /**
   * The first line of the log message (of the first record counted here), as logged: what
   * the fields above were parsed from. Its process name and target are the sandbox's choice
   * and may themselves read like a denial.
   */
  message: string;
}

export interface SandboxDenials {
  source: 'macos-unified-log';
  /** The pids the denials were attributed to: the sandbox's processes isolate saw. */
  pids: number[];
  entries: SandboxDenial[];
  /** More than DENIALS_MAX_ENTRIES distinct denials, or more than LOG_MAX_BYTES of log: the rest is left out. */
  truncated: boolean;
  /** Why the log could not be read (completely), when it could not. */
  error: string | null;
}

export const DENIALS_MAX_ENTRIES = 200;
export const LOG_MAX_BYTES = 8 * 1024 * 1024;
export const LOG_TIMEOUT_MS = 5000;
/** Above this many pids the predicate names none of them (the parser still filters exactly). */
const PREDICATE_MAX_PIDS = 64;
export const LOG_PATH = '/usr/bin/log';

interface DenialLine {
  process: string;
  pid: number;
  action: 'deny' | 'allow';
  operation: string;
  target: string | null;
  systemPolicy: boolean;
}

/**
 * The process name is matched lazily and at most 32 characters long (the
 * kernel logs p_name: at most 2 * MAXCOMLEN bytes), so the leftmost
 * `(<pid>) deny(<n>) <operation>` is the one taken. The target, which the
 * sandbox chooses (a path, a mach-lookup name), comes after it and may itself
 * read `x(4243) deny(1) file-read-data /etc/shadow`: a greedy name took the
 * rightmost such pattern, so a target could forge an entry for another pid,
 * or hide the real one behind a pid that is not the sandbox's. A process
 * name (the sandbox's choice too, but short) can still spell one: each entry
 * keeps the line as logged (`message`).
 */
const MESSAGE = /^Sandbox: (.{1,32}?)\((\d+)\) (System Policy: )?(deny|allow)\(\d+\) (\S+)(?: (.*))?$/;

/**
 * One Sandbox message: `Sandbox: <process>(<pid>) [System Policy: ]deny(<n>) <operation>[ <target>]`.
 * Only the first line counts (a profile's `(with message ...)` adds more).
 * Undefined for anything else, such as "Sandbox: 3 duplicate reports for cat deny(1) ...", which names no pid.
 */
export function parseSandboxMessage(message: string): DenialLine | undefined {
  const first = message.split('\n', 1)[0] ?? '';
  const m = MESSAGE.exec(first.trimEnd());
  if (m === null) return undefined;
  const [, proc, pid, system, action, operation, target] = m;
  if (proc === undefined || pid === undefined || operation === undefined) return undefined;
  return {
    process: proc,
    pid: Number(pid),
    action: action === 'allow' ? 'allow' : 'deny',
    operation,
    target: target === undefined || target === '' ? null : target,
    systemPolicy: system !== undefined,
  };
}

/** The unified log's timestamp ("2025-03-01 14:05:09.123456+0100") as ISO 8601, or the text itself. */
export function logTimestampToIso(text: string): string {
  const m = /^(\d{4}-\d{2}-\d{2})[ T](\d{2}:\d{2}:\d{2}(?:\.\d+)?)([+-]\d{2}):?(\d{2})$/.exec(text.trim());
  if (m === null) return text;
  const date = new Date(`${m[1]}T${m[2]}${m[3]}:${m[4]}`);
  return Number.isNaN(date.getTime()) ? text : date.toISOString();
}

/**
 * The denials of `pids` in `log show --style ndjson` output: one JSON object
 * per line with `eventMessage` and `timestamp`. Lines that are not JSON, not
 * Sandbox denials, or of other processes are skipped. Identical denials (pid,
 * operation, target) are counted once, in the order first seen.
 */
export function denialsFromNdjson(text: string, pids: ReadonlySet<number>, max = DENIALS_MAX_ENTRIES): { entries: SandboxDenial[]; truncated: boolean } {
  const byKey = new Map<string, SandboxDenial>();
  let truncated = false;
  for (const line of text.split('\n')) {
    if (!line.startsWith('{')) continue;
    let record: unknown;
    try {
      record = JSON.parse(line);
    } catch {
      continue; // a line cut off at the size limit, or not a record
    }
    if (typeof record !== 'object' || record === null) continue;
    const { eventMessage, timestamp } = record as { eventMessage?: unknown; timestamp?: unknown };
    if (typeof eventMessage !== 'string') continue;
    const parsed = parseSandboxMessage(eventMessage);
    if (parsed === undefined || parsed.action !== 'deny' || !pids.has(parsed.pid)) continue;
    const key = JSON.stringify([parsed.pid, parsed.operation, parsed.target, parsed.systemPolicy]);
    const seen = byKey.get(key);
    if (seen !== undefined) {
      seen.count++;
      continue;
    }
    if (byKey.size >= max) {
      truncated = true;
      continue;
    }
    byKey.set(key, {
      time: typeof timestamp === 'string' ? logTimestampToIso(timestamp) : '',
      pid: parsed.pid,
      process: parsed.process,
      operation: parsed.operation,
      target: parsed.target,
      count: 1,
      ...(parsed.systemPolicy ? { systemPolicy: true as const } : {}),
      message: (eventMessage.split('\n', 1)[0] ?? '').trimEnd(),
    });
  }
  return { entries: [...byKey.values()], truncated };
}

const pad = (n: number): string => String(n).padStart(2, '0');

/** `log show --start` takes local time, "YYYY-MM-DD HH:MM:SS"; a second earlier than `since`, as it has no fractions. */
export function logStartTime(since: Date): string {
  const d = new Date(since.getTime() - 1000);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

/** The predicate: Sandbox records, naming the pids when there are few (only digits ever reach it). */
export function denialPredicate(pids: readonly number[]): string {
  const base = 'sender == "Sandbox"';
  const safe = pids.filter((p) => Number.isSafeInteger(p) && p > 0);
  if (safe.length === 0 || safe.length > PREDICATE_MAX_PIDS) return base;
  return `${base} AND (${safe.map((p) => `eventMessage CONTAINS "(${p}) "`).join(' OR ')})`;
}

export function logShowArgs(since: Date, pids: readonly number[]): string[] {
  return ['show', '--style', 'ndjson', '--start', logStartTime(since), '--predicate', denialPredicate(pids)];
}

export interface CollectOptions {
  since: Date;
  pids: readonly number[];
  /** The `log` program (tests substitute a script). */
  logPath?: string;
  timeoutMs?: number;
  maxBytes?: number;
  maxEntries?: number;
}

/** Read the denials of `pids` since `since` from the unified log. Never throws. */
export async function collectDenials(options: CollectOptions): Promise<SandboxDenials> {
  const pids = [...new Set(options.pids)].sort((a, b) => a - b);
  const timeoutMs = options.timeoutMs ?? LOG_TIMEOUT_MS;
  const done = (text: string, truncated: boolean, error: string | null): SandboxDenials => {
    const found = denialsFromNdjson(text, new Set(pids), options.maxEntries);
    return { source: 'macos-unified-log', pids, entries: found.entries, truncated: truncated || found.truncated, error };
  };
  // The same time zone as this process, so that --start means the same moment to `log`.
  const env: Record<string, string> = { PATH: '/usr/bin:/bin', ...(process.env['TZ'] === undefined ? {} : { TZ: process.env['TZ'] }) };
  const r = await runHelper(options.logPath ?? LOG_PATH, logShowArgs(options.since, pids), { env, timeoutMs, maxStdout: options.maxBytes ?? LOG_MAX_BYTES });
  if (r.spawnError !== undefined) return done('', false, `cannot start log show: ${r.spawnError.message}`);
  if (r.truncated) return done(r.stdout, true, null);
  if (r.timedOut) return done(r.stdout, true, `log show did not finish within ${timeoutMs / 1000}s; the denials found until then are listed`);
  if (r.exitCode !== 0) {
    const why = r.stderr.trim().split('\n')[0] ?? '';
    return done(r.stdout, false, `log show ${r.exitCode === null ? `was killed (${r.signal ?? '?'})` : `exited ${r.exitCode}`}${why === '' ? '' : `: ${why}`}`);
  }
  return done(r.stdout, false, null);
}
