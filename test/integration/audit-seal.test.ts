/**
 * `isolate audit seal` through the CLI: a damaged log makes runs warn (or
 * refuse, with audit.required); sealing it keeps it aside and starts a new
 * log that continues its chain; runs are recorded again and `audit verify`
 * passes and names the sealed log it continues.
 */
import { readFileSync, readdirSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { giveTo, homeWithProject, isolate, runners, type Project, type Runner } from '../helpers/isolate.js';

describe.each(runners())('audit seal ($label)', (runner: Runner) => {
  let p: Project;
  let log: string;
  beforeEach(() => {
    p = homeWithProject(runner);
    log = join(p.home, 'state', 'audit.jsonl');
  });
  afterEach(() => p.cleanup());

  const cli = (args: string[]) => isolate(runner, args, { cwd: p.project, env: p.env });

  it('a damaged log: runs warn or refuse; seal; runs are recorded again and verify names the link', () => {
    expect(cli(['run', '--audit-log', log, '--', 'true']).status).toBe(0);
    expect(cli(['run', '--audit-log', log, '--', 'sh', '-c', 'exit 2']).status).toBe(2);
    const intact = cli(['audit', 'seal', log]);
    expect(intact.status).toBe(1);
    expect(intact.stderr).toContain('is intact: nothing to seal');

    truncateSync(log, readFileSync(log).length - 10);
    const damaged = readFileSync(log);
    const warned = cli(['run', '--audit-log', log, '--', 'sh', '-c', 'exit 3']);
    expect(warned.status).toBe(3);
    expect(warned.stderr).toContain(`isolate audit seal ${log}`);
    const profile = join(p.home, 'required.yaml');
    writeFileSync(profile, `extends: default\naudit: { required: true, log: ${JSON.stringify(log)} }\n`);
    giveTo(runner, profile);
    expect(cli(['run', '-p', profile, '--', 'true']).status).toBe(125);
    const notIntact = cli(['audit', 'verify', log]);
    expect(notIntact.status).toBe(1);
    expect(notIntact.stdout).toContain(`to record runs again: isolate audit seal ${log}`);

    const sealed = cli(['audit', 'seal', log]);
    expect(sealed.status, sealed.stderr).toBe(0);
    expect(sealed.stdout).toContain('was damaged at line 4: truncated');
    expect(sealed.stdout).toContain('continues its chain after seq 3');
    const kept = readdirSync(join(p.home, 'state')).find((n) => /^audit\.jsonl\.sealed-\d{8}T\d{6}Z$/.test(n));
    expect(kept).toBeDefined();
    expect(readFileSync(join(p.home, 'state', kept ?? ''))).toEqual(damaged);

    expect(cli(['run', '-p', profile, '--', 'sh', '-c', 'exit 5']).status).toBe(5);
    const verified = cli(['audit', 'verify', log]);
    expect(verified.status, verified.stdout).toBe(0);
    expect(verified.stdout).toContain('3 records');
    expect(verified.stdout).toContain(`continues the sealed log ${join(p.home, 'state', kept ?? '')} after its seq 3: verified up to that record`);
    const shown = cli(['audit', 'show', log]);
    expect(shown.stdout).toContain('this log continues the sealed log');
    expect(shown.stdout).toContain('1 run\n');
    const json = JSON.parse(cli(['audit', 'verify', '--json', log]).stdout) as { ok: boolean; segments: { present: boolean; problem: string | null }[] };
    expect(json).toMatchObject({ ok: true, segments: [{ present: true, problem: null }] });
  });
});
