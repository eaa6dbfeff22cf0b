/**
 * The audit log through the CLI: every run recorded, the chain verified,
 * tampering named, filters, opting out, a required log that cannot be
 * written, and 100 runs at once against one log.
 */
import { spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DEFAULT_PATH, giveTo, isolate, isolateArgv, runners, tempDirFor, type Runner } from '../helpers/isolate.js';

describe.each(runners())('audit log ($label)', (runner: Runner) => {
  let dir: string;
  let cleanup: () => void;
  let log: string;
  /** The runs' working directory, which the sandbox can write: the logs live beside it, never in it. */
  let work: string;
  beforeEach(() => {
    ({ dir, cleanup } = tempDirFor(runner));
    log = join(dir, 'state', 'audit.jsonl');
    work = join(dir, 'work');
    mkdirSync(work);
    giveTo(runner, dir);
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
    expect(records.map((r) => r['seq'])).toEqual([1, 2, 3]);
    expect(records.map((r) => r['exitCode'])).toEqual([0, 127, 0]);
    expect(records[0]?.['prevHash']).toBe('0'.repeat(64));
    expect(records[1]?.['prevHash']).toBe(records[0]?.['hash']);
    expect(JSON.stringify(records)).not.toContain('output-42');
    expect(records[2]).not.toHaveProperty('stdout');
    expect(statSync(log).mode & 0o777).toBe(0o600);
    expect(statSync(join(dir, 'state')).mode & 0o777).toBe(0o700);
    const v = run(['audit', 'verify', log]);
    expect(v.status, v.stdout).toBe(0);
    expect(v.stdout).toContain('3 records');
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
    expect(existsSync(join(dir, 'ran.txt'))).toBe(false);
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
    check(original.replace('"exitCode":2', '"exitCode":0'), 3, /edited/);
    check([rows[0], rows[2], rows[3]].join('\n') + '\n', 2, /deleted/);
    check([rows[0], rows[2], rows[1], rows[3]].join('\n') + '\n', 2, /reordered/);
    check(original.slice(0, original.length - 20), 4, /truncated/);
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
      // The runs' working directory is writable in the sandbox: the log lives beside it.
      const work = join(dir, 'work');
      mkdirSync(work);
      giveTo(runner, dir);
      const argv = isolateArgv(runner, ['run', '--audit-log', log, '--', 'true']);
      const codes = await Promise.all(
        Array.from(
          { length: 100 },
          () =>
            new Promise<number | null>((resolve) => {
              const c = spawn(argv[0] as string, argv.slice(1), { cwd: work, env: { PATH: DEFAULT_PATH, HOME: dir }, stdio: 'ignore' });
              c.on('close', (code) => resolve(code));
            }),
        ),
      );
      expect(codes.filter((c) => c !== 0)).toEqual([]);
      const records = readFileSync(log, 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as { seq: number; runId: string });
      expect(records).toHaveLength(100);
      expect(records.map((r) => r.seq)).toEqual(Array.from({ length: 100 }, (_, i) => i + 1));
      expect(new Set(records.map((r) => r.runId)).size).toBe(100);
      expect(isolate(runner, ['audit', 'verify', log], { cwd: dir, env: { HOME: dir } }).status).toBe(0);
    } finally {
      cleanup();
    }
  }, 120_000);
});
