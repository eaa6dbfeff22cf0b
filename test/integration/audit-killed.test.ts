/**
 * A run whose isolate is killed with SIGKILL while the command runs: its
 * run-started record, written before the command started, stays in the
 * log; `audit show` and `audit verify` show it as running while isolate
 * lives and as incomplete after, and the chain stays intact.
 */
import type { ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  auditRecords,
  descendants,
  homeWithProject,
  isolate,
  killSleepers,
  pollFor,
  readProcInfo,
  runners,
  sleepProcs,
  spawnIsolate,
  uniqueSleep,
  type Project,
  type Runner,
} from '../helpers/isolate.js';

const INCOMPLETE = 'incomplete (isolate was killed or the host stopped)';

describe.each(runners())('a run whose isolate is killed ($label)', (runner: Runner) => {
  let p: Project;
  let log: string;
  const children: ChildProcess[] = [];
  const durations: string[] = [];
  beforeEach(() => {
    p = homeWithProject(runner);
    log = join(p.home, 'state', 'audit.jsonl');
  });
  afterEach(() => {
    for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    for (const d of durations.splice(0)) killSleepers(d);
    p.cleanup();
  });

  const records = (): Record<string, unknown>[] => auditRecords(log);
  const cli = (args: string[]) => isolate(runner, args, { cwd: p.project, env: p.env });

  it('stays in the log as started, is shown as incomplete, and the chain verifies', async () => {
    const d = uniqueSleep(30);
    durations.push(d);
    const child = spawnIsolate(runner, ['run', '--audit-log', log, '--', 'sleep', d], { cwd: p.project, env: p.env });
    children.push(child);
    const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on('close', (_code, signal) => resolve(signal)));
    const started = await pollFor('the run-started record', () => records().find((r) => r['kind'] === 'run-started'));
    expect(started['command']).toEqual(['sleep', d]);
    await pollFor(`the sandboxed sleep ${d}`, () => (sleepProcs(d).length === 1 ? true : undefined));
    const tree = descendants(child.pid as number);
    expect(tree.length).toBeGreaterThan(0);

    const running = cli(['audit', 'show', log]);
    expect(running.stdout).toContain(`running (isolate pid ${String(child.pid)} is alive)`);
    expect(running.stdout).not.toContain(INCOMPLETE);

    child.kill('SIGKILL');
    expect(await exited).toBe('SIGKILL');
    // The sandbox went with it: no process of isolate's tree is left.
    await pollFor('the sandbox to be gone', () => (tree.every((t) => readProcInfo(t.pid) === undefined || readProcInfo(t.pid)?.state === 'Z') && sleepProcs(d).length === 0 ? true : undefined));
    expect(sleepProcs(d)).toEqual([]);

    expect(records().map((r) => r['kind'])).toEqual(['run-started']);
    const shown = cli(['audit', 'show', log]);
    expect(shown.status).toBe(0);
    expect(shown.stdout).toContain(`sleep ${d}  [${INCOMPLETE}]`);
    expect(shown.stdout).toContain('1 run\n');
    const verified = cli(['audit', 'verify', log]);
    expect(verified.status, verified.stdout).toBe(0);
    expect(verified.stdout).toContain('intact');
    expect(verified.stdout).toContain(`run ${String(started['runId'])} (line 1, started ${String(started['startedAt'])}): ${INCOMPLETE}: sleep ${d}`);

    // Later runs are recorded after it, and it stays listed as incomplete.
    expect(cli(['run', '--audit-log', log, '--', 'true']).status).toBe(0);
    const json = cli(['audit', 'verify', '--json', log]);
    expect(json.status).toBe(0);
    const v = JSON.parse(json.stdout) as { ok: boolean; records: number; unfinished: { runId: string; status: string }[] };
    expect(v).toMatchObject({ ok: true, records: 3 });
    expect(v.unfinished).toEqual([expect.objectContaining({ runId: started['runId'], status: 'incomplete' })]);
    const rows = cli(['audit', 'show', '--json', log]).stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(rows.map((r) => r['kind'])).toEqual(['run-started', 'run']);
  });
});
