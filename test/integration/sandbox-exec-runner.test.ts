/**
 * run/'s wiring for the sandbox-exec backend, tested on Linux. There is no
 * Seatbelt here, so these tests enforce NOTHING: a plan is built from
 * synthetic macOS host facts (the plan is pure), its argv[0] is replaced by a
 * fake `sandbox-exec` (a /bin/sh script that skips `-p PROFILE` and
 * `-D NAME=VALUE` up to `--` and execs the rest), and execute() runs it. What
 * is checked is only what run/ does around the launcher: the run directory
 * and its private directories, the working directory, the new session and
 * process group, signals and the timeout to the group, the start wrapper
 * (rlimits, and its ready byte that tells sandbox-exec's own failures from
 * the command's status), the loopback proxy, exit codes, and clean-up
 * however the run ends.
 *
 * The same file runs on macOS (the macOS workflow), where only /proc is
 * missing: a process's state comes from ps there, and the removal's walk
 * through /proc/self/fd is Linux's alone. The real isolation checks for
 * sandbox-exec (test/integration/backends.test.ts) need macOS and are
 * skipped elsewhere with the reason printed.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, realpathSync, renameSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { createServer as createNetServer, connect, type AddressInfo, type Server as NetServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { planSandboxExec, type SandboxExecPlan } from '../../src/backends/sandbox-exec.js';
import type { CommandFact, HostFacts } from '../../src/backends/types.js';
import { IsolateError } from '../../src/errors.js';
import type { Limits, MountKind, MountRule, NetworkMode, Policy } from '../../src/profile/types.js';
import { execute, type ExecuteResult } from '../../src/run/execute.js';
import { pidsInGroup } from '../../src/run/process-group.js';
import { removeTree } from '../../src/run/remove-tree.js';
import { runDirWritable } from '../../src/run/run-dir.js';
import { expectIsolateRejection } from '../unit/expect-error.js';

const FAKE_SANDBOX_EXEC = `#!/bin/sh
# A stand-in for macOS's /usr/bin/sandbox-exec in tests on Linux.
# It skips -p PROFILE and -D NAME=VALUE up to --, then execs the rest.
# It enforces NOTHING: no profile is applied.
while [ $# -gt 0 ]; do
  case "$1" in
    -p|-D) shift 2 ;;
    --) shift; break ;;
    *) echo "fake sandbox-exec: unexpected argument $1" >&2; exit 71 ;;
  esac
done
exec "$@"
`;

/** sandbox-exec as it fails itself when macOS rejects the profile: a message, a status of its own, nothing run. */
const REJECTING_SANDBOX_EXEC = `#!/bin/sh
echo "sandbox-exec: invalid profile" >&2
exit 65
`;

/** sandbox-exec dying of a signal before it runs anything. */
const CRASHING_SANDBOX_EXEC = `#!/bin/sh
kill -ABRT $$
`;

let base: string;
let fake: string;
let project: string;
let home: string;
let tmp: string;
let runs = 0;

beforeAll(() => {
  base = realpathSync(mkdtempSync(join(tmpdir(), 'isolate-sbx-runner-')));
  fake = join(base, 'bin', 'sandbox-exec');
  mkdirSync(join(base, 'bin'));
  writeFileSync(fake, FAKE_SANDBOX_EXEC, { mode: 0o755 });
  writeFileSync(join(base, 'bin', 'rejecting-sandbox-exec'), REJECTING_SANDBOX_EXEC, { mode: 0o755 });
  writeFileSync(join(base, 'bin', 'crashing-sandbox-exec'), CRASHING_SANDBOX_EXEC, { mode: 0o755 });
  project = join(base, 'project');
  home = join(base, 'home');
  tmp = join(base, 'tmp');
  for (const d of [project, home, tmp]) mkdirSync(d);
});

afterAll(() => {
  rmSync(base, { recursive: true, force: true });
});

function rule(kind: MountKind, path: string): MountRule {
  return { kind, path, requested: path, type: 'dir' };
}

interface Over {
  network?: NetworkMode;
  allow?: string[];
  limits?: Partial<Limits>;
  cwd?: string;
  proxyPort?: number;
}

function policy(over: Over): Policy {
  const mode = over.network ?? 'none';
  return {
    profile: { name: 'runner-test', sources: ['test'], description: 'runner wiring test' },
    filesystem: {
      mounts: [rule('tmpfs', home), rule('tmpfs', tmp), rule('read', '/usr'), rule('read', '/bin'), rule('read', '/etc'), rule('write', project)],
      protect: [],
      skipped: [],
    },
    network: { mode, allow: over.allow ?? [], deny: [] },
    environment: { pass: ['PATH', 'HOME', 'TMPDIR'], set: {}, secrets: [] },
    process: { cwd: over.cwd ?? project, hostname: 'isolate' },
    limits: { killAfterMs: 500, enforce: 'rlimit', ...over.limits },
    syscalls: { preset: 'none', deny: [], allow: [] },
    commands: { allow: [], deny: [] },
    audit: { enabled: false, log: undefined, required: false },
  };
}

