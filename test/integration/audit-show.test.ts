/**
 * `isolate audit show` reads the log's records with the published record
 * schema: a real run's records are listed with their fields; a record the
 * schema does not describe (another isolate version, or a hand-made line
 * whose chain still verifies) is shown as such, with the schema's complaint,
 * and never counted by a filter: a line saying `"exitCode": "126"` is not a
 * denied run, and one with the right words in the wrong shapes cannot hide
 * from `--json`.
 */
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { appendRecord } from '../../src/audit/log.js';
import { giveTo, homeWithProject, isolate, runners, type Project, type Runner } from '../helpers/isolate.js';

describe.each(runners())('audit show ($label)', (runner: Runner) => {
  let p: Project;
  let log: string;
  beforeEach(() => {
    p = homeWithProject(runner);
    log = join(p.home, 'state', 'audit.jsonl');
  });
  afterEach(() => p.cleanup());

  const cli = (args: string[]) => isolate(runner, args, { cwd: p.project, env: p.env });

  it('lists real runs, marks a record it cannot read, and filters only what it can read', async () => {
    expect(cli(['run', '--audit-log', log, '--', 'sh', '-c', 'exit 3']).status).toBe(3);
    await appendRecord(log, { kind: 'run', runId: 'x', command: ['git', 'push'], exitCode: '126', startedAt: new Date().toISOString() });
    giveTo(runner, join(p.home, 'state')); // appended here as root; the runner's next run appends after it
    expect(cli(['run', '--audit-log', log, '--', 'true']).status).toBe(0);

    const shown = cli(['audit', 'show', log]);
    expect(shown.status, shown.stderr).toBe(0);
    const rows = shown.stdout.split('\n');
    expect(rows.find((r) => r.includes('sh -c exit 3'))).toMatch(/^\d{4}-\d\d-\d\dT\S+\s+3\s+default\s/);
    expect(rows.find((r) => r.startsWith('line 3: '))).toMatch(/not a record this version of isolate reads \(\w+: .+\); `--json` shows it as it is$/);
    expect(shown.stdout).toContain('3 runs\n');

    expect(cli(['audit', 'show', '--denied', log]).stdout).toContain('0 runs\n');
    expect(cli(['audit', 'show', '--command', 'git *', log]).stdout).toContain('0 runs\n');
    const json = cli(['audit', 'show', '--json', log]).stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(json.map((r) => r['exitCode'])).toEqual([3, '126', 0]);
    expect(cli(['audit', 'verify', log]).status).toBe(0);
  });
});
