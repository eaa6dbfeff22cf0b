/**
 * Memory and process limits through a cgroup, proved by their effect in real
 * sandboxes: a tmpfs fill that no rlimit stops, a process limit that holds
 * for root, every sandbox process inside the run's cgroup, nothing left
 * behind. Where this runner has no usable cgroup, what must happen instead:
 * limits.enforce: cgroup is refused, and --memory still runs on rlimits.
 */
import { readFileSync, readdirSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseMountinfo } from '../../src/host/cgroup.js';
import { cgroupSupport } from '../helpers/cgroup.js';
import { FORK_MANY_OR_FAIL } from '../helpers/probes.js';
import { STACK_LINE, descendants, homeWithProject, isolate, keyValues, plant, pollFor, runners, spawnIsolate, type Project, type Result } from '../helpers/isolate.js';

const PYTHON = '/usr/bin/python3';
const MiB = 1024 * 1024;


/** Fill the sandbox's /tmp (a tmpfs) with 100 MiB: memory no rlimit counts. */
const FILL_TMPFS = 'head -c 100M /dev/zero > /tmp/fill && echo filled=$(wc -c < /tmp/fill)';

interface Report {
  exitCode: number;
  signal: string | null;
  limit: string | null;
  resources: { peakMemoryBytes: number | null };
  stdout?: string;
  error: { code: string; summary: string; detail?: string; fix?: string } | null;
}

/** Directories named isolate-<pid>-<hex> in every cgroup hierarchy this process can see. */
function runCgroups(pid?: number): string[] {
  const found: string[] = [];
  const name = pid === undefined ? /^isolate-\d+-[0-9a-f]+$/ : new RegExp(`^isolate-${pid}-[0-9a-f]+$`);
  const walk = (dir: string, depth: number): void => {
    let entries;
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      if (!e.isDirectory()) continue;
      const path = join(dir, e.name);
      if (name.test(e.name)) found.push(path);
      else if (depth < 8) walk(path, depth + 1);
    }
  };
  for (const m of parseMountinfo(readFileSync('/proc/self/mountinfo', 'utf8'))) walk(m.point, 0);
  return [...new Set(found)];
}

/** The live processes below `pid`. */
function livePids(pid: number): number[] {
  return descendants(pid)
    .filter((p) => p.state !== 'Z')
    .map((p) => p.pid);
}

