/**
 * Red team: the clean-up after a killed run (run/orphaned-launchers.ts)
 * ends bwrap processes of the user's that look left waiting: named bwrap,
 * PID 1 of a PID namespace, parent no bwrap, root the host's. A bubblewrap
 * sandbox the user runs on purpose can look just so: bwrap started as the
 * first process of a PID namespace someone else made (`unshare --pid
 * --fork bwrap ...`, a service with systemd's PrivatePIDs=), with the whole
 * file system bound at its root (`--dev-bind / /`). It is running, not
 * waiting, and an unrelated isolate run must not kill it.
 *
 * Written as a failing finding first; it now guards the fix.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { findBwrap } from '../../src/host/facts.js';
import { homeWithProject, isolate, listProcs, pollFor, runners, sleepProcs, uniqueSleep, type Project, START_WAIT_MS } from '../helpers/isolate.js';
import { killRunWhileSleeping } from '../helpers/killed-run.js';

const BWRAP = findBwrap(process.env);
/** Whether this host lets a user make a user and PID namespace with unshare(1) (the lookalike's launcher). */
const UNSHARE = spawnSync('unshare', ['--user', '--map-root-user', '--pid', '--fork', 'true']).status === 0;
if (BWRAP === undefined) console.warn('red team: bwrap lookalikes skipped: no bwrap on PATH to start (install bubblewrap)');
if (BWRAP !== undefined && !UNSHARE) console.warn('red team: bwrap lookalikes skipped: unshare --user --pid does not work here (no util-linux unshare, or user namespaces are off)');

const alive = (pid: number): boolean => listProcs().some((p) => p.pid === pid && p.state !== 'Z');

describe.skipIf(BWRAP === undefined || !UNSHARE).each(runners())('red team: a running bwrap that looks left waiting ($label)', (runner) => {
  let p: Project;
  const children: ChildProcess[] = [];
  beforeAll(() => {
    p = homeWithProject(runner);
  });
  afterEach(() => {
    for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  });
  afterAll(() => p.cleanup());

  it('a bwrap that is the first process of a PID namespace someone else made, binding / at /, outlives the clean-up after a killed run', async () => {
    // The killed run the next run notices.
    const held = uniqueSleep(300);
    await killRunWhileSleeping(runner, ['--backend', 'bwrap', '--', 'sleep', held], held, { cwd: p.project, env: p.env }, children);

    // The user's own sandbox, running (its command started), in its own process group so that the test can end it.
    const work = uniqueSleep(300);
    const [file, ...args] = [...runner.prefix, 'unshare', '--user', '--map-root-user', '--pid', '--fork', BWRAP ?? 'bwrap', '--dev-bind', '/', '/', '--', 'sleep', work];
    const launcher = spawn(file as string, args, { cwd: p.project, stdio: 'ignore', detached: true });
    children.push(launcher);
    const sandboxed = await pollFor(`the user's sandboxed sleep ${work}`, () => sleepProcs(work)[0], START_WAIT_MS);
    const bwrap = sandboxed.ppid;
    try {
      const next = isolate(runner, ['run', '--backend', 'bwrap', '--', 'true'], { cwd: p.project, env: p.env });
      expect(next.status, next.stderr).toBe(0);
      expect(next.stderr).toMatch(/was killed before its search after the run/);
      await new Promise((r) => setTimeout(r, 300));
      expect(alive(bwrap) && alive(sandboxed.pid), 'the user\'s running bwrap sandbox was killed by an unrelated run').toBe(true);
    } finally {
      if (launcher.pid !== undefined) spawnSync('kill', ['-KILL', '--', `-${launcher.pid}`]);
      for (const pid of [bwrap, sandboxed.pid]) spawnSync('kill', ['-KILL', String(pid)]);
    }
  });
});
