/**
 * A sandbox in its own PID namespace (bwrap, nsjail): its processes are
 * found by the namespace, so nothing outside it is ever signalled, and one
 * that left the sandbox's process group or session is still found. They
 * all die with its init.
 */
import type { ChildProcess } from 'node:child_process';
import { ResourceSampler, type Resources } from '../resources.js';
import { findSandboxNamespace, signalSandbox } from '../sandbox-procs.js';
import type { Reach } from './reach.js';

/** How often, and how many times, to look for a sandbox its launcher does not report. */
const SEARCH_INTERVAL_MS = 10;
const SEARCH_TRIES = 200;

export class NamespaceReach implements Reach {
  readonly leaky = false;
  private launcher: ChildProcess | undefined;
  private pidNamespace: number | undefined;
  private initPid: number | undefined;
  private readonly sampler = new ResourceSampler();
  private timer: NodeJS.Timeout | undefined;
  private tries = 0;

  launched(launcher: ChildProcess): void {
    this.launcher = launcher;
  }

  reported(pidNamespace: number, init: number | undefined): void {
    this.pidNamespace = pidNamespace;
    if (init === undefined) return;
    this.initPid = init;
    this.sampler.start(pidNamespace, init);
  }

  private find(): boolean {
    const pid = this.launcher?.pid;
    if (this.pidNamespace !== undefined) return true;
    const found = pid === undefined ? undefined : findSandboxNamespace(pid);
    if (found !== undefined) this.reported(found.pidNamespace, found.initPid);
    return found !== undefined;
  }

  search(): void {
    if (this.launcher?.pid === undefined || this.find()) return;
    if (++this.tries < SEARCH_TRIES) this.timer = setTimeout(() => this.search(), SEARCH_INTERVAL_MS);
  }

  init(): number | undefined {
    this.find();
    return this.initPid;
  }

  deliver(signal: NodeJS.Signals): void {
    if (this.pidNamespace === undefined) this.launcher?.kill(signal);
    else signalSandbox(this.pidNamespace, signal, this.initPid);
  }

  /** Everything in the sandbox dies with the launcher (bwrap's init has PR_SET_PDEATHSIG); its processes are killed too. */
  killAll(): void {
    this.launcher?.kill('SIGKILL');
    if (this.pidNamespace !== undefined) signalSandbox(this.pidNamespace, 'SIGKILL');
  }

  exited(): void {
    // The namespace's processes die with its init.
  }

  stop(): Resources {
    if (this.timer !== undefined) clearTimeout(this.timer);
    return this.sampler.stop();
  }
}
