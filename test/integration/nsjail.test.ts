/**
 * The nsjail backend in real sandboxes: the isolation checks the bubblewrap
 * suite makes, through `isolate run --backend nsjail`, as the current user
 * and (as root) as an unprivileged user. Skipped, with the reason printed,
 * when no nsjail binary is on PATH or named by ISOLATE_NSJAIL. The
 * filesystem view (/dev, /proc, /tmp, the home, writes, symlinks) is checked
 * for both backends by filesystem.test.ts.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, readdirSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { createServer as createNetServer, type Server as NetServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { hostname } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { findNsjail } from '../../src/host/facts.js';
import { cgroupSupport } from '../helpers/cgroup.js';
import { REPO_FILES, attempts, token } from '../helpers/fs-fixture.js';
import { seccompArchFromNode, syscallNumber } from '../../src/seccomp/syscalls.js';
import {
  DEFAULT_PATH,
  STACK_LINE,
  asRunner,
  descendants,
  giveTo,
  homeWithProject,
  isolate,
  isolateAsync,
  keyValues,
  killSleepers,
  listProcs,
  plant,
  runners,
  sleepProcs,
  snapshot,
  spawnIsolate,
  tempDirFor,
  uniqueSleep,
  type Project,
  type Result,
  type Runner,
} from '../helpers/isolate.js';

const NSJAIL = findNsjail(process.env);
const PYTHON = '/usr/bin/python3';
const skipReason = process.platform !== 'linux' ? `nsjail needs Linux (this is ${process.platform})` : NSJAIL === undefined ? 'no nsjail binary on PATH or named by ISOLATE_NSJAIL (see docs/backends.md, "Installing nsjail")' : undefined;
if (skipReason !== undefined) console.warn(`nsjail integration tests skipped: ${skipReason}`);
if (skipReason === undefined && !existsSync(PYTHON)) console.warn(`nsjail memory-limit test skipped: ${PYTHON} is not installed`);

/** The environment every run gets: the runner's, plus ISOLATE_NSJAIL when the tests were given one. */
const NSJAIL_ENV: Record<string, string> = process.env['ISOLATE_NSJAIL'] === undefined ? {} : { ISOLATE_NSJAIL: process.env['ISOLATE_NSJAIL'] };


/** `isolate run --backend nsjail <args>` as the runner. */
function nsj(runner: Runner, args: readonly string[], cwd: string, env: Record<string, string>, timeoutMs?: number): Result {
  return isolate(runner, ['run', '--backend', 'nsjail', ...args], { cwd, env: { ...env, ...NSJAIL_ENV }, ...(timeoutMs === undefined ? {} : { timeoutMs }) });
}

function nsjAsync(runner: Runner, args: readonly string[], cwd: string, env: Record<string, string>): Promise<Result> {
  return isolateAsync(runner, ['run', '--backend', 'nsjail', ...args], { cwd, env: { ...env, ...NSJAIL_ENV } });
}



