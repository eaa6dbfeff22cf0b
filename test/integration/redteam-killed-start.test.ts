/**
 * Red team: isolate killed with SIGKILL while bubblewrap is still starting
 * (a CI runner cancelling a job, the OOM killer on a loaded machine, an
 * assistant's tool call killed by its client). bwrap's --die-with-parent is
 * armed only after bwrap has parsed its arguments and made its namespaces;
 * killed before that, isolate left a bwrap that then waited forever for its
 * parent to release it: a process on the host for good, holding the
 * project's descriptors, its placeholders, the run's cgroup and the caller's
 * stdout and stderr (a CI step waiting for their end hung with it).
 *
 * A launcher that sleeps before it execs the real bwrap stands for a slow
 * start (a loaded machine), so that the kill lands in that window every time.
 *
 * Written as a failing finding first; it now guards the fix.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { findBwrap } from '../../src/host/facts.js';
import { giveTo, homeWithProject, isolate, listProcs, pollFor, readProcInfo, runners, sleepProcs, spawnIsolate, uniqueSleep, type ProcInfo, type Project, START_WAIT_MS } from '../helpers/isolate.js';
import { killRunWhileSleeping } from '../helpers/killed-run.js';

const BWRAP = findBwrap(process.env);
if (BWRAP === undefined) console.warn('red team: isolate killed while bubblewrap starts skipped: no bwrap on PATH to start (install bubblewrap)');

/** The children of `pid` (/proc/PID/task/PID/children), or none when it is gone. */
function childrenOf(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

/** Live processes with `marker` among their arguments (a sandbox's bwrap carries its command's argv). */
const carrying = (marker: string): ProcInfo[] => listProcs().filter((p) => p.state !== 'Z' && p.argv.includes(marker));

function killCarrying(marker: string): void {
  for (const p of carrying(marker)) {
    try {
      process.kill(p.pid, 'SIGKILL');
    } catch {
      // gone
    }
  }
}

describe.skipIf(BWRAP === undefined).each(runners())('red team: isolate killed while bubblewrap starts ($label)', (runner) => {
  let p: Project;
  const children: ChildProcess[] = [];
  const markers: string[] = [];
  beforeAll(() => {
    p = homeWithProject(runner);
  });
  afterEach(() => {
    for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    for (const m of markers.splice(0)) killCarrying(m);
  });
  afterAll(() => p.cleanup());

  it('leaves no bwrap behind: the launcher dies with isolate from its first instruction', async () => {
    const pause = uniqueSleep(1);
    const command = uniqueSleep(300);
    markers.push(pause, command);
    const launcher = join(p.home, 'slow-bwrap');
    writeFileSync(launcher, `#!/bin/sh\ncase "$1" in --version) exec ${BWRAP ?? ''} "$@";; esac\nsleep ${pause}\nexec ${BWRAP ?? ''} "$@"\n`);
    chmodSync(launcher, 0o755);
    giveTo(runner, p.home);

    const child = spawnIsolate(runner, ['run', '--backend', 'bwrap', '--', 'sleep', command], { cwd: p.project, env: { ...p.env, ISOLATE_BWRAP: launcher } });
    children.push(child);
    const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on('exit', (_code, signal) => resolve(signal)));
    // The caller's pipes reach their end only when no process holds them: a CI step waits for that.
    let closed = false;
    child.on('close', () => (closed = true));
    let stderr = '';
    child.stderr?.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    await pollFor(`the launcher's pause (sleep ${pause}); isolate said: ${stderr}`, () => (sleepProcs(pause).length === 1 ? true : undefined), START_WAIT_MS);
    child.kill('SIGKILL');
    expect(await exited).toBe('SIGKILL');

    // The pause ends about a second later; a launcher that outlived isolate execs bwrap then.
    await pollFor(`the pause to end`, () => (sleepProcs(pause).length === 0 ? true : undefined), 10_000);
    await new Promise((r) => setTimeout(r, 1500));
    const left = carrying(command).map((t) => `${t.pid} (parent ${t.ppid}) ${(t.argv[0] ?? '').split('/').pop() ?? ''}`);
    expect(left, 'a process of the killed run is still on the host').toEqual([]);
    await pollFor('the end of isolate\'s stdout and stderr', () => (closed ? true : undefined), 5000).catch(() => undefined);
    expect(closed, 'a process of the killed run still holds isolate\'s stdout or stderr (its caller waits for their end)').toBe(true);
  });

  it('isolate killed while the sandbox sets itself up: its command never runs on without it', async () => {
    // bwrap's own init arms its death signal only after the setup; killed in between, the init's parent became the
    // host's, and the command ran to its end with no timeout. The kill lands 0-15 ms after bwrap appears: in the
    // setup on most tries here, where the command outlived isolate on about a third of them.
    const survivors: string[] = [];
    for (let attempt = 0; attempt < 25 && survivors.length === 0; attempt++) {
      const command = uniqueSleep(300);
      markers.push(command);
      const child = spawnIsolate(runner, ['run', '--backend', 'bwrap', '--', 'sleep', command], { cwd: p.project, env: p.env });
      children.push(child);
      const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
      const bwrapUnder = (): boolean => childrenOf(child.pid ?? 0).some((c) => (readProcInfo(c)?.argv[0] ?? '').endsWith('bwrap'));
      // Polled without pause: the window is milliseconds long.
      const deadline = Date.now() + START_WAIT_MS;
      while (!bwrapUnder()) {
        if (Date.now() > deadline) throw new Error('timed out waiting for bwrap under isolate');
        await new Promise((r) => setImmediate(r));
      }
      await new Promise((r) => setTimeout(r, Math.floor(Math.random() * 16)));
      child.kill('SIGKILL');
      await exited;
      // The command itself: what ran to its end with no timeout. (A bwrap killed before it released the sandbox's first
      // process may stay, waiting with no command: the next run ends it, the test below.)
      const ran = (): ProcInfo[] => carrying(command).filter((t) => (t.argv[0] ?? '').endsWith('sleep'));
      await pollFor('the killed run\'s command to end', () => (ran().length === 0 ? true : undefined), 2000).catch(() => undefined);
      survivors.push(...ran().map((t) => `attempt ${attempt}: ${t.pid} (parent ${t.ppid}) ${t.argv.join(' ')}`));
      killCarrying(command);
    }
    expect(survivors, 'a process of a killed run still runs on the host').toEqual([]);
  });

  it('a bwrap left waiting by a killed run (its bwrap killed between the clone and the release) is ended by the next run', async () => {
    // The killed run the next run notices.
    const held = uniqueSleep(300);
    const waiting = uniqueSleep(300);
    markers.push(held, waiting);
    await killRunWhileSleeping(runner, ['--backend', 'bwrap', '--', 'sleep', held], held, { cwd: p.project, env: p.env }, children);

    // What the window leaves: bwrap killed after its clone, before it releases the sandbox's first process. bwrap holds
    // that release while it waits on --userns-block-fd, after it has written the first process's pid to --info-fd.
    const [file, ...args] = [...runner.prefix, BWRAP ?? 'bwrap', '--unshare-user', '--unshare-pid', '--info-fd', '3', '--userns-block-fd', '4', '--ro-bind', '/', '/', '--', 'sleep', waiting];
    const launcher = spawn(file as string, args, { cwd: p.project, stdio: ['ignore', 'ignore', 'ignore', 'pipe', 'pipe'] });
    children.push(launcher);
    let info = '';
    launcher.stdio[3]?.on('data', (d: Buffer) => (info += d.toString()));
    const first = await pollFor('the first process of the sandbox', () => (/"child-pid": (\d+)/.exec(info)?.[1] ?? undefined), START_WAIT_MS);
    // The control, while its bwrap still holds it (a concurrent run's clean-up may end it as soon as bwrap is gone).
    const control = readProcInfo(Number(first));
    expect(control !== undefined && control.argv.includes(waiting) ? control.ppid : undefined, 'the control: the first process waits for its bwrap').toBe(launcher.pid);
    launcher.kill('SIGKILL');
    await pollFor('its bwrap to be gone', () => (readProcInfo(Number(first))?.ppid !== launcher.pid ? true : undefined));

    const next = isolate(runner, ['run', '--backend', 'bwrap', '--', 'true'], { cwd: p.project, env: p.env });
    expect(next.status, next.stderr).toBe(0);
    expect(next.stderr).toMatch(/was killed before its search after the run/);
    await pollFor('the waiting process to be ended', () => (carrying(waiting).length === 0 ? true : undefined), 5000).catch(() => undefined);
    expect(carrying(waiting).map((t) => `${t.pid} (parent ${t.ppid})`), 'a bwrap of the killed run still waits on the host').toEqual([]);
  });
});
