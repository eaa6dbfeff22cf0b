/**
 * Red team: the audit log's side files replaced by a named pipe (by anything
 * that can write the log's directory). Reading one blocked open() for ever,
 * with the log's lock held and isolate deaf to SIGTERM: every later run
 * hung. Now a run warns that it is not recorded and its command runs (or it
 * exits 125 when the profile requires the audit log), within seconds; and
 * `audit verify` and `audit show`, given a named pipe as the log, say so.
 *
 * Written as a failing finding first; it now guards the fix.
 */
import { execFileSync } from 'node:child_process';
import { chownSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { giveTo, homeWithProject, isolate, runners, type Project, type Runner } from '../helpers/isolate.js';

describe.each(runners())('red team: audit side files that are named pipes ($label)', (runner: Runner) => {
  let p: Project;
  let log: string;
  beforeEach(() => {
    p = homeWithProject(runner);
    mkdirSync(join(p.home, 'state'), { mode: 0o700 });
    giveTo(runner, join(p.home, 'state'));
    log = join(p.home, 'state', 'audit.jsonl');
  });
  afterEach(() => p.cleanup());

  const fifo = (path: string): void => {
    rmSync(path, { force: true });
    execFileSync('mkfifo', ['-m', '600', path]);
    chownSync(path, runner.uid, runner.gid);
  };
  const runTrue = (args: string[] = []) => isolate(runner, ['run', '--audit-log', log, ...args, '--', 'true'], { cwd: p.project, env: p.env, timeoutMs: 15_000 });

  it.each(['lock', 'head'])('the %s file a named pipe: the run ends with a warning (not recorded), and 125 when the audit log is required', (which) => {
    expect(runTrue().status).toBe(0); // the log and its head exist
    fifo(`${log}.${which}`);
    const r = runTrue();
    expect(r.signal, 'isolate hung on the named pipe (killed by the test after 15 s)').toBeNull();
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toContain('not in the audit log');
    expect(r.stderr).toContain(`audit.jsonl.${which}`);
    expect(r.stderr).toContain('not a regular file');

    const profile = join(p.home, 'required.yaml');
    writeFileSync(profile, `extends: default\naudit: { required: true }\n`);
    giveTo(runner, profile);
    const required = runTrue(['--profile', profile]);
    expect(required.signal, 'isolate hung on the named pipe (killed by the test after 15 s)').toBeNull();
    expect(required.status, required.stderr).toBe(125);
  });

  it('the log itself a named pipe: audit verify and audit show say it is not a regular file (exit 125), and do not hang', () => {
    fifo(log);
    for (const command of ['verify', 'show']) {
      const r = isolate(runner, ['audit', command, log], { cwd: p.project, env: p.env, timeoutMs: 15_000 });
      expect(r.signal, `audit ${command} hung on the named pipe (killed by the test after 15 s)`).toBeNull();
      expect(r.status, r.stderr).toBe(125);
      expect(r.stderr).toContain('not a regular file');
    }
  });
});