describe.skipIf(skipReason !== undefined)('nsjail backend', () => {
  describe.each(runners())('the backend ($label)', (runner) => {
    let p: Project;
    beforeAll(() => {
      p = homeWithProject(runner);
    });
    afterAll(() => p.cleanup());

    it('runs the command under nsjail and reports it', () => {
      const r = nsj(runner, ['--json', '--', 'sh', '-c', 'echo hello from nsjail'], p.project, p.env);
      expect(r.status, r.stderr).toBe(0);
      const report = JSON.parse(r.stdout) as { backend: { name: string; version: string; argv: string[] }; stdout: string; exitCode: number };
      expect(report.backend.name).toBe('nsjail');
      expect(report.backend.version).toMatch(/^(>=3\.[1-9]|<=3\.0|unknown)$/);
      expect(report.backend.argv).toContain(NSJAIL);
      expect(report.stdout).toBe('hello from nsjail\n');
      expect(report.exitCode).toBe(0);
    });

    it('explain prints a command line that, run with bash, runs the command under nsjail (the init gets its "go")', () => {
      const q = homeWithProject(runner);
      try {
        const env = { ...q.env, ...NSJAIL_ENV };
        const e = JSON.parse(isolate(runner, ['explain', '--json', '--backend', 'nsjail', '--', 'sh', '-c', 'echo "pasted $(cat /proc/sys/kernel/hostname)"; exit 3'], { cwd: q.project, env }).stdout) as {
          commandLine: string;
        };
        expect(e.commandLine).toMatch(/ 4<> <\(echo go\)/);
        const r = asRunner(runner, ['bash', '-c', e.commandLine], { cwd: q.project, env: q.env });
        expect(r.stdout).toBe('pasted isolate\n');
        expect(r.status, r.stderr).toBe(3);
      } finally {
        q.cleanup();
      }
    });

    it('prints nothing of its own: the command\'s output only', () => {
      const r = nsj(runner, ['--', 'sh', '-c', 'echo out; echo err >&2'], p.project, p.env);
      expect(r.status).toBe(0);
      expect(r.stdout).toBe('out\n');
      expect(r.stderr).toBe('err\n');
    });

    it('a missing nsjail fails closed: exit 125, the build instructions, and the command does not run', () => {
      const marker = join(p.project, 'ran.txt');
      const r = isolate(runner, ['run', '--backend', 'nsjail', '--', 'touch', 'ran.txt'], { cwd: p.project, env: { ...p.env, ISOLATE_NSJAIL: '/nonexistent/nsjail' } });
      expect(r.status).toBe(125);
      expect(r.stderr).toMatch(/^isolate: nsjail is not installed/);
      expect(r.stderr).toContain('build it from source');
      expect(r.stderr).toContain('Installing nsjail');
      expect(r.stderr).not.toMatch(STACK_LINE);
      expect(existsSync(marker)).toBe(false);
    });
  });

  // ---- the filesystem ---------------------------------------------------------------

  // ---- protected files, and nothing left behind ----------------------------------------


  describe.each(runners())('protected files ($label)', (runner) => {
    let p: Project;
    beforeEach(() => {
      p = homeWithProject(runner);
      for (const [rel, what] of Object.entries(REPO_FILES)) {
        if (what.startsWith('file:')) plant(runner, p.project, rel, what.slice(5), rel.includes('/hooks/') ? 0o755 : 0o644);
      }
      giveTo(runner, p.home);
      expect(snapshot(p.project)).toEqual(REPO_FILES);
    });
    afterEach(() => p.cleanup());

    it('stay read-only, and the run leaves nothing behind but the command\'s own files', () => {
      const ops = {
        hookAppend: 'echo pwned >> .git/hooks/pre-commit',
        hookCreate: 'echo pwned > .git/hooks/post-checkout',
        hookRemove: 'rm .git/hooks/pre-commit',
        hooksMove: 'mv .git/hooks .git/hooks-moved',
        configAppend: 'echo pwned >> .git/config',
        configRemove: 'rm .git/config',
        gitMove: 'mv .git .git2',
        nestedHook: 'echo pwned > sub/deeper/.git/hooks/pre-push',
        nestedConfigCreate: 'echo pwned > sub/deeper/.git/config',
        subMove: 'mv sub sub2',
        mcp: 'echo pwned > .mcp.json',
        envrc: 'echo pwned > .envrc',
        vscode: 'mkdir .vscode && echo "{}" > .vscode/tasks.json',
        normal: 'echo fine > normal.txt',
        nestedNormal: 'echo fine > sub/deeper/normal.txt',
        headWrite: 'echo "ref: refs/heads/other" > .git/HEAD.new && rm .git/HEAD.new',
      };
      const r = nsj(runner, ['--', 'sh', '-c', attempts(ops)], p.project, p.env);
      expect(r.status, r.stderr).toBe(0);
      const expected: Record<string, string> = Object.fromEntries(Object.keys(ops).map((k) => [k, 'blocked']));
      Object.assign(expected, { normal: 'WROTE', nestedNormal: 'WROTE', headWrite: 'WROTE' });
      expect(keyValues(r.stdout)).toEqual(expected);
      expect(snapshot(p.project)).toEqual({ ...REPO_FILES, 'normal.txt': 'file:fine\n', 'sub/deeper/normal.txt': 'file:fine\n' });
    });

    it('no placeholder is left when the command fails, is killed by a signal, or isolate is stopped with SIGTERM', async () => {
      expect(nsj(runner, ['--', 'sh', '-c', 'test -f .envrc && test ! -s .envrc && exit 3'], p.project, p.env).status).toBe(3);
      expect(snapshot(p.project)).toEqual(REPO_FILES);
      expect(nsj(runner, ['--', 'sh', '-c', 'kill -KILL $$'], p.project, p.env).status).toBe(137);
      expect(snapshot(p.project)).toEqual(REPO_FILES);

      const child = spawnIsolate(runner, ['run', '--backend', 'nsjail', '--', 'sh', '-c', 'echo ready; exec sleep 30'], { cwd: p.project, env: { ...p.env, ...NSJAIL_ENV } });
      try {
        await new Promise<void>((res, rej) => {
          let out = '';
          child.stdout?.on('data', (d: Buffer) => {
            out += d.toString();
            if (out.includes('ready')) res();
          });
          child.on('close', () => rej(new Error(`isolate exited before the command started: ${out}`)));
        });
        expect(existsSync(join(p.project, '.envrc'))).toBe(true); // the placeholder exists while it runs
        const exited = new Promise<number | null>((res) => child.on('exit', (code) => res(code)));
        child.kill('SIGTERM');
        expect(await exited).toBe(143);
        expect(snapshot(p.project)).toEqual(REPO_FILES);
      } finally {
        if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      }
    });
  });

  // ---- pinned directories and protected files: a swap between isolate's search and nsjail's mount ----

  /**
   * Plan with isolate's API as the runner, change the host, then execute the
   * plan (what `isolate run` does, with a gap the test controls). `between`:
   * a shell script run between plan and execute; `inLauncher`: one run by the
   * launcher itself, after run/ opened the plan's descriptors and before
   * nsjail starts; `noCheck`: drop run/'s check of the mounts (the control);
   * `initPrefix`: shell text the sandbox's init runs first (before it reports
   * the start). Paths reach both scripts as positional parameters. Prints the
   * result.
   */
  const PLAN_THEN_RUN = `
    const { pathToFileURL } = await import('node:url');
    const { execFileSync } = await import('node:child_process');
    const [dist, json] = process.argv.slice(1);
    const o = JSON.parse(json);
    const api = await import(pathToFileURL(dist + '/index.js').href);
    const { execute } = await import(pathToFileURL(dist + '/run/execute.js').href);
    let out;
    try {
      const { plan } = await api.plan(o.command, { backend: 'nsjail', callerCwd: o.cwd, callerEnv: process.env, ...(o.allowRead ? { allowRead: o.allowRead } : {}) });
      if (o.noCheck) delete plan.checkPathFds;
      if (o.between) execFileSync('/bin/sh', ['-c', o.between.script, 'between', ...o.between.args], { stdio: 'inherit' });
      if (o.initPrefix) {
        const at = plan.argv.indexOf('isolate-init') - 1;
        if (at < 1 || plan.argv[at - 1] !== '-c') throw new Error('no init in the plan');
        plan.argv[at] = o.initPrefix + plan.argv[at];
      }
      if (o.inLauncher) plan.argv = ['/bin/sh', '-c', o.inLauncher.script + '\\nshift ' + o.inLauncher.args.length + '\\nexec "$@"', 'swap', ...o.inLauncher.args, ...plan.argv];
      const r = await execute(plan, { stdio: 'capture' });
      out = { exitCode: r.exitCode, started: r.started, stdout: r.stdout, stderr: r.stderr, error: r.error === undefined ? null : { code: r.error.code, message: r.error.message, detail: r.error.detail ?? null } };
    } catch (e) {
      out = { thrown: { code: e.code, message: e.message } };
    }
    console.log(JSON.stringify(out));
  `;

  interface PlanThenRun {
    command: string[];
    allowRead?: string[];
    between?: { script: string; args: string[] };
    inLauncher?: { script: string; args: string[] };
    initPrefix?: string;
    noCheck?: boolean;
  }
  interface PlanThenRunResult {
    exitCode?: number;
    started?: boolean;
    stdout?: string;
    stderr?: string;
    error?: { code: string; message: string; detail: string | null } | null;
    thrown?: { code: string; message: string };
  }

  function planThenRun(runner: Runner, p: Project, o: PlanThenRun): PlanThenRunResult {
    const dist = join(dirname(dirname(runner.bin)), 'dist');
    const r = asRunner(runner, [process.execPath, '--input-type=module', '-e', PLAN_THEN_RUN, dist, JSON.stringify({ ...o, cwd: p.project })], {
      cwd: p.project,
      env: { ...p.env, ...NSJAIL_ENV },
      timeoutMs: 20_000,
    });
    expect(r.status, r.stderr).toBe(0);
    return JSON.parse(r.stdout.trim().split('\n').pop() ?? '') as PlanThenRunResult;
  }

  /** Replace $1 with a symlink to $2, keeping the original directory as $1.orig. */
  const SWAP = '/bin/mv "$1" "$1.orig" && /bin/ln -s "$2" "$1"';
  /**
   * SWAP, then, once nsjail has mounted everything and started the init ($3
   * appears: see waitThenReport), swap the original back and say so ($4):
   * the mounts are wherever the link led, the path is the original again.
   */
  const SWAP_AND_BACK = `${SWAP} && (
    i=0; while [ ! -e "$3" ] && [ $i -lt 1000 ]; do /bin/sleep 0.01; i=$((i + 1)); done
    /bin/rm "$1" && /bin/mv "$1.orig" "$1" && : > "$4"
  ) </dev/null >/dev/null 2>&1 3<&- 4<&- &`;
  /** For the init: say it has started ($started), then wait until the original is back ($back), before it reports the start to run/. */
  const waitThenReport = (started: string, back: string): string =>
    `: > '${started}'; i=0; while [ ! -e '${back}' ] && [ $i -lt 1000 ]; do sleep 0.01; i=$((i + 1)); done; `;

  describe.each(runners())('a pinned directory swapped for a symlink ($label)', (runner) => {
    let p: Project;
    let outside: { dir: string; cleanup: () => void };
    const HOOK = '.git/hooks/pre-commit';
    const ORIGINAL_HOOK = '#!/bin/sh\necho original hook\n';
    beforeEach(() => {
      p = homeWithProject(runner);
      for (const [rel, what] of Object.entries(REPO_FILES)) {
        if (what.startsWith('file:')) plant(runner, p.project, rel, what.slice(5), rel.includes('/hooks/') ? 0o755 : 0o644);
      }
      // What a concurrent sandbox in the project points the link to: a directory of its own.
      mkdirSync(join(p.project, 'decoy'));
      outside = tempDirFor(runner);
      giveTo(runner, p.home);
    });
    afterEach(() => {
      p.cleanup();
      outside.cleanup();
    });
    const git = (): string => join(p.project, '.git');
    // The protected hook, reached through the name the real .git has after the swap.
    const attack = ['sh', '-c', 'echo pwned >> .git.orig/hooks/pre-commit; echo ran'];
    const hook = (): string => readFileSync(join(p.project, '.git.orig', 'hooks', 'pre-commit'), 'utf8');

    it('before the start: run/ refuses to open it, nsjail never starts, nothing changes', () => {
      const r = planThenRun(runner, p, { command: attack, between: { script: SWAP, args: [git(), 'decoy'] } });
      expect(r.thrown?.code).toBe('E_SANDBOX_SETUP');
      expect(r.thrown?.message).toBe(`${git()} is reached through a symbolic link now; the command was not run`);
      expect(hook()).toBe(ORIGINAL_HOOK);
      expect(readdirSync(join(p.project, 'decoy'))).toEqual([]);
    });

    it('after run/ opened it, before nsjail mounts it: run/ checks the mounts, refuses, and the command does not run', () => {
      const r = planThenRun(runner, p, { command: attack, inLauncher: { script: SWAP, args: [git(), 'decoy'] } });
      expect(r.exitCode).toBe(125);
      expect(r.started).toBe(false);
      expect(r.error?.code).toBe('E_SANDBOX_SETUP');
      expect(r.error?.message).toBe(`${git()} changed while the sandbox was being set up; the command was not run`);
      expect(r.error?.detail).toBe(`inside the sandbox ${git()} is a symbolic link`);
      expect(r.stdout).toBe('');
      expect(hook()).toBe(ORIGINAL_HOOK);
      // nsjail resolves mount targets on the host, through the link: it made empty mount points in the decoy.
      for (const [rel, what] of Object.entries(snapshot(join(p.project, 'decoy')))) expect(what, rel).toMatch(/^(dir|file:)$/);
    });

    it('swapped during nsjail\'s mounts and back before run/ looks: the mounts are not at the paths, so run/ refuses', () => {
      // The same inode and no link at the path when run/ checks: only where the mounts are tells the difference.
      const [started, back] = [join(p.project, 'init-started'), join(p.project, 'swapped-back')];
      const o: PlanThenRun = {
        command: ['sh', '-c', 'echo pwned >> .git/hooks/pre-commit; echo ran'],
        inLauncher: { script: SWAP_AND_BACK, args: [git(), 'decoy', started, back] },
        initPrefix: waitThenReport(started, back),
      };
      const r = planThenRun(runner, p, o);
      expect(existsSync(back), 'the swap back never happened').toBe(true);
      expect(r.exitCode, JSON.stringify(r)).toBe(125);
      expect(r.started).toBe(false);
      expect(r.error?.code).toBe('E_SANDBOX_SETUP');
      expect(r.error?.message).toBe(`${git()} is not mounted inside the sandbox as isolate asked; the command was not run`);
      expect(r.error?.detail).toBe(`nothing is mounted at ${git()} inside the sandbox (the read-write bind landed elsewhere)`);
      expect(r.stdout).toBe('');
      expect(readFileSync(join(git(), 'hooks', 'pre-commit'), 'utf8')).toBe(ORIGINAL_HOOK);

      // The control: without the check the command runs, and writes the protected hook of the real .git.
      rmSync(started);
      rmSync(back);
      const c = planThenRun(runner, p, { ...o, noCheck: true });
      expect(c.exitCode, JSON.stringify(c)).toBe(0);
      expect(c.stdout).toBe('ran\n');
      expect(readFileSync(join(git(), 'hooks', 'pre-commit'), 'utf8')).toBe(`${ORIGINAL_HOOK}pwned\n`);
    });

    it('control: without run/\'s check nsjail starts the command, which writes the protected hook', () => {
      const r = planThenRun(runner, p, { command: attack, inLauncher: { script: SWAP, args: [git(), 'decoy'] }, noCheck: true });
      expect(r.exitCode, JSON.stringify(r)).toBe(0);
      expect(r.stdout).toBe('ran\n');
      expect(hook()).toBe(`${ORIGINAL_HOOK}pwned\n`);
    });

    it('a link out of the project: nsjail itself fails (its remount finds no mount there), the command does not run, nothing outside gets content', () => {
      const r = planThenRun(runner, p, { command: ['sh', '-c', 'echo pwned > .git/marker; echo ran'], inLauncher: { script: SWAP, args: [git(), outside.dir] } });
      expect(r.exitCode).toBe(125);
      expect(r.started).toBe(false);
      expect(r.error?.code).toBe('E_SANDBOX_SETUP');
      expect(r.stdout).toBe('');
      expect(existsSync(join(outside.dir, 'marker'))).toBe(false);
      // Empty mount points nsjail made where the link leads, before it failed: no content.
      for (const [rel, what] of Object.entries(snapshot(outside.dir))) expect(what, rel).toMatch(/^(dir|file:)$/);
    });

    it('unswapped, the same plan runs, and the hook stays read-only', () => {
      const r = planThenRun(runner, p, { command: ['sh', '-c', `echo x > .git/marker; echo pwned >> ${HOOK} || echo refused`] });
      expect(r.exitCode, JSON.stringify(r)).toBe(0);
      expect(r.started).toBe(true);
      expect(r.stdout).toBe('refused\n');
      expect(readFileSync(join(git(), 'marker'), 'utf8')).toBe('x\n');
      expect(readFileSync(join(p.project, HOOK), 'utf8')).toBe(ORIGINAL_HOOK);
    });

    it('the sandbox never holds isolate\'s descriptors: the init keeps only its stdio, no process any of the pinned paths', () => {
      const r = nsj(runner, ['--', 'sh', '-c', 'echo "init: $(ls /proc/1/fd | tr "\\n" " ")"; for f in /proc/[0-9]*/fd/*; do readlink "$f" || true; done'], p.project, p.env);
      expect(r.status, r.stderr).toBe(0);
      const [init, ...links] = r.stdout.trim().split('\n');
      // stdin, stdout and the command's stderr (3): not the start descriptor (4), nothing isolate opened.
      expect(init).toBe('init: 0 1 3 ');
      expect(links.filter((l) => l.includes('.git'))).toEqual([]);
      expect(links.length).toBeGreaterThan(3);
    });
  });

  // ---- nsjail's own failures are not the command's exit status ------------------------------

  describe.each(runners())('setup failures and exit 255 ($label)', (runner) => {
    let p: Project;
    beforeAll(() => {
      p = homeWithProject(runner);
    });
    afterAll(() => p.cleanup());

    it('a command that exits 255 is 255, with nothing from isolate on stderr', () => {
      const r = nsj(runner, ['--', 'sh', '-c', 'exit 255'], p.project, p.env);
      expect(r.status).toBe(255);
      expect(r.stderr).toBe('');
      const j = nsj(runner, ['--json', '--', 'sh', '-c', 'echo started; exit 255'], p.project, p.env);
      expect(j.status).toBe(255);
      const report = JSON.parse(j.stdout) as { exitCode: number; stdout: string; error?: unknown };
      expect(report.exitCode).toBe(255);
      expect(report.stdout).toBe('started\n');
      expect(report.error ?? null).toBeNull();
    });

    // isolate opens the paths it binds before nsjail starts, and checks them: a source gone since the plan stops the run
    // there, before nsjail could fail on it (nsjail's own failure: the CLI case below).
    it('a mount source that disappears after the plan: the run is refused (E_SANDBOX_SETUP, naming it), and the command does not run', () => {
      const gone = tempDirFor(runner);
      const marker = join(p.project, 'ran.txt');
      try {
        const r = planThenRun(runner, p, { command: ['touch', 'ran.txt'], allowRead: [gone.dir], between: { script: 'rmdir "$1"', args: [gone.dir] } }) as PlanThenRunResult & { thrown?: { code: string; message: string } };
        expect(r.thrown, JSON.stringify(r)).toEqual({ code: 'E_SANDBOX_SETUP', message: `${gone.dir} changed while the sandbox was being set up; the command was not run` });
        expect(existsSync(marker)).toBe(false);
      } finally {
        gone.cleanup();
      }
    });

    it('through the CLI: an nsjail that cannot set up the sandbox is exit 125 with its message, and the command does not run', () => {
      // A real nsjail, given one more mount whose source does not exist.
      const bin = tempDirFor(runner);
      try {
        const wrapper = join(bin.dir, 'nsjail');
        // isolate starts it as `nsjail --config /proc/self/fd/3 -- ...`; options after --config add to the config.
        writeFileSync(wrapper, `#!/bin/sh\n[ "$1" = --config ] || exec ${NSJAIL} "$@"\nc=$2; shift 2\nexec ${NSJAIL} --config "$c" --bindmount_ro /nonexistent-isolate-test:/mnt "$@"\n`);
        chmodSync(wrapper, 0o755);
        chmodSync(bin.dir, 0o755);
        const r = isolate(runner, ['run', '--backend', 'nsjail', '--', 'touch', 'ran.txt'], { cwd: p.project, env: { ...p.env, ISOLATE_NSJAIL: wrapper } });
        expect(r.status).toBe(125);
        expect(r.stderr).toContain('Failed to mount mandatory point');
        expect(r.stderr).toContain('isolate: nsjail could not set up the sandbox (exit 255); the command was not run');
        expect(r.stderr).not.toMatch(STACK_LINE);
        expect(existsSync(join(p.project, 'ran.txt'))).toBe(false);
      } finally {
        bin.cleanup();
      }
    });
  });

  // ---- environment ---------------------------------------------------------------------

  describe.each(runners())('environment ($label)', (runner) => {
    let p: Project;
    let caller: Record<string, string>;
    const secrets: Record<string, string> = {
      GITHUB_TOKEN: token('ghp'),
      AWS_SECRET_ACCESS_KEY: token('aws'),
      DB_PASSWORD: token('dbpw'),
      LC_SECRET_TOKEN: token('lcsecret'),
      FOO: token('foo'),
    };
    beforeAll(() => {
      p = homeWithProject(runner);
      caller = { ...p.env, LANG: 'C.UTF-8', LC_ALL: 'C.UTF-8', TERM: 'xterm-256color', TZ: 'UTC', USER: 'someone', PWD: '/caller/pwd', SHELL: '/bin/caller-shell', ...secrets };
    });
    afterAll(() => p.cleanup());

    const allowed = (): Record<string, string> => ({ PATH: DEFAULT_PATH, HOME: p.home, LANG: 'C.UTF-8', LC_ALL: 'C.UTF-8', TERM: 'xterm-256color', TZ: 'UTC', USER: 'someone', PWD: p.project });

    it('passes exactly the allowlist', () => {
      const r = nsj(runner, ['--', 'env'], p.project, caller);
      expect(r.status, r.stderr).toBe(0);
      expect(keyValues(r.stdout)).toEqual(allowed());
      for (const value of Object.values(secrets)) expect(r.stdout + r.stderr).not.toContain(value);
    });

    it('no caller secret is readable in any /proc/*/environ inside, pid 1\'s included', () => {
      const script = ['cat /proc/1/environ > /dev/null && echo "pid1read=ok"', 'for e in /proc/[0-9]*/environ; do tr "\\0" "\\n" < "$e"; done', 'echo "self=$(cat /proc/self/environ | tr "\\0" " ")"'].join('\n');
      const r = nsj(runner, ['--', 'sh', '-c', script], p.project, caller);
      expect(r.status, r.stderr).toBe(0);
      const kv = keyValues(r.stdout);
      expect(kv['pid1read']).toBe('ok');
      expect(kv['self']).toContain('LANG=C.UTF-8');
      for (const value of Object.values(secrets)) expect(r.stdout).not.toContain(value);
    });

    it('no passed value is on the host\'s process list while the sandbox runs', async () => {
      const marker = uniqueSleep(30);
      const child = spawnIsolate(runner, ['run', '--backend', 'nsjail', '--env', 'GITHUB_TOKEN', '--', 'sleep', marker], { cwd: p.project, env: { ...caller, ...NSJAIL_ENV } });
      try {
        for (let i = 0; i < 200 && sleepProcs(marker).length === 0; i++) await new Promise((r) => setTimeout(r, 25));
        expect(sleepProcs(marker).length).toBe(1);
        // This run's nsjail only: another user's nsjail on the machine has an environment of its own, or one this test may not read.
        const jails = descendants(child.pid as number).filter((t) => t.argv[0] === NSJAIL);
        expect(jails.length).toBeGreaterThan(0); // control: this run's nsjail was found and looked at
        for (const jail of jails) expect(readFileSync(`/proc/${jail.pid}/environ`, 'utf8'), 'nsjail starts with an empty environment').toBe('');
        // No command line on the machine carries the value (this run's own random token; command lines are readable by anyone).
        for (const proc of listProcs()) expect(proc.argv.join(' ')).not.toContain(secrets['GITHUB_TOKEN']);
      } finally {
        child.kill('SIGKILL');
        killSleepers(marker);
      }
    });

    it('--env NAME passes that one variable; --env NAME=VALUE sets one, newlines and quotes included', () => {
      const r = nsj(runner, ['--env', 'GITHUB_TOKEN', '--env', 'ODD=a "b" \\c\nd=e', '--', 'sh', '-c', 'printf "%s|" "$GITHUB_TOKEN" "$ODD"'], p.project, caller);
      expect(r.status, r.stderr).toBe(0);
      expect(r.stdout).toBe(`${secrets['GITHUB_TOKEN']}|a "b" \\c\nd=e|`);
    });
  });

  // ---- namespaces and privileges ---------------------------------------------------------

  const NAMESPACES = ['user', 'pid', 'ipc', 'uts', 'net', 'cgroup', 'mnt'] as const;
  const NS_PROBE = `for n in ${NAMESPACES.join(' ')}; do echo "$n=$(readlink /proc/self/ns/$n)"; done`;

  describe.each(runners())('namespaces and privileges ($label)', (runner) => {
    let p: Project;
    let server: NetServer;
    let port = 0;
    let connections = 0;
    beforeAll(async () => {
      p = homeWithProject(runner);
      server = createNetServer((s) => {
        connections++;
        s.end('hello from host\n');
      });
      await new Promise<void>((res) => server.listen(0, '127.0.0.1', res));
      port = (server.address() as AddressInfo).port;
    });
    afterAll(async () => {
      p.cleanup();
      await new Promise<void>((res) => server.close(() => res()));
    });

    it('every namespace differs from the host\'s; with --net host only the network is shared', () => {
      const host = Object.fromEntries(NAMESPACES.map((n) => [n, readlinkSync(`/proc/self/ns/${n}`)]));
      const r = nsj(runner, ['--', 'sh', '-c', NS_PROBE], p.project, p.env);
      expect(r.status, r.stderr).toBe(0);
      const inside = keyValues(r.stdout);
      for (const n of NAMESPACES) {
        expect(inside[n], n).toMatch(new RegExp(`^${n}:\\[\\d+\\]$`));
        expect(inside[n], `${n} must differ`).not.toBe(host[n]);
      }
      const h = nsj(runner, ['--net', 'host', '--', 'sh', '-c', NS_PROBE], p.project, p.env);
      expect(h.status, h.stderr).toBe(0);
      const hostNet = keyValues(h.stdout);
      expect(hostNet['net']).toBe(host['net']);
      for (const n of NAMESPACES.filter((x) => x !== 'net')) expect(hostNet[n], n).not.toBe(host[n]);
    });

    it('has no capabilities and no_new_privs, also as root', () => {
      const control = asRunner(runner, ['cat', '/proc/self/status'], { cwd: p.project, env: p.env }).stdout;
      expect(control).not.toMatch(/^CapBnd:\s+0000000000000000$/m);
      const r = nsj(runner, ['--', 'cat', '/proc/self/status'], p.project, p.env);
      expect(r.status, r.stderr).toBe(0);
      for (const field of ['CapInh', 'CapPrm', 'CapEff', 'CapBnd', 'CapAmb']) expect(r.stdout).toMatch(new RegExp(`^${field}:\\s+0000000000000000$`, 'm'));
      expect(r.stdout).toMatch(/^NoNewPrivs:\s+1$/m);
      expect(r.stdout).toMatch(/^Seccomp:\s+2$/m);
      expect(r.stdout).toMatch(new RegExp(`^Uid:\\s+${runner.uid}\\s`, 'm')); // the same uid inside
    });

    it('cannot create nested user namespaces, with the default preset or with none', () => {
      expect(asRunner(runner, ['unshare', '--user', 'true'], { cwd: p.project, env: p.env }).status).toBe(0); // control
      const r = nsj(runner, ['--', 'unshare', '--user', 'true'], p.project, p.env);
      expect(r.status).not.toBe(0);
      expect(r.stderr).toMatch(/unshare failed/);
      const profile = join(p.home, 'no-seccomp.yaml');
      writeFileSync(profile, 'extends: default\nsyscalls:\n  preset: none\n');
      giveTo(runner, p.home);
      const none = nsj(runner, ['-p', profile, '--', 'unshare', '--user', 'true'], p.project, p.env);
      expect(none.status).not.toBe(0);
      expect(none.stderr).toMatch(/unshare failed/);
    });

    it('has its own pid numbering and the hostname "isolate"', () => {
      const r = nsj(runner, ['--', 'sh', '-c', 'echo "pid=$$"; echo "hostname=$(hostname)"'], p.project, p.env);
      expect(r.status, r.stderr).toBe(0);
      const kv = keyValues(r.stdout);
      expect(Number(kv['pid'])).toBeLessThanOrEqual(5);
      expect(Number(kv['pid'])).toBeGreaterThan(1); // the init is PID 1, the command its child
      expect(kv['hostname']).toBe('isolate');
      expect(hostname()).not.toBe('isolate');
    });

    it('has no network: only loopback, and the host\'s loopback server is unreachable', async () => {
      const probe = ['bash', '-c', `cat /proc/net/dev | tail -n +3 | cut -d: -f1 | tr -d " " | tr "\\n" " "; echo; if exec 3<>/dev/tcp/127.0.0.1/${port}; then read -r line <&3; echo "connected: $line"; else echo "no connection"; fi`];
      const before = connections;
      const control = await nsjAsync(runner, ['--net', 'host', '--', ...probe], p.project, p.env);
      expect(control.stdout).toContain('connected: hello from host');
      const r = await nsjAsync(runner, ['--', ...probe], p.project, p.env);
      expect(r.status, r.stderr).toBe(0);
      expect(r.stdout.split('\n')[0]?.trim()).toBe('lo');
      expect(r.stdout).toContain('no connection');
      await new Promise((res) => setTimeout(res, 50));
      expect(connections).toBe(before + 1);
    });
  });

  // ---- seccomp -------------------------------------------------------------------------

  const arch = seccompArchFromNode();
  const seccompSkip = !existsSync(PYTHON) ? `${PYTHON} is not installed` : arch === undefined ? `no seccomp tables for ${process.arch}` : undefined;
  if (skipReason === undefined && seccompSkip !== undefined) console.warn(`nsjail seccomp tests skipped: ${seccompSkip}`);

  /** {ret, errno} of raw system calls, made with ctypes; ptrace and personality in a forked child. */
  const PROBE = String.raw`import ctypes, json, os, sys
nr = json.loads(sys.argv[1])
libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long
U = ctypes.c_ulong
def sc(n, *a):
    ctypes.set_errno(0)
    r = libc.syscall(U(n), *[U(x & 0xffffffffffffffff) for x in a])
    return [r, ctypes.get_errno()]
def child(fn):
    rfd, wfd = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.write(wfd, json.dumps(fn()).encode()); os._exit(0)
    os.close(wfd); data = os.read(rfd, 4096); os.waitpid(pid, 0)
    return json.loads(data)
out = {}
out['ptrace'] = child(lambda: sc(nr['ptrace'], 0, 0, 0, 0))
out['mount'] = sc(nr['mount'], 0, 0, 0, 0, 0)
out['unshare_user'] = sc(nr['unshare'], 0x10000000)
out['bpf'] = sc(nr['bpf'], 0xffff, 0, 0)
out['keyctl'] = sc(nr['keyctl'], 0, -3, 0)
out['io_uring_setup'] = sc(nr['io_uring_setup'], 1, 0)
out['clone3'] = sc(nr['clone3'], 0, 0)
out['tiocsti'] = sc(nr['ioctl'], 0, 0x5412, 0)
out['tiocsti_high'] = sc(nr['ioctl'], 0, 0x100005412, 0)
out['tcgets'] = sc(nr['ioctl'], 99, 0x5401, 0)
out['personality'] = child(lambda: sc(nr['personality'], 0x0040000))
out['personality_query'] = sc(nr['personality'], 0xffffffff)
out['chroot'] = sc(nr['chroot'], 0)
if nr.get('x32_getpid'):
    out['x32_getpid'] = sc(nr['x32_getpid'])
print(json.dumps(out))`;

  function probeNumbers(): Record<string, number> {
    if (arch === undefined) throw new Error('unreachable');
    const out: Record<string, number> = {};
    for (const name of ['ptrace', 'mount', 'unshare', 'bpf', 'keyctl', 'io_uring_setup', 'clone3', 'ioctl', 'personality', 'chroot']) {
      const n = syscallNumber(arch, name);
      if (n === undefined) throw new Error(name);
      out[name] = n;
    }
    if (arch === 'x86_64') out['x32_getpid'] = 0x40000000 + 39;
    return out;
  }

  describe.skipIf(seccompSkip !== undefined).each(runners())('seccomp ($label)', (runner) => {
    let p: Project;
    beforeAll(() => {
      p = homeWithProject(runner);
      writeFileSync(join(p.home, 'probe.py'), PROBE);
      writeFileSync(join(p.home, 'no-seccomp.yaml'), `extends: default\nfilesystem:\n  read: [${p.home}/probe.py]\nsyscalls:\n  preset: none\n`);
      writeFileSync(join(p.home, 'chroot-denied.yaml'), `extends: default\nfilesystem:\n  read: [${p.home}/probe.py]\nsyscalls:\n  deny: [chroot]\n  allow: [ptrace]\n`);
      giveTo(runner, p.home);
    });
    afterAll(() => p.cleanup());

    const probe = (profileArgs: string[]): Record<string, [number, number]> => {
      const r = nsj(runner, [...profileArgs, '--allow-read', join(p.home, 'probe.py'), '--', PYTHON, join(p.home, 'probe.py'), JSON.stringify(probeNumbers())], p.project, p.env);
      expect(r.status, r.stderr).toBe(0);
      return JSON.parse(r.stdout) as Record<string, [number, number]>;
    };

    it('refuses the preset\'s calls with EPERM or ENOSYS, arguments checked on their low 32 bits', () => {
      const out = probe([]);
      const EPERM = 1;
      const ENOSYS = 38;
      expect(out['ptrace']).toEqual([-1, EPERM]);
      expect(out['mount']).toEqual([-1, EPERM]);
      expect(out['unshare_user']).toEqual([-1, EPERM]);
      expect(out['bpf']).toEqual([-1, EPERM]);
      expect(out['keyctl']).toEqual([-1, EPERM]);
      expect(out['io_uring_setup']).toEqual([-1, ENOSYS]);
      expect(out['clone3']).toEqual([-1, ENOSYS]);
      expect(out['tiocsti']).toEqual([-1, EPERM]);
      expect(out['tiocsti_high']).toEqual([-1, EPERM]);
      expect(out['tcgets']?.[1]).toBe(9); // EBADF: other ioctls reach the kernel
      expect(out['personality']).toEqual([-1, EPERM]);
      expect(out['personality_query']?.[0]).toBeGreaterThanOrEqual(0);
      expect(out['chroot']?.[1]).not.toBe(EPERM); // not in the preset: EFAULT from the kernel
      if (arch === 'x86_64') expect(out['x32_getpid']).toEqual([-1, EPERM]);
    });

    it('follows the profile: preset none lets the calls through (control), deny and allow change single calls', () => {
      const none = probe(['-p', join(p.home, 'no-seccomp.yaml')]);
      expect(none['ptrace']?.[0]).toBe(0); // PTRACE_TRACEME works without the filter
      expect(none['bpf']?.[1]).not.toBe(1);
      expect(none['tiocsti']?.[1]).not.toBe(1);
      expect(none['unshare_user']).toEqual([-1, 1]); // still refused: nested user namespaces stay off
      const custom = probe(['-p', join(p.home, 'chroot-denied.yaml')]);
      expect(custom['chroot']).toEqual([-1, 1]);
      expect(custom['ptrace']?.[0]).toBe(0);
      expect(custom['mount']).toEqual([-1, 1]);
    });
  });

  // ---- exit codes, limits and the timeout ----------------------------------------------------

  describe.each(runners())('exit codes and limits ($label)', (runner) => {
    let p: Project;
    beforeAll(() => {
      p = homeWithProject(runner);
    });
    afterAll(() => p.cleanup());
    const run = (args: string[], timeoutMs?: number): Result => nsj(runner, args, p.project, p.env, timeoutMs);

    it("returns the child's exit code, with nothing on stderr", () => {
      for (const code of [0, 1, 7, 42, 124, 125, 126, 127, 255]) {
        const r = run(['--', 'sh', '-c', `exit ${code}`]);
        expect(r.status, `exit ${code}`).toBe(code);
        expect(r.stderr).toBe('');
      }
    });

    it('returns 128+N when the command is killed by signal N (also when it signals itself), without notices on stderr', () => {
      for (const [sig, code] of [['TERM', 143], ['KILL', 137], ['INT', 130], ['SEGV', 139], ['HUP', 129]] as const) {
        const r = run(['--', 'sh', '-c', `kill -${sig} $$`]);
        expect(r.status, `SIG${sig}`).toBe(code);
        expect(r.signal).toBeNull();
        expect(r.stderr, `SIG${sig}`).toBe('');
      }
    });

    it('127 for a command that is not there, 126 for one that is not executable; the command does not run', () => {
      const r = run(['--', 'no-such-command-xyz']);
      expect(r.status).toBe(127);
      expect(r.stderr).toMatch(/not found/);
      plant(runner, p.project, 'script.sh', '#!/bin/sh\ntouch ran.txt\n', 0o644);
      const n = run(['--', './script.sh']);
      expect(n.status).toBe(126);
      expect(existsSync(join(p.project, 'ran.txt'))).toBe(false);
      rmSync(join(p.project, 'script.sh'));
    });

    it('--timeout: exit 124 after the timeout, not after the command, and nothing keeps running', () => {
      const marker = uniqueSleep(30);
      const started = Date.now();
      const r = run(['--timeout', '1s', '--', 'sh', '-c', `sleep ${marker}; echo not-reached`], 15_000);
      const took = Date.now() - started;
      expect(r.status, r.stderr).toBe(124);
      expect(r.stdout).not.toContain('not-reached');
      expect(took).toBeGreaterThanOrEqual(1000);
      expect(took).toBeLessThan(8000);
      expect(sleepProcs(marker)).toEqual([]);
    });

    it('without limits in the profile nothing is limited by nsjail\'s own defaults', () => {
      // The runner's hard limits (what a command could raise its soft limits to), never nsjail's defaults
      // (32 open files, 1 MiB files, 600 s of CPU, 4 GiB of address space).
      const host = keyValues(asRunner(runner, ['sh', '-c', 'echo "nofile=$(ulimit -H -n)"; echo "fsize=$(ulimit -H -f)"; echo "cpu=$(ulimit -H -t)"; echo "as=$(ulimit -H -v)"'], { cwd: p.project, env: p.env }).stdout);
      const r = run(['--', 'sh', '-c', 'echo "nofile=$(ulimit -n)"; echo "fsize=$(ulimit -f)"; echo "cpu=$(ulimit -t)"; echo "as=$(ulimit -v)"; echo "core=$(ulimit -c)"']);
      expect(r.status, r.stderr).toBe(0);
      expect(keyValues(r.stdout)).toEqual({ ...host, core: '0' });
      expect(Number(host['nofile'])).toBeGreaterThan(32);
    });

    it('--cpu ends a busy loop with SIGXCPU (152); --file-size a large write with SIGXFSZ (153)', () => {
      const cpu = run(['--cpu', '1s', '--', 'sh', '-c', 'while :; do :; done'], 15_000);
      expect(cpu.status).toBe(152);
      const fsize = run(['--file-size', '100K', '--', 'dd', 'if=/dev/zero', 'of=big.bin', 'bs=1024', 'count=200'], 15_000);
      expect(fsize.status).toBe(153);
      expect(readFileSync(join(p.project, 'big.bin')).length).toBe(100 * 1024); // exactly the limit: prlimit, not nsjail's whole MiB
      rmSync(join(p.project, 'big.bin'), { force: true });
    });

    it('--open-files and --memory limit the command', () => {
      const files = run(['--open-files', '16', '--', 'sh', '-c', 'ulimit -n; for i in $(seq 20 40); do eval "exec $i</dev/null" || exit 9; done'], 15_000);
      expect(files.stdout.trim()).toBe('16');
      expect(files.status).not.toBe(0);
    });

    it.skipIf(!existsSync(PYTHON))('--memory makes a large allocation fail, a small one succeed', () => {
      const mem = run(['--memory', '64M', '--', PYTHON, '-c', 'x = bytearray(256 * 1024 * 1024)'], 15_000);
      expect(mem.status).toBe(1);
      expect(mem.stderr).toContain('MemoryError');
      const ok = run(['--memory', '256M', '--', PYTHON, '-c', 'x = bytearray(16 * 1024 * 1024); print("ok")'], 15_000);
      expect(ok.stdout).toBe('ok\n');
    });

    // The kernel exempts uid 0 from RLIMIT_NPROC: as root the limit is held by a cgroup, or refused without one (next tests).
    if (runner.uid === 0) console.warn('nsjail RLIMIT_NPROC fork-bomb test skipped as root: the kernel does not apply RLIMIT_NPROC to uid 0 (the cgroup tests below cover root)');
    it.skipIf(runner.uid === 0)('--processes stops a fork bomb (not as root)', () => {
      const r = run(['--processes', '16', '--', 'sh', '-c', 'i=0; while [ $i -lt 40 ]; do sleep 2 & i=$((i+1)); done; wait'], 20_000);
      expect(r.status).not.toBe(0);
      expect(r.stderr).toMatch(/fork|Resource temporarily unavailable/i);
    });

    if (runner.uid === 0) console.warn(`nsjail --processes as root: ${cgroupSupport(runner).usable ? 'a cgroup is usable, so the refusal without one is not tested' : 'no usable cgroup, so only the refusal is tested'}`);
    it.skipIf(runner.uid !== 0 || cgroupSupport(runner).usable)('as root without a cgroup, refuses --processes', () => {
      const r = run(['--processes', '16', '--', 'true']);
      expect(r.status).toBe(125);
      expect(r.stderr).toContain('root');
    });

    it.skipIf(runner.uid !== 0 || !cgroupSupport(runner).usable)('as root with a cgroup, --processes 5 holds: the command gets exactly 5 (itself and 4 children), then forks fail with EAGAIN', () => {
      const fork = 'import os\nn = 0\ntry:\n    for i in range(20):\n        if os.fork() == 0:\n            import time; time.sleep(1); os._exit(0)\n        n += 1\n    print("forked", n)\nexcept OSError as e:\n    print("stopped", n, e.errno)\n';
      const r = run(['--processes', '5', '--', '/usr/bin/python3', '-c', fork]);
      expect(r.status, r.stderr).toBe(0);
      // pids.max also counts nsjail and its init (the sandbox's PID 1), which are not the command's.
      expect(r.stdout.trim()).toBe('stopped 4 11');
    });
  });

  // ---- the filtered network --------------------------------------------------------------

  describe.each(runners())('network filtered ($label)', (runner) => {
    let p: Project;
    let server: HttpServer;
    let port = 0;
    const body = token('through-the-filter');
    beforeAll(async () => {
      p = homeWithProject(runner);
      server = createHttpServer((_req, res) => res.end(body));
      await new Promise<void>((res) => server.listen(0, '127.0.0.1', res));
      port = (server.address() as AddressInfo).port;
    });
    afterAll(async () => {
      p.cleanup();
      server.closeAllConnections();
      await new Promise<void>((res) => server.close(() => res()));
    });

    it('reaches an allowed host through the proxy, and nothing else', async () => {
      const curl = (url: string): string[] => ['curl', '-sS', '--max-time', '5', '-o', '-', '-w', '\\n%{http_code}', url];
      const ok = await nsjAsync(runner, ['--allow-domain', `localhost:${port}`, '--', ...curl(`http://localhost:${port}/`)], p.project, p.env);
      expect(ok.status, ok.stderr).toBe(0);
      expect(ok.stdout).toBe(`${body}\n200`);
      const denied = await nsjAsync(runner, ['--allow-domain', `localhost:${port}`, '--', ...curl('http://example.org/')], p.project, p.env);
      expect(denied.stdout).toMatch(/403$/);
      expect(denied.stdout).not.toContain(body);
      // Direct connections (no proxy) fail: the sandbox has no network but loopback.
      const direct = await nsjAsync(runner, ['--allow-domain', `localhost:${port}`, '--', 'curl', '-sS', '--noproxy', '*', '--max-time', '3', `http://127.0.0.1:${port}/`], p.project, p.env);
      expect(direct.status).not.toBe(0);
      expect(direct.stdout).not.toContain(body);
    });
  });

  // ---- mounts nested under read-only paths ------------------------------------------------

  const canMount = process.getuid?.() === 0;
  if (skipReason === undefined && !canMount) console.warn('nsjail nested-mount test skipped: mounting a tmpfs on the host needs root');

  describe.skipIf(!canMount).each(runners())('a mount nested in a read-only path ($label)', (runner) => {
    it('is read-only inside, as bwrap makes it (nsjail alone would leave it writable)', () => {
      const { dir, cleanup } = tempDirFor(runner);
      const nested = join(dir, 'ro', 'nested');
      mkdirSync(nested, { recursive: true });
      giveTo(runner, dir);
      const mounted = spawnSync('mount', ['-t', 'tmpfs', '-o', `mode=0777,uid=${runner.uid},gid=${runner.gid}`, 'tmpfs', nested]);
      try {
        expect(mounted.status, mounted.stderr?.toString()).toBe(0);
        // Control: the runner can write there on the host.
        expect(asRunner(runner, ['sh', '-c', `echo host > ${nested}/control`], { cwd: dir, env: { PATH: DEFAULT_PATH } }).status).toBe(0);
        const project = join(dir, 'project');
        mkdirSync(project);
        giveTo(runner, project);
        const r = nsj(runner, ['--allow-read', join(dir, 'ro'), '--', 'sh', '-c', attempts({ nested: `echo pwned > ${nested}/f`, top: `echo pwned > ${dir}/ro/f`, read: `test "$(cat ${nested}/control)" = host` })], project, { HOME: dir, PATH: DEFAULT_PATH });
        expect(r.status, r.stderr).toBe(0);
        expect(keyValues(r.stdout)).toEqual({ nested: 'blocked', top: 'blocked', read: 'WROTE' });
        expect(existsSync(join(nested, 'f'))).toBe(false);
      } finally {
        spawnSync('umount', [nested]);
        cleanup();
      }
    });
  });

  // ---- isolate's own escape attempts ------------------------------------------------------

  // The selftest API runs its probes with a synthetic environment: nsjail must be in a system directory.
  const selftestSkip = findNsjail({ PATH: DEFAULT_PATH }) === undefined ? 'nsjail is only named by ISOLATE_NSJAIL, which the selftest does not pass on' : undefined;
  if (skipReason === undefined && selftestSkip !== undefined) console.warn(`nsjail selftest skipped: ${selftestSkip}`);

  it.skipIf(selftestSkip !== undefined)(`selftest: every escape probe is blocked under nsjail (as ${process.getuid?.() === 0 ? 'root' : 'this user'})`, async () => {
    const { selftest } = await import('../../src/selftest/run.js');
    const card = await selftest({ backend: 'nsjail', profile: 'default' });
    expect(card.backend).toMatch(/^nsjail /);
    const outcomes = Object.fromEntries(card.probes.map((p) => [p.id, p.outcome]));
    // As root the fork bomb is held by a cgroup's pids.max, or skipped with the reason on a host without one.
    const self = runners()[0];
    const rootWithoutCgroup = process.getuid?.() === 0 && self !== undefined && !cgroupSupport(self).usable;
    expect(outcomes['fork-bomb']).toBe(rootWithoutCgroup ? 'skipped' : 'blocked');
    delete outcomes['fork-bomb'];
    expect(Object.keys(outcomes).length).toBeGreaterThanOrEqual(15);
    for (const [id, outcome] of Object.entries(outcomes)) expect(outcome, id).toBe('blocked');
    expect(card.ok).toBe(true);
  }, 120_000);

  // ---- the other user's directory, and leftovers ----------------------------------------

  describe.each(runners())('leftovers ($label)', (runner) => {
    it('leaves nothing in the project, and no process behind', () => {
      const { dir, cleanup } = tempDirFor(runner);
      try {
        const project = join(dir, 'project');
        mkdirSync(project);
        chmodSync(project, 0o755);
        giveTo(runner, dir);
        const env = { HOME: dir, PATH: DEFAULT_PATH };
        const marker = uniqueSleep(30);
        const r = nsj(runner, ['--', 'sh', '-c', `sleep ${marker} & echo started`], project, env);
        expect(r.status, r.stderr).toBe(0);
        expect(readdirSync(project)).toEqual([]);
        expect(sleepProcs(marker)).toEqual([]); // the background child died with the sandbox
      } finally {
        cleanup();
      }
    });
  });
});