/** /bin/sh as the command, as the plan resolves it. */
function shFact(): CommandFact {
  return { program: 'sh', candidates: [{ path: '/bin/sh', real: realpathSync('/bin/sh'), isFile: true, executable: true }] };
}

/** A plan from synthetic macOS facts, with argv[0] replaced by the fake sandbox-exec. */
function plan(script: string, over: Over = {}): SandboxExecPlan {
  const runDir = join(base, `isolate-run-${process.pid}-${++runs}`);
  const host: HostFacts = {
    platform: 'darwin',
    arch: 'arm64',
    uid: process.getuid?.() ?? 0,
    gid: process.getgid?.() ?? 0,
    bwrap: undefined,
    sandboxExec: { path: '/usr/bin/sandbox-exec', runDir, version: '15.0', ...(over.proxyPort === undefined ? {} : { proxyPort: over.proxyPort }) },
    userns: { maxUserNamespaces: undefined, unprivilegedClone: undefined, apparmorRestrict: undefined },
    env: { PATH: '/usr/bin:/bin', HOME: home, TMPDIR: tmp },
    protect: [],
    command: shFact(),
    network: { socat: undefined, shell: undefined, socketDir: join(base, `isolate-net-${runs}`) },
    prlimit: undefined,
    kernelPaths: [],
  };
  const p = planSandboxExec(policy(over), ['sh', '-c', script], host);
  expect(p.argv[0]).toBe('/usr/bin/sandbox-exec');
  return { ...p, argv: [fake, ...p.argv.slice(1)] };
}

function run(p: SandboxExecPlan): Promise<ExecuteResult> {
  return execute(p, { stdio: 'capture' });
}

