/**
 * `isolate selftest`: plant secrets, a socket and a TCP server on the host,
 * then run every probe in a sandbox built from the profile and score it.
 * Everything planted is removed afterwards.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isVisible, isWritable } from '../backends/mounts.js';
import { computeEnvironment } from '../profile/environment.js';
import { loadProfile, run, type IsolateOptions } from '../index.js';
import type { RunReport } from '../audit/report.js';
import { probesFor, type Outcome, type Probe, type ProbeContext } from './probes.js';
import type { Policy } from '../profile/types.js';
import { cgroupFacts } from '../host/cgroup.js';

export const SELFTEST_SCHEMA_VERSION = 1;

export interface ProbeResult {
  id: string;
  title: string;
  expected: 'blocked' | 'allowed';
  outcome: Outcome;
  detail: string;
}

export interface SelftestReport {
  schemaVersion: typeof SELFTEST_SCHEMA_VERSION;
  kind: 'selftest';
  profile: string;
  backend: string | null;
  uid: number;
  probes: ProbeResult[];
  counts: Record<Outcome, number>;
  /** True when no probe escaped and none failed to run. */
  ok: boolean;
}

function listen(server: Server, target: { path: string } | { host: string; port: number }): Promise<void> {
  return new Promise((resolvePromise, reject) => {
    server.once('error', reject);
    server.listen(target, () => resolvePromise());
  });
}

/** What is planted on the host for the probes: removed by `remove()` whatever happened. */
interface Planted {
  project: string;
  outside: string;
  secretFile: string;
  secretToken: string;
  hostPort: number;
  hostSocket: string;
  gitConfig: string;
  gitConfigBefore: string;
  remove(): void;
}

/** A project with a repository, a secret and a symlink to it outside, a TCP server on loopback and a unix socket. */
async function plant(): Promise<Planted> {
  const base = realpathSync(mkdtempSync(join(tmpdir(), 'isolate-selftest-')));
  const servers: Server[] = [];
  const remove = (): void => {
    for (const s of servers) s.close();
    rmSync(base, { recursive: true, force: true });
  };
  try {
    const project = join(base, 'project');
    const outside = join(base, 'outside');
    mkdirSync(join(project, '.git', 'hooks'), { recursive: true });
    mkdirSync(outside);
    const secretToken = `isolate-selftest-secret-${randomBytes(8).toString('hex')}`;
    const secretFile = join(outside, 'secret.txt');
    writeFileSync(secretFile, `${secretToken}\n`);
    symlinkSync(secretFile, join(project, 'link-out'));
    const gitConfig = join(project, '.git', 'config');
    const gitConfigBefore = '[core]\n\trepositoryformatversion = 0\n';
    writeFileSync(gitConfig, gitConfigBefore);
    const tcp = createServer((s) => s.end());
    servers.push(tcp);
    await listen(tcp, { host: '127.0.0.1', port: 0 });
    const address = tcp.address();
    const hostPort = typeof address === 'object' && address !== null ? address.port : 0;
    const hostSocket = join(outside, 'host.sock');
    const unix = createServer((s) => s.end());
    servers.push(unix);
    await listen(unix, { path: hostSocket });
    return { project, outside, secretFile, secretToken, hostPort, hostSocket, gitConfig, gitConfigBefore, remove };
  } catch (e: unknown) {
    remove();
    throw e;
  }
}

/** The probes' environment: two secrets to look for, and only the caller's variables that choose the sandbox. */
function probeEnvironment(outer: Readonly<Record<string, string | undefined>>, envTokens: readonly string[]): Record<string, string> {
  const callerEnv: Record<string, string> = {
    PATH: '/usr/local/bin:/usr/bin:/bin',
    LANG: 'C.UTF-8',
    GITHUB_TOKEN: envTokens[0] ?? '',
    ISOLATE_SELFTEST_TOKEN: envTokens[1] ?? '',
  };
  for (const name of ['HOME', 'ISOLATE_BWRAP', 'ISOLATE_NSJAIL', 'ISOLATE_BACKEND']) {
    const value = outer[name];
    if (value !== undefined) callerEnv[name] = value;
  }
  return callerEnv;
}

