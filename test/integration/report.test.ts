/**
 * Every field of the run report, from real runs, checked against the
 * published schema.
 */
import { chmodSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runReportSchema } from '../../src/audit/report-schema.js';
import { isolate, runners, tempDirFor, type Runner } from '../helpers/isolate.js';

type Report = ReturnType<typeof runReportSchema.parse>;

describe.each(runners())('run report ($label)', (runner: Runner) => {
  let dir: string;
  let cleanup: () => void;
  beforeAll(() => {
    ({ dir, cleanup } = tempDirFor(runner));
  });
  afterAll(() => cleanup());

  const report = (args: string[], env: Record<string, string> = {}): Report => {
    const r = isolate(runner, ['run', '--json', ...args], { cwd: dir, env: { HOME: dir, ...env } });
    const parsed = runReportSchema.safeParse(JSON.parse(r.stdout));
    if (!parsed.success) throw new Error(`report does not match the schema: ${JSON.stringify(parsed.error.issues)}\n${r.stdout}`);
    return parsed.data;
  };

  it('a normal run: identity, policy digest, backend, environment names, resources', () => {
    const r = report(['--', 'sh', '-c', 'echo out; echo err >&2; i=0; while [ $i -lt 400000 ]; do i=$((i+1)); done'], { GITHUB_TOKEN: 'ghp_reportsecretvalue1234567890abcdef', LANG: 'C.UTF-8' });
    expect(r.runId).toMatch(/^[0-9a-f-]{36}$/);
    expect(Date.parse(r.endedAt)).toBeGreaterThanOrEqual(Date.parse(r.startedAt));
    expect(r.durationMs).toBeGreaterThan(0);
    expect(r.command[0]).toBe('sh');
    expect(r.cwd).toBe(dir);
    expect(r.user.uid).toBe(runner.uid);
    expect(r.profile).toMatchObject({ name: 'default', sources: ['builtin:strict', 'builtin:default'] });
    expect(r.profile.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(r.backend?.name).toBe('bwrap');
    expect(r.backend?.argv).toContain('--unshare-net');
    expect(r.env).toContain('PATH');
    expect(r.env).toContain('LANG');
    expect(r.env).not.toContain('GITHUB_TOKEN');
    expect(JSON.stringify(r)).not.toContain('reportsecretvalue');
    expect(r.network).toEqual({ mode: 'none', allow: [], deny: [], events: [] });
    expect(r.policy).toBeNull();
    expect(r).toMatchObject({ exitCode: 0, signal: null, timedOut: false, limit: null, error: null, stdout: 'out\n', stderr: 'err\n' });
    expect(r.truncated).toEqual({ stdout: false, stderr: false });
    // Sampled every 200 ms while the sandbox runs: lower bounds, but a busy shell loop shows up.
    expect(r.resources.userCpuMs).not.toBeNull();
    expect((r.resources.userCpuMs ?? 0) + (r.resources.systemCpuMs ?? 0)).toBeGreaterThan(0);
    expect(r.resources.peakMemoryBytes).toBeGreaterThan(100_000);
    // No limit set: the built-in profile's ceilings only.
    expect(r.limits).toEqual({ killAfterMs: 2000, enforce: 'rlimit', ceilings: { tmpfsBytes: 2 * 1024 ** 3, processes: 4096, memoryBytes: 8 * 1024 ** 3 } });
  });

  it('the same policy has the same digest; a different one does not', () => {
    const a = report(['--', 'true']).profile.sha256;
    expect(report(['--', 'true']).profile.sha256).toBe(a);
    expect(report(['--env', 'EXTRA=1', '--', 'true']).profile.sha256).not.toBe(a);
  });

  it('secrets in the command line are redacted, in the command and in the backend argv', () => {
    const r = report(['--', 'echo', '--token=s3cr3tvalue', 'https://me:pw1234@example.com']);
    expect(r.command).toEqual(['echo', '--token=<redacted>', 'https://me:<redacted>@example.com']);
    expect(JSON.stringify(r.backend?.argv)).not.toContain('s3cr3tvalue');
    expect(JSON.stringify(r.backend?.argv)).not.toContain('pw1234');
    // The command itself still got the real values.
    expect(r.stdout).toContain('s3cr3tvalue');
  });

  it('secrets inside a shell script are redacted where they stand, in the report and in the audit log', () => {
    const state = join(dir, 'state-script');
    const secrets = ['abc123secretXYZ', 'MYTOK987', 'Hunter22pw'];
    const script = `echo -H "Authorization: Bearer ${secrets[0]}" --token ${secrets[1]} --password=${secrets[2]}`;
    const r = report(['--', 'sh', '-c', script], { XDG_STATE_HOME: state });
    // The command got the real values; the records did not.
    expect(r.stdout).toContain(secrets[0]);
    expect(r.command).toEqual(['sh', '-c', 'echo -H "Authorization: <redacted>" --token <redacted> --password=<redacted>']);
    const written = [JSON.stringify({ ...r, stdout: '' }), ...readdirSync(state, { recursive: true, withFileTypes: true }).filter((e) => e.isFile()).map((e) => readFileSync(join(e.parentPath, e.name), 'utf8'))].join('\n');
    expect(written).toContain('<redacted>');
    for (const secret of secrets) expect(written, secret).not.toContain(secret);
  });

  it('a timeout, a CPU limit and a signal', () => {
    const t = report(['--timeout', '300ms', '--', 'sleep', '5']);
    expect(t).toMatchObject({ exitCode: 124, timedOut: true, limit: 'timeout' });
    expect(t.limits?.timeoutMs).toBe(300);
    const c = report(['--cpu', '1', '--', 'sh', '-c', 'while :; do :; done']);
    expect(c).toMatchObject({ exitCode: 152, signal: 'SIGXCPU', limit: 'cpu' });
    const k = report(['--', 'sh', '-c', 'kill -KILL $$']);
    expect(k).toMatchObject({ exitCode: 137, signal: 'SIGKILL', limit: null });
  });

  it('isolate refusing: the error, and the command-policy decision', () => {
    const profile = join(dir, 'policy.yaml');
    writeFileSync(profile, 'extends: default\ncommands:\n  allow: ["echo *"]\n  deny: ["echo secret*"]\n');
    chmodSync(profile, 0o644);
    const ok = report(['-p', profile, '--', 'echo', 'hi']);
    expect(ok.policy).toEqual({ decision: 'allowed', rule: 'echo *', list: 'allow', reason: 'matches allow rule "echo *"' });
    const refused = report(['-p', profile, '--', 'echo', 'secret-plans']);
    expect(refused).toMatchObject({ exitCode: 126, policy: { decision: 'refused', rule: 'echo secret*', list: 'deny' } });
    expect(refused.error?.code).toBe('E_COMMAND_REFUSED');
    expect(refused.stdout ?? '').toBe('');
    const missing = report(['--', 'no-such-command-xyz']);
    expect(missing).toMatchObject({ exitCode: 127, backend: null });
    expect(missing.error?.code).toBe('E_COMMAND_NOT_FOUND');
  });

  it('filtered network: every attempt is an event', () => {
    const r = report(['--allow-domain', 'allowed.example', '--', 'sh', '-c', 'curl -s -o /dev/null http://denied.example/ || true']);
    expect(r.network?.mode).toBe('filtered');
    expect(r.network?.allow).toEqual(['allowed.example']);
    expect(r.network?.events).toEqual([
      expect.objectContaining({ protocol: 'http', host: 'denied.example', port: 80, decision: 'denied', rule: null, bytesUp: 0 }),
    ]);
  });
});
