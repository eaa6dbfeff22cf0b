/**
 * Faults around a run: isolate killed mid-run, signals sent to isolate, a
 * timeout against processes that ignore SIGTERM, a command that closes its
 * stdout early, and a command that writes gigabytes. Every process a test
 * starts is found by a unique `sleep` duration in its argv and killed
 * afterwards, whatever the outcome.
 */
import type { ChildProcess } from 'node:child_process';
import { chownSync, existsSync, mkdirSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { casesAtOnce } from '../helpers/cases-at-once.js';
import { findNsjail } from '../../src/host/facts.js';
import { ociRuntimes } from '../../src/host/oci-runtime.js';
import { descendants, homeWithProject, killSleepers, peakRssKiB, plant, pollFor, readProcInfo, runners, sleepProcs, spawnIsolate, uniqueSleep, type ProcInfo, type Project, START_WAIT_MS } from '../helpers/isolate.js';

const NSJAIL = findNsjail(process.env);
const OCI = process.platform === 'linux' ? ociRuntimes().find((r) => r.refused === undefined) : undefined;
const MiB = 1024 * 1024;
const GiB = 1024 * MiB;

interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  ms: number;
  /** The wall-clock time isolate's exit was seen (Date.now()). */
  endedAt: number;
}

interface Watched {
  /** The stdout and stderr collected so far. */
  stdout: () => string;
  stderr: () => string;
  exit: Promise<Exit>;
}

/** Collect a spawned isolate's output as it comes, and its exit. */
function watch(child: ChildProcess): Watched {
  const t0 = Date.now();
  let stdout = '';
  let stderr = '';
  child.stdout?.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr?.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const exit = new Promise<Exit>((resolve) => {
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr, ms: Date.now() - t0, endedAt: Date.now() }));
  });
  return { stdout: () => stdout, stderr: () => stderr, exit };
}

/** Collect a spawned isolate's output and wait for it to exit. */
function finished(child: ChildProcess): Promise<Exit> {
  return watch(child).exit;
}

/** Of `procs`, those still alive (same pid, same argv, not a zombie). */
function stillAlive(procs: readonly ProcInfo[]): ProcInfo[] {
  return procs.filter((t) => {
    const now = readProcInfo(t.pid);
    return now !== undefined && now.state !== 'Z' && now.argv.join(' ') === t.argv.join(' ');
  });
}

/**
 * Wait until exactly `n` processes run `sleep <d>`; on time-out, say what
 * isolate printed. Up to 20 s: a first run in a new project on a loaded
 * machine (CI runs three test files at once) has taken more than 5 s to start
 * its command. The tests time what follows, not this.
 */
async function sleepersStarted(w: Watched, d: string, n: number): Promise<ProcInfo[]> {
  try {
    return await pollFor(
      `${n} sandboxed 'sleep ${d}'`,
      () => {
        const found = sleepProcs(d);
        return found.length === n ? found : undefined;
      },
      20_000,
    );
  } catch (e) {
    throw new Error(`${(e as Error).message}; isolate's stderr so far: ${JSON.stringify(w.stderr())}`);
  }
}

