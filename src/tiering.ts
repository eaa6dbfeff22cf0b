/**
 * V8's optimizing compiler (TurboFan) during a CLI run's start-up. A run
 * that starts a sandbox and returns within a few tenths of a second ends
 * before most code TurboFan compiles has paid for its compilation, which
 * costs every `isolate run` about a third of its CPU time and 8 MiB of
 * memory (docs/performance.md). So the CLI starts with it off, and it is
 * turned back on, once for the rest of the process, when a run turns out
 * long: after LONG_RUN_MS, or as soon as a search walks a large tree
 * (which is synchronous: no timer fires during it). Nothing else changes:
 * the code runs the same in V8's interpreter and baseline compiler. The
 * API, used in a host's process, never turns it off.
 */
import { setFlagsFromString } from 'node:v8';

/** A run still going after this long may run for long: hot code is worth optimising. */
const LONG_RUN_MS = 250;

let deferred = false;

/** For the CLI's process only: start without TurboFan until allowOptimizer(), or LONG_RUN_MS. */
export function deferOptimizer(): void {
  if (deferred) return;
  setFlagsFromString('--no-opt');
  deferred = true;
  setTimeout(allowOptimizer, LONG_RUN_MS).unref();
}

/** Work that runs long from here on (a large tree, a long run): TurboFan on again. Does nothing unless deferred. */
export function allowOptimizer(): void {
  if (!deferred) return;
  deferred = false;
  setFlagsFromString('--opt');
}
