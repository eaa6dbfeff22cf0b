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
import { isVisible, effectiveKind } from '../backends/mounts.js';
import { computeEnvironment } from '../profile/environment.js';
import { loadProfile, run, type IsolateOptions } from '../index.js';
import type { RunReport } from '../audit/report.js';
import { probes, type Outcome, type ProbeContext } from './probes.js';
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

export async function selftest(options: IsolateOptions & { onProbe?: (r: ProbeResult) => void }): Promise<SelftestReport> {
  const base = realpathSync(mkdtempSync(join(tmpdir(), 'isolate-selftest-')));
  const servers: Server[] = [];
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

    const envTokens = [`ghp_selftest${randomBytes(8).toString('hex')}`, `selftest-${randomBytes(8).toString('hex')}`];
    const callerEnv: Record<string, string> = {
      PATH: '/usr/local/bin:/usr/bin:/bin',
      LANG: 'C.UTF-8',
      GITHUB_TOKEN: envTokens[0] ?? '',
      ISOLATE_SELFTEST_TOKEN: envTokens[1] ?? '',
    };
    const outer = options.callerEnv ?? process.env;
    for (const name of ['HOME', 'ISOLATE_BWRAP', 'ISOLATE_NSJAIL', 'ISOLATE_BACKEND']) {
      const value = outer[name];
      if (value !== undefined) callerEnv[name] = value;
    }
    const runOptions: IsolateOptions = { ...options, cwd: project, callerCwd: project, callerEnv };

    const { policy } = await loadProfile(runOptions);
    const mounts = policy.filesystem.mounts;
    const python = existsSync('/usr/bin/python3') && isVisible(mounts, realpathSync('/usr/bin/python3')) ? '/usr/bin/python3' : undefined;
    const env = computeEnvironment(policy.environment, callerEnv).env;
    const ctx: ProbeContext = {
      policy,
      uid: process.getuid?.() ?? -1,
      cgroupPids: process.platform === 'linux' && cgroupFacts({ memory: false, pids: true }, process.getuid?.() ?? -1).version !== undefined,
      python,
      outside,
      secretFile,
      secretToken,
      envTokens,
      hostPort,
      hostSocket,
      writeTarget: join(outside, 'written.txt'),
      hooksFile: join(project, '.git', 'hooks', 'pre-commit'),
      gitConfig,
      gitConfigBefore,
      exists: (p) => existsSync(p),
      read: (p) => {
        try {
          return readFileSync(p, 'utf8');
        } catch {
          return undefined;
        }
      },
    };

    const results: ProbeResult[] = [];
    let backend: string | null = null;
    const all = probes(
      (p) => isVisible(mounts, p),
      (p) => effectiveKind(mounts, p) === 'write',
      (name) => name in env,
    );
    for (const probe of all) {
      const want = probe.expect(ctx);
      const expected = want.blocked ? 'blocked' : 'allowed';
      const skip = probe.skip?.(ctx);
      let result: ProbeResult;
      if (skip !== undefined) {
        result = { id: probe.id, title: probe.title, expected, outcome: 'skipped', detail: skip };
      } else {
        const report: RunReport = await run(probe.command(ctx), {
          ...runOptions,
          ...(probe.env === undefined ? {} : { callerEnv: { ...callerEnv, ...probe.env(ctx) } }),
          ...(probe.limits === undefined ? {} : { limits: probe.limits(ctx) }),
          stdio: 'capture',
          // Synthetic escape attempts are not the user's runs: keep them out of the audit log.
          audit: { enabled: false },
        });
        backend ??= report.backend === null ? null : `${report.backend.name} ${report.backend.version}`;
        if (report.error !== null) {
          result = { id: probe.id, title: probe.title, expected, outcome: 'error', detail: report.error.summary };
        } else {
          const j = probe.judge(report, ctx);
          const outcome: Outcome = j.outcome === 'escaped' && !want.blocked ? 'allowed' : j.outcome;
          result = { id: probe.id, title: probe.title, expected, outcome, detail: want.blocked ? j.detail : `${j.detail} (${want.reason})` };
        }
      }
      results.push(result);
      options.onProbe?.(result);
      // Undo what an escaped write left behind, so the next probe starts clean.
      rmSync(ctx.writeTarget, { force: true });
      rmSync(ctx.hooksFile, { force: true });
      writeFileSync(gitConfig, gitConfigBefore);
    }
    const counts: Record<Outcome, number> = { blocked: 0, escaped: 0, allowed: 0, skipped: 0, error: 0 };
    for (const r of results) counts[r.outcome]++;
    return {
      schemaVersion: SELFTEST_SCHEMA_VERSION,
      kind: 'selftest',
      profile: options.profile ?? 'default',
      backend,
      uid: ctx.uid,
      probes: results,
      counts,
      ok: counts.escaped === 0 && counts.error === 0,
    };
  } finally {
    for (const s of servers) s.close();
    rmSync(base, { recursive: true, force: true });
  }
}
