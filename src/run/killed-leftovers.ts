/**
 * What isolate processes killed with SIGKILL left in isolate's private
 * runtime directory (host/runtime-dir.ts): their proxy directories
 * (host/proxy-dir.ts) and their registrations under `roots`
 * (placeholders.ts), with the placeholders they made. Runs remove these as
 * they go, but only the next run with a filtered network sweeps proxy
 * directories, and only the next run with a writable root the registrations;
 * a long-lived program (the MCP server) removes them when it starts, so that
 * a killed server leaves nothing behind for long. Only the leftovers of
 * owners that are gone are removed: a proxy directory's maker told by its pid
 * and start time, a registration's run by its pid (a reused pid keeps it, for
 * a later sweep); a killed run's notice stays in its root's slot for the
 * next run there. A sweep that cannot be done (no private runtime directory
 * yet, a busy registry) is left for later: it never stops the program.
 */
import { existsSync } from 'node:fs';
import { sweepProxyDirs } from '../host/proxy-dir.js';
import { ensurePrivateDir, runtimeDir } from '../host/runtime-dir.js';
import { collectAbandonedRoots } from './placeholders.js';

export async function sweepKilledLeftovers(env: Readonly<Record<string, string | undefined>>): Promise<void> {
  try {
    const base = runtimeDir(env);
    if (!existsSync(base)) return;
    ensurePrivateDir(base); // checks that it is private: nothing is removed from a directory others can change
    sweepProxyDirs(base);
    await collectAbandonedRoots(base);
  } catch {
    // left for the next run or start
  }
}