async function within(ms: number, done: () => boolean): Promise<void> {
  const deadline = Date.now() + ms;
  while (!done() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
}

// Each runner's faults in order; the two runners' at once (casesAtOnce).
casesAtOnce(runners(), 'faults ($label)', {}, (runner) => {
  let p: Project;
  const started: ChildProcess[] = [];
  const durations: string[] = [];

  beforeAll(() => {
    p = homeWithProject(runner);
  });
  afterEach(() => {
    for (const child of started.splice(0)) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    for (const d of durations.splice(0)) killSleepers(d);
  });
  afterAll(() => p.cleanup());

  const start = (args: string[], cwd = p.project): ChildProcess => {
    const child = spawnIsolate(runner, args, { cwd, env: p.env });
    started.push(child);
    return child;
  };
  /** A fresh directory owned by the runner, inside the project. */
  const ownDir = (name: string): string => {
    const dir = join(p.project, name);
    mkdirSync(dir, { recursive: true });
    chownSync(dir, runner.uid, runner.gid);
    return dir;
  };
  const sleepMarker = (base: number): string => {
    const d = uniqueSleep(base);
    durations.push(d);
    return d;
  };

  describe('isolate killed with SIGKILL mid-run', () => {
    it('no process of the sandbox survives it (both sleeps and bwrap are gone within seconds)', async () => {
      const d = sleepMarker(300);
      const child = start(['run', '--', 'sh', '-c', `sleep ${d} & sleep ${d}`]);
      const w = watch(child);
      const before = await sleepersStarted(w, d, 2);
      expect(before).toHaveLength(2);
      const tree = descendants(child.pid as number);
      // They really are isolate's: below its node process, with bwrap in between.
      for (const s of before) expect(tree.map((t) => t.pid)).toContain(s.pid);
      expect(tree.some((t) => /(^|\/)bwrap$/.test(t.argv[0] ?? ''))).toBe(true);

      child.kill('SIGKILL');
      const e = await w.exit;
      expect(e.signal).toBe('SIGKILL');
      await within(5000, () => stillAlive(tree).length === 0 && sleepProcs(d).length === 0);
      expect(stillAlive(tree).map((t) => `${t.pid} ${t.argv.join(' ')}`)).toEqual([]);
      expect(sleepProcs(d)).toEqual([]);
    });

    if (NSJAIL === undefined) console.warn('skipping the nsjail SIGKILL test: no nsjail binary on PATH or in ISOLATE_NSJAIL');
    it.skipIf(NSJAIL === undefined)('with nsjail too: nsjail dies with isolate (setpriv --pdeathsig), and the sandbox with nsjail', async () => {
      const d = sleepMarker(300);
      const child = spawnIsolate(runner, ['run', '--backend', 'nsjail', '--', 'sh', '-c', `sleep ${d} & sleep ${d}`], { cwd: p.project, env: { ...p.env, ISOLATE_NSJAIL: NSJAIL ?? '' } });
      started.push(child);
      const w = watch(child);
      const before = await sleepersStarted(w, d, 2);
      const tree = descendants(child.pid as number);
      for (const s of before) expect(tree.map((t) => t.pid)).toContain(s.pid);
      expect(tree.some((t) => /(^|\/)nsjail$/.test(t.argv[0] ?? ''))).toBe(true);

      child.kill('SIGKILL');
      expect((await w.exit).signal).toBe('SIGKILL');
      await within(5000, () => stillAlive(tree).length === 0 && sleepProcs(d).length === 0);
      expect(stillAlive(tree).map((t) => `${t.pid} ${t.argv.join(' ')}`)).toEqual([]);
      expect(sleepProcs(d)).toEqual([]);
    });
    if (OCI === undefined) console.warn('skipping the oci SIGKILL test: no OCI runtime that works here (apt-get install runc)');
    it.skipIf(OCI === undefined)('with --backend oci too: the runtime dies with isolate, the container with the runtime, and the next run removes the bundle left behind', async () => {
      // A state directory of its own, so that the bundles counted are this test's: test files run at once, and a runner's may be shared.
      // And a project directory of its own: the placeholders the killed bwrap run above left in p.project are in the other
      // state directory's registry, whose clean-up could remove one while this run has it mounted.
      const env = { ...p.env, XDG_STATE_HOME: join(p.home, '.oci-state') };
      const project = ownDir('oci-sigkill');
      const runtimeDir = join(p.home, '.oci-state/isolate/run');
      const bundles = (): string[] => (statSync(runtimeDir, { throwIfNoEntry: false }) === undefined ? [] : readdirSync(runtimeDir).filter((n) => n.startsWith('oci-')));
      const d = sleepMarker(300);
      const ociRun = (args: string[]): ChildProcess => {
        const child = spawnIsolate(runner, ['run', '--backend', 'oci', ...args], { cwd: project, env });
        started.push(child);
        return child;
      };
      const w = watch(ociRun(['--', 'sh', '-c', `sleep ${d} & sleep ${d}`]));
      const before = await sleepersStarted(w, d, 2);
      const tree = descendants(started.at(-1)?.pid as number);
      for (const s of before) expect(tree.map((t) => t.pid)).toContain(s.pid);
      expect(tree.some((t) => /(^|\/)(runc|crun)$/.test(t.argv[0] ?? ''))).toBe(true);
      expect(bundles()).toHaveLength(1);
      const cgroupsOf = (name: string): string[] => readdirSync('/sys/fs/cgroup').flatMap((h) => (existsSync(join('/sys/fs/cgroup', h, name)) ? [h] : []));
      // The control: runc run by root made the container's cgroups (rootless on this host's cgroup v1, none; crun, told to make none beside the run's cgroup, none).
      const runc = tree.some((t) => /(^|\/)runc$/.test(t.argv[0] ?? ''));
      if (runner.uid === 0 && runc && existsSync('/sys/fs/cgroup/cpu')) expect(cgroupsOf(bundles()[0] ?? '')).not.toEqual([]);

      started.at(-1)?.kill('SIGKILL');
      expect((await w.exit).signal).toBe('SIGKILL');
      await within(5000, () => stillAlive(tree).length === 0 && sleepProcs(d).length === 0);
      expect(stillAlive(tree).map((t) => `${t.pid} ${t.argv.join(' ')}`)).toEqual([]);
      expect(sleepProcs(d)).toEqual([]);
      // The killed run's bundle (config.json with the environment, the runtime's state) is still there: the control.
      const left = bundles();
      expect(left).toHaveLength(1);
      const next = await finished(ociRun(['--', 'true']));
      expect(next.code, next.stderr).toBe(0);
      expect(bundles()).toEqual([]);
      // Nor the cgroups the runtime made for it (run by root it makes one per hierarchy, named as the bundle).
      expect(cgroupsOf(left[0] ?? '')).toEqual([]);
    });
  });

  describe('signals sent to isolate', () => {
    it('the first SIGINT reaches the command: its trap runs and its exit code (7) is isolate\'s', async () => {
      const d = sleepMarker(300);
      const child = start(['run', '--', 'sh', '-c', `trap 'echo got; exit 7' INT; sleep ${d} & wait`]);
      const w = watch(child);
      await sleepersStarted(w, d, 1);
      child.kill('SIGINT');
      const e = await w.exit;
      expect(e.code, e.stderr).toBe(7);
      expect(e.stdout).toBe('got\n');
      await within(3000, () => sleepProcs(d).length === 0);
      expect(sleepProcs(d)).toEqual([]);
    });

    it('the first SIGTERM reaches the command the same way (trap exits 8)', async () => {
      const d = sleepMarker(300);
      const child = start(['run', '--', 'sh', '-c', `trap 'echo got-term; exit 8' TERM; sleep ${d} & wait`]);
      const w = watch(child);
      await sleepersStarted(w, d, 1);
      child.kill('SIGTERM');
      const e = await w.exit;
      expect(e.code, e.stderr).toBe(8);
      expect(e.stdout).toBe('got-term\n');
    });

    it('a plain sleep dies of the forwarded signal and isolate exits 128+N (INT 130, TERM 143, HUP 129, QUIT 131)', async () => {
      const cases: [NodeJS.Signals, number][] = [
        ['SIGINT', 130],
        ['SIGTERM', 143],
        ['SIGHUP', 129],
        ['SIGQUIT', 131],
      ];
      const runs = cases.map(([sig, code]) => {
        const d = sleepMarker(300);
        // Each in its own working directory: concurrent runs in one directory race (see below).
        const child = start(['run', '--', 'sleep', d], ownDir(`sig-${sig}`));
        return { sig, code, d, child, w: watch(child) };
      });
      const killedAt = new Map<NodeJS.Signals, number>();
      for (const r of runs) {
        await sleepersStarted(r.w, r.d, 1);
        r.child.kill(r.sig);
        killedAt.set(r.sig, Date.now());
      }
      for (const r of runs) {
        const e = await r.w.exit;
        expect(e.code, `${r.sig}: ${e.stderr}`).toBe(r.code);
        expect(e.signal, r.sig).toBeNull(); // isolate itself exits normally with the code
        // From the signal on (isolate's start-up on a loaded machine not counted): seconds, not the sleep's 300.
        expect(e.endedAt - (killedAt.get(r.sig) ?? 0), r.sig).toBeLessThan(5000);
        expect(sleepProcs(r.d), r.sig).toEqual([]);
      }
    });

    it('a second SIGINT ends the sandbox even when the command handles the first', async () => {
      const d = sleepMarker(300);
      // The background sleep ignores SIGINT (a non-interactive shell's async command).
      const child = start(['run', '--', 'sh', '-c', `trap 'echo first' INT; sleep ${d} & wait; echo after-wait; wait; echo end`]);
      const w = watch(child);
      await sleepersStarted(w, d, 1);
      child.kill('SIGINT');
      await pollFor('the trap output', () => (w.stdout().includes('after-wait') ? true : undefined));
      await new Promise((r) => setTimeout(r, 200));
      expect(sleepProcs(d)).toHaveLength(1); // the first signal did not end the sandbox
      expect(readProcInfo(child.pid as number)?.state).not.toBe('Z');
      child.kill('SIGINT');
      const e = await w.exit;
      expect(e.stdout).toContain('first');
      expect(e.stdout).not.toContain('end');
      expect([130, 137], `exit ${String(e.code)}`).toContain(e.code);
      await within(3000, () => sleepProcs(d).length === 0);
      expect(sleepProcs(d)).toEqual([]);
    });
  });

  describe('timeout', () => {
    const script = (d: string): string => `trap "" TERM; (trap "" TERM; sleep ${d}) & sleep ${d}`;

    // 4 s, not 1 or 2: the timeout counts from the start of the sandbox's set-up, and a run whose timeout has passed
    // before its command starts never starts it (the gate gets no go), which the full suite's load reached at 2 s.
    it('--timeout 4s kills a tree that ignores SIGTERM after timeout + killAfter (about 6 s, not 300): exit 124, nothing left', async () => {
      const d = sleepMarker(300);
      const child = start(['run', '--timeout', '4s', '--', 'sh', '-c', script(d)]);
      const w = watch(child);
      const before = await sleepersStarted(w, d, 2);
      const seenAt = Date.now();
      expect(before).toHaveLength(2);
      // They ignore SIGTERM (the control for "it needed the SIGKILL").
      for (const s of before) {
        const sigIgn = /^SigIgn:\s+([0-9a-f]+)/m.exec(readFileSafe(`/proc/${s.pid}/status`));
        expect(sigIgn, `SigIgn of ${s.pid}`).not.toBeNull();
        expect((BigInt(`0x${sigIgn?.[1] ?? '0'}`) >> 14n) & 1n, 'SIGTERM ignored').toBe(1n);
      }
      const e = await w.exit;
      expect(e.code, e.stderr).toBe(124);
      expect(e.ms).toBeGreaterThanOrEqual(5700);
      // From when the command was seen running (isolate's start-up on a loaded machine not counted): 6 s, not 300.
      expect(e.endedAt - seenAt).toBeLessThan(10_000);
      await within(3000, () => sleepProcs(d).length === 0);
      expect(sleepProcs(d)).toEqual([]);
    });

    // 100 ms of grace against the default 2 s: about 1.1 s against 3 s, a margin that survives a loaded machine.
    it('limits.killAfter shortens the grace period (100ms: about 1.1 s, not 3)', async () => {
      const d = sleepMarker(300);
      const profile = plant(runner, p.home, 'profiles/killafter.yaml', 'extends: default\nlimits:\n  timeout: 1s\n  killAfter: 100ms\n');
      const child = start(['run', '--json', '-p', profile, '--', 'sh', '-c', script(d)]);
      const e = await finished(child);
      expect(e.code, e.stderr).toBe(124);
      // The command's own time from the report: isolate's start-up on a loaded machine is not counted.
      const { durationMs } = JSON.parse(e.stdout) as { durationMs: number };
      expect(durationMs).toBeGreaterThanOrEqual(1000);
      expect(durationMs).toBeLessThan(2700);
      await within(3000, () => sleepProcs(d).length === 0);
      expect(sleepProcs(d)).toEqual([]);
    });
  });

  describe('stdout closed early', () => {
    // The command's last act writes `name` in the project; a hung isolate outlives it by far more than
    // the seconds allowed here (start-up on a loaded machine is not counted).
    const exitsSoonAfter = (e: Exit, name: string): void => {
      const lastAct = statSync(join(p.project, name)).mtimeMs;
      expect(e.endedAt - lastAct).toBeLessThan(3000);
    };

    it('a command that closes its stdout and goes on does not hang isolate (stdout piped)', async () => {
      const e = await finished(start(['run', '--', 'sh', '-c', 'exec 1>&-; sleep 0.2; echo done >&2; : > closed-plain']));
      expect(e.code, e.stderr).toBe(0);
      expect(e.stderr).toBe('done\n');
      expect(e.stdout).toBe('');
      exitsSoonAfter(e, 'closed-plain');
    });

    it('the same under --json: the report arrives with the stderr', async () => {
      const e = await finished(start(['run', '--json', '--', 'sh', '-c', 'echo early; exec 1>&-; sleep 0.2; echo done >&2; : > closed-json']));
      expect(e.code, e.stderr).toBe(0);
      const rep = JSON.parse(e.stdout) as { exitCode: number; stdout: string; stderr: string };
      expect(rep.exitCode).toBe(0);
      expect(rep.stdout).toBe('early\n');
      expect(rep.stderr).toBe('done\n');
      exitsSoonAfter(e, 'closed-json');
    });
  });

  describe('concurrent runs', () => {
    const N = 8;
    const all = (dirs: string[]): Promise<Exit[]> => Promise.all(dirs.map((dir) => finished(start(['run', '--', 'true'], dir))));

    it('control: runs in separate working directories all start', async () => {
      const results = await all(Array.from({ length: N }, (_, i) => ownDir(`separate-${i}`)));
      expect(results.map((e) => e.code)).toEqual(Array(N).fill(0));
    });

    it('a run in a directory and one in its subdirectory, overlapping, both finish: the first out leaves the placeholders the other holds', async () => {
      const dir = ownDir('nested');
      const sub = ownDir('nested/sub');
      const inner = start(['run', '--', 'sh', '-c', 'sleep 1.5'], sub);
      for (const end = Date.now() + START_WAIT_MS; !existsSync(join(sub, '.envrc')) && Date.now() < end; ) await new Promise((r) => setTimeout(r, 20));
      expect(existsSync(join(sub, '.envrc')), 'the inner run made its placeholders').toBe(true);
      // The outer run plans while the inner run's placeholders stand: it keeps them read-only as protected files of its own.
      const outer = start(['run', '--', 'sh', '-c', 'sleep 3'], dir);
      const [a, b] = await Promise.all([finished(inner), finished(outer)]);
      expect(a.code, a.stderr).toBe(0);
      expect(b.code, b.stderr).toBe(0);
      expect(readdirSync(sub), 'the last run out removed them').toEqual([]);
    }, 90_000);

    it('runs in the same working directory all start, and leave no placeholder behind', async () => {
      const dir = ownDir('shared');
      const results: Exit[] = [];
      for (let round = 0; round < 4; round++) results.push(...(await all(Array<string>(N).fill(dir))));
      const failures = results.filter((e) => e.code !== 0).map((e) => `exit ${String(e.code)}: ${e.stderr.split('\n')[0] ?? ''}`);
      expect(readdirSync(dir)).toEqual([]);
      expect(failures).toEqual([]);
    });
  });

  describe('gigabytes of output', () => {
    /** Sample isolate's peak RSS (VmHWM) while it runs; the last sample is the peak up to then. */
    function watchRss(pid: number): { peakKiB: () => number; stop: () => void } {
      let peak = 0;
      const sample = (): void => {
        const v = peakRssKiB(pid);
        if (v !== undefined && v > peak) peak = v;
      };
      sample();
      const timer = setInterval(sample, 20);
      return { peakKiB: () => peak, stop: () => clearInterval(timer) };
    }

    it('3 GiB to a piped stdout that a consumer drains: all bytes arrive, isolate stays small', async () => {
      const child = start(['run', '--', 'head', '-c', '3G', '/dev/zero']);
      const rss = watchRss(child.pid as number);
      let bytes = 0;
      child.stdout?.on('data', (d: Buffer) => (bytes += d.length));
      let stderr = '';
      child.stderr?.setEncoding('utf8').on('data', (d: string) => (stderr += d));
      const code = await new Promise<number | null>((resolve) => child.on('close', (c) => resolve(c)));
      rss.stop();
      expect(code, stderr).toBe(0);
      expect(bytes).toBe(3 * GiB);
      expect(rss.peakKiB()).toBeGreaterThan(0); // the sampling worked
      expect(rss.peakKiB() * 1024, `isolate peak RSS ${rss.peakKiB()} KiB`).toBeLessThan(200 * MiB);
    }, 120_000); // 3 GiB through a pipe and isolate: over 30 s on a loaded 2-core runner

    it('--json: 256 MiB of output is capped at 4 MiB (truncated.stdout) and isolate stays under ~200 MiB RSS', async () => {
      const child = start(['run', '--json', '--', 'head', '-c', '256M', '/dev/zero']);
      const rss = watchRss(child.pid as number);
      const chunks: Buffer[] = [];
      child.stdout?.on('data', (d: Buffer) => chunks.push(d));
      let stderr = '';
      child.stderr?.setEncoding('utf8').on('data', (d: string) => (stderr += d));
      const code = await new Promise<number | null>((resolve) => child.on('close', (c) => resolve(c)));
      rss.stop();
      expect(code, stderr).toBe(0);
      const rep = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { exitCode: number; stdout: string; truncated: { stdout: boolean; stderr: boolean } };
      chunks.length = 0;
      expect(rep.exitCode).toBe(0);
      expect(rep.truncated).toEqual({ stdout: true, stderr: false });
      expect(rep.stdout.length).toBe(4 * MiB);
      expect(rss.peakKiB()).toBeGreaterThan(0);
      expect(rss.peakKiB() * 1024, `isolate peak RSS ${rss.peakKiB()} KiB`).toBeLessThan(200 * MiB);
    }, 90_000);
  });
});

function readFileSafe(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}
