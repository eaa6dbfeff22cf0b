/**
 * A caller whose HOME does not exist (system accounts share `/nonexistent`):
 * isolate keeps its state under the home, and must not make the home itself.
 * A run by root that did left `/nonexistent` behind, root's and mode 0700,
 * and every later program of those accounts found a home it could not
 * enter. Judged on the host: the home is still missing after the run.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { giveTo, isolate, projectSite, runners } from '../helpers/isolate.js';

describe.each(runners())('a home directory that does not exist ($label)', (runner) => {
  let site: ReturnType<typeof projectSite>;
  beforeEach(() => {
    site = projectSite(runner, 'isolate-it-nohome-');
  });
  afterEach(() => site.cleanup());

  it('is not made by a run that would keep its state there: the run is refused, naming it', () => {
    // No XDG_STATE_HOME (the helpers' default is cleared): the state, the audit log and the runtime directory go under HOME.
    const r = isolate(runner, ['run', '--', 'true'], { cwd: site.project, env: { ...site.env, XDG_STATE_HOME: '' } });
    expect(existsSync(site.env['HOME'] as string)).toBe(false);
    expect(r.status, r.stderr).toBe(125);
    expect(r.stderr).toContain(`the home directory ${site.env['HOME']} does not exist, and isolate does not create it`);
  });

  it('is not made by a run whose state lives elsewhere, which runs', () => {
    const state = join(site.dir, 'state');
    const runtime = join(site.dir, 'runtime');
    mkdirSync(runtime, { mode: 0o700 });
    giveTo(runner, site.dir);
    const r = isolate(runner, ['run', '--', 'sh', '-c', 'echo ran'], { cwd: site.project, env: { ...site.env, XDG_STATE_HOME: state, XDG_RUNTIME_DIR: runtime } });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toBe('ran\n');
    expect(existsSync(site.env['HOME'] as string)).toBe(false);
    expect(existsSync(join(state, 'isolate', 'audit.jsonl'))).toBe(true);
  });

  it('is not made by isolate doctor, whose sandbox check plans and runs outside the API', () => {
    const r = isolate(runner, ['doctor', '--json'], { cwd: site.project, env: { ...site.env, XDG_STATE_HOME: '' } });
    expect(existsSync(site.env['HOME'] as string), r.stdout).toBe(false);
    // As root the check's sandbox needs isolate's device nodes in the state directory, as a run's does: it fails, saying why.
    const check = (JSON.parse(r.stdout) as { checks: { name: string; status: string; detail: string }[] }).checks.find((c) => c.name === 'sandbox with the default profile');
    if (runner.uid === 0) expect(check?.detail).toContain(`the home directory ${site.env['HOME']} does not exist, and isolate does not create it`);
    else expect(check?.status, check?.detail).toBe('ok');
  });

  it('is named, with what to do, when a run needs isolate\'s directories there', () => {
    const runtime = join(site.dir, 'runtime');
    mkdirSync(runtime, { mode: 0o700 });
    giveTo(runner, site.dir);
    const r = isolate(runner, ['run', '--', 'true'], { cwd: site.project, env: { ...site.env, XDG_STATE_HOME: '', XDG_RUNTIME_DIR: runtime } });
    // As root the sandbox's device nodes are isolate's copies in its state directory: the run is refused. An
    // ordinary user's needs none, and runs with the audit log's warning.
    expect(r.status, r.stderr).toBe(runner.uid === 0 ? 125 : 0);
    expect(r.stderr).toContain(`the home directory ${site.env['HOME']} does not exist, and isolate does not create it: create it, or set XDG_STATE_HOME`);
    expect(existsSync(site.env['HOME'] as string)).toBe(false);
  });
});
