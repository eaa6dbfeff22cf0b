/**
 * `isolate run --backend oci` in real sandboxes, beyond the battery every
 * backend gets (backends.test.ts: selftest, exit codes, environment) and the
 * SIGKILL test (faults.test.ts): protected files, a pinned directory swapped
 * for a symlink between isolate's open and the runtime's mount, nothing left
 * behind after a run, and the filtered network. As the current user and (as
 * root) as an unprivileged user. Skipped, with the reason printed, when no
 * OCI runtime works here.
 */
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname, join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ociRuntimes } from '../../src/host/oci-runtime.js';
import { REPO_FILES, attempts } from '../helpers/fs-fixture.js';
import { asRunner, giveTo, homeWithProject, isolate, isolateAsync, keyValues, plant, runners, snapshot, spawnIsolate, type Project, type Result, type Runner } from '../helpers/isolate.js';

const usable = process.platform === 'linux' ? ociRuntimes().find((r) => r.refused === undefined) : undefined;
const skipReason = process.platform !== 'linux' ? `OCI runtimes need Linux (this is ${process.platform})` : usable === undefined ? 'no OCI runtime that works here (apt-get install runc)' : undefined;
if (skipReason !== undefined) console.warn(`--backend oci integration tests skipped: ${skipReason}`);

/**
 * The project's environment with a state directory of its own (in its home), so that the bundles a test
 * counts are its runs' only: test files run at once, and a runner's state directory may be shared.
 */
const envOf = (p: Project): Record<string, string> => ({ ...p.env, XDG_STATE_HOME: join(p.home, '.state') });

function oci(runner: Runner, args: readonly string[], p: Project, timeoutMs = 60_000): Result {
  return isolate(runner, ['run', '--backend', 'oci', ...args], { cwd: p.project, env: envOf(p), timeoutMs });
}

/** isolate's runtime directory for the project's runs (its state directory's run/), where the bundles go. */
const runtimeDir = (p: Project): string => join(p.home, '.state', 'isolate', 'run');
const bundles = (p: Project): string[] => (statSync(runtimeDir(p), { throwIfNoEntry: false }) === undefined ? [] : readdirSync(runtimeDir(p)).filter((n) => /^(oci-|isolate-removing-)/.test(n)));

/** Plan with isolate's API, let the launcher run `inLauncher` first (after run/ opened the plan's descriptors), then execute; prints the result. */
const PLAN_THEN_RUN = `
  const { pathToFileURL } = await import('node:url');
  const [dist, json] = process.argv.slice(1);
  const o = JSON.parse(json);
  const api = await import(pathToFileURL(dist + '/index.js').href);
  const { execute } = await import(pathToFileURL(dist + '/run/execute.js').href);
  const { plan } = await api.plan(o.command, { backend: 'oci', callerCwd: o.cwd, callerEnv: process.env });
  if (o.noCheck) delete plan.checkPathFds;
  if (o.inLauncher) plan.argv = ['/bin/sh', '-c', o.inLauncher.script + '\\nshift ' + o.inLauncher.args.length + '\\nexec "$@"', 'swap', ...o.inLauncher.args, ...plan.argv];
  const r = await execute(plan, { stdio: 'capture' });
  console.log(JSON.stringify({ exitCode: r.exitCode, started: r.started, stdout: r.stdout, error: r.error === undefined ? null : { code: r.error.code, message: r.error.message, detail: r.error.detail ?? null } }));
`;

interface PlanThenRunResult {
  exitCode: number;
  started: boolean;
  stdout: string;
  error: { code: string; message: string; detail: string | null } | null;
}

function planThenRun(runner: Runner, p: Project, o: { command: string[]; inLauncher?: { script: string; args: string[] }; noCheck?: boolean }): PlanThenRunResult {
  const dist = join(dirname(dirname(runner.bin)), 'dist');
  const r = asRunner(runner, [process.execPath, '--input-type=module', '-e', PLAN_THEN_RUN, dist, JSON.stringify({ ...o, cwd: p.project })], { cwd: p.project, env: envOf(p), timeoutMs: 60_000 });
  expect(r.status, r.stderr).toBe(0);
  return JSON.parse(r.stdout.trim().split('\n').pop() ?? '') as PlanThenRunResult;
}

