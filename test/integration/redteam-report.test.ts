/**
 * Red team: the run report (--report FILE), which isolate writes after the
 * run, often into the project the command could write. Judged on the host:
 * a file of the caller's outside the sandbox's reach, which the command
 * points the report's name (a symbolic link) or its directory at, stays as
 * it was; the report is where it was asked for.
 *
 * Each test was written as a failing finding first; it now guards the fix.
 */
import { closeSync, existsSync, lstatSync, mkdirSync, openSync, readFileSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { backendCases } from '../helpers/backends.js';
import { giveTo, isolate, plant, projectSite } from '../helpers/isolate.js';

describe.each(backendCases('red team: the run report'))('red team: the run report ($label)', ({ runner, backend, backendEnv }) => {
  let dir: string;
  let project: string;
  let cleanup: () => void;
  let env: Record<string, string>;
  beforeEach(() => {
    ({ dir, project, env, cleanup } = projectSite(runner, 'isolate-it-rtr-', backendEnv));
  });
  afterEach(() => cleanup());

  const run = (report: string, script: string) => isolate(runner, ['run', '--backend', backend, '--report', report, '--', 'sh', '-c', script], { cwd: project, env });

  it('a symbolic link the command put at the report\'s name does not redirect the report into a file outside the sandbox', () => {
    const victim = plant(runner, dir, 'outside/victim.txt', 'ORIGINAL\n', 0o644);
    const r = run(join(project, 'report.json'), `echo tampered >> ${victim} 2>/dev/null; ln -sf ${victim} report.json; true`);
    expect(readFileSync(victim, 'utf8'), 'the file outside the sandbox').toBe('ORIGINAL\n');
    expect(r.status, r.stderr).toBe(0);
    const report = join(project, 'report.json');
    expect(lstatSync(report).isFile()).toBe(true);
    expect(JSON.parse(readFileSync(report, 'utf8'))).toMatchObject({ kind: 'run', exitCode: 0 });
  });

  it('a name that is no file before the run is the caller\'s choice: /dev/stderr gets the report, and a link the caller made keeps its target when the command replaces it', () => {
    // stderr a file: the test's own pipes are sockets, which /dev/stderr cannot open (ENXIO, with or without isolate).
    const errors = plant(runner, dir, 'stderr.txt', '', 0o600);
    const fd = openSync(errors, 'w');
    let toStderr;
    try {
      toStderr = isolate(runner, ['run', '--backend', backend, '--report', '/dev/stderr', '--', 'sh', '-c', 'echo ran'], { cwd: project, env, fds: { 2: fd } });
    } finally {
      closeSync(fd);
    }
    expect(toStderr.status).toBe(0);
    expect(toStderr.stdout).toBe('ran\n');
    expect(JSON.parse(readFileSync(errors, 'utf8'))).toMatchObject({ kind: 'run', exitCode: 0 });
    const mine = join(dir, 'reports', 'mine.json');
    mkdirSync(join(dir, 'reports'));
    const victim = plant(runner, dir, 'outside/victim.txt', 'ORIGINAL\n', 0o644);
    symlinkSync(mine, join(project, 'link.json'));
    giveTo(runner, dir);
    const r = run(join(project, 'link.json'), `rm -f link.json; ln -s ${victim} link.json; true`);
    expect(r.status, r.stderr).toBe(0);
    expect(readFileSync(victim, 'utf8'), 'the file the command pointed the name at').toBe('ORIGINAL\n');
    expect(JSON.parse(readFileSync(mine, 'utf8'))).toMatchObject({ kind: 'run', exitCode: 0 });
  });

  it('a directory of the report\'s path swapped for a link during the run: the report is not written elsewhere', () => {
    mkdirSync(join(project, 'out'));
    const elsewhere = join(dir, 'elsewhere');
    mkdirSync(elsewhere);
    giveTo(runner, dir);
    const r = run(join(project, 'out', 'report.json'), `rm -rf out; ln -s ${elsewhere} out; true`);
    expect(existsSync(join(elsewhere, 'report.json')), 'a report written outside the sandbox\'s reach').toBe(false);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/report/);
  });
});
