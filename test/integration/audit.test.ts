/**
 * The audit log through the CLI: every run recorded, the chain verified,
 * tampering named, filters, opting out, a required log that cannot be
 * written, and 100 runs at once against one log.
 */
import { spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { auditRecordSchema } from '../../src/audit/report-schema.js';
import { DEFAULT_PATH, giveTo, isolate, isolateArgv, runners, tempDirFor, type Runner } from '../helpers/isolate.js';

describe.each(runners())('audit log ($label)', (runner: Runner) => {
  let dir: string;
  let cleanup: () => void;
  let log: string;
  /** The runs' working directory (writable in the sandbox); the log is beside it, outside every writable path. */
  let work: string;
  beforeEach(() => {
    ({ dir, cleanup } = tempDirFor(runner));
    log = join(dir, 'state', 'audit.jsonl');
    work = join(dir, 'work');
    mkdirSync(work);
    giveTo(runner, work);
  });
  afterEach(() => cleanup());

  const run = (args: string[], env: Record<string, string> = {}) => isolate(runner, args, { cwd: work, env: { HOME: dir, ...env } });
  const lines = (): Record<string, unknown>[] =>
    readFileSync(log, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as Record<string, unknown>);

  it('records every run, refused ones too, without captured output, with owner-only permissions', () => {
    expect(run(['run', '--audit-log', log, '--', 'sh', '-c', 'echo output-$((40+2))']).status).toBe(0);
    expect(run(['run', '--audit-log', log, '--', 'no-such-command-abc']).status).toBe(127);
    expect(run(['run', '--json', '--audit-log', log, '--', 'echo', 'json']).status).toBe(0);
    const records = lines();
    // A run that starts has a run-started record, then its report; one refused before it started has only the report.
    expect(records.map((r) => r['seq'])).toEqual([1, 2, 3, 4, 5]);
    expect(records.map((r) => r['kind'])).toEqual(['run-started', 'run', 'run', 'run-started', 'run']);
    expect(records.map((r) => r['exitCode'])).toEqual([undefined, 0, 127, undefined, 0]);
    expect(records[1]?.['runId']).toBe(records[0]?.['runId']);
    expect(records[4]?.['runId']).toBe(records[3]?.['runId']);
    expect(records[0]?.['prevHash']).toBe('0'.repeat(64));
    expect(records[1]?.['prevHash']).toBe(records[0]?.['hash']);
    for (const r of records) expect(auditRecordSchema.safeParse(r).error?.issues).toBeUndefined();
    expect(JSON.stringify(records)).not.toContain('output-42');
    expect(records[4]).not.toHaveProperty('stdout');
    expect(records[4]).not.toHaveProperty('audit');
    expect(statSync(log).mode & 0o777).toBe(0o600);
    expect(statSync(join(dir, 'state')).mode & 0o777).toBe(0o700);
    const v = run(['audit', 'verify', log]);
    expect(v.status, v.stdout).toBe(0);
    expect(v.stdout).toContain('5 records');
    expect(v.stdout).not.toContain('incomplete');
    const shown = run(['audit', 'show', log]);
    expect(shown.stdout).toContain('3 runs');
    expect(shown.stdout).not.toContain('incomplete');
  });

  it('the run-started record is in the log before the command starts: the command itself reads it', () => {
    mkdirSync(join(dir, 'state'), { mode: 0o700 });
    giveTo(runner, join(dir, 'state'));
    const r = run(['run', '--json', '--allow-read', join(dir, 'state'), '--audit-log', log, '--', 'cat', log]);
    expect(r.status, r.stderr).toBe(0);
    const report = JSON.parse(r.stdout) as { runId: string; stdout: string; audit: Record<string, unknown> };
    const seen = report.stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatchObject({ seq: 1, kind: 'run-started', runId: report.runId, command: ['cat', log], cwd: work });
    expect(seen[0]?.['isolate']).toMatchObject({ pid: expect.any(Number) as number });
    expect((seen[0]?.['profile'] as { sha256: string }).sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(report.audit).toMatchObject({ enabled: true, required: false, log, started: { seq: 1 }, completed: { seq: 2 }, recorded: true, warnings: [] });
  });

  it('the default log is $XDG_STATE_HOME/isolate/audit.jsonl; --no-audit and audit.enabled: false skip it', () => {
    const state = join(dir, 'xdg');
    mkdirSync(state);
    giveTo(runner, state);
    expect(run(['run', '--', 'true'], { XDG_STATE_HOME: state }).status).toBe(0);
    expect(existsSync(join(state, 'isolate', 'audit.jsonl'))).toBe(true);
    expect(run(['run', '--no-audit', '--audit-log', log, '--', 'true']).status).toBe(0);
    const profile = join(dir, 'quiet.yaml');
    writeFileSync(profile, 'extends: default\naudit: { enabled: false }\n');
    expect(run(['run', '-p', profile, '--audit-log', log, '--', 'true']).status).toBe(0);
    expect(existsSync(log)).toBe(false);
  });

  it('a log that cannot be written: a warning, or exit 125 when the profile requires it', () => {
    const blocked = join(dir, 'file-not-dir');
    writeFileSync(blocked, '');
    const bad = join(blocked, 'audit.jsonl');
    const warn = run(['run', '--audit-log', bad, '--', 'sh', '-c', 'echo ran']);
    expect(warn.status).toBe(0);
    expect(warn.stdout).toBe('ran\n');
    expect(warn.stderr).toContain('not in the audit log');
    const profile = join(dir, 'required.yaml');
    writeFileSync(profile, `extends: default\naudit: { required: true, log: ${JSON.stringify(bad)} }\n`);
    const refused = run(['run', '-p', profile, '--', 'sh', '-c', 'echo ran > ran.txt']);
    expect(refused.status).toBe(125);
    expect(existsSync(join(work, 'ran.txt'))).toBe(false);
  });

  it('a file where the log\'s lock goes that is not isolate\'s (flake.lock, an empty flock file) is left alone: a warning, or exit 125 when required', () => {
    const other = join(dir, 'other');
    mkdirSync(other);
    const hourAgo = new Date(Date.now() - 3600_000);
    const files = { 'flake.lock': '{\n  "nodes": {},\n  "version": 7\n}\n', 'tool.lock': '' };
    for (const [name, content] of Object.entries(files)) {
      writeFileSync(join(other, name), content);
      utimesSync(join(other, name), hourAgo, hourAgo);
    }
    giveTo(runner, dir);
    const warn = run(['run', '--audit-log', join(other, 'flake'), '--', 'sh', '-c', 'echo ran']);
    expect(warn.status, warn.stderr).toBe(0);
    expect(warn.stdout).toBe('ran\n');
    expect(warn.stderr).toContain('not an isolate lock file');
    const profile = join(dir, 'required.yaml');
    writeFileSync(profile, `extends: default\naudit: { required: true, log: ${JSON.stringify(join(other, 'tool'))} }\n`);
    giveTo(runner, dir);
    const refused = run(['run', '-p', profile, '--', 'sh', '-c', 'echo ran > ran.txt']);
    expect(refused.status, refused.stderr).toBe(125);
    expect(refused.stderr).toContain('not an isolate lock file');
    expect(existsSync(join(work, 'ran.txt'))).toBe(false);
    for (const [name, content] of Object.entries(files)) expect(readFileSync(join(other, name), 'utf8'), name).toBe(content);
  });

  it('a profile outside the user\'s own that turns the audit log off is said on stderr every run and in explain; the user\'s own, or --no-audit, is not', () => {
    const repo = join(work, 'isolate.yaml');
    writeFileSync(repo, 'extends: default\naudit: { enabled: false }\n');
    mkdirSync(join(dir, '.config/isolate/profiles'), { recursive: true });
    writeFileSync(join(dir, '.config/isolate/profiles/quiet.yaml'), 'extends: default\naudit: { enabled: false }\n');
    giveTo(runner, dir);
    const env = { XDG_STATE_HOME: join(dir, 'state') };
    for (let i = 0; i < 2; i++) {
      const r = run(['run', '-p', './isolate.yaml', '--', 'echo', 'ran'], env);
      expect(r.status, r.stderr).toBe(0);
      expect(r.stderr).toMatch(/isolate: warning: the audit log is off: .*isolate\.yaml sets audit\.enabled: false/);
    }
    expect(existsSync(log), 'nothing recorded').toBe(false);
    const explained = run(['explain', '-p', './isolate.yaml', '--', 'echo', 'ran'], env);
    expect(explained.stdout).toMatch(/^warning +the audit log is off/m);
    for (const args of [['-p', 'quiet'], ['-p', './isolate.yaml', '--no-audit']]) {
      const r = run(['run', ...args, '--', 'echo', 'ran'], env);
      expect(r.status, r.stderr).toBe(0);
      expect(r.stderr, args.join(' ')).toBe('');
    }
  });

  it('verify names the first bad line and why: edited, deleted, reordered, truncated', () => {
    for (let i = 0; i < 4; i++) expect(run(['run', '--audit-log', log, '--', 'sh', '-c', `exit ${i}`]).status).toBe(i);
    const original = readFileSync(log, 'utf8');
    const head = readFileSync(`${log}.head`, 'utf8');
    const rows = original.split('\n').filter(Boolean);
    const check = (content: string, line: number, reason: RegExp): void => {
      writeFileSync(log, content);
      writeFileSync(`${log}.head`, head);
      const v = run(['audit', 'verify', log]);
      expect(v.status).toBe(1);
      expect(v.stdout).toContain(`line ${line}`);
      expect(v.stdout).toMatch(reason);
    };
    // Each run: a run-started record, then its report (lines 2, 4, 6, 8).
    check(original.replace('"exitCode":2', '"exitCode":0'), 6, /edited/);
    check([rows[0], rows[2], rows[3]].join('\n') + '\n', 2, /deleted/);
    check([rows[0], rows[2], rows[1], rows[3]].join('\n') + '\n', 2, /reordered/);
    check(original.slice(0, original.length - 20), 8, /truncated/);
    check([rows[0], rows[1], rows[2]].join('\n') + '\n', 4, /truncated|head/);
    writeFileSync(log, original);
    expect(run(['audit', 'verify', log]).status).toBe(0);
  });

  it('show filters by time, command and refusals', () => {
    const profile = join(dir, 'policy.yaml');
    writeFileSync(profile, 'extends: default\ncommands:\n  deny: ["rm *"]\n');
    chmodSync(profile, 0o644);
    expect(run(['run', '--audit-log', log, '--', 'echo', 'one']).status).toBe(0);
    expect(run(['run', '-p', profile, '--audit-log', log, '--', 'rm', '-rf', 'x']).status).toBe(126);
    const all = run(['audit', 'show', log]);
    expect(all.stdout).toContain('echo one');
    expect(all.stdout).toContain('2 runs');
    const denied = run(['audit', 'show', log, '--denied', '--json']);
    const records = denied.stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l) as { command: string[] });
    expect(records.map((r) => r.command[0])).toEqual(['rm']);
    expect(run(['audit', 'show', log, '--command', 'echo *']).stdout).toContain('1 run');
    expect(run(['audit', 'show', log, '--since', '1h']).stdout).toContain('2 runs');
    expect(run(['audit', 'show', log, '--since', '2999-01-01T00:00:00Z']).stdout).toContain('0 runs');
  });
});

