/**
 * Signal the processes of one sandbox from the host. They are found by their
 * PID namespace (bwrap reports its inode), so nothing outside the sandbox is
 * ever signalled, and a process that left the sandbox's process group or
 * session is still found.
 */
import { readFileSync, readdirSync, readlinkSync } from 'node:fs';
import { pidNamespaceOf } from '../host/alive.js';

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

function children(pid: number, tid = pid): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${tid}/children`, 'utf8')
      .trim()
      .split(/\s+/)
      .filter(Boolean)
      .map(Number);
  } catch {
    return [];
  }
}

/**
 * The sandbox's processes, found by walking down from its init: every process
 * in a PID namespace descends from the namespace's init (orphans are
 * re-parented to it), so this finds the same processes as scanning /proc,
 * at a cost that grows with the sandbox rather than with the host. Children
 * are listed per thread, so every thread's list is read. Empty when `init`
 * is no longer the sandbox's (it exited, and its number may be reused).
 */
export function sandboxTree(init: number, pidNamespace: number): number[] {
  if (pidNamespaceOf(init) !== pidNamespace) return [];
  const found: number[] = [];
  const seen = new Set<number>();
  const queue = [init];
  while (queue.length > 0 && found.length < 65536) {
    const pid = queue.shift() as number;
    if (seen.has(pid)) continue;
    seen.add(pid);
    found.push(pid);
    let tasks: string[];
    try {
      tasks = readdirSync(`/proc/${pid}/task`);
    } catch {
      continue; // gone
    }
    for (const tid of tasks) queue.push(...children(pid, Number(tid)));
  }
  return found;
}

/** The children of every thread of `pid` (a Go launcher such as runc forks from any of its threads). */
function allChildren(pid: number): number[] {
  let tasks: string[];
  try {
    tasks = readdirSync(`/proc/${pid}/task`);
  } catch {
    return [];
  }
  return tasks.flatMap((tid) => children(pid, Number(tid)));
}

/**
 * For launchers that do not report it (nsjail, an OCI runtime): the PID
 * namespace of the sandbox started under `launcher`, and its init (PID 1
 * inside), found by walking the launcher's descendants (the children of
 * each of their threads) to the first one in another namespace.
 */
export function findSandboxNamespace(launcher: number): { pidNamespace: number; initPid: number } | undefined {
  const own = pidNamespaceOf('self');
  const queue = [launcher];
  for (let seen = 0; queue.length > 0 && seen < 64; seen++) {
    const pid = queue.shift() as number;
    const ns = pidNamespaceOf(pid);
    if (ns !== undefined && ns !== own) return { pidNamespace: ns, initPid: pid };
    queue.push(...allChildren(pid));
  }
  return undefined;
}
