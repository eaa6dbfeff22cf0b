/**
 * How run/ reaches the processes of one sandbox, to signal them, end them
 * and see what they use: through its PID namespace (bwrap, nsjail) or its
 * process group (Plan.launch.reach, sandbox-exec). Which one is plan data.
 */
import type { ChildProcess } from 'node:child_process';
import type { Plan } from '../../backends/types.js';
import type { Resources } from '../resources.js';
import { GroupReach } from './group.js';
import { NamespaceReach } from './namespace.js';

export interface Reach {
  /** Processes may outlive the sandbox's end and hold its output open (they left the process group). */
  readonly leaky: boolean;
  launched(launcher: ChildProcess): void;
  /** The launcher reported the sandbox's PID namespace and init (bwrap's status). */
  reported(pidNamespace: number, init: number | undefined): void;
  /** No report comes: look for the sandbox under the launcher, now and for a while. */
  search(): void;
  /** The sandbox's init as the host numbers it, looked for once more if not known yet. */
  init(): number | undefined;
  /** Deliver a signal to the sandboxed processes, as a terminal would to its foreground job. */
  deliver(signal: NodeJS.Signals): void;
  /** End every process of the sandbox. */
  killAll(): void;
  /** The launcher exited. */
  exited(): void;
  /** Stop watching; what the sandbox used. */
  stop(): Resources;
}

/** `onLaunched`: told the process group's id when the launcher leads one. */
export function reachFor(plan: Plan, onLaunched?: (pgid: number) => void): Reach {
  return plan.launch?.reach === 'process-group' ? new GroupReach(onLaunched) : new NamespaceReach();
}