describe.each(runners())('cgroup limits ($label)', (runner) => {
  const support = cgroupSupport(runner);
  if (!support.usable) console.warn(`cgroup limits ${runner.label}: no usable cgroup (${support.detail}); checking that enforce: cgroup is refused instead`);
  else console.warn(`cgroup limits ${runner.label}: a cgroup ${support.detail} is usable, so the refusal without one is not tested for this runner`);
  let p: Project;
  beforeAll(() => {
    p = homeWithProject(runner);
  });
  afterAll(() => p.cleanup());

  const run = (args: string[], timeoutMs = 30_000): Result => isolate(runner, args, { cwd: p.project, env: p.env, timeoutMs });
  const report = (r: Result): Report => {
    try {
      return JSON.parse(r.stdout) as Report;
    } catch {
      throw new Error(`not a JSON report (status ${String(r.status)}):\n${r.stdout.slice(0, 1000)}\n${r.stderr}`);
    }
  };

  describe.runIf(support.usable)(`with a cgroup (${support.detail})`, () => {
    it('control: without a memory limit, 100 MiB fit in the sandbox\'s tmpfs', () => {
      const r = run(['run', '--', 'sh', '-c', FILL_TMPFS]);
      expect(r.status, r.stderr).toBe(0);
      expect(r.stdout).toContain(`filled=${100 * MiB}`);
    });

    it('--memory 64M stops a tmpfs fill that no rlimit counts: killed, exit 137, the report says memory', () => {
      const r = run(['run', '--json', '--memory', '64M', '--', 'sh', '-c', FILL_TMPFS]);
      const rep = report(r);
      expect(rep.stdout ?? '').not.toContain('filled=');
      expect(rep.exitCode).toBe(137);
      expect(r.status).toBe(137);
      expect(rep.limit).toBe('memory');
      expect(rep.resources.peakMemoryBytes).not.toBeNull();
      expect(rep.resources.peakMemoryBytes ?? Infinity).toBeLessThanOrEqual(64 * MiB);
    });

    it('--processes 5 holds whoever runs isolate (root included): forks fail, the report says processes', () => {
      const control = run(['run', '--', PYTHON, '-c', FORK_MANY_OR_FAIL]);
      expect(control.status, control.stderr).toBe(0);
      expect(keyValues(control.stdout)).toMatchObject({ forked: '20', errno: '0' });
      const r = run(['run', '--json', '--processes', '5', '--', PYTHON, '-c', FORK_MANY_OR_FAIL]);
      const rep = report(r);
      expect(rep.exitCode, r.stderr).toBe(1);
      const kv = keyValues(rep.stdout ?? '');
      expect(Number(kv['forked'])).toBeLessThan(5);
      expect(kv['errno']).toBe('11'); // EAGAIN
      if (runner.uid === 0) expect(rep.limit).toBe('processes');
    });

    it('limits.enforce: cgroup runs, and enforces', () => {
      const profile = plant(runner, p.home, 'profiles/cg.yaml', 'extends: default\nlimits:\n  memory: 64M\n  enforce: cgroup\n');
      expect(run(['run', '-p', profile, '--', 'true']).status).toBe(0);
      expect(run(['run', '-p', profile, '--', 'sh', '-c', FILL_TMPFS]).status).toBe(137);
    });

    it('every process of the sandbox is in the run\'s cgroup, and the cgroup is gone after the run', async () => {
      const child = spawnIsolate(runner, ['run', '--memory', '64M', '--processes', '20', '--', 'sh', '-c', 'sleep 30 & sleep 30 & wait'], { cwd: p.project, env: p.env });
      try {
        const pid = child.pid as number;
        const dirs = await pollFor('the run cgroup', () => {
          const d = runCgroups(pid);
          return d.length > 0 && livePids(pid).length >= 5 ? d : undefined;
        });
        const sandbox = livePids(pid);
        for (const dir of dirs) {
          const members = readFileSync(join(dir, 'cgroup.procs'), 'utf8').trim().split('\n').map(Number);
          for (const proc of sandbox) expect(members, `${dir} must hold every sandbox process`).toContain(proc);
        }
        child.kill('SIGTERM');
        await new Promise((resolve) => child.on('close', resolve));
        for (const dir of dirs) expect(existsSync(dir), `${dir} must be removed`).toBe(false);
      } finally {
        child.kill('SIGKILL');
      }
    });

    it('after isolate is killed with SIGKILL, the sandbox dies and the next run removes the cgroup left behind', async () => {
      const child = spawnIsolate(runner, ['run', '--memory', '64M', '--', 'sleep', '30'], { cwd: p.project, env: p.env });
      const pid = child.pid as number;
      const dirs = await pollFor('the run cgroup', () => {
        const d = runCgroups(pid);
        return d.length > 0 && livePids(pid).length >= 3 ? d : undefined;
      });
      child.kill('SIGKILL');
      await new Promise((resolve) => child.on('close', resolve));
      await pollFor('the sandbox to die', () => (dirs.every((d) => !existsSync(join(d, 'cgroup.procs')) || readFileSync(join(d, 'cgroup.procs'), 'utf8').trim() === '') ? true : undefined));
      expect(dirs.every((d) => existsSync(d)), 'a killed isolate cannot remove its cgroup itself').toBe(true);
      expect(run(['run', '--memory', '64M', '--', 'true']).status).toBe(0);
      for (const dir of dirs) expect(existsSync(dir), `${dir} must be swept by the next run`).toBe(false);
    });
  });

  describe.runIf(!support.usable)(`without a usable cgroup (${support.detail})`, () => {
    it('limits.enforce: cgroup is refused with exit 125, naming why and how to fix it; the command does not run', () => {
      const profile = plant(runner, p.home, 'profiles/cg.yaml', 'extends: default\nlimits:\n  memory: 64M\n  enforce: cgroup\n');
      const r = run(['run', '-p', profile, '--', 'touch', 'ran.txt']);
      expect(r.status, r.stderr).toBe(125);
      expect(r.stderr).toMatch(/^isolate: .*limits\.enforce: cgroup/m);
      expect(r.stderr).toMatch(/delegat|root|unified/);
      expect(r.stderr).not.toMatch(STACK_LINE);
      expect(existsSync(join(p.project, 'ran.txt'))).toBe(false);
    });

    it('without enforce, --memory runs on rlimits alone, and explain says why no cgroup is used', () => {
      expect(run(['run', '--memory', '64M', '--', 'true']).status).toBe(0);
      const e = run(['explain', '--memory', '64M', '--', 'true']);
      expect(e.stdout).toMatch(/cgroup: none usable \(.+\); memory and processes are limited per process by rlimits only/);
    });
  });
});