describe('100 runs at once against one log', () => {
  it('produce 100 well-formed records and a chain that verifies', async () => {
    const [runner] = runners();
    if (runner === undefined) throw new Error('no runner');
    const { dir, cleanup } = tempDirFor(runner);
    try {
      const log = join(dir, 'audit.jsonl');
      const work = join(dir, 'work');
      mkdirSync(work);
      giveTo(runner, work);
      const argv = isolateArgv(runner, ['run', '--audit-log', log, '--', 'true']);
      const exits = await Promise.all(
        Array.from(
          { length: 100 },
          () =>
            new Promise<{ code: number | null; stderr: string }>((resolve) => {
              const c = spawn(argv[0] as string, argv.slice(1), { cwd: work, env: { PATH: DEFAULT_PATH, HOME: dir }, stdio: ['ignore', 'ignore', 'pipe'] });
              let stderr = '';
              c.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
              c.on('close', (code) => resolve({ code, stderr }));
            }),
        ),
      );
      expect(exits.filter((e) => e.code !== 0)).toEqual([]);
      const records = readFileSync(log, 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as { seq: number; runId: string; kind: string });
      expect(records).toHaveLength(200);
      expect(records.map((r) => r.seq)).toEqual(Array.from({ length: 200 }, (_, i) => i + 1));
      const ends = records.filter((r) => r.kind === 'run');
      expect(new Set(ends.map((r) => r.runId)).size).toBe(100);
      // Every run's run-started record comes before its report.
      for (const end of ends) {
        const start = records.find((r) => r.kind === 'run-started' && r.runId === end.runId);
        expect(start?.seq).toBeLessThan(end.seq);
      }
      expect(isolate(runner, ['audit', 'verify', log], { cwd: dir, env: { HOME: dir } }).status).toBe(0);
    } finally {
      cleanup();
    }
  }, 120_000);
});