describe.skipIf(skipReason !== undefined).each(runners())('--backend oci ($label)', (runner) => {
  let p: Project;
  beforeEach(() => {
    p = homeWithProject(runner);
    for (const [rel, what] of Object.entries(REPO_FILES)) {
      if (what.startsWith('file:')) plant(runner, p.project, rel, what.slice(5), rel.includes('/hooks/') ? 0o755 : 0o644);
    }
    mkdirSync(join(p.project, 'decoy'));
    giveTo(runner, p.home);
  });
  afterEach(() => p.cleanup());

  it('protected files stay read-only, the run leaves nothing behind but the command\'s own files, and no bundle', () => {
    const ops = {
      hookAppend: 'echo pwned >> .git/hooks/pre-commit',
      hooksMove: 'mv .git/hooks .git/hooks-moved',
      configAppend: 'echo pwned >> .git/config',
      gitMove: 'mv .git .git2',
      nestedHook: 'echo pwned > sub/deeper/.git/hooks/pre-push',
      envrc: 'echo pwned > .envrc',
      normal: 'echo fine > normal.txt',
    };
    const r = oci(runner, ['--', 'sh', '-c', attempts(ops)], p);
    expect(r.status, r.stderr).toBe(0);
    expect(keyValues(r.stdout)).toEqual({ ...Object.fromEntries(Object.keys(ops).map((k) => [k, 'blocked'])), normal: 'WROTE' });
    expect(snapshot(p.project)).toEqual({ ...REPO_FILES, decoy: 'dir', 'normal.txt': 'file:fine\n' });
    expect(bundles(p)).toEqual([]);
    // A run the timeout ends (the runtime is killed): its container is deleted and its bundle removed too.
    expect(oci(runner, ['--timeout', '1s', '--', 'sleep', '30'], p).status).toBe(124);
    expect(bundles(p)).toEqual([]);
    expect(snapshot(p.project)).toEqual({ ...REPO_FILES, decoy: 'dir', 'normal.txt': 'file:fine\n' });
  });

  it('signals sent to isolate reach the container: a trap runs and its code is isolate\'s; a plain sleep dies of SIGINT (130)', async () => {
    const signalled = async (command: string[], signal: NodeJS.Signals): Promise<{ code: number | null; stdout: string }> => {
      const child = spawnIsolate(runner, ['run', '--backend', 'oci', '--', ...command], { cwd: p.project, env: envOf(p) });
      let stdout = '';
      child.stdout?.setEncoding('utf8').on('data', (d: string) => (stdout += d));
      const closed = new Promise<number | null>((res) => child.on('close', (code) => res(code)));
      try {
        // Sent once the command runs (it says so, or a moment after the start).
        for (let i = 0; i < 1200 && !stdout.includes('ready'); i++) await new Promise((r) => setTimeout(r, 25));
        child.kill(signal);
        return { code: await closed, stdout };
      } finally {
        if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      }
    };
    const trapped = await signalled(['sh', '-c', 'trap "echo got-term; exit 7" TERM; echo ready; sleep 30 & wait'], 'SIGTERM');
    expect(trapped).toEqual({ code: 7, stdout: 'ready\ngot-term\n' });
    const plain = await signalled(['sh', '-c', 'echo ready; exec sleep 30'], 'SIGINT');
    expect(plain.code).toBe(130);
    expect(bundles(p)).toEqual([]);
  });

  it('explain --backend oci prints a command line that, run with bash, writes the bundle, runs the command under the runtime and removes the bundle', () => {
    const e = isolate(runner, ['explain', '--backend', 'oci', '--json', '--', 'sh', '-c', 'echo "home=$HOME"; exit 6'], { cwd: p.project, env: envOf(p) });
    expect(e.status, e.stderr).toBe(0);
    const line = (JSON.parse(e.stdout) as { commandLine: string }).commandLine;
    expect(line).toContain('"HOME=\'"$HOME"\'"');
    const r = asRunner(runner, ['/bin/bash', '-c', line], { cwd: p.project, env: envOf(p), timeoutMs: 60_000 });
    expect(r.status, r.stderr).toBe(6);
    expect(r.stdout).toBe(`home=${p.env['HOME'] ?? ''}\n`);
    expect(bundles(p)).toEqual([]);
    // The line leaves the placeholders of missing protected names behind (explain says so); the project's files are as they were.
    expect(snapshot(p.project)).toEqual(expect.objectContaining({ ...REPO_FILES, decoy: 'dir' }));
  });

  it('a pinned directory swapped for a symlink to a look-alike after isolate opened it: the runtime mounts the look-alike, isolate\'s check refuses, the command does not run', () => {
    const git = join(p.project, '.git');
    // A look-alike made by a concurrent sandbox in the project (the placeholders run/ just made included), and the link to it.
    const SWAP = '/bin/mv "$1" "$1.orig" && /bin/cp -a "$1.orig" "$2/g" && /bin/ln -s "$2/g" "$1"';
    const swap = { script: SWAP, args: [git, join(p.project, 'decoy')] };
    const attack = ['sh', '-c', 'echo pwned >> .git.orig/hooks/pre-commit; echo ran'];
    const r = planThenRun(runner, p, { command: attack, inLauncher: swap });
    expect(r.exitCode, JSON.stringify(r)).toBe(125);
    expect(r.started).toBe(false);
    expect(r.error?.code).toBe('E_SANDBOX_SETUP');
    expect(r.error?.message, JSON.stringify(r.error)).toBe(`${git} changed while the sandbox was being set up; the command was not run`);
    expect(r.stdout).toBe('');
    expect(readFileSync(join(p.project, '.git.orig/hooks/pre-commit'), 'utf8')).toBe('#!/bin/sh\necho original hook\n');

    // The control: without the check the runtime starts the command, which writes the protected hook through the other name.
    rmSync(git);
    rmSync(join(p.project, 'decoy/g'), { recursive: true });
    renameSync(`${git}.orig`, git);
    const c = planThenRun(runner, p, { command: attack, inLauncher: swap, noCheck: true });
    expect(c.exitCode, JSON.stringify(c)).toBe(0);
    expect(c.stdout).toBe('ran\n');
    expect(readFileSync(join(p.project, '.git.orig/hooks/pre-commit'), 'utf8')).toBe('#!/bin/sh\necho original hook\npwned\n');
  });
});

