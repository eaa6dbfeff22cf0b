/**
 * A project of one's own made read-only (chmod 0555) under a profile that
 * makes it writable. isolate cannot make the placeholders that block the
 * missing protected names there, and the command could make the directory
 * writable again (it owns it) and create `.envrc` or `.git`. The run is
 * refused (exit 125; `explain` says so too) with what is wrong and the two ways out, and nothing is
 * left in the project; `--profile strict`, which shows it read-only, runs.
 * Root writes to a 0555 directory anyway, so only an ordinary user's runs
 * are cases here.
 */
import { chmodSync, readdirSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { backendCases } from '../helpers/backends.js';
import { isolate, projectSite } from '../helpers/isolate.js';

const RAN = 'COMMAND-RAN-0555';

const cases = backendCases('a read-only project of one\'s own').filter((c) => c.runner.uid !== 0);
const WHY_SKIPPED = 'a read-only project of one\'s own skipped: no unprivileged user to run as (root writes to a 0555 directory anyway)';
if (cases.length === 0) console.warn(WHY_SKIPPED);
if (cases.length === 0) describe('a read-only project of one\'s own', () => it.skip(WHY_SKIPPED, () => undefined));

describe.each(cases)('a read-only project of one\'s own ($label)', ({ runner, backend, backendEnv }) => {
  let site: ReturnType<typeof projectSite>;
  beforeEach(() => {
    site = projectSite(runner, 'isolate-it-read-only-project-', backendEnv);
    chmodSync(site.project, 0o555);
  });
  afterEach(() => {
    chmodSync(site.project, 0o755);
    site.cleanup();
  });
  const run = (...args: string[]) => isolate(runner, [...args, '--backend', backend, '--', 'sh', '-c', `echo ${RAN}`], { cwd: site.project, env: site.env, timeoutMs: 60_000 });

  it('is refused under a profile that makes it writable, by run and by explain, saying why and how to run; nothing is left in it', () => {
    for (const command of ['run', 'explain']) {
      const r = run(command);
      expect(r.status, r.stderr).toBe(125);
      expect(r.stdout).not.toContain(RAN);
      expect(r.stderr).toContain(`${site.project} is writable in the profile but not writable by isolate`);
      expect(r.stderr).toContain(`chmod u+w ${site.project}`);
      expect(r.stderr).toContain('--profile strict');
      expect(readdirSync(site.project)).toEqual([]);
    }
  }, 60_000);

  it('runs under --profile strict, which shows it read-only', () => {
    const r = run('run', '--profile', 'strict');
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain(RAN);
    expect(readdirSync(site.project)).toEqual([]);
  }, 60_000);
});
