/**
 * node:worker_threads for the searches that start a thread (scan-split.ts,
 * scan-ahead.ts), loaded when one first does. Loaded as the CLI is, it
 * would be part of the start-up snapshot (docs/performance.md), whose build
 * has no SharedArrayBuffer for the module's own state: every thread started
 * from the snapshot would then fail as it starts (`process.cwd` in it).
 */
import { createRequire } from 'node:module';

type WorkerThreads = typeof import('node:worker_threads');

let loaded: WorkerThreads | undefined;

export function workerThreads(): WorkerThreads {
  // Any absolute path serves as the base: the module is Node's own. (The snapshot's bundle has no module URL.)
  loaded ??= createRequire(process.execPath)('node:worker_threads') as WorkerThreads;
  return loaded;
}
