/**
 * The built-in profiles' ceilings hold on the host: every tmpfs of the
 * sandbox has a size (so /tmp, the hidden home, /var/tmp and /dev/shm cannot
 * take the host's memory), /dev itself is read-only, processes stop at the
 * ceiling, and a ceiling the host cannot apply is said, never a refusal.
 * Small values from a profile keep the tests fast; the built-in values are
 * checked through explain.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { homeWithProject, isolate, keyValues, type Project } from '../helpers/isolate.js';
import { backendCases } from '../helpers/backends.js';
import { cgroupSupport } from '../helpers/cgroup.js';

const FILL = (dir: string): string => `dd if=/dev/zero of=${dir}/fill bs=1M count=48 2>/dev/null; echo "${dir}=$(( $(stat -c %s ${dir}/fill) / 1048576 ))"; rm -f ${dir}/fill`;

/**
 * Start up to 100 processes that wait, count them, and stop them. They wait far longer than the forks take even on a
 * loaded machine (with 5 s, forks slowed by the load outlived the first children, and one more fork than the ceiling
 * allows at once succeeded); they are killed as soon as they are counted.
 */
const FORK_100 = [
  'import os, signal, time',
  'pids = []',
  'for i in range(100):',
  '    try:',
  '        pid = os.fork()',
  '    except OSError:',
  '        break',
  '    if pid == 0:',
  '        time.sleep(60)',
  '        os._exit(0)',
  '    pids.append(pid)',
  "print('started=%d' % len(pids))",
  'for p in pids:',
  '    os.kill(p, signal.SIGKILL)',
].join('\n');

describe.each(backendCases('ceiling checks'))('ceilings ($label)', ({ runner, backend, backendEnv }) => {
  let p: Project;
  let profile: string;
  beforeAll(() => {
    p = homeWithProject(runner);
    profile = join(p.home, 'small.yaml');
    writeFileSync(profile, 'extends: default\nlimits:\n  ceilings:\n    tmpfs: 16M\n    processes: 40\n');
  });
  afterAll(() => p.cleanup());

  const run = (args: string[]) => isolate(runner, [args[0] ?? 'run', '--backend', backend, ...args.slice(1)], { cwd: p.project, env: { ...p.env, ...backendEnv } });

  it('every tmpfs stops at its size, and /dev itself cannot be written', () => {
    const script = [FILL('/tmp'), FILL('/var/tmp'), FILL('$HOME'), FILL('/dev/shm'), '(: > /dev/fill-me) 2>/dev/null && echo devwritable=1; echo done=1'].join('; ');
    const r = run(['run', '-p', profile, '--', 'sh', '-c', script]);
    expect(r.status, r.stderr).toBe(0);
    const kv = keyValues(r.stdout);
    expect(kv['done']).toBe('1');
    for (const dir of ['/tmp', '/var/tmp', p.home, '/dev/shm']) expect(Number(kv[dir]), dir).toBeLessThanOrEqual(16);
    expect(kv['devwritable']).toBeUndefined();
  });

  it('an explicit --tmpfs-size replaces the ceiling; "unlimited" removes it', () => {
    const bigger = run(['run', '-p', profile, '--tmpfs-size', '40M', '--', 'sh', '-c', FILL('/tmp')]);
    expect(Number(keyValues(bigger.stdout)['/tmp']), bigger.stderr).toBeGreaterThan(16);
    const none = run(['run', '-p', profile, '--tmpfs-size', 'unlimited', '--', 'sh', '-c', FILL('/tmp')]);
    expect(Number(keyValues(none.stdout)['/tmp']), none.stderr).toBe(48);
  });

  it('processes stop at the ceiling where the host can apply it, and where it cannot the run goes on and explain says why', () => {
    const r = run(['run', '-p', profile, '--', 'python3', '-c', FORK_100]);
    expect(r.status, r.stderr).toBe(0);
    const started = Number(keyValues(r.stdout)['started']);
    const cgroup = cgroupSupport(runner).usable;
    const applies = runner.uid !== 0 || cgroup;
    // The command itself is one of the 40: with the cgroup's pids.max (root) it forks exactly 39, whatever threads the backend has.
    if (runner.uid === 0 && cgroup) expect(started).toBe(39);
    else if (applies) expect(started).toBeLessThan(40);
    else {
      expect(started).toBe(100);
      const explained = run(['explain', '-p', profile, '--json', '--', 'true']);
      expect(explained.stdout).toContain('process ceiling 40: not applied');
    }
  });

  it('the built-in profiles carry the documented ceilings', () => {
    const r = run(['explain', '--json', '--', 'true']);
    expect(r.status, r.stderr).toBe(0);
    const limits = (JSON.parse(r.stdout) as { summary: { limits: string[] } }).summary.limits.join('\n');
    expect(limits).toContain('tmpfs: 2G each');
    expect(limits).toMatch(/4096|process ceiling 4096/);
    expect(limits).toMatch(/memory: 8G for the whole sandbox|memory ceiling 8G: not applied/);
  });
});
