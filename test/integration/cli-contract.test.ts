/**
 * The command-line contract of the built CLI (bin/isolate.js): usage errors
 * exit 125 in isolate's error format with "did you mean", every command is
 * in --help, ISOLATE_PROFILE and ISOLATE_BACKEND set defaults that a flag
 * overrides, colour follows NO_COLOR and FORCE_COLOR, and explain describes
 * the descriptors of the backend it plans for.
 */
import { chownSync, existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findNsjail } from '../../src/host/facts.js';
import { STACK_LINE, asRunner, homeWithProject, isolate, isolateArgv, runners, type Project, type Result } from '../helpers/isolate.js';

const NSJAIL = findNsjail(process.env);
if (NSJAIL === undefined) console.warn('skipping explain --backend nsjail: no nsjail binary on PATH or in ISOLATE_NSJAIL');

/** A usage error: exit 125, `isolate: <summary>` then `  fix: ...` on stderr, nothing on stdout, no stack. */
function expectUsageError(r: Result, ...mentions: string[]): void {
  expect(r.status, r.stderr).toBe(125);
  expect(r.stdout).toBe('');
  expect(r.stderr).toMatch(/^isolate: .+\n {2}fix: .+\n$/);
  for (const m of mentions) expect(r.stderr).toContain(m);
  expect(r.stderr).not.toMatch(STACK_LINE);
}