/** Alive and not a zombie (an orphan's zombie waits for init to reap it): from /proc on Linux, from ps elsewhere (macOS). */
function alive(pid: number): boolean {
  try {
    if (process.platform !== 'linux') return !execFileSync('ps', ['-o', 'stat=', '-p', String(pid)], { encoding: 'utf8' }).trim().startsWith('Z');
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

/** The removal walks through /proc/self/fd only where there is one. */
const WALKS: readonly boolean[] = process.platform === 'linux' ? [true, false] : [false];

/** Live processes still in process group `pgid`. */
function groupSurvivors(pgid: number): number[] {
  return pidsInGroup(execFileSync('ps', ['-A', '-o', 'pid=', '-o', 'pgid='], { encoding: 'utf8' }), pgid).filter(alive);
}

function readPids(file: string): number[] {
  return readFileSync(file, 'utf8')
    .split(/\s+/)
    .filter(Boolean)
    .map(Number);
}

async function waitFor(check: () => boolean, ms = 3000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) return;
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('sandbox-exec runner wiring (fake sandbox-exec, no isolation)', () => {
  it('creates the run directory and the private directories (0700) for the run, runs in plan.cwd in a new session, and removes them after', async () => {
    const p = plan(
      [
        'pwd',
        'echo "sid=$(ps -o sid= -p $$ | tr -d " ") pgid=$(ps -o pgid= -p $$ | tr -d " ") pid=$$"',
        'echo "home=$HOME tmp=$TMPDIR"',
        'echo written > "$HOME/file" && echo written > "$TMPDIR/file" && echo writes-ok',
        'stat -c "%a %n" "$(dirname "$HOME")" "$HOME" "$TMPDIR"',
      ].join('\n'),
    );
    const runDir = p.sandboxExec.runDir as string;
    expect(runDir).toMatch(/\/isolate-run-\d+-\d+$/);
    expect(existsSync(runDir)).toBe(false);
    const r = await run(p);
    expect(r.error).toBeUndefined();
    expect(r.exitCode, r.stderr).toBe(0);
    const lines = (r.stdout ?? '').trim().split('\n');
    expect(lines[0]).toBe(p.sandboxExec.cwd);
    expect(lines[0]).toBe(project);
    // A new session: the command (sandbox-exec and sh exec it) leads its session and its process group.
    const ids = /^sid=(\d+) pgid=(\d+) pid=(\d+)$/.exec(lines[1] ?? '');
    expect(ids, lines[1]).not.toBeNull();
    expect(ids?.[1]).toBe(ids?.[3]);
    expect(ids?.[2]).toBe(ids?.[3]);
    expect(Number(ids?.[3])).not.toBe(process.pid);
    // HOME and TMPDIR point to the private directories that stand in for the tmpfs paths.
    const homeDir = p.sandboxExec.dirs.find((d) => d.replaces === home)?.path;
    const tmpDir = p.sandboxExec.dirs.find((d) => d.replaces === tmp)?.path;
    expect(homeDir?.startsWith(`${runDir}/`)).toBe(true);
    expect(lines[2]).toBe(`home=${homeDir} tmp=${tmpDir}`);
    expect(lines[3]).toBe('writes-ok');
    expect(lines.slice(4)).toEqual([`700 ${runDir}`, `700 ${homeDir}`, `700 ${tmpDir}`]);
    // Nothing written to the real paths the private directories stand in for, and all of it gone after the run.
    expect(existsSync(join(home, 'file'))).toBe(false);
    expect(existsSync(runDir)).toBe(false);
  });

  it('starts in the private directory when the working directory is a tmpfs path', async () => {
    const p = plan('pwd; touch here', { cwd: tmp });
    const stand = p.sandboxExec.dirs.find((d) => d.replaces === tmp)?.path;
    expect(p.sandboxExec.cwd).toBe(stand);
    const r = await run(p);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout?.trim()).toBe(stand);
    expect(existsSync(join(tmp, 'here'))).toBe(false);
    expect(existsSync(p.sandboxExec.runDir as string)).toBe(false);
  });

  it('exit codes: 0, the command\'s own N, 128+N for a signal', async () => {
    expect((await run(plan('exit 0'))).exitCode).toBe(0);
    const seven = await run(plan('exit 7'));
    expect(seven).toMatchObject({ exitCode: 7, signal: null });
    const term = await run(plan('kill -TERM $$'));
    expect(term).toMatchObject({ exitCode: 143, signal: 'SIGTERM' });
    const p = plan('echo x > "$HOME/f"; kill -KILL $$');
    const killed = await run(p);
    expect(killed).toMatchObject({ exitCode: 137, signal: 'SIGKILL' });
    expect(existsSync(p.sandboxExec.runDir as string)).toBe(false);
  });

  it('the command\'s own exit status stays its own, also those sandbox-exec fails with (65, 71) and 125', async () => {
    for (const n of [65, 71, 125, 255]) {
      const r = await run(plan(`exit ${n}`));
      expect(r, `exit ${n}`).toMatchObject({ exitCode: n, signal: null, started: true });
      expect(r.error).toBeUndefined();
    }
  });

  it('sandbox-exec failing itself (a rejected profile, exit 65) is a setup failure (125) with its message, not the command\'s status', async () => {
    const marker = join(project, 'rejected-ran');
    const planned = plan(`touch ${marker}`);
    const p = { ...planned, argv: [join(base, 'bin', 'rejecting-sandbox-exec'), ...planned.argv.slice(1)] };
    const r = await run(p);
    expect(r).toMatchObject({ exitCode: 125, signal: null, started: false });
    expect(r.error).toBeInstanceOf(IsolateError);
    expect(r.error?.code).toBe('E_SANDBOX_SETUP');
    expect(r.error?.message).toContain('exit 65');
    expect(r.error?.message).toContain('the command was not run');
    expect(r.error?.detail).toBe('sandbox-exec: invalid profile');
    expect(existsSync(marker)).toBe(false);
    expect(existsSync(p.sandboxExec.runDir as string)).toBe(false);
    // The same for a failure the fake itself reports (exit 71).
    const bad = await run({ ...planned, argv: [fake, '--bogus', ...planned.argv.slice(1)] });
    expect(bad).toMatchObject({ exitCode: 125, started: false });
    expect(bad.error?.detail).toContain('unexpected argument --bogus');
  });

  it('sandbox-exec killed by a signal before it starts the command is a setup failure too', async () => {
    const planned = plan('echo should-not-run');
    const r = await run({ ...planned, argv: [join(base, 'bin', 'crashing-sandbox-exec'), ...planned.argv.slice(1)] });
    expect(r).toMatchObject({ exitCode: 125, signal: null, started: false });
    expect(r.error?.code).toBe('E_SANDBOX_SETUP');
    expect(r.error?.message).toContain('killed by SIGABRT');
  });

  it('a command killed by a signal still gives 128+N once the wrapper has started it', async () => {
    expect(await run(plan('kill -TERM $$'))).toMatchObject({ exitCode: 143, signal: 'SIGTERM', started: true });
    expect(await run(plan('kill -KILL $$'))).toMatchObject({ exitCode: 137, signal: 'SIGKILL', started: true });
    const withLimits = await run(plan('kill -INT $$', { limits: { openFiles: 128 } }));
    expect(withLimits).toMatchObject({ exitCode: 130, signal: 'SIGINT', started: true });
    expect(withLimits.error).toBeUndefined();
  });

  it('the command does not hold the ready descriptor, nor does what it starts', async () => {
    const fd = 3;
    // In a subshell: a redirection error of a special builtin would end the shell itself.
    // Checked before any command substitution or pipe, which would open descriptors of their own.
    const held = `test -e /dev/fd/${fd} && echo held || echo free`;
    const p = plan(`${held}; sh -c '${held}'; if (: >&${fd}) 2>/dev/null; then echo open; else echo closed; fi`);
    expect(p.fds).toEqual({ ready: fd });
    const r = await run(p);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).toBe('free\nfree\nclosed\n');
  });

  it('a limit the wrapper cannot apply is a setup failure (125) with its message; the command does not run', async () => {
    const marker = join(project, 'unlimited-ran');
    const r = await run(plan(`touch ${marker}`, { limits: { openFiles: 2_000_000_000 } }));
    expect(r).toMatchObject({ exitCode: 125, started: false });
    expect(r.error?.code).toBe('E_SANDBOX_SETUP');
    expect(r.error?.detail).toContain('isolate: cannot apply the resource limits');
    expect(existsSync(marker)).toBe(false);
  });

  it('a small open-files limit is set after the byte, and applies to the command', async () => {
    const r = await run(plan('ulimit -n', { limits: { openFiles: 8 } }));
    expect(r).toMatchObject({ exitCode: 0, started: true });
    expect(r.stdout?.trim()).toBe('8');
  });

  it('the timeout kills a grandchild that ignores SIGTERM (exit 124), leaves no process of the group, and removes the run directory', async () => {
    const pidFile = join(project, 'timeout-pids');
    // The command and its grandchild both ignore SIGTERM: only the SIGKILL after the grace period ends them.
    const p = plan(
      `trap '' TERM; echo $$ > ${pidFile}; sh -c 'trap "" TERM; echo $$ >> ${pidFile}; echo x > "$HOME/f"; exec sleep 300' & wait; echo not-reached`,
      { limits: { timeoutMs: 600, killAfterMs: 400 } },
    );
    const started = Date.now();
    const r = await run(p);
    const took = Date.now() - started;
    expect(r).toMatchObject({ exitCode: 124, timedOut: true, limit: 'timeout' });
    expect(r.stdout).not.toContain('not-reached');
    expect(took).toBeGreaterThanOrEqual(900);
    expect(took).toBeLessThan(10_000);
    const pids = readPids(pidFile);
    expect(pids).toHaveLength(2);
    const leader = pids[0] as number;
    await waitFor(() => pids.every((pid) => !alive(pid)));
    expect(pids.filter(alive)).toEqual([]);
    expect(groupSurvivors(leader)).toEqual([]);
    expect(existsSync(p.sandboxExec.runDir as string)).toBe(false);
  });

  it('the timeout: when the command dies of SIGTERM, the grandchild that ignores it dies with it', async () => {
    const pidFile = join(project, 'timeout-pids-2');
    const p = plan(`echo $$ > ${pidFile}; sh -c 'trap "" TERM; echo $$ >> ${pidFile}; exec sleep 300' & wait`, {
      limits: { timeoutMs: 500, killAfterMs: 5000 },
    });
    const started = Date.now();
    const r = await run(p);
    expect(r).toMatchObject({ exitCode: 124, timedOut: true, signal: 'SIGTERM' });
    // Well before the grace period ends: the group is killed when the command exits.
    expect(Date.now() - started).toBeLessThan(4000);
    const pids = readPids(pidFile);
    expect(pids).toHaveLength(2);
    await waitFor(() => pids.every((pid) => !alive(pid)));
    expect(pids.filter(alive)).toEqual([]);
    expect(groupSurvivors(pids[0] as number)).toEqual([]);
  });

  it('a background process the command leaves behind is killed when it exits (as with a PID namespace)', async () => {
    const pidFile = join(project, 'background-pid');
    const p = plan(`sleep 300 & echo $! > ${pidFile}; exit 3`);
    const started = Date.now();
    const r = await run(p);
    expect(r.exitCode).toBe(3);
    // The captured stdout of the sleep does not hold the run open.
    expect(Date.now() - started).toBeLessThan(5000);
    const [pid] = readPids(pidFile);
    await waitFor(() => !alive(pid as number));
    expect(alive(pid as number)).toBe(false);
  });

  it('captured output held open by a process that left the group (setsid) does not hold the run: it ends a grace period after the command, and says the output may be cut', async () => {
    const pidFile = join(project, 'held-pids');
    const holder = `setsid sh -c 'echo $$ >> ${pidFile}; echo from-escaped; exec sleep 8' &`;
    try {
      // With the timeout: bounded by it (and the grace periods), not by the process that escaped.
      const timed = plan(`${holder} sleep 0.2; echo from-command; trap '' TERM; sleep 30`, { limits: { timeoutMs: 1000, killAfterMs: 300 } });
      let started = Date.now();
      const r = await run(timed);
      expect(Date.now() - started).toBeLessThan(3500);
      expect(r).toMatchObject({ exitCode: 124, timedOut: true, outputCut: true });
      expect(r.stdout).toContain('from-command');
      expect(r.stdout).toContain('from-escaped');
      // Without one: the command's own exit ends the run.
      const plain = plan(`${holder} sleep 0.2; echo done; exit 3`);
      started = Date.now();
      const q = await run(plain);
      expect(Date.now() - started).toBeLessThan(3000);
      expect(q).toMatchObject({ exitCode: 3, outputCut: true });
      expect(q.stdout).toContain('done');
      expect(existsSync(plain.sandboxExec.runDir as string)).toBe(false);
      // Nothing held open: nothing said.
      const clean = await run(plan('echo fine'));
      expect(clean.exitCode).toBe(0);
      expect(clean.outputCut).toBeUndefined();
    } finally {
      for (const pid of existsSync(pidFile) ? readPids(pidFile) : []) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // gone
        }
      }
    }
  });

  it('applies the profile\'s rlimits inside (ulimit in /bin/sh before the command)', async () => {
    const p = plan('echo "$(ulimit -n) $(ulimit -f) $(ulimit -t) $(ulimit -c)"', { limits: { openFiles: 64, fileSizeBytes: 1024 * 1024, cpuSeconds: 30 } });
    expect(p.argv[p.argv.indexOf('--') + 1]).toBe('/bin/sh');
    const r = await run(p);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout?.trim()).toBe('64 2048 30 0');
  });

  it('removes the run directory even when the command made parts of it unreadable', async () => {
    const p = plan('mkdir -p "$HOME/a/b" && echo x > "$HOME/a/b/f" && chmod 000 "$HOME/a/b" "$HOME/a" && ln -s / "$TMPDIR/root-link"');
    const r = await run(p);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(existsSync(p.sandboxExec.runDir as string)).toBe(false);
    expect(existsSync('/bin/sh')).toBe(true);
  });

  it('removing the run directory never follows a directory the sandbox swaps for a symlink (a setsid process racing the removal; many trials)', async () => {
    // The race of the security review: a process that left the group with setsid outlives the run
    // and keeps flipping its subdirectory `sub` (full of files named as the victim's) to a symlink
    // to a directory outside the run directory, while isolate removes the run directory. It works
    // by relative paths from inside the private directory, so the rename of the run directory does
    // not stop it here (on macOS Seatbelt refuses its writes after the rename; the fake enforces
    // nothing): what is tested is that the removal itself never follows the link.
    const files = 200;
    const racer = join(base, 'bin', 'racer.mjs');
    writeFileSync(
      racer,
      [
        "import { mkdirSync, writeFileSync, renameSync, symlinkSync, unlinkSync, lstatSync } from 'node:fs';",
        'const [victim, pidFile, files] = process.argv.slice(2);',
        "mkdirSync('sub/deep', { recursive: true });",
        "for (let i = 0; i < Number(files); i++) { writeFileSync(`sub/f${i}`, ''); writeFileSync(`sub/deep/f${i}`, ''); }",
        "symlinkSync(victim, 'sub/deep/link');",
        'writeFileSync(pidFile, String(process.pid));',
        'const gone = (p) => { try { lstatSync(p); return false; } catch { return true; } };',
        'const spin = (us) => { const t = process.hrtime.bigint() + BigInt(us) * 1000n; while (process.hrtime.bigint() < t); };',
        'const end = Date.now() + 10000;',
        // The real directory most of the time (so that a removal starts into it), a link to the victim now and then.
        "while (Date.now() < end && !(gone('sub') && gone('sub.x'))) {",
        '  spin(300);',
        "  try { renameSync('sub', 'sub.x'); } catch {}",
        "  try { symlinkSync(victim, 'sub'); } catch {}",
        '  spin(150);',
        "  try { unlinkSync('sub'); } catch {}",
        "  try { renameSync('sub.x', 'sub'); } catch {}",
        '}',
      ].join('\n'),
    );
    const victim = join(base, 'victim');
    mkdirSync(join(victim, 'deep'), { recursive: true });
    for (let i = 0; i < files; i++) {
      writeFileSync(join(victim, `f${i}`), 'keep');
      writeFileSync(join(victim, 'deep', `f${i}`), 'keep');
    }
    const victimFiles = (): number => readdirSync(victim).length + readdirSync(join(victim, 'deep')).length;
    expect(victimFiles()).toBe(2 * files + 1);
    const racers: number[] = [];
    try {
      for (let trial = 0; trial < 25; trial++) {
        const pidFile = join(project, `racer-${trial}`);
        const p = plan(
          `cd "$HOME" && setsid ${process.execPath} ${racer} ${victim} ${pidFile} ${files} </dev/null >/dev/null 2>&1 & ` +
            `i=0; while [ ! -s ${pidFile} ] && [ $i -lt 500 ]; do sleep 0.01; i=$((i+1)); done; test -s ${pidFile}`,
        );
        const r = await run(p);
        expect(r.exitCode, r.stderr).toBe(0);
        const pid = readPids(pidFile)[0] as number;
        racers.push(pid);
        expect(victimFiles(), `trial ${trial}: files outside the run directory were removed`).toBe(2 * files + 1);
        // Moved away before the walk (whether the walk got everything while the racer ran is not the point here).
        expect(existsSync(p.sandboxExec.runDir as string)).toBe(false);
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // gone
        }
      }
    } finally {
      for (const pid of racers) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // gone
        }
      }
    }
    expect(victimFiles()).toBe(2 * files + 1);
  }, 300_000);

  it('refuses (125) a run directory that exists already, and leaves it alone', async () => {
    const p = plan('echo should-not-run');
    const runDir = p.sandboxExec.runDir as string;
    mkdirSync(runDir, { mode: 0o755 });
    writeFileSync(join(runDir, 'keep'), 'someone else\'s');
    const err = await expectIsolateRejection(run(p), 'E_SANDBOX_SETUP');
    expect(err.exitCode).toBe(125);
    expect(err.message).toContain('exists already');
    expect(readFileSync(join(runDir, 'keep'), 'utf8')).toBe('someone else\'s');
    rmSync(runDir, { recursive: true });
  });

  it('refuses (125) a missing working directory and removes the run directory', async () => {
    const gone = join(project, 'gone');
    mkdirSync(gone);
    const p = plan('echo should-not-run', { cwd: gone });
    rmSync(gone, { recursive: true });
    const err = await expectIsolateRejection(run(p), 'E_PATH_INVALID');
    expect(err.exitCode).toBe(125);
    expect(existsSync(p.sandboxExec.runDir as string)).toBe(false);
  });

  it('a launcher that cannot start is an error (125), and the run directory is removed', async () => {
    const planned = plan('true');
    const p = { ...planned, argv: [join(base, 'bin', 'no-such-sandbox-exec'), ...planned.argv.slice(1)] };
    const r = await run(p);
    expect(r.exitCode).toBe(125);
    expect(r.error).toBeInstanceOf(IsolateError);
    expect(existsSync(p.sandboxExec.runDir as string)).toBe(false);
  });
});

