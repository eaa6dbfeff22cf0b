/**
 * The Node API: the same behaviour as the CLI, returned as data, and no
 * global process state touched (no printing, no exit code, no signal
 * handlers, no change of cwd or environment).
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { IsolateError, check, explain, loadProfile, run } from '../../src/index.js';

describe('Node API', () => {
  let dir: string;
  /** The audit log's directory: outside the runs' writable working directory, as isolate requires. */
  let logDir: string;
  const env = { PATH: '/usr/local/bin:/usr/bin:/bin', LANG: 'C.UTF-8', GITHUB_TOKEN: 'ghp_apisecretvalue0123456789abcdefghij' };
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'isolate-api-'));
    logDir = mkdtempSync(join(tmpdir(), 'isolate-api-log-'));
  });
  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
    rmSync(logDir, { recursive: true, force: true });
  });
  const opts = () => ({ callerCwd: dir, callerEnv: { ...env, HOME: dir }, audit: { log: join(logDir, 'audit.jsonl') } });

  it('run() returns the report with captured output and touches no global state', async () => {
    const before = {
      cwd: process.cwd(),
      exitCode: process.exitCode,
      env: JSON.stringify(process.env),
      listeners: ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT', 'exit'].map((s) => process.listenerCount(s as NodeJS.Signals)),
    };
    const out = vi.spyOn(process.stdout, 'write');
    const err = vi.spyOn(process.stderr, 'write');
    try {
      const report = await run(['sh', '-c', 'echo hello; echo oops >&2; exit 3'], opts());
      expect(report).toMatchObject({ exitCode: 3, stdout: 'hello\n', stderr: 'oops\n', error: null });
      expect(report.env).not.toContain('GITHUB_TOKEN');
      const refused = await run(['no-such-program-xyz'], opts());
      expect(refused.exitCode).toBe(127);
      expect(refused.error?.code).toBe('E_COMMAND_NOT_FOUND');
      expect(out).not.toHaveBeenCalled();
      expect(err).not.toHaveBeenCalled();
    } finally {
      out.mockRestore();
      err.mockRestore();
    }
    expect(process.cwd()).toBe(before.cwd);
    expect(process.exitCode).toBe(before.exitCode);
    expect(JSON.stringify(process.env)).toBe(before.env);
    expect(['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT', 'exit'].map((s) => process.listenerCount(s as NodeJS.Signals))).toEqual(before.listeners);
  });

  it("run() hides a CI job's secret directory that this process's environment names, also when callerEnv leaves it out", async () => {
    // A self-hosted runner whose work directory has its own name, inside a path the profile reads.
    const runner = mkdtempSync(join(tmpdir(), 'isolate-api-runner-'));
    const temp = join(runner, 'wk', '_temp');
    mkdirSync(temp, { recursive: true });
    writeFileSync(join(temp, 'step.sh'), 'export SECRET=ghs_apistepscriptsecret\n');
    const before = process.env['RUNNER_TEMP'];
    process.env['RUNNER_TEMP'] = temp;
    try {
      const report = await run(['cat', join(temp, 'step.sh')], { ...opts(), allowRead: [runner] });
      expect(`${report.stdout ?? ''}${report.stderr ?? ''}`).not.toContain('ghs_apistepscriptsecret');
      expect(report.exitCode, report.stderr).not.toBe(0); // the file is not there to read
      const control = await run(['ls', join(runner, 'wk')], { ...opts(), allowRead: [runner] });
      expect(control.exitCode, control.stderr).toBe(0); // control: the runner's directory is readable
    } finally {
      if (before === undefined) delete process.env['RUNNER_TEMP'];
      else process.env['RUNNER_TEMP'] = before;
      rmSync(runner, { recursive: true, force: true });
    }
  });

  it('runs are independent and can run concurrently', async () => {
    const reports = await Promise.all([1, 2, 3, 4].map((n) => run(['sh', '-c', `exit ${n}`], opts())));
    expect(reports.map((r) => r.exitCode)).toEqual([1, 2, 3, 4]);
    expect(new Set(reports.map((r) => r.runId)).size).toBe(4);
  });

  it('explain() returns the plan and never a secret value', async () => {
    const e = await explain(['true'], { ...opts(), env: ['GITHUB_TOKEN'] });
    expect(e.kind).toBe('explain');
    // bwrap, started under setpriv --pdeathsig KILL where setpriv is installed (it dies with isolate)
    const launcherAt = /setpriv$/.test(e.argv[0] ?? '') ? 4 : 0;
    expect(e.argv[launcherAt]).toMatch(/bwrap$/);
    expect(e.summary.env).toContain('GITHUB_TOKEN');
    expect(JSON.stringify(e)).not.toContain('apisecretvalue');
  });

  it('check() decides the command policy without running anything', async () => {
    const profile = join(dir, 'p.yaml');
    writeFileSync(profile, 'extends: default\ncommands:\n  allow: ["git *"]\n  deny: ["git push *"]\n');
    await expect(check(['git', 'status'], { ...opts(), profile })).resolves.toMatchObject({ decision: 'allowed', rule: 'git *' });
    await expect(check(['env', 'A=1', 'git', 'push'], { ...opts(), profile })).resolves.toMatchObject({ decision: 'refused', rule: 'git push *' });
  });

  it('loadProfile() resolves a profile; bad input rejects with an IsolateError', async () => {
    const { policy } = await loadProfile({ ...opts(), profile: 'strict' });
    expect(policy.filesystem.mounts.some((m) => m.kind === 'read' && m.path === dir)).toBe(true);
    await expect(loadProfile({ ...opts(), profile: 'no-such-profile' })).rejects.toBeInstanceOf(IsolateError);
  });
});