function readOrUndefined(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

function probeContext(policy: Policy, planted: Planted, envTokens: string[]): ProbeContext {
  const python = existsSync('/usr/bin/python3') && isVisible(policy.filesystem.mounts, realpathSync('/usr/bin/python3')) ? '/usr/bin/python3' : undefined;
  const uid = process.getuid?.() ?? -1;
  return {
    policy,
    uid,
    cgroupPids: process.platform === 'linux' && cgroupFacts({ memory: false, pids: true }, uid).version !== undefined,
    python,
    outside: planted.outside,
    secretFile: planted.secretFile,
    secretToken: planted.secretToken,
    envTokens,
    hostPort: planted.hostPort,
    hostSocket: planted.hostSocket,
    writeTarget: join(planted.outside, 'written.txt'),
    hooksFile: join(planted.project, '.git', 'hooks', 'pre-commit'),
    hostPid: process.pid,
    gitConfig: planted.gitConfig,
    gitConfigBefore: planted.gitConfigBefore,
    exists: (p) => existsSync(p),
    read: readOrUndefined,
  };
}

/** Run one probe (or say why it is skipped) and judge it against what the profile leads us to expect. */
async function runProbe(probe: Probe, ctx: ProbeContext, runOptions: IsolateOptions & { callerEnv: Record<string, string> }): Promise<{ result: ProbeResult; report?: RunReport }> {
  const want = probe.expect(ctx);
  const expected = want.blocked ? 'blocked' : 'allowed';
  const head = { id: probe.id, title: probe.title, expected } as const;
  const skip = probe.skip?.(ctx);
  if (skip !== undefined) return { result: { ...head, outcome: 'skipped', detail: skip } };
  const report = await run(probe.command(ctx), {
    ...runOptions,
    ...(probe.env === undefined ? {} : { callerEnv: { ...runOptions.callerEnv, ...probe.env(ctx) } }),
    ...(probe.limits === undefined ? {} : { limits: probe.limits(ctx) }),
    stdio: 'capture',
    // Synthetic escape attempts are not the user's runs: keep them out of the audit log.
    audit: { enabled: false },
  });
  if (report.error !== null) return { result: { ...head, outcome: 'error', detail: report.error.summary }, report };
  const j = probe.judge(report, ctx);
  const outcome: Outcome = j.outcome === 'escaped' && !want.blocked ? 'allowed' : j.outcome;
  return { result: { ...head, outcome, detail: want.blocked ? j.detail : `${j.detail} (${want.reason})` }, report };
}

/** Undo what an escaped write left behind, so the next probe starts clean. */
function resetPlanted(ctx: ProbeContext): void {
  rmSync(ctx.writeTarget, { force: true });
  rmSync(ctx.hooksFile, { force: true });
  writeFileSync(ctx.gitConfig, ctx.gitConfigBefore);
}

export async function selftest(options: IsolateOptions & { onProbe?: (r: ProbeResult) => void }): Promise<SelftestReport> {
  const planted = await plant();
  try {
    const envTokens = [`ghp_selftest${randomBytes(8).toString('hex')}`, `selftest-${randomBytes(8).toString('hex')}`];
    const callerEnv = probeEnvironment(options.callerEnv ?? process.env, envTokens);
    const runOptions = { ...options, cwd: planted.project, callerCwd: planted.project, callerEnv };
    const { policy } = await loadProfile(runOptions);
    const ctx = probeContext(policy, planted, envTokens);
    const mounts = policy.filesystem.mounts;
    const env = computeEnvironment(policy.environment, callerEnv).env;
    const all = probesFor(
      process.platform,
      (p) => isVisible(mounts, p),
      (p) => isWritable(mounts, p),
      (name) => name in env,
    );
    const results: ProbeResult[] = [];
    let backend: string | null = null;
    for (const probe of all) {
      const { result, report } = await runProbe(probe, ctx, runOptions);
      if (report?.backend) backend ??= `${report.backend.name} ${report.backend.version}`;
      results.push(result);
      options.onProbe?.(result);
      resetPlanted(ctx);
    }
    return scored(results, options.profile ?? 'default', backend, ctx.uid);
  } finally {
    planted.remove();
  }
}

function scored(results: ProbeResult[], profile: string, backend: string | null, uid: number): SelftestReport {
  const counts: Record<Outcome, number> = { blocked: 0, escaped: 0, allowed: 0, skipped: 0, error: 0 };
  for (const r of results) counts[r.outcome]++;
  return {
    schemaVersion: SELFTEST_SCHEMA_VERSION,
    kind: 'selftest',
    profile,
    backend,
    uid,
    probes: results,
    counts,
    ok: counts.escaped === 0 && counts.error === 0,
  };
}