describe.skipIf(skipReason !== undefined).each(runners())('--backend oci, filtered network ($label)', (runner) => {
  let server: Server;
  let port: number;
  let p: Project;
  beforeAll(async () => {
    server = createServer((_req, res) => res.end('oci-allowed-body'));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
    p = homeWithProject(runner);
  });
  afterAll(() => {
    server.close();
    p.cleanup();
  });

  it('an allowed host:port answers through the proxy; another port gets 403 and the server is not reached; --net none reaches nothing', async () => {
    const url = (q: number): string => `http://localhost:${q}/`;
    const ok = await isolateAsync(runner, ['run', '--backend', 'oci', '--allow-domain', `localhost:${port}`, '--', 'curl', '-sS', url(port)], { cwd: p.project, env: envOf(p) });
    expect(ok.status, ok.stderr).toBe(0);
    expect(ok.stdout).toBe('oci-allowed-body');
    const denied = await isolateAsync(runner, ['run', '--backend', 'oci', '--allow-domain', `localhost:${port + 1}`, '--', 'curl', '-sS', '-o', '/dev/null', '-w', '%{http_code}', url(port)], { cwd: p.project, env: envOf(p) });
    expect(denied.stdout).toBe('403');
    const none = await isolateAsync(runner, ['run', '--backend', 'oci', '--net', 'none', '--', 'curl', '-sS', '-m', '3', `http://127.0.0.1:${port}/`], { cwd: p.project, env: envOf(p) });
    expect(none.status).not.toBe(0);
    expect(none.stdout).not.toContain('oci-allowed-body');
    expect(existsSync(runtimeDir(p))).toBe(true);
    expect(bundles(p)).toEqual([]);
  });
});
