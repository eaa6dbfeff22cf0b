/**
 * Signals and exit statuses: a process killed by signal N is reported as
 * 128+N, by a shell, by bwrap's status, by nsjail, and by isolate itself
 * (timeout(1)'s convention). Decoded and encoded here only.
 */
import { constants } from 'node:os';
import type { Limit } from '../result.js';

const SIGNALS = constants.signals as Readonly<Record<string, number>>;
/** The highest signal number a status above 128 can stand for (Linux's SIGRTMAX). */
const MAX_SIGNAL = 64;

function signalName(n: number): NodeJS.Signals | null {
  for (const [name, value] of Object.entries(SIGNALS)) if (value === n) return name as NodeJS.Signals;
  return null;
}

/** The signal a status of 128+N stands for; null for any other status. */
export function signalOfStatus(status: number): NodeJS.Signals | null {
  return status > 128 && status <= 128 + MAX_SIGNAL ? signalName(status - 128) : null;
}

/** 128+N for the signal named. */
export function statusOfSignal(signal: string): number {
  return 128 + (SIGNALS[signal] ?? 0);
}

/** The limit a signal says was hit: SIGXCPU (RLIMIT_CPU) and SIGXFSZ (RLIMIT_FSIZE). */
export function limitOfSignal(signal: string | null): { limit?: Limit } {
  if (signal === 'SIGXCPU') return { limit: 'cpu' };
  if (signal === 'SIGXFSZ') return { limit: 'fileSize' };
  return {};
}
