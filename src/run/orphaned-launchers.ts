/**
 * bubblewrap's first process of a sandbox left waiting for good by a killed
 * isolate. bwrap clones that process (PID 1 of the sandbox's PID namespace)
 * and releases it only after it has armed --die-with-parent; an isolate
 * killed between the two (SIGKILL while bwrap starts; setpriv --pdeathsig
 * kills bwrap with it: backends/bwrap.ts) leaves that process waiting for a
 * release nobody can send any more, on the host, holding the project's
 * descriptors and the caller's stdout and stderr. A later run that notices a
 * killed run (run/placeholders.ts) ends every such process of this user's.
 *
 * Such a process is told by what it is, not by a record of the killed run
 * (which died before it could know the pid): a process named bwrap, of this
 * user, PID 1 of a PID namespace of its own, whose parent is no bwrap (its
 * launcher is gone: a sandbox's first process always has its bwrap as parent
 * while it runs), whose root is still the host's (it never set up its
 * sandbox) and that has started no process (it never ran the command: a
 * bwrap the user runs on purpose as the first process of a PID namespace
 * another program made, binding / at /, looks so otherwise). A bwrap that lost its parent before its sandbox was made can
 * never go on: only that parent could release it. Linux only; nothing
 * happens where /proc cannot be read.
 */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { procStat } from '../host/proc-stat.js';

/** A process's name and parent, from /proc/PID/stat; undefined when it is gone. */
function nameAndParent(pid: number): { comm: string; ppid: number } | undefined {
  const stat = procStat(pid);
  return stat === undefined ? undefined : { comm: stat.comm, ppid: Number(stat.field(4)) };
}

/** Whether the process belongs to `uid` and is PID 1 of a PID namespace nested in this one (from /proc/PID/status). */
function ownNamespaceInit(pid: number, uid: number): boolean {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'latin1');
    const realUid = /^Uid:\s+(\d+)/m.exec(status)?.[1];
    const nspid = /^NSpid:\s+([\d\s]+)$/m.exec(status)?.[1]?.trim().split(/\s+/) ?? [];
    return realUid === String(uid) && nspid.length > 1 && nspid.at(-1) === '1';
  } catch {
    return false;
  }
}

/** Whether the process's root directory is this process's (it has not moved into its sandbox). */
function hostRoot(pid: number, root: { dev: number; ino: number }): boolean {
  try {
    const st = statSync(`/proc/${pid}/root`);
    return st.dev === root.dev && st.ino === root.ino;
  } catch {
    return false;
  }
}

/**
 * Whether the process has started no process (/proc/PID/task/PID/children): a first process waiting for its release
 * has not, a bwrap running as the first process of a PID namespace made by another program (`unshare --pid --fork
 * bwrap --dev-bind / / ...`, a service with PrivatePIDs=) has started its sandbox's. False where that cannot be read.
 */
function childless(pid: number): boolean {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'latin1').trim() === '';
  } catch {
    return false;
  }
}

/** Whether `pid` is a bwrap sandbox's first process, of `uid`, that lost its bwrap before it made its sandbox. */
function orphanedBeforeSetup(pid: number, uid: number, root: { dev: number; ino: number }): boolean {
  const me = nameAndParent(pid);
  if (me?.comm !== 'bwrap' || !ownNamespaceInit(pid, uid)) return false;
  return nameAndParent(me.ppid)?.comm !== 'bwrap' && hostRoot(pid, root) && childless(pid);
}

/** SIGKILL every bwrap of this user's left waiting by a killed isolate; how many were ended. */
export function endOrphanedLaunchers(): number {
  const uid = process.getuid?.();
  if (process.platform !== 'linux' || uid === undefined) return 0;
  let pids: number[];
  let root: { dev: number; ino: number };
  try {
    pids = readdirSync('/proc').filter((n) => /^\d+$/.test(n)).map(Number);
    root = statSync('/');
  } catch {
    return 0;
  }
  let ended = 0;
  for (const pid of pids) {
    if (pid === process.pid || !orphanedBeforeSetup(pid, uid, root)) continue;
    try {
      process.kill(pid, 'SIGKILL');
      ended++;
    } catch {
      // gone meanwhile
    }
  }
  return ended;
}
