/**
 * Descriptors the caller leaves open never reach the sandboxed command: it
 * has exactly stdin, stdout and stderr, whatever isolate (the CLI, or the
 * Node program that uses the API) was started with. The attack: a descriptor
 * on a directory outside the sandbox's view (`isolate run -- cat
 * /proc/self/fd/200/etc/shadow 200</`) reads what the profile hides, and one
 * on a file of the caller writes where the profile forbids it.
 *
 * Node marks descriptors 0-15 (and any open ones right after them)
 * close-on-exec when it starts (libuv's uv_disable_stdio_inheritance), so
 * the descriptors that can leak are the ones above a gap: these tests use
 * 77 and 200. Runs for bwrap and, when they are installed, for nsjail and
 * an OCI runtime (runc, crun).
 */
import { closeSync, constants, openSync, readFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { findNsjail } from '../../src/host/facts.js';
import { ociRuntimes } from '../../src/host/oci-runtime.js';
import { DEFAULT_PATH, asRunner, homeWithProject, isolate, plant, runners, tempDirFor, type Project, type Runner } from '../helpers/isolate.js';
import { token } from '../helpers/fs-fixture.js';

const NSJAIL = findNsjail(process.env);
if (NSJAIL === undefined) console.warn('descriptor checks under nsjail skipped: no nsjail binary on PATH or in ISOLATE_NSJAIL (see docs/backends.md, "Installing nsjail")');
const OCI = process.platform === 'linux' && ociRuntimes().some((r) => r.refused === undefined);
if (!OCI) console.warn('descriptor checks under --backend oci skipped: no OCI runtime that works here (apt-get install runc)');
const CASES = [
  ...runners().map((runner) => ({ label: runner.label, runner, backend: 'bwrap', backendEnv: {} as Record<string, string> })),
  ...(NSJAIL === undefined ? [] : runners().map((runner) => ({ label: `${runner.label}, nsjail`, runner, backend: 'nsjail', backendEnv: { ISOLATE_NSJAIL: NSJAIL } }))),
  ...(OCI ? runners().map((runner) => ({ label: `${runner.label}, oci`, runner, backend: 'oci', backendEnv: {} as Record<string, string> })) : []),
];

/** The descriptor on a directory outside the sandbox's view, and the one on a file of the caller outside the project. */
const DIR_FD = 200;
const FILE_FD = 77;

/** `ls -l /proc/self/fd` -> descriptor number -> what it names. */
function listing(stdout: string): Map<number, string> {
  const fds = new Map<number, string>();
  for (const line of stdout.split('\n')) {
    const m = /\s(\d+) -> (.*)$/.exec(line);
    if (m?.[1] !== undefined && m[2] !== undefined) fds.set(Number(m[1]), m[2]);
  }
  return fds;
}

/** Exactly stdin, stdout, stderr, and the directory `ls` opened to list /proc/self/fd (its own, as 3: the lowest free number). */
function expectOnlyStdio(stdout: string): void {
  const fds = listing(stdout);
  expect([...fds.keys()].sort((a, b) => a - b), stdout).toEqual([0, 1, 2, 3]);
  expect(fds.get(3)).toMatch(/^\/proc\/\d+\/fd$/);
}

interface Setup extends Project {
  secret: string;
  /** A file in the caller's home, outside the project (not writable in the sandbox). */
  victim: string;
  dirFd: number;
  fileFd: number;
  fds: Record<number, number>;
  close: () => void;
}

/** A project that uses path descriptors (a git checkout and a protected .npmrc), a secret outside it, a file in the home, and descriptors on both. */
function setUp(runner: Runner): Setup {
  const p = homeWithProject(runner);
  plant(runner, p.project, '.git/hooks/pre-commit', '#!/bin/sh\n', 0o755);
  plant(runner, p.project, '.npmrc', 'registry=https://registry.npmjs.org/\n');
  const secret = token('INHERITED-SECRET');
  const outside = tempDirFor(runner);
  plant(runner, outside.dir, 'secret.txt', secret, 0o600);
  const victim = plant(runner, p.home, 'victim.txt', 'ORIGINAL\n');
  const dirFd = openSync(outside.dir, constants.O_RDONLY | constants.O_DIRECTORY);
  const fileFd = openSync(victim, constants.O_WRONLY | constants.O_APPEND);
  const close = (): void => {
    closeSync(dirFd);
    closeSync(fileFd);
    outside.cleanup();
    p.cleanup();
  };
  return { ...p, secret, victim, dirFd, fileFd, fds: { [DIR_FD]: dirFd, [FILE_FD]: fileFd }, close };
}

describe.each(CASES)('inherited descriptors, CLI ($label)', ({ runner, backend, backendEnv }) => {
  let s: Setup;
  beforeEach(() => {
    s = setUp(runner);
  });
  afterEach(() => s.close());

  const run = (script: string, flags: string[] = []) =>
    isolate(runner, ['run', '--backend', backend, ...flags, '--', 'sh', '-c', script], { cwd: s.project, env: { ...s.env, ...backendEnv }, fds: s.fds });

  // The project has protected files, so the launcher also gets path descriptors, beside its argument,
  // status, seccomp, config and start descriptors: none of those may reach the command either.
  it('the command has only stdin, stdout and stderr', () => {
    // Control: isolate itself was started with both descriptors.
    const control = asRunner(runner, ['ls', '-l', '/proc/self/fd'], { cwd: s.project, env: s.env, fds: s.fds });
    expect([...listing(control.stdout).keys()]).toEqual(expect.arrayContaining([DIR_FD, FILE_FD]));
    const r = run('ls -l /proc/self/fd');
    expect(r.status, r.stderr).toBe(0);
    expectOnlyStdio(r.stdout);
  });

  // Filtered network: the forwarder starts inside the sandbox, from a shell that then execs the command.
  it('the command has only stdin, stdout and stderr with the network forwarder', () => {
    const r = run('ls -l /proc/self/fd', ['--net', 'filtered', '--allow-domain', 'example.org']);
    expect(r.status, r.stderr).toBe(0);
    expectOnlyStdio(r.stdout);
  });

  it('a descriptor on a directory outside the sandbox does not read what it holds', () => {
    const path = `/proc/self/fd/${DIR_FD}/secret.txt`;
    const control = asRunner(runner, ['cat', path], { cwd: s.project, env: s.env, fds: s.fds });
    expect(control.stdout).toBe(s.secret); // the descriptor reaches the secret outside a sandbox
    const r = run(`cat ${path}`);
    expect(r.stdout + r.stderr).not.toContain(s.secret);
    expect(r.status).not.toBe(0);
  });

  it('a descriptor on a file of the caller does not write to it', () => {
    // Through /proc: dash's redirections take single-digit descriptors only.
    const control = asRunner(runner, ['sh', '-c', `echo CONTROL >> /proc/self/fd/${FILE_FD}`], { cwd: s.project, env: s.env, fds: s.fds });
    expect(control.status, control.stderr).toBe(0);
    expect(readFileSync(s.victim, 'utf8')).toBe('ORIGINAL\nCONTROL\n');
    run(`echo PWNED >> /proc/self/fd/${FILE_FD}`);
    expect(readFileSync(s.victim, 'utf8')).toBe('ORIGINAL\nCONTROL\n');
  });
});

/** A Node program that has the descriptors open and runs a command through the API, then uses its descriptors itself. */
const API_PROGRAM = `
import { readdirSync, writeSync } from 'node:fs';
const { run } = await import(process.env.ISOLATE_API);
const c = JSON.parse(process.env.API_CASE);
const report = await run(['sh', '-c', c.script], { backend: c.backend, callerCwd: c.project, callerEnv: c.env, audit: { enabled: false } });
// The host program's own descriptors are still open and usable: the API must not close them.
const still = readdirSync('/proc/self/fd/${DIR_FD}');
writeSync(${FILE_FD}, 'HOST-AFTER\\n');
process.stdout.write(JSON.stringify({ exitCode: report.exitCode, stdout: report.stdout, stderr: report.stderr, error: report.error, still }));
`;

describe.each(CASES)('inherited descriptors, API ($label)', ({ runner, backend, backendEnv }) => {
  let s: Setup;
  beforeEach(() => {
    s = setUp(runner);
  });
  afterEach(() => s.close());

  it("the command has only stdin, stdout and stderr, and the host program's descriptors stay open", () => {
    const api = join(dirname(dirname(runner.bin)), 'dist', 'index.js');
    const script = `ls -l /proc/self/fd; cat /proc/self/fd/${DIR_FD}/secret.txt; echo PWNED >> /proc/self/fd/${FILE_FD}`;
    const env = { ...s.env, ...backendEnv };
    const apiCase = JSON.stringify({ script, backend, project: s.project, env });
    const [file, ...args] = [...runner.prefix, process.execPath, '--input-type=module', '-e', API_PROGRAM];
    const stdio: ('pipe' | 'ignore' | number)[] = ['pipe', 'pipe', 'pipe', ...Array<'ignore'>(DIR_FD - 2).fill('ignore')];
    stdio[DIR_FD] = s.dirFd;
    stdio[FILE_FD] = s.fileFd;
    const child = spawnSync(file as string, args, { cwd: s.project, env: { PATH: DEFAULT_PATH, ISOLATE_API: api, API_CASE: apiCase }, stdio, encoding: 'utf8', timeout: 20_000, killSignal: 'SIGKILL' });
    expect(child.status, child.stderr).toBe(0);
    const out = JSON.parse(child.stdout) as { exitCode: number; stdout: string; stderr: string; error: unknown; still: string[] };
    expect(out.error, out.stderr).toBeNull();
    expectOnlyStdio(out.stdout);
    expect(out.stdout + out.stderr).not.toContain(s.secret);
    expect(out.still).toEqual(['secret.txt']);
    expect(readFileSync(s.victim, 'utf8')).toBe('ORIGINAL\nHOST-AFTER\n');
  });
});