// ---- filtered network: the proxy on the host loopback -------------------------------

function listenOn(server: HttpServer | NetServer, port = 0): Promise<number> {
  return new Promise((resolvePromise, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolvePromise((server.address() as AddressInfo).port));
  });
}

function close(server: HttpServer | NetServer): Promise<void> {
  return new Promise((resolvePromise) => server.close(() => resolvePromise()));
}

/** A free port on 127.0.0.1 (free now; the test then plans with it, as host.ts would with a random one). */
async function freePort(): Promise<number> {
  const s = createNetServer();
  const port = await listenOn(s);
  await close(s);
  return port;
}

function connects(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolvePromise) => {
    const socket = connect({ host, port });
    socket.once('connect', () => {
      socket.destroy();
      resolvePromise(true);
    });
    socket.once('error', () => resolvePromise(false));
  });
}

describe('sandbox-exec runner wiring: filtered network (fake sandbox-exec, no isolation)', () => {
  let web: HttpServer;
  let webPort: number;
  let other: HttpServer;
  let otherPort: number;

  beforeAll(async () => {
    web = createHttpServer((_req, res) => res.end('hello from the allowed server\n'));
    webPort = await listenOn(web);
    other = createHttpServer((_req, res) => res.end('must not be reached\n'));
    otherPort = await listenOn(other);
  });

  afterAll(async () => {
    await close(web);
    await close(other);
  });

  it('the proxy listens on the planned 127.0.0.1 port for the run: allows what the rules allow, refuses the rest, and is gone after', async () => {
    const proxyPort = await freePort();
    const p = plan(
      [
        'echo "proxy=$http_proxy"',
        `curl -sS --max-time 10 http://localhost:${webPort}/`,
        `curl -sS --max-time 10 -o /dev/null -w "denied=%{http_code}\\n" http://localhost:${otherPort}/`,
      ].join('\n'),
      { network: 'filtered', allow: [`localhost:${webPort}`], proxyPort },
    );
    const service = p.services[0] as { tcp?: { host: string; port: number } };
    expect(service.tcp).toEqual({ host: '127.0.0.1', port: proxyPort });
    expect(p.argv).toContain(`PROXY_PORT=${proxyPort}`);
    const r = await run(p);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).toBe(`proxy=http://127.0.0.1:${proxyPort}\nhello from the allowed server\ndenied=403\n`);
    const events = r.networkEvents ?? [];
    expect(events.find((e) => e.port === webPort)).toMatchObject({ host: 'localhost', decision: 'allowed' });
    expect(events.find((e) => e.port === otherPort)).toMatchObject({ host: 'localhost', decision: 'denied' });
    // Stopped with the run; no socket directory was made for it.
    expect(await connects(proxyPort)).toBe(false);
    expect(existsSync(p.services[0]?.socketDir as string)).toBe(false);
    expect(existsSync(p.sandboxExec.runDir as string)).toBe(false);
  });

  it('refuses to run (125) when another program holds the planned port, and removes the run directory', async () => {
    const squatter = createNetServer();
    const port = await listenOn(squatter);
    try {
      const p = plan('echo should-not-run', { network: 'filtered', allow: [`localhost:${webPort}`], proxyPort: port });
      const err = await expectIsolateRejection(run(p), 'E_NETWORK_PROXY');
      expect(err.exitCode).toBe(125);
      expect(err.message).toContain(`127.0.0.1:${port}`);
      expect(existsSync(p.sandboxExec.runDir as string)).toBe(false);
    } finally {
      await close(squatter);
    }
  });

  it('refuses to run (125) when another program holds the port on the IPv6 loopback', async (ctx) => {
    const squatter = createNetServer();
    const port = await freePort();
    try {
      await new Promise<void>((resolvePromise, reject) => {
        squatter.once('error', reject);
        squatter.listen(port, '::1', () => resolvePromise());
      });
    } catch {
      ctx.skip('no IPv6 loopback on this machine');
      return;
    }
    try {
      const p = plan('echo should-not-run', { network: 'filtered', allow: [`localhost:${webPort}`], proxyPort: port });
      const err = await expectIsolateRejection(run(p), 'E_NETWORK_PROXY');
      expect(err.message).toContain(`[::1]:${port}`);
      // The IPv4 listener it had opened is closed again.
      expect(await connects(port)).toBe(false);
    } finally {
      await close(squatter);
    }
  });
});

