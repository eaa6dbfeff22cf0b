/**
 * Resource limits: parsing of durations and sizes, and the resolved form.
 * Durations: a number of seconds, or a number with ms, s, m or h ("30s",
 * "5m", "1.5h"). Sizes: a number of bytes, or a number with K, M, G or T,
 * binary (1024-based), optionally followed by B or iB ("512M", "2GiB").
 * Zero, negative and unknown units are errors.
 */
import { shown } from '../errors.js';

export interface LimitsDoc {
  timeout?: string | number | undefined;
  killAfter?: string | number | undefined;
  cpu?: string | number | undefined;
  memory?: string | number | undefined;
  processes?: number | undefined;
  openFiles?: number | undefined;
  fileSize?: string | number | undefined;
  enforce?: 'rlimit' | 'cgroup' | undefined;
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
  enforce: 'rlimit' | 'cgroup';
}

export const DEFAULT_KILL_AFTER_MS = 2000;

const DURATION_UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
const SIZE_UNITS: Record<string, number> = { '': 1, K: 1024, M: 1024 ** 2, G: 1024 ** 3, T: 1024 ** 4 };

export type Parsed = { ok: true; value: number } | { ok: false; message: string };

/** Milliseconds. */
export function parseDuration(input: string | number): Parsed {
  if (typeof input === 'number') {
    return Number.isFinite(input) && input > 0 ? { ok: true, value: Math.round(input * 1000) } : { ok: false, message: `expected a positive duration, received ${shown(input)}` };
  }
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)?\s*$/.exec(input);
  if (m === null || m[1] === undefined) {
    return { ok: false, message: `expected a duration such as 30s, 5m, 1h or 500ms, received ${shown(input)}` };
  }
  const value = Number(m[1]) * (DURATION_UNITS[m[2] ?? 's'] ?? 1000);
  if (!(value >= 1)) return { ok: false, message: `expected a positive duration, received ${shown(input)}` };
  return { ok: true, value: Math.round(value) };
}

/** Bytes. */
export function parseSize(input: string | number): Parsed {
  if (typeof input === 'number') {
    return Number.isInteger(input) && input > 0 ? { ok: true, value: input } : { ok: false, message: `expected a positive whole number of bytes, received ${shown(input)}` };
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
  return { ok: true, value };
}

export function parseCount(input: number | string): Parsed {
  const n = typeof input === 'number' ? input : /^\s*\d+\s*$/.test(input) ? Number(input) : Number.NaN;
  return Number.isInteger(n) && n > 0 ? { ok: true, value: n } : { ok: false, message: `expected a positive whole number, received ${shown(input)}` };
}

export function formatBytes(n: number): string {
  for (const [unit, size] of [['T', 1024 ** 4], ['G', 1024 ** 3], ['M', 1024 ** 2], ['K', 1024]] as const) {
    if (n >= size && n % size === 0) return `${n / size}${unit}`;
  }
  return `${n}`;
}
