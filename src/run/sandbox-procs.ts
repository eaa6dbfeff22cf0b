/**
 * Signal the processes of one sandbox from the host. They are found by their
 * PID namespace (bwrap reports its inode), so nothing outside the sandbox is
 * ever signalled, and a process that left the sandbox's process group or
 * session is still found.
 */
import { readdirSync, readlinkSync } from 'node:fs';

export function sandboxPids(pidNamespace: number): number[] {
  const want = `pid:[${pidNamespace}]`;
  const pids: number[] = [];
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return pids;
  }
  for (const name of entries) {
    if (name.charCodeAt(0) < 48 || name.charCodeAt(0) > 57) continue;
    try {
      if (readlinkSync(`/proc/${name}/ns/pid`) === want) pids.push(Number(name));
    } catch {
      // gone, or not ours to inspect
    }
  }
  return pids;
}

/** Send `signal` to every process in the sandbox except `except` (bwrap's init, PID 1 inside). */
export function signalSandbox(pidNamespace: number, signal: NodeJS.Signals, except?: number): number {
  let sent = 0;
  for (const pid of sandboxPids(pidNamespace)) {
    if (pid === except) continue;
    try {
      process.kill(pid, signal);
      sent++;
    } catch {
      // already gone
    }
  }
  return sent;
}
