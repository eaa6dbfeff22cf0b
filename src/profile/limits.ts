/**
 * Resource limits: parsing of durations and sizes, and the resolved form.
 * Durations: a number of seconds, or a number with ms, s, m or h ("30s",
 * "5m", "1.5h"). Sizes: a number of bytes, or a number with K, M, G or T,
 * binary (1024-based), optionally followed by B or iB ("512M", "2GiB").
 * Zero, negative and unknown units are errors, and so are values beyond
 * the maxima below.
 */
import { shown } from '../errors.js';

/** Removes a limit, or a built-in profile's ceiling, that a profile it extends sets. */
export const UNLIMITED = 'unlimited';
export type Unlimited = typeof UNLIMITED;

/**
 * Ceilings the built-in profiles set against runaway use: applied where this
 * host and backend can (explain lists what is and is not), unlike the limits
 * a user sets, which are enforced or refused. A limit the profile or a flag
 * sets for the same resource replaces its ceiling.
 */
export interface CeilingsDoc {
  /** The size of each tmpfs the sandbox gets. */
  tmpfs?: string | number | undefined;
  /** Processes and threads of the whole sandbox (a pids cgroup; RLIMIT_NPROC where there is none and isolate does not run as root). */
  processes?: number | Unlimited | undefined;
  /** Memory of the whole sandbox (a memory cgroup only: no per-process rlimit). */
  memory?: string | number | undefined;
}

export interface LimitsDoc {
  timeout?: string | number | undefined;
  killAfter?: string | number | undefined;
  cpu?: string | number | undefined;
  memory?: string | number | undefined;
  processes?: number | Unlimited | undefined;
  openFiles?: number | undefined;
  fileSize?: string | number | undefined;
  /** The size of each tmpfs the sandbox gets, enforced or refused. */
  tmpfs?: string | number | undefined;
  enforce?: 'rlimit' | 'cgroup' | undefined;
  ceilings?: CeilingsDoc | undefined;
}

/** Resolved ceilings (see CeilingsDoc): only those no limit replaces. */
export interface Ceilings {
  tmpfsBytes?: number;
  processes?: number;
  memoryBytes?: number;
}

export interface Limits {
  timeoutMs?: number;
  /** Grace period between SIGTERM and SIGKILL when the timeout fires. */
  killAfterMs: number;
  cpuSeconds?: number;
  memoryBytes?: number;
  processes?: number;
  openFiles?: number;
  fileSizeBytes?: number;
  tmpfsBytes?: number;
  enforce: 'rlimit' | 'cgroup';
  ceilings?: Ceilings;
}

export const DEFAULT_KILL_AFTER_MS = 2000;

/**
 * The longest duration: 596 hours (about 24.8 days). isolate waits for the
 * timeout and the kill grace period with Node timers, which hold at most
 * 2^31-1 ms and fire at once beyond that (a 597h timeout killed the command
 * immediately). Refusing longer values keeps one timer per deadline, which
 * run/ can test; a sandboxed command that must run for weeks can run
 * without a timeout. The same bound applies to every duration (cpu too), so
 * there is one rule to learn.
 */
export const MAX_DURATION_MS = 596 * 3_600_000;
const MAX_DURATION_TEXT = '596h (about 24.8 days, the longest a timer can wait)';
/** The largest size: 1024T (2^50 bytes); far above any memory or file, and exact as a JavaScript number. */
export const MAX_SIZE_BYTES = 1024 ** 5;
/** The largest count (processes, open files): the largest signed 32-bit number. */
export const MAX_COUNT = 2 ** 31 - 1;

const DURATION_UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
const SIZE_UNITS: Record<string, number> = { '': 1, K: 1024, M: 1024 ** 2, G: 1024 ** 3, T: 1024 ** 4 };

export type LimitParse = { ok: true; value: number } | { ok: false; message: string };

/** Milliseconds. */
export function parseDuration(input: string | number): LimitParse {
  if (typeof input === 'number') {
    if (!(Number.isFinite(input) && input > 0)) return { ok: false, message: `expected a positive duration, received ${shown(input)}` };
    return atMost(Math.round(input * 1000), MAX_DURATION_MS, input, MAX_DURATION_TEXT);
  }
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)?\s*$/.exec(input);
  if (m === null || m[1] === undefined) {
    return { ok: false, message: `expected a duration such as 30s, 5m, 1h or 500ms, received ${shown(input)}` };
  }
  const value = Number(m[1]) * (DURATION_UNITS[m[2] ?? 's'] ?? 1000);
  if (!(value >= 1)) return { ok: false, message: `expected a positive duration, received ${shown(input)}` };
  return atMost(Math.round(value), MAX_DURATION_MS, input, MAX_DURATION_TEXT);
}

function atMost(value: number, max: number, input: string | number, maxText: string): LimitParse {
  return value <= max ? { ok: true, value } : { ok: false, message: `expected at most ${maxText}, received ${shown(input)}` };
}

/** Bytes. */
export function parseSize(input: string | number): LimitParse {
  if (typeof input === 'number') {
    if (!(Number.isInteger(input) && input > 0)) return { ok: false, message: `expected a positive whole number of bytes, received ${shown(input)}` };
    return atMost(input, MAX_SIZE_BYTES, input, '1024T');
  }
  const m = /^\s*(\d+(?:\.\d+)?)\s*([KMGT]?)(i?B)?\s*$/i.exec(input);
  if (m === null || m[1] === undefined) {
    return { ok: false, message: `expected a size such as 512M, 2G or 100K (binary units), received ${shown(input)}` };
  }
  if ((m[2] ?? '') === '' && !Number.isInteger(Number(m[1]))) {
    return { ok: false, message: `a size without a unit is a whole number of bytes, received ${shown(input)}` };
  }
  const value = Math.floor(Number(m[1]) * (SIZE_UNITS[(m[2] ?? '').toUpperCase()] ?? 1));
  if (!(value >= 1)) return { ok: false, message: `expected a positive size, received ${shown(input)}` };
  return atMost(value, MAX_SIZE_BYTES, input, '1024T');
}

export function parseCount(input: number | string): LimitParse {
  const n = typeof input === 'number' ? input : /^\s*\d+\s*$/.test(input) ? Number(input) : Number.NaN;
  if (!(Number.isInteger(n) && n > 0)) return { ok: false, message: `expected a positive whole number, received ${shown(input)}` };
  return atMost(n, MAX_COUNT, input, String(MAX_COUNT));
}

export function formatBytes(n: number): string {
  for (const [unit, size] of [['T', 1024 ** 4], ['G', 1024 ** 3], ['M', 1024 ** 2], ['K', 1024]] as const) {
    if (n >= size && n % size === 0) return `${n / size}${unit}`;
  }
  return `${n}`;
}
