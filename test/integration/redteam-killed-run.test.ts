/**
 * Red team: isolate killed with SIGKILL while its command runs (the OOM
 * killer, `timeout -s KILL`, a CI runner stopping a job). The sandbox dies
 * with it, but the search after the run never happens: a repository the
 * command made is not moved aside, and host git obeys its config. That
 * cannot be undone later (nothing tells the planted repository from one the
 * user made), so the next run says so plainly, once, naming the directory.
 *
 * Written as a failing finding first; it now guards the fix.
 */
import type { ChildProcess } from 'node:child_process';
import { mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { giveTo, isolate, killSleepers, uniqueSleep } from '../helpers/isolate.js';
import { killRunWhileSleeping } from '../helpers/killed-run.js';
import { backendCases } from '../helpers/backends.js';
import { plantSite } from '../helpers/plant-site.js';

const KILLED = /an earlier isolate run in (\S+) \(pid (\d+)\) was killed before its search after the run/;

describe.each(backendCases('red team: killed run'))('red team: a run whose isolate is killed ($label)', ({ runner, backend, backendEnv }) => {
  const site = plantSite(runner, backendEnv);
  const children: ChildProcess[] = [];
  const durations: string[] = [];
  let project: string;
  let env: Record<string, string>;
  let marker: string;
  beforeEach(() => ({ project, env, marker } = site));
  afterEach(() => {
    for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    for (const d of durations.splice(0)) killSleepers(d);
  });

  it('the next run in its directory says that what it made was not moved aside, naming the directory, once (a run elsewhere does not)', async () => {
    const d = uniqueSleep(60);
    durations.push(d);
    const plant = `git init -q sub && git -C sub config core.fsmonitor 'touch ${marker}; false' && exec sleep ${d}`;
    const child = await killRunWhileSleeping(runner, ['--backend', backend, '--', 'sh', '-c', plant], d, { cwd: project, env }, children);

    // A run in another directory first cleans up after the killed one, but says nothing of a directory not its own.
    const elsewhere = join(project, '..', 'elsewhere');
    mkdirSync(elsewhere);
    giveTo(runner, elsewhere);
    const other = isolate(runner, ['run', '--backend', backend, '--', 'true'], { cwd: elsewhere, env });
    expect(other.status, other.stderr).toBe(0);
    expect(other.stderr).not.toMatch(KILLED);

    const next = isolate(runner, ['run', '--backend', backend, '--', 'true'], { cwd: project, env });
    expect(next.status, next.stderr).toBe(0);
    const said = KILLED.exec(next.stderr);
    expect(said, `the next run did not say the killed run's repository stays: ${next.stderr}`).not.toBeNull();
    expect(said?.[1]).toBe(project);
    expect(said?.[2]).toBe(String(child.pid));
    expect(next.stderr).toContain('not moved aside');

    const after = isolate(runner, ['run', '--backend', backend, '--', 'true'], { cwd: project, env });
    expect(after.status, after.stderr).toBe(0);
    expect(after.stderr).not.toMatch(KILLED);
  });

  it('a killed run with credentials leaves no proxy directory once the next filtered run has started: its trust bundle goes too', async () => {
    const d = uniqueSleep(60);
    durations.push(d);
    const credential = ['--backend', backend, '--allow-domain', '127.0.0.1:9', '--credential', 'GITHUB_TOKEN@127.0.0.1:9'];
    const withToken = { ...env, GITHUB_TOKEN: `ghp_${'k'.repeat(36)}` };
    await killRunWhileSleeping(runner, [...credential, '--', 'sh', '-c', `exec sleep ${d}`], d, { cwd: project, env: withToken }, children);
    const left = proxyDirs(site.dir);
    expect(left, 'the killed run left its proxy directory (the control)').toHaveLength(1);
    expect(readdirSync(left[0] ?? '')).toContain('ca-bundle.pem');
    const next = isolate(runner, ['run', ...credential, '--', 'true'], { cwd: project, env: withToken });
    expect(next.status, next.stderr).toBe(0);
    expect(proxyDirs(site.dir)).toEqual([]);
  });
});

/** The filtered runs' proxy directories (net-<pid>-...) anywhere under `dir`. */
function proxyDirs(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isDirectory() && /^net-\d+-/.test(e.name))
    .map((e) => join(e.parentPath, e.name));
}