describe('sandbox-exec runner: removing the run directory', () => {
  /** A tree with links out of it, unreadable directories and a name that is not UTF-8; and a directory outside it. */
  function tree(name: string): { root: string; outside: string } {
    const root = join(base, `tree-${name}`);
    const outside = join(base, `outside-${name}`);
    mkdirSync(join(outside, 'sub'), { recursive: true, mode: 0o755 });
    chmodSync(outside, 0o755);
    writeFileSync(join(outside, 'keep'), 'keep');
    writeFileSync(join(outside, 'sub', 'keep'), 'keep');
    mkdirSync(join(root, 'a', 'b'), { recursive: true });
    writeFileSync(join(root, 'a', 'b', 'f'), 'x');
    symlinkSync(outside, join(root, 'link'));
    symlinkSync(join(outside, 'keep'), join(root, 'a', 'file-link'));
    symlinkSync(join(base, 'no-such-file'), join(root, 'dangling'));
    mkdirSync(join(root, 'a', 'closed'));
    writeFileSync(join(root, 'a', 'closed', 'f'), 'x');
    symlinkSync(outside, join(root, 'a', 'closed', 'link'));
    chmodSync(join(root, 'a', 'closed'), 0o000);
    mkdirSync(join(root, 'noread'));
    writeFileSync(join(root, 'noread', 'f'), 'x');
    chmodSync(join(root, 'noread'), 0o300);
    writeFileSync(Buffer.concat([Buffer.from(`${root}/`), Buffer.from([0x66, 0xff, 0xfe])]), 'not utf-8');
    chmodSync(join(root, 'a'), 0o500);
    return { root, outside };
  }

  function intact(outside: string): void {
    expect(readFileSync(join(outside, 'keep'), 'utf8')).toBe('keep');
    expect(readFileSync(join(outside, 'sub', 'keep'), 'utf8')).toBe('keep');
    // Nothing chmod-ed through a link.
    expect(statSync(outside).mode & 0o7777).toBe(0o755);
  }

  it('removes everything, links as entries (never followed), unreadable directories included, through /proc/self/fd and by joined paths', () => {
    for (const fdRelative of WALKS) {
      const { root, outside } = tree(`fd-${fdRelative}`);
      expect(removeTree(root, { quiet: true, fdRelative })).toBeUndefined();
      expect(existsSync(root)).toBe(false);
      expect(readdirSync(base).filter((n) => n.startsWith('isolate-removing-'))).toEqual([]);
      intact(outside);
    }
  });

  it('as an unprivileged user (root reads any directory, so the tests above take no permission path as root)', (ctx) => {
    const u = inject('unprivileged');
    if (u === null) {
      ctx.skip('not root: the test above ran these paths already');
      return;
    }
    const dir = mkdtempSync(join(tmpdir(), 'isolate-remove-'));
    try {
      chownSync(dir, u.uid, u.gid);
      const script = [
        "import { chmodSync, chownSync, existsSync, mkdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';",
        'const [mod, dir] = process.argv.slice(1);',
        'const { removeTree } = await import(mod);',
        'for (const fdRelative of [true, false]) {',
        '  const root = `${dir}/tree-${fdRelative}`; const outside = `${dir}/outside-${fdRelative}`;',
        "  mkdirSync(`${outside}/sub`, { recursive: true }); writeFileSync(`${outside}/keep`, 'keep'); chmodSync(outside, 0o755);",
        "  mkdirSync(`${root}/a/closed`, { recursive: true }); writeFileSync(`${root}/a/closed/f`, 'x'); symlinkSync(outside, `${root}/a/closed/link`);",
        "  mkdirSync(`${root}/noread`); writeFileSync(`${root}/noread/f`, 'x'); symlinkSync(outside, `${root}/noread/link`);",
        '  chmodSync(`${root}/a/closed`, 0); chmodSync(`${root}/noread`, 0o300); chmodSync(`${root}/a`, 0o500); chmodSync(root, 0);',
        '  const left = removeTree(root, { quiet: true, fdRelative });',
        "  console.log(JSON.stringify({ fdRelative, left: left ?? null, exists: existsSync(root), keep: readFileSync(`${outside}/keep`, 'utf8'), mode: statSync(outside).mode & 0o7777 }));",
        '}',
      ].join('\n');
      const out = execFileSync(process.execPath, ['--input-type=module', '-e', script, '--', join(u.packageDir, 'dist', 'run', 'remove-tree.js'), dir], {
        uid: u.uid,
        gid: u.gid,
        encoding: 'utf8',
      });
      const results = out.trim().split('\n').map((l) => JSON.parse(l) as unknown);
      expect(results).toEqual([
        { fdRelative: true, left: null, exists: false, keep: 'keep', mode: 0o755 },
        { fdRelative: false, left: null, exists: false, keep: 'keep', mode: 0o755 },
      ]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a run directory replaced by a link: the link is removed, not what it names', () => {
    const { root, outside } = tree('replaced');
    const moved = `${root}-moved`;
    renameSync(root, moved);
    symlinkSync(outside, root);
    expect(removeTree(root, { quiet: true })).toBeUndefined();
    expect(existsSync(root)).toBe(false);
    intact(outside);
    expect(removeTree(moved, { quiet: true })).toBeUndefined();
  });

  it('renames the run directory first; without /proc it walks it only where the sandbox cannot write, and leaves it otherwise', () => {
    const { root, outside } = tree('writable');
    let renamedTo = '';
    const left = removeTree(root, {
      fdRelative: false,
      sandboxMayWrite: (p) => {
        renamedTo = p;
        return true;
      },
    });
    expect(left).toBe('ESANDBOXWRITABLE');
    expect(existsSync(root)).toBe(false);
    expect(renamedTo).toMatch(new RegExp(`^${base}/isolate-removing-${process.pid}-[0-9a-f]{12}$`));
    expect(readFileSync(join(renamedTo, 'a', 'b', 'f'), 'utf8')).toBe('x');
    intact(outside);
    // Not said: assumed writable.
    expect(removeTree(renamedTo, { fdRelative: false })).toBe('ESANDBOXWRITABLE');
    const again = readdirSync(base).find((n) => n.startsWith('isolate-removing-')) as string;
    expect(removeTree(join(base, again), { fdRelative: false, sandboxMayWrite: () => false })).toBeUndefined();
    expect(readdirSync(base).filter((n) => n.startsWith('isolate-removing-'))).toEqual([]);
    intact(outside);
  });

  // A mount inside the run directory (the command, unsandboxed under the fake, mounts a tmpfs there) is a tree the walk never enters.
  if (process.getuid?.() !== 0) console.warn('skipping the left-behind run directory test: it mounts a tmpfs, which needs root');
  it.runIf(process.getuid?.() === 0)('a run directory that cannot be removed is reported (leftBehind), not dropped silently', async () => {
    const p = plan('mkdir "$HOME/m" && mount -t tmpfs isolate-test-leftover "$HOME/m" && echo mounted');
    const r = await run(p);
    const runDir = p.sandboxExec.runDir as string;
    try {
      expect(r.stdout, r.stderr).toBe('mounted\n');
      expect(r.exitCode).toBe(0);
      expect(r.leftBehind?.path).toBe(runDir);
      expect(r.leftBehind?.reason).toMatch(/^E[A-Z]+$/);
    } finally {
      // Undo the mount wherever the removal left the directory (renamed to isolate-removing-*), then remove it.
      const mounts = readFileSync('/proc/self/mounts', 'utf8').split('\n').filter((l) => l.startsWith('isolate-test-leftover '));
      for (const m of mounts) execFileSync('umount', [m.split(' ')[1] ?? '']);
      for (const name of readdirSync(base)) if (name.startsWith('isolate-removing-') || name === runDir.slice(base.length + 1)) rmSync(join(base, name), { recursive: true, force: true });
    }
  });

  it('runDirWritable: whether a path the sandbox may write covers the renamed run directory', () => {
    const T = '/private/var/folders/xy/abc/T';
    const renamed = `${T}/isolate-removing-1-0123456789ab`;
    expect(runDirWritable(renamed, ['/Users/alice/project'])).toBe(false);
    expect(runDirWritable(renamed, ['/Users/alice/project', T])).toBe(true);
    expect(runDirWritable(renamed, ['/private/var'])).toBe(true);
    expect(runDirWritable(renamed, ['/'])).toBe(true);
    expect(runDirWritable(renamed, [`${T}/isolate-removing-1`])).toBe(false);
    expect(runDirWritable(renamed, [])).toBe(false);
  });

  it('the plan names as the paths the sandbox may write exactly its WRITE parameters (not READ, TMPFS or SCRATCH)', () => {
    const p = plan('true');
    const writes = p.launch?.runDir?.sandboxWrites;
    expect(writes).toEqual(p.sandboxExec.params.filter((q) => /^WRITE_\d+$/.test(q.name)).map((q) => q.value));
    expect(writes).toContain(project);
    for (const other of p.sandboxExec.params.filter((q) => !q.name.startsWith('WRITE_'))) expect(writes).not.toContain(other.value);
    // The plans of this file: the project is writable, the run directory's parent is not.
    expect(runDirWritable(join(base, 'isolate-removing-x'), writes ?? [])).toBe(false);
    expect(runDirWritable(join(project, 'isolate-removing-x'), writes ?? [])).toBe(true);
  });
});

describe('sandbox-exec runner wiring: file modes', () => {
  it('the fake sandbox-exec is executable (sanity)', () => {
    chmodSync(fake, 0o755);
    expect(execFileSync(fake, ['-p', '(version 1)', '-D', 'A=b', '--', '/bin/echo', 'ok'], { encoding: 'utf8' })).toBe('ok\n');
  });
});
