/**
 * Red team: symbolic links where the audit log and its lock go. A
 * repository's profile may name the log (`audit.log: ${CWD}/audit.jsonl`),
 * and the repository can ship a link there: dangling, to a start-up file
 * of the home that does not exist yet (~/.bash_profile), whose next login
 * shell would run a `$(...)` from the records; or a directory link that
 * leads the log into a hidden start-up directory. A dangling link in place
 * of the log's lock made isolate spin on it for good, deaf to SIGTERM.
 * Judged on the host: the start-up file not created, and isolate ending by
 * itself.
 *
 * Each test was written as a failing finding first; it now guards the fix.
 */
import { existsSync, linkSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { giveTo, homeWithProject, isolate, runners, type Project } from '../helpers/isolate.js';

describe.each(runners().map((runner) => ({ label: runner.label, runner })))('red team: links at the audit log ($label)', ({ runner }) => {
  let site: Project;
  beforeEach(() => {
    site = homeWithProject(runner, 'isolate-it-rtal-');
  });
  afterEach(() => site.cleanup());

  /** The repository's profile, logging where `log` says (relative to the project). */
  const repoProfile = (log: string): string => {
    const file = join(site.project, 'isolate.yaml');
    writeFileSync(file, `extends: strict\naudit:\n  log: \${CWD}/${log}\n`);
    return file;
  };
  const run = (profile: string) => isolate(runner, ['run', '-p', profile, '--', 'true'], { cwd: site.project, env: site.env, timeoutMs: 40_000 });

  it("a dangling link shipped as the repository's log does not create the home's ~/.bash_profile", () => {
    symlinkSync('../.bash_profile', join(site.project, 'audit.jsonl'));
    const profile = repoProfile('audit.jsonl');
    giveTo(runner, site.home);
    run(profile);
    expect(existsSync(join(site.home, '.bash_profile'))).toBe(false);
  });

  it('a directory link in the log\'s path does not lead the log into a hidden start-up directory of the home', () => {
    mkdirSync(join(site.home, '.bashrc.d'));
    symlinkSync('../.bashrc.d', join(site.project, 'logs'));
    const profile = repoProfile('logs/audit.sh');
    giveTo(runner, site.home);
    const r = run(profile);
    expect(existsSync(join(site.home, '.bashrc.d', 'audit.sh'))).toBe(false);
    expect(r.status, r.stderr).toBe(125);
    expect(r.stderr).toContain('hidden name in your home directory');
  });

  it("a hard link shipped as the repository's log does not fill an empty start-up file of the home with records", () => {
    const bashrc = join(site.home, '.bashrc');
    writeFileSync(bashrc, '');
    mkdirSync(join(site.project, 'logs'));
    linkSync(bashrc, join(site.project, 'logs', 'audit.jsonl'));
    const profile = repoProfile('logs/audit.jsonl');
    giveTo(runner, site.home);
    isolate(runner, ['run', '-p', profile, '--', 'echo', `$(touch ${join(site.home, 'PWNED')})`], { cwd: site.project, env: site.env, timeoutMs: 40_000 });
    expect(readFileSync(bashrc, 'utf8')).toBe('');
  });

  it("a dangling link in place of the log's lock: isolate ends by itself, and creates nothing where it leads", () => {
    const log = join(site.home, 'logs', 'audit.jsonl');
    mkdirSync(join(site.home, 'logs'));
    symlinkSync(join(site.home, 'lock-target'), `${log}.lock`);
    giveTo(runner, site.home);
    const r = isolate(runner, ['run', '--audit-log', log, '--', 'true'], { cwd: site.project, env: site.env, timeoutMs: 40_000 });
    expect(r.signal, 'isolate had to be killed').toBeNull();
    expect(existsSync(join(site.home, 'lock-target'))).toBe(false);
  });
});
