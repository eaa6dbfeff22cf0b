/**
 * Red team: a shell made interactive by an option the policy did not read
 * as such. An interactive dash (or any POSIX sh) first runs the file that
 * ENV names; `sh -i` and `sh -ic` were undecidable, but `sh -o interactive
 * -c true` was read as a shell running `true`, which every allow list lets
 * through. The command writes the startup file first with a word the
 * policy cannot read (`printf '\164ouch'`), then runs that form: under an
 * allow list without touch, touch ran. Judged by the file touch made in
 * the project on the host.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { giveTo, isolate, plant, projectSite, runners } from '../helpers/isolate.js';

/** Shell forms that start an interactive shell with a literal script. */
const FORMS = ['sh -o interactive -c true', 'dash -o interactive -c true', 'sh -eo interactive -c true'] as const;

describe.each(runners().map((runner) => ({ label: runner.label, runner })))('a shell made interactive runs its ENV file ($label)', ({ runner }) => {
  const cleanups: (() => void)[] = [];
  afterEach(() => {
    for (const c of cleanups.splice(0)) c();
  });

  /** A project whose profile allows ls and cat only. */
  function allowSite(): { site: ReturnType<typeof projectSite>; profile: string } {
    const site = projectSite(runner, 'isolate-it-interactive-');
    cleanups.push(site.cleanup);
    const profile = plant(runner, site.dir, 'allow.yaml', 'extends: default\ncommands:\n  allow: ["ls *", "cat *"]\n');
    giveTo(runner, site.dir);
    return { site, profile };
  }

  it.each(FORMS)('ENV=./rc %s: refused as undecidable, and the file did not run', (form) => {
    const { site, profile } = allowSite();
    const script = `printf '\\164ouch ran-env\\n' > rc; ENV=./rc ${form}`;
    const r = isolate(runner, ['run', '-p', profile, '--', 'sh', '-c', script], { cwd: site.project, env: site.env });
    expect(existsSync(join(site.project, 'ran-env')), `${r.stdout}${r.stderr}`).toBe(false);
    expect(r.status, r.stderr).toBe(126);
    expect(r.stderr).toMatch(/interactive/);
  });

  it('control: the same script with a shell that is not interactive runs, and reads no ENV file', () => {
    const { site, profile } = allowSite();
    const r = isolate(runner, ['run', '-p', profile, '--', 'sh', '-c', `printf '\\164ouch ran-env\\n' > rc; ENV=./rc sh -c true; ls`], { cwd: site.project, env: site.env });
    expect(r.status, r.stderr).toBe(0);
    expect(existsSync(join(site.project, 'rc'))).toBe(true);
    expect(existsSync(join(site.project, 'ran-env'))).toBe(false);
  });
});
