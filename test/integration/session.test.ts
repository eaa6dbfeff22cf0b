/**
 * Process lifetime and terminal: the sandbox runs in its own session (no
 * TIOCSTI injection into the caller's terminal) and dies with isolate.
 */
import type { ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { asRunner, homeWithProject, isIsolateArgv, isolate, isolateArgv, keyValues, plant, runners, spawnIsolate, type Project } from '../helpers/isolate.js';

interface Proc {
  pid: number;
  ppid: number;
  sid: number;
  state: string;
  argv: string[];
}

function readProc(pid: number): Proc | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter((a, i, all) => a !== '' || i < all.length - 1);
    return { pid, state: rest[0] ?? '?', ppid: Number(rest[1]), sid: Number(rest[3]), argv };
  } catch {
    return undefined; // gone meanwhile
  }
}

function allProcs(): Proc[] {
  return readdirSync('/proc')
    .filter((n) => /^\d+$/.test(n))
    .map((n) => readProc(Number(n)))
    .filter((p): p is Proc => p !== undefined);
}

/** Live (not zombie) processes running `sleep <duration>`. */
function sleepers(duration: string): Proc[] {
  return allProcs().filter((p) => p.state !== 'Z' && p.argv.length === 2 && /(^|\/)sleep$/.test(p.argv[0] ?? '') && p.argv[1] === duration);
}

function descendants(root: number): Proc[] {
  const procs = allProcs();
  const out: Proc[] = [];
  const frontier = [root];
  while (frontier.length > 0) {
    const parent = frontier.pop() as number;
    for (const p of procs) {
      if (p.ppid === parent) {
        out.push(p);
        frontier.push(p.pid);
      }
    }
  }
  return out;
}

