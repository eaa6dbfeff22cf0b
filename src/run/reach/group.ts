/**
 * A sandbox without a PID namespace (Plan.launch.reach 'process-group',
 * sandbox-exec): the launcher leads a new session and process group, and
 * the group is the sandbox. Signals and the timeout go to the group; when
 * the launcher exits (it execs the command, so the command did), what is
 * left of the group is killed, as the processes of a PID namespace die with
 * its init. A process that moved itself to another group or session is not
 * reached. Nothing here reads /proc (macOS has none).
 */
import type { ChildProcess } from 'node:child_process';
import { signalGroup } from '../process-group.js';
import type { Resources } from '../resources.js';
import type { Reach } from './reach.js';

/** /proc is not read: nothing is sampled. */
const UNSAMPLED: Resources = { userCpuMs: null, systemCpuMs: null, peakMemoryBytes: null };

export class GroupReach implements Reach {
  readonly leaky = true;
  private launcher: ChildProcess | undefined;
  private pgid: number | undefined;

  constructor(private readonly onLaunched?: (pgid: number) => void) {}

  launched(launcher: ChildProcess): void {
    this.launcher = launcher;
    // Detached: it leads a new session and process group whose id is its pid.
    this.pgid = launcher.pid;
    if (this.pgid !== undefined) this.onLaunched?.(this.pgid);
  }

  reported(): void {
    // No launcher reports a namespace here.
  }

  search(): void {
    // There is no namespace to find.
  }

  init(): number | undefined {
    return undefined;
  }

  deliver(signal: NodeJS.Signals): void {
    signalGroup(this.pgid, signal);
  }

  killAll(): void {
    this.launcher?.kill('SIGKILL');
    signalGroup(this.pgid, 'SIGKILL');
  }

  exited(): void {
    signalGroup(this.pgid, 'SIGKILL');
  }

  stop(): Resources {
    return { ...UNSAMPLED };
  }
}