describe.each(runners())('cli contract ($label)', (runner) => {
  let p: Project;
  beforeAll(() => {
    p = homeWithProject(runner);
  });
  afterAll(() => p.cleanup());

  const run = (args: string[], env: Record<string, string> = {}): Result => isolate(runner, args, { cwd: p.project, env: { ...p.env, ...env } });
  const marker = (): string => join(p.project, 'ran.txt');

  it('a mistyped command or option: exit 125, did you mean, and nothing ran', () => {
    expectUsageError(run(['rnu', '--', 'touch', 'ran.txt']), "unknown command 'rnu'", 'did you mean run?');
    expectUsageError(run(['run', '--allow-raed', '/x', '--', 'touch', 'ran.txt']), "unknown option '--allow-raed'", 'did you mean --allow-read?');
    expectUsageError(run(['audit', 'verfy']), 'did you mean verify?');
    expect(existsSync(marker())).toBe(false);
  });

  it('every usage error exits 125: missing value, bad choice, unknown option, extra argument', () => {
    expectUsageError(run(['run', '--profile']), '--profile', 'argument missing');
    expectUsageError(run(['run', '--net', 'bridge', '--', 'touch', 'ran.txt']), 'bridge', 'none, host, filtered');
    expectUsageError(run(['explain', '--backend', 'docker', '--', 'true']), 'docker', 'auto, bwrap, nsjail, sandbox-exec');
    expectUsageError(run(['run', '-x', '--', 'touch', 'ran.txt']), "'-x'");
    expectUsageError(run(['doctor', 'extra']), 'too many arguments');
    expectUsageError(run(['frobnicate']), 'commands: run, explain, check, profiles, doctor, selftest, audit');
    expect(existsSync(marker())).toBe(false);
  });

  it('no command after run --: exit 125, "no command"', () => {
    for (const args of [['run', '--'], ['run'], ['check', '--']]) {
      const r = run(args);
      expect(r.status, args.join(' ')).toBe(125);
      expect(r.stderr).toMatch(/^isolate: no command given\n/);
    }
  });

  it('a working directory removed under the caller: exit 125 saying so, not an internal error, and the command does not run', () => {
    const gone = join(p.home, 'gone');
    mkdirSync(gone);
    chownSync(gone, runner.uid, runner.gid);
    // The shell stands in the directory when it is removed, as a user's does when another terminal deletes it.
    const script = `cd ${gone} && rmdir ${gone} && exec "$@"`;
    const r = asRunner(runner, ['sh', '-c', script, 'sh', ...isolateArgv(runner, ['run', '--', 'sh', '-c', `touch ${join(p.home, 'ran')}`]).slice(runner.prefix.length)], { cwd: p.home, env: { ...p.env, XDG_STATE_HOME: runner.stateDir } });
    // bin/isolate.js is a shell script first, and sh warns of the directory itself (dash: "getcwd() failed").
    expect(r.status, r.stderr).toBe(125);
    expect(r.stderr).toMatch(/^isolate: the current directory no longer exists.*\n {2}fix: cd to a directory that exists/m);
    expect(r.stderr).not.toContain('internal error');
    expect(r.stderr).not.toMatch(STACK_LINE);
    expect(existsSync(join(p.home, 'ran'))).toBe(false);
  });

  it('--help lists every command; each command has its own --help; exit 0', () => {
    const help = run(['--help']);
    expect(help.status).toBe(0);
    const commands = ['run', 'explain', 'check', 'profiles', 'doctor', 'selftest', 'audit'];
    for (const c of commands) expect(help.stdout).toMatch(new RegExp(`^  ${c} `, 'm'));
    for (const path of [...commands.map((c) => [c]), ['profiles', 'list'], ['profiles', 'show'], ['audit', 'verify'], ['audit', 'show'], ['audit', 'seal']]) {
      const r = run([...path, '--help']);
      expect(r.status, path.join(' ')).toBe(0);
      expect(r.stdout.startsWith(`usage: isolate ${path.join(' ')} `), r.stdout).toBe(true);
      expect(r.stderr).toBe('');
    }
  });

  it('ISOLATE_PROFILE and ISOLATE_BACKEND are the defaults; a flag overrides them', () => {
    const planned = (args: string[], env: Record<string, string>): { profile: string; backend: string } => {
      const r = run(['explain', '--json', ...args, '--', 'true'], env);
      expect(r.status, r.stderr).toBe(0);
      const e = JSON.parse(r.stdout) as { profile: { name: string }; backend: { name: string } };
      return { profile: e.profile.name, backend: e.backend.name };
    };
    expect(planned([], {})).toEqual({ profile: 'default', backend: 'bwrap' });
    expect(planned([], { ISOLATE_PROFILE: 'strict' }).profile).toBe('strict');
    expect(planned(['-p', 'dev'], { ISOLATE_PROFILE: 'strict' }).profile).toBe('dev');
    expect(planned(['--backend', 'bwrap'], { ISOLATE_BACKEND: 'sandbox-exec' }).backend).toBe('bwrap');
    // The backend from the environment is the one planned for: sandbox-exec is refused on Linux, naming it.
    const mac = run(['explain', '--', 'true'], { ISOLATE_BACKEND: 'sandbox-exec' });
    expect(mac.status).toBe(125);
    expect(mac.stderr).toContain('sandbox-exec');
    expectUsageError(run(['explain', '--', 'true'], { ISOLATE_BACKEND: 'bwarp' }), 'ISOLATE_BACKEND', 'bwarp');
  });

  it('colour: FORCE_COLOR paints the error, NO_COLOR wins; a pipe gets none', () => {
    expect(run(['frobnicate']).stderr).not.toContain('\u001b[');
    // eslint-disable-next-line no-control-regex -- the ANSI colour sequence (ESC [) is what the test looks for
    expect(run(['frobnicate'], { FORCE_COLOR: '1' }).stderr).toMatch(/^\u001b\[31misolate:\u001b\[39m unknown command/);
    expect(run(['frobnicate'], { FORCE_COLOR: '1', NO_COLOR: '1' }).stderr).toMatch(/^isolate: unknown command/);
    expect(run(['frobnicate'], { FORCE_COLOR: '1', TERM: 'dumb' }).stderr).toMatch(/^isolate: unknown command/);
  });

  it('explain describes the descriptors of bwrap: its arguments on fd 3 and its status on fd 4', () => {
    const r = run(['explain', '--backend', 'bwrap', '--', 'true']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain("fd 3: bwrap's arguments");
    expect(r.stdout).toContain("fd 4: bwrap's status");
  });

  it.skipIf(NSJAIL === undefined)("explain --backend nsjail describes nsjail's descriptors, not bwrap's", () => {
    const r = run(['explain', '--backend', 'nsjail', '--', 'true'], { ISOLATE_NSJAIL: NSJAIL ?? '' });
    expect(r.status, r.stderr).toBe(0);
    const header = r.stdout.slice(r.stdout.indexOf('command line'));
    expect(header).toContain("fd 3: nsjail's configuration");
    expect(header).toContain('fd 4: the sandbox\'s init says it has started');
    expect(r.stdout).not.toMatch(/bwrap's status|status on fd 4/);
  });
});