async function waitFor<T>(what: string, probe: () => T | undefined, timeoutMs = 5000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

let counter = 0;
/** A `sleep` duration no other test or process uses, so the process can be found by its argv. */
function uniqueDuration(base: number): string {
  counter++;
  return `${base}.${process.pid}${String(counter).padStart(3, '0')}`;
}

describe.each(runners())('session and lifetime ($label)', (runner) => {
  let p: Project;
  const started: ChildProcess[] = [];
  const durations: string[] = [];

  beforeAll(() => {
    p = homeWithProject(runner);
  });
  afterEach(() => {
    for (const child of started.splice(0)) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    for (const d of durations.splice(0)) for (const s of sleepers(d)) process.kill(s.pid, 'SIGKILL');
  });
  afterAll(() => p.cleanup());

  it('the command is in a session led inside the sandbox (inside view)', () => {
    // Field 6 of /proc/PID/stat is the session id, as seen from the pid namespace.
    // Without a new session the leader is the caller's shell, outside the
    // namespace, and the id reads 0 (checked with plain bwrap); with bwrap's
    // setsid it is a process of the sandbox (its pid 1 or the command).
    const r = isolate(runner, ['run', '--', 'sh', '-c', 'echo "pid=$$"; echo "sid=$(cut -d" " -f6 /proc/$$/stat)"'], { cwd: p.project, env: p.env });
    expect(r.status, r.stderr).toBe(0);
    const kv = keyValues(r.stdout);
    expect(Number(kv['pid'])).toBeGreaterThan(0);
    expect(Number(kv['sid'])).toBeGreaterThan(0);
    expect(Number(kv['sid'])).toBeLessThanOrEqual(Number(kv['pid']));
  });

  it("the command's session differs from isolate's (host view)", async () => {
    const duration = uniqueDuration(30);
    durations.push(duration);
    const child = spawnIsolate(runner, ['run', '--', 'sleep', duration], { cwd: p.project, env: p.env });
    started.push(child);
    const sleeper = await waitFor('the sandboxed sleep', () => sleepers(duration)[0]);
    const isolateProc = readProc(child.pid as number);
    expect(isolateProc).toBeDefined();
    expect(isIsolateArgv(runner, isolateProc?.argv ?? []), isolateProc?.argv.join(' ')).toBe(true); // the pid we spawned is isolate's node process
    // Control: isolate itself stays in the test's session.
    expect(isolateProc?.sid).toBe(readProc(process.pid)?.sid);
    expect(sleeper.sid).not.toBe(isolateProc?.sid);
    // The sandbox's session is led by a process of the sandbox, not by anything of the caller.
    expect(sleeper.sid).not.toBe(readProc(process.pid)?.sid);
    expect(descendants(child.pid as number).map((d) => d.pid)).toContain(sleeper.sid);
    const exited = new Promise((res) => child.on('exit', res));
    child.kill('SIGTERM');
    await exited;
  });

  describe('TIOCSTI on the terminal', () => {
    const python = '/usr/bin/python3';
    const script = '/usr/bin/script';
    const haveTools = existsSync(python) && existsSync(script);
    if (!haveTools) console.warn(`skipping TIOCSTI tests: need ${python} and ${script} to give the command a pseudo-terminal (python3 and bsdutils)`);
    const legacy = existsSync('/proc/sys/dev/tty/legacy_tiocsti') ? readFileSync('/proc/sys/dev/tty/legacy_tiocsti', 'utf8').trim() : '1';
    const probe = [
      'import fcntl, os, termios',
      'print("isatty=%s" % os.isatty(0))',
      'try:',
      '    fcntl.ioctl(0, termios.TIOCSTI, b"#")',
      '    print("TIOCSTI=ok")',
      'except OSError as e:',
      '    print("TIOCSTI=failed errno %d" % e.errno)',
      '',
    ].join('\n');
    const quote = (a: string): string => `'${a.replace(/'/g, `'\\''`)}'`;

    if (haveTools && legacy === '0') console.warn('skipping the TIOCSTI host control: dev.tty.legacy_tiocsti = 0, the kernel refuses TIOCSTI everywhere');
    it.skipIf(!haveTools || legacy === '0')('works on the host in the same pseudo-terminal (control)', () => {
      plant(runner, p.home, 'project/tiocsti.py', probe);
      const r = asRunner(runner, [script, '-qefc', `${python} tiocsti.py`, '/dev/null'], { cwd: p.project, env: p.env });
      expect(r.status, r.stderr).toBe(0);
      expect(r.stdout).toContain('isatty=True');
      expect(r.stdout).toContain('TIOCSTI=ok');
    });

    it.skipIf(!haveTools)('fails inside the sandbox', () => {
      plant(runner, p.home, 'project/tiocsti.py', probe);
      const cmd = [...isolateArgv({ ...runner, prefix: [] }, ['run', '--', python, 'tiocsti.py'])].map(quote).join(' ');
      const r = asRunner(runner, [script, '-qefc', cmd, '/dev/null'], { cwd: p.project, env: p.env });
      expect(r.status, r.stdout + r.stderr).toBe(0);
      expect(r.stdout).toContain('isatty=True'); // the sandboxed command did get the terminal
      expect(r.stdout).toMatch(/TIOCSTI=failed errno (1|5)\b/); // EPERM (no controlling tty) or EIO
      expect(r.stdout).not.toContain('TIOCSTI=ok');
    });
  });

  it('dies with isolate: SIGKILL on isolate leaves no sandboxed process behind', async () => {
    const duration = uniqueDuration(300);
    durations.push(duration);
    const child = spawnIsolate(runner, ['run', '--', 'sleep', duration], { cwd: p.project, env: p.env });
    started.push(child);
    const sleeper = await waitFor('the sandboxed sleep', () => sleepers(duration)[0]);
    const tree = descendants(child.pid as number);
    expect(tree.map((t) => t.pid)).toContain(sleeper.pid); // it really is isolate's
    expect(tree.some((t) => (t.argv[0] ?? '').endsWith('bwrap'))).toBe(true);

    const exited = new Promise((res) => child.on('exit', res));
    child.kill('SIGKILL');
    await exited;

    const alive = (): Proc[] =>
      tree.filter((t) => {
        const now = readProc(t.pid);
        return now !== undefined && now.state !== 'Z' && now.argv.join(' ') === t.argv.join(' ');
      });
    const deadline = Date.now() + 5000;
    while (alive().length > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(alive().map((t) => `${t.pid} ${t.argv.join(' ')}`)).toEqual([]);
    expect(sleepers(duration)).toEqual([]);
  });
});
