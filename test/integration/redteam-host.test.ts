/**
 * Red team: what a sandboxed command leaves on, or reaches of, the host
 * beyond what the profile names. Judged by the effect on the host: a
 * program another user can run as root, memory beyond the tmpfs ceiling, a
 * file outside the sandbox read through a descriptor, code the host's
 * Python runs, isolate's own audit log read from inside.
 *
 * Each test was written as a failing finding first; it now guards the fix.
 */
import { existsSync, mkdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { asRunner, giveTo, isolate, plant, runners, tempDirFor, DEFAULT_PATH, projectSite } from '../helpers/isolate.js';
import { backendCases } from '../helpers/backends.js';

describe.each(backendCases('red team: host effects'))('red team: host effects ($label)', ({ runner, backend, backendEnv }) => {
  let dir: string;
  let project: string;
  let cleanup: () => void;
  let env: Record<string, string>;
  beforeEach(() => {
    ({ dir, project, env, cleanup } = projectSite(runner, 'isolate-it-rth-', backendEnv));
  });
  afterEach(() => cleanup());

  const run = (args: string[], script: string, options: { cwd?: string; fds?: Record<number, number> } = {}) =>
    isolate(runner, ['run', '--backend', backend, ...args, '--', 'sh', '-c', script], { cwd: options.cwd ?? project, env, ...(options.fds ? { fds: options.fds } : {}) });

  it('the command cannot leave a set-user-ID program in the writable project (chmod and open(O_CREAT) with S_ISUID)', () => {
    const r = run([], 'cp /usr/bin/id ./tool; chmod 4755 ./tool; python3 -c "import os; os.close(os.open(\'t2\', os.O_CREAT|os.O_WRONLY, 0o6755))" 2>/dev/null; true');
    expect(r.status, r.stderr).toBe(0);
    for (const name of ['tool', 't2']) {
      const path = join(project, name);
      if (!existsSync(path)) continue;
      // As root this is a set-user-ID-root program: any local user who can reach the project becomes root.
      expect(statSync(path).mode & 0o6000, `${name} is set-user/group-ID on the host`).toBe(0);
    }
  });

  it('the sandbox root (bwrap) is not a tmpfs without the tmpfs ceiling', () => {
    // A profile, not --tmpfs-size: that flag is refused today ("options.limits: tmpfs: unknown limit").
    const profile = plant(runner, dir, 'small-tmpfs.yaml', 'extends: default\nlimits:\n  tmpfs: 16M\n');
    const r = run(['-p', profile], 'df -h /tmp | tail -1; for d in / /var; do dd if=/dev/zero of=$d/fill bs=1M count=40 2>/dev/null && echo "WROTE-40M-IN $d"; done; true');
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout, 'wrote past limits.tmpfs 16M in the root tmpfs').not.toContain('WROTE-40M-IN');
  });
});

describe.each(runners())('red team: a writable home ($label)', (runner) => {
  let dir: string;
  let cleanup: () => void;
  beforeEach(() => ({ dir, cleanup } = tempDirFor(runner, 'isolate-it-rth-')));
  afterEach(() => cleanup());

  it('with the working directory at home, the command cannot plant code that the host\'s Python runs (user site .pth)', () => {
    const home = join(dir, 'home');
    // Every real home has a ~/.local (without one, isolate blocks creating it for the run).
    mkdirSync(join(home, '.local/share'), { recursive: true });
    giveTo(runner, dir);
    const env = { HOME: home, PATH: DEFAULT_PATH };
    const site = asRunner(runner, ['python3', '-c', 'import site; print(site.getusersitepackages())'], { cwd: home, env });
    expect(site.status, site.stderr).toBe(0);
    const userSite = site.stdout.trim();
    expect(userSite.startsWith(home), userSite).toBe(true);
    const marker = join(dir, 'PWNED');
    const script = `mkdir -p ${userSite} && echo "import os; os.system('touch ${marker}')" > ${userSite}/rt.pth && echo 'touch ${marker}' > .bash_aliases`;
    const r = isolate(runner, ['run', '--', 'sh', '-c', script], { cwd: home, env });
    // The sandbox ran the script (isolate did not refuse it); mkdir may fail, as a missing ~/.local/lib is blocked for the run (docs/protected-files.md).
    expect([0, 1], r.stderr).toContain(r.status);
    asRunner(runner, ['python3', '-c', 'pass'], { cwd: dir, env });
    expect(existsSync(marker), 'the host\'s python3 ran the .pth the sandbox wrote').toBe(false);
  });

  it('dev does not let the command read isolate\'s own audit log (the record of every run)', () => {
    const home = join(dir, 'home');
    const project = join(home, 'project');
    mkdirSync(project, { recursive: true });
    giveTo(runner, dir);
    const env = { HOME: home, PATH: DEFAULT_PATH, XDG_STATE_HOME: join(home, '.local/state') };
    expect(isolate(runner, ['run', '--', 'echo', 'RT-EARLIER-RUN-MARK'], { cwd: project, env }).status).toBe(0);
    const r = isolate(runner, ['run', '-p', 'dev', '--', 'sh', '-c', 'cat ~/.local/state/isolate/audit.jsonl 2>&1; true'], { cwd: project, env });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout, 'the audit log was readable in the sandbox').not.toContain('RT-EARLIER-RUN-MARK');
  });
});
