/**
 * Resource limits, measured by their effect inside real sandboxes: the
 * timeout, RLIMIT_CPU, RLIMIT_DATA, RLIMIT_NPROC (refused as root),
 * RLIMIT_NOFILE, RLIMIT_FSIZE and core dumps always off. Each limit comes
 * with a control: the same operation without the limit succeeds, so a test
 * cannot pass because the probe is broken.
 */
import { existsSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { cgroupSupport } from '../helpers/cgroup.js';
import { FORK_MANY } from '../helpers/probes.js';
import { STACK_LINE, asRunner, homeWithProject, isolate, isolateAsync, keyValues, plant, runners, type Project, type Result } from '../helpers/isolate.js';

const PYTHON = '/usr/bin/python3';
const MiB = 1024 * 1024;

interface Report {
  exitCode: number;
  signal: string | null;
  timedOut: boolean;
  limit: 'timeout' | 'cpu' | 'fileSize' | null;
  limits: { timeoutMs?: number; killAfterMs: number; cpuSeconds?: number; fileSizeBytes?: number } | null;
  durationMs: number;
  stdout?: string;
  stderr?: string;
  error: { code: string; summary: string } | null;
}

function report(r: Result): Report {
  try {
    return JSON.parse(r.stdout) as Report;
  } catch {
    throw new Error(`not a JSON report (status ${String(r.status)}):\nstdout: ${r.stdout.slice(0, 2000)}\nstderr: ${r.stderr}`);
  }
}

/** Allocate 200 MiB of ordinary heap memory (data segment / anonymous mmap). */
const ALLOC = [
  'import resource',
  'print("data=%d" % resource.getrlimit(resource.RLIMIT_DATA)[0])',
  'try:',
  '    b = bytearray(200 * 1024 * 1024)',
  '    print("alloc=ok %d" % len(b))',
  'except MemoryError:',
  '    print("alloc=MemoryError")',
].join('\n');

/** Open /dev/null 100 times. */
const OPEN_MANY = [
  'import os, resource',
  'print("nofile=%d:%d" % resource.getrlimit(resource.RLIMIT_NOFILE))',
  'fds = []',
  'try:',
  '    for i in range(100):',
  '        fds.append(os.open("/dev/null", os.O_RDONLY))',
  '    print("open=ok %d" % len(fds))',
  'except OSError as e:',
  '    print("open=failed %d errno %d" % (len(fds), e.errno))',
].join('\n');


describe.each(runners())('resource limits ($label)', (runner) => {
  let p: Project;
  const isRoot = runner.uid === 0;
  // Where a cgroup is usable, memory and process limits are also enforced through it (test/integration/cgroup.test.ts).
  const cgroup = cgroupSupport(runner);
  const marker = (): string => join(p.project, 'ran.txt');

  beforeAll(() => {
    p = homeWithProject(runner);
  });
  afterEach(() => {
    rmSync(marker(), { force: true });
    rmSync(join(p.project, 'big.bin'), { force: true });
  });
  afterAll(() => p.cleanup());

  const run = (args: string[], timeoutMs = 20_000): Result => isolate(runner, args, { cwd: p.project, env: p.env, timeoutMs });
  const py = (limitArgs: string[], code: string, extra: string[] = []): Result => run(['run', ...extra, ...limitArgs, '--', PYTHON, '-c', code]);

  function expectRefused(r: Result, ...mentions: (string | RegExp)[]): void {
    expect(r.status, r.stderr).toBe(125);
    expect(r.stderr).toMatch(/^isolate: /);
    for (const m of mentions) {
      if (typeof m === 'string') expect(r.stderr).toContain(m);
      else expect(r.stderr).toMatch(m);
    }
    expect(r.stderr).not.toMatch(STACK_LINE);
    expect(existsSync(marker()), 'the command must not have run').toBe(false);
  }

  it('python3 is visible in the sandbox (the probes below depend on it)', () => {
    const r = run(['run', '--', PYTHON, '-c', 'print("py=ok")']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain('py=ok');
  });

  describe('core dumps', () => {
    it('are off: ulimit -c is 0 and the hard limit is 0, so it cannot be raised (control: on the host it can)', () => {
      const script = 'echo "soft=$(ulimit -c)"; echo "hard=$(ulimit -Hc)"; if (ulimit -c 1000) 2>/dev/null; then echo raise=ok; else echo raise=refused; fi';
      const r = run(['run', '--', 'sh', '-c', script]);
      expect(r.status, r.stderr).toBe(0);
      const kv = keyValues(r.stdout);
      expect(kv['soft']).toBe('0');
      expect(kv['hard']).toBe('0');
      expect(kv['raise']).toBe('refused');

      const host = asRunner(runner, ['sh', '-c', script], { cwd: p.project, env: p.env });
      const hostKv = keyValues(host.stdout);
      if (hostKv['hard'] === '0') {
        console.warn('the host hard core limit is 0 already: the "can be raised" control cannot succeed here');
      } else {
        expect(hostKv['raise'], host.stdout + host.stderr).toBe('ok');
      }
    });
  });

  describe('--memory (RLIMIT_DATA)', () => {
    it('control: without a limit python allocates 200 MiB', () => {
      const r = py([], ALLOC);
      expect(r.status, r.stderr).toBe(0);
      expect(r.stdout).toContain(`alloc=ok ${200 * MiB}`);
    });

    it('--memory 64M: the 200 MiB allocation fails with MemoryError', () => {
      const r = py(['--memory', '64M'], ALLOC);
      expect(r.status, r.stderr).toBe(0);
      expect(keyValues(r.stdout)['data']).toBe(String(64 * MiB));
      expect(r.stdout).toContain('alloc=MemoryError');
      expect(r.stdout).not.toContain('alloc=ok');
    });

    it('limits.memory in a profile has the same effect', () => {
      const profile = plant(runner, p.home, 'profiles/memory.yaml', 'extends: default\nlimits:\n  memory: 64M\n');
      const r = py([], ALLOC, ['-p', profile]);
      expect(r.status, r.stderr).toBe(0);
      expect(r.stdout).toContain('alloc=MemoryError');
    });
  });

  describe('--open-files (RLIMIT_NOFILE)', () => {
    it('control: without a limit python opens 100 files', () => {
      const r = py([], OPEN_MANY);
      expect(r.status, r.stderr).toBe(0);
      expect(r.stdout).toContain('open=ok 100');
    });

    it('--open-files 20: opening fails with EMFILE before 20 descriptors', () => {
      const r = py(['--open-files', '20'], OPEN_MANY);
      expect(r.status, r.stderr).toBe(0);
      expect(keyValues(r.stdout)['nofile']).toBe('20:20');
      const m = /open=failed (\d+) errno (\d+)/.exec(r.stdout);
      expect(m, r.stdout).not.toBeNull();
      expect(Number(m?.[1])).toBeLessThan(20);
      expect(Number(m?.[2])).toBe(24); // EMFILE
    });
  });

  describe('--processes (RLIMIT_NPROC)', () => {
    it('control: without a limit python forks 20 children at once', () => {
      const r = py([], FORK_MANY);
      expect(r.status, r.stderr).toBe(0);
      expect(keyValues(r.stdout)['forked']).toBe('20');
    });

    if (isRoot && cgroup.usable) console.warn('limits: the root refusal of --processes is not tested here: a cgroup holds the limit for root (test/integration/cgroup.test.ts)');
    it.runIf(isRoot && !cgroup.usable)('as root without a cgroup: --processes and limits.processes are refused with exit 125 (uid 0 is exempt from RLIMIT_NPROC)', () => {
      expectRefused(run(['run', '--processes', '5', '--', 'touch', 'ran.txt']), '--processes', /root/, /RLIMIT_NPROC/);
      const profile = plant(runner, p.home, 'profiles/procs.yaml', 'extends: default\nlimits:\n  processes: 5\n');
      expectRefused(run(['run', '-p', profile, '--', 'touch', 'ran.txt']), /root/, /RLIMIT_NPROC/);
      // explain refuses the same plan.
      const e = run(['explain', '--processes', '5', '--', 'true']);
      expect(e.status, e.stdout).toBe(125);
      expect(e.stderr).toMatch(/RLIMIT_NPROC/);
    });

    if (isRoot) console.warn('limits: RLIMIT_NPROC is not tested as root: the kernel exempts uid 0 (it is tested as the unprivileged user)');
    it.runIf(!isRoot)('as an ordinary user: --processes 5 makes fork fail with EAGAIN after a few children', () => {
      const r = py(['--processes', '5'], FORK_MANY);
      expect(r.status, r.stderr).toBe(0);
      const kv = keyValues(r.stdout);
      expect(kv['nproc']).toBe('5:5');
      expect(Number(kv['forked'])).toBeLessThan(5);
      expect(kv['errno']).toBe('11'); // EAGAIN
    });
  });

  describe('--file-size (RLIMIT_FSIZE)', () => {
    const dd = ['dd', 'if=/dev/zero', 'of=big.bin', 'bs=64K', 'count=16', 'status=none'];
    const bigFile = (): string => join(p.project, 'big.bin');

    it('control: without a limit dd writes 1 MiB', () => {
      const r = run(['run', '--', ...dd]);
      expect(r.status, r.stderr).toBe(0);
      expect(statSync(bigFile()).size).toBe(MiB);
    });

    it('--file-size 100K: the writer dies of SIGXFSZ (153, limit fileSize) and the file on the host is at most 100 KiB', () => {
      const r = run(['run', '--json', '--file-size', '100K', '--', ...dd]);
      const rep = report(r);
      expect(r.status, r.stdout).toBe(153);
      expect(rep.exitCode).toBe(153);
      expect(rep.signal).toBe('SIGXFSZ');
      expect(rep.limit).toBe('fileSize');
      expect(rep.timedOut).toBe(false);
      expect(rep.limits?.fileSizeBytes).toBe(100 * 1024);
      const size = statSync(bigFile()).size;
      expect(size).toBeGreaterThan(0);
      expect(size).toBeLessThanOrEqual(100 * 1024);
    });

    it('--file-size through a shell: the shell goes on, the file stays capped', () => {
      const r = run(['run', '--file-size', '100K', '--', 'sh', '-c', 'head -c 1048576 /dev/zero > big.bin; echo "head=$?"']);
      expect(r.status, r.stderr).toBe(0);
      expect(keyValues(r.stdout)['head']).toBe('153');
      expect(statSync(bigFile()).size).toBeLessThanOrEqual(100 * 1024);
    });
  });

  describe('--cpu (RLIMIT_CPU)', () => {
    it('control: a short command under --cpu 5 exits 0 with no limit reported', () => {
      const rep = report(run(['run', '--json', '--cpu', '5', '--', 'sh', '-c', 'i=0; while [ $i -lt 1000 ]; do i=$((i+1)); done; echo "i=$i"']));
      expect(rep.exitCode).toBe(0);
      expect(rep.stdout).toContain('i=1000');
      expect(rep.limit).toBeNull();
      expect(rep.limits?.cpuSeconds).toBe(5);
    });

    it('--cpu 1: a busy loop dies of SIGXCPU after about a second: exit 152, report limit cpu', () => {
      const r = run(['run', '--json', '--cpu', '1', '--', 'sh', '-c', 'while :; do :; done']);
      const rep = report(r);
      expect(r.status, r.stdout).toBe(152);
      expect(rep.exitCode).toBe(152);
      expect(rep.signal).toBe('SIGXCPU');
      expect(rep.limit).toBe('cpu');
      expect(rep.timedOut).toBe(false);
      expect(rep.limits?.cpuSeconds).toBe(1);
      expect(rep.durationMs).toBeGreaterThanOrEqual(900);
      // The command's own time: isolate's start-up on a loaded machine is not counted.
      expect(rep.durationMs).toBeLessThan(8000);
    });
  });

  describe('--timeout', () => {
    it('control: a command that ends in time is not affected (exit 0, timedOut false, limit null)', () => {
      const rep = report(run(['run', '--json', '--timeout', '10s', '--', 'sh', '-c', 'echo hi']));
      expect(rep.exitCode).toBe(0);
      expect(rep.stdout).toBe('hi\n');
      expect(rep.timedOut).toBe(false);
      expect(rep.limit).toBeNull();
      expect(rep.limits?.timeoutMs).toBe(10_000);
    });

    it('--timeout 1s ends sleep 30: exit 124, report timedOut true, limit timeout, the limits in force', () => {
      const r = run(['run', '--json', '--timeout', '1s', '--', 'sleep', '30']);
      const rep = report(r);
      expect(r.status, r.stdout).toBe(124);
      expect(rep.exitCode).toBe(124);
      expect(rep.timedOut).toBe(true);
      expect(rep.limit).toBe('timeout');
      expect(rep.signal).toBe('SIGTERM'); // sleep died of the timeout's SIGTERM
      expect(rep.limits?.timeoutMs).toBe(1000);
      expect(rep.limits?.killAfterMs).toBe(2000);
      expect(rep.error).toBeNull();
      expect(rep.durationMs).toBeGreaterThanOrEqual(950);
      expect(rep.durationMs).toBeLessThan(6000);
    });

    it('--timeout 500ms without --json: exit 124, nothing printed by isolate', () => {
      const t0 = Date.now();
      const r = run(['run', '--timeout', '500ms', '--', 'sleep', '30']);
      expect(r.status, r.stderr).toBe(124);
      expect(r.stderr).toBe('');
      // sleep 30 left alone would take 30 s; the slack is for start-up on a loaded machine.
      expect(Date.now() - t0).toBeLessThan(15_000);
    });

    it('limits.timeout and limits.killAfter in a profile', () => {
      const profile = plant(runner, p.home, 'profiles/timeout.yaml', 'extends: default\nlimits:\n  timeout: 500ms\n  killAfter: 1s\n');
      const rep = report(run(['run', '--json', '-p', profile, '--', 'sleep', '30']));
      expect(rep.exitCode).toBe(124);
      expect(rep.timedOut).toBe(true);
      expect(rep.limits?.timeoutMs).toBe(500);
      expect(rep.limits?.killAfterMs).toBe(1000);
    });
  });

  describe('bad values', () => {
    const cases: [string, string][] = [
      ['--timeout', '0'],
      ['--timeout', '-1'],
      ['--timeout', '5X'],
      ['--cpu', '0'],
      ['--cpu', '-1'],
      ['--cpu', '5X'],
      ['--memory', '0'],
      ['--memory', '-1'],
      ['--memory', '5X'],
      ['--processes', '0'],
      ['--processes', '-1'],
      ['--processes', '5X'],
      ['--processes', '1.5'],
      ['--open-files', '0'],
      ['--open-files', '-1'],
      ['--open-files', '5X'],
      ['--open-files', '1.5'],
      ['--file-size', '0'],
      ['--file-size', '-1'],
      ['--file-size', '5X'],
      // Beyond the maxima: a timer would fire at once, a prlimit argument would read 1e+23.
      ['--timeout', '597h'],
      ['--cpu', '597h'],
      ['--memory', '99999999999T'],
      ['--open-files', '99999999999'],
      ['--file-size', '2048T'],
    ];

    it('are refused with exit 125 and a message naming the flag', async () => {
      const results = await Promise.all(
        cases.map(([flag, value]) => isolateAsync(runner, ['run', `${flag}=${value}`, '--', 'touch', 'ran.txt'], { cwd: p.project, env: p.env })),
      );
      for (const [i, [flag, value]] of cases.entries()) {
        const r = results[i] as Result;
        expect(r.status, `${flag} ${value}: ${r.stderr}`).toBe(125);
        expect(r.stderr, `${flag} ${value}`).toMatch(/^isolate: /);
        expect(r.stderr, `${flag} ${value}`).toContain(flag);
        expect(r.stderr, `${flag} ${value}`).toContain(value);
        expect(r.stderr).not.toMatch(STACK_LINE);
      }
      expect(existsSync(marker()), 'no bad value may let the command run').toBe(false);
    });

    it('the same values as separate arguments (--timeout 0, --processes -1)', () => {
      expectRefused(run(['run', '--timeout', '0', '--', 'touch', 'ran.txt']), '--timeout');
      expectRefused(run(['run', '--processes', '-1', '--', 'touch', 'ran.txt']), '--processes');
    });

    it('--timeout 597h (beyond what a timer holds) is refused naming the maximum, instead of killing the command at once', () => {
      const t0 = Date.now();
      const r = run(['run', '--timeout', '597h', '--', 'sh', '-c', 'sleep 1; touch ran.txt']);
      expectRefused(r, 'isolate: limits.timeout (--timeout): expected at most 596h (about 24.8 days, the longest a timer can wait), received "597h"');
      expect(r.stderr.match(/^isolate:/gm)).toHaveLength(1);
      expect(Date.now() - t0).toBeLessThan(5000);
    });

    it('control: --timeout 596h, the maximum, lets sleep 1 finish (exit 0 after a second, not killed early)', () => {
      const t0 = Date.now();
      const r = run(['run', '--timeout', '596h', '--', 'sh', '-c', 'sleep 1; touch ran.txt']);
      expect(r.status, r.stderr).toBe(0);
      expect(Date.now() - t0).toBeGreaterThanOrEqual(1000);
      expect(existsSync(marker())).toBe(true);
    });

    it('limits.killAfter beyond the maximum in a profile is refused naming the file and the key', () => {
      const profile = plant(runner, p.home, 'profiles/killafter.yaml', 'extends: default\nlimits:\n  timeout: 1s\n  killAfter: 600h\n');
      expectRefused(run(['run', '-p', profile, '--', 'touch', 'ran.txt']), `${profile}: limits.killAfter: expected at most 596h`);
    });

    it('a bad value in a profile names the key', () => {
      const profile = plant(runner, p.home, 'profiles/badmem.yaml', 'extends: default\nlimits:\n  memory: 5X\n');
      expectRefused(run(['run', '-p', profile, '--', 'touch', 'ran.txt']), 'limits.memory');
    });

    if (cgroup.usable) console.warn(`limits: the refusal of limits.enforce: cgroup is not tested ${runner.label}: a cgroup is usable (cgroup.test.ts runs it)`);
    it.runIf(!cgroup.usable)('without a usable cgroup, limits.enforce: cgroup is refused with exit 125 (control: enforce: rlimit runs)', () => {
      const cgroup = plant(runner, p.home, 'profiles/cgroup.yaml', 'extends: default\nlimits:\n  memory: 64M\n  enforce: cgroup\n');
      expectRefused(run(['run', '-p', cgroup, '--', 'touch', 'ran.txt']), /cgroup/);
      const rlimit = plant(runner, p.home, 'profiles/rlimit.yaml', 'extends: default\nlimits:\n  memory: 64M\n  enforce: rlimit\n');
      const r = run(['run', '-p', rlimit, '--', 'touch', 'ran.txt']);
      expect(r.status, r.stderr).toBe(0);
      expect(existsSync(marker())).toBe(true);
    });
  });

  describe('explain', () => {
    const flags = ['--timeout', '30s', '--cpu', '5', '--memory', '512M', '--open-files', '64', '--file-size', '1M'];

    it('lists every limit in force', () => {
      const r = run(['explain', ...flags, ...(isRoot ? [] : ['--processes', '8']), '--', 'true']);
      expect(r.status, r.stderr).toBe(0);
      const text = r.stdout;
      expect(text).toMatch(/^limits\s+core dumps: off/m);
      expect(text).toContain('cpu: 5s per process');
      expect(text).toContain('memory: 512M');
      expect(text).toContain('open files: 64');
      expect(text).toContain('file size: 1M');
      expect(text).toMatch(/timeout: 30s wall clock.*SIGKILL 2s later; exit 124/);
      if (!isRoot) expect(text).toContain('processes: 8');
      // The exact command line applies them with prlimit inside the sandbox.
      expect(text).toMatch(/prlimit.*--core=0.*--cpu=5:6.*--data=536870912.*--nofile=64.*--fsize=1048576/s);
    });

    it('--json: summary.limits; without limit flags the built-in ceilings, without ceilings only core dumps', () => {
      const noCeilings = ['--tmpfs-size', 'unlimited', '--processes', 'unlimited'];
      const withFlags = JSON.parse(run(['explain', '--json', ...flags, ...noCeilings, '--', 'true']).stdout) as { summary: { limits: string[] } };
      // Six limits, and one line on the cgroup that also enforces the memory limit (or why none is usable).
      expect(withFlags.summary.limits.length).toBe(7);
      const builtIn = JSON.parse(run(['explain', '--json', '--', 'true']).stdout) as { summary: { limits: string[] } };
      expect(builtIn.summary.limits).toContain('tmpfs: 2G each (/tmp, a hidden home, /dev/shm: their size option), a ceiling');
      const none = JSON.parse(run(['explain', '--json', ...noCeilings, '--memory', 'unlimited', '--', 'true']).stdout) as { summary: { limits: string[] } };
      expect(none.summary.limits).toEqual(['core dumps: off (RLIMIT_CORE=0)']);
    });
  });
});
