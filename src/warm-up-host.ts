/**
 * The host side of the start-up snapshot's warm-up (src/warm-up.ts): what a
 * run does on the host before and after its sandbox (the host facts and the
 * protected-name search, the registry of placeholders, the audit log's
 * records, the search after the run), done once in a directory made for it
 * and removed after, so that V8 compiles that code while the snapshot is
 * built. No process is started; no sandbox is planned from these facts.
 *
 * Every value is dropped, and the caches that would keep something of the
 * machine that builds the snapshot (bubblewrap's version, the boot id and
 * the last protected-name cache, the policy digests) are emptied after.
 */
import { mkdirSync, mkdtempSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Plan } from './backends/types.js';
import type { MergedProfile } from './profile/types.js';
import { pathVars, resolvePolicy } from './profile/resolve.js';
import { buildReport, forgetDigests, policyDigest, startedRecord } from './audit/report.js';
import { auditTarget, newRunAudit, recordCompleted, recordStarted } from './audit/run-audit.js';
import { writableRoots } from './backends/mounts.js';
import { forgetBwrapVersions, gatherHostFacts } from './host/facts.js';
import { forgetScanState, scanClock } from './host/scan-cache-file.js';
import { searchScope } from './host/protect-scan.js';
import { seenBy } from './host/scan-seen.js';
import { quarantineAfterRun } from './run/after-run-scan.js';
import { registerRun } from './run/placeholders.js';

/** Run the host side of a run of `merged` in a directory of its own (`plan`: the made-up one), then remove it and forget what the caches learnt. */
export async function warmHostSide(merged: MergedProfile, ownCode: readonly string[], plan: Plan): Promise<void> {
  // Node keeps small buffers (what is written to a file, read from one) in a shared pool that outlives them: without it, each is
  // its own, and dropped with it (the boot id and the paths of this directory would otherwise be in the snapshot).
  const poolSize = Buffer.poolSize;
  Buffer.poolSize = 0;
  const dir = realpathSync(mkdtempSync(join(tmpdir(), 'isolate-warm-up-')));
  try {
    await warmIn(dir, merged, ownCode, plan);
  } finally {
    Buffer.poolSize = poolSize;
    rmSync(dir, { recursive: true, force: true });
    forgetBwrapVersions();
    forgetScanState();
    forgetDigests();
  }
}

async function warmIn(dir: string, merged: MergedProfile, ownCode: readonly string[], plan: Plan): Promise<void> {
  for (const sub of ['project', 'project/.git', 'home', 'state', 'config', 'runtime']) mkdirSync(join(dir, sub), { mode: 0o700 });
  const cwd = join(dir, 'project');
  const env = { PATH: '/usr/bin:/bin', HOME: join(dir, 'home'), XDG_STATE_HOME: join(dir, 'state'), XDG_CONFIG_HOME: join(dir, 'config'), XDG_RUNTIME_DIR: join(dir, 'runtime') };
  const log = join(dir, 'state', 'audit.jsonl');
  const policy = resolvePolicy(merged, { vars: pathVars(cwd, env, env.HOME), env, ownCode, audit: { log } });
  const host = gatherHostFacts(policy, ['true'], { env, backend: 'auto' });
  const registration = await registerRun(writableRoots(policy.filesystem.mounts), env);
  await registration.update(host.protect.filter((p) => p.state === 'missing').map((p) => p.path));
  const audit = newRunAudit(auditTarget(policy, { log }, cwd, env));
  const identity = { runId: '00000000-0000-4000-8000-000000000001', startedAt: new Date(0), command: ['true'], policy, policySha256: policyDigest(policy), cwd, user: { uid: 0, gid: 0, name: null } };
  await recordStarted(audit, startedRecord({ ...identity, plan }));
  const since = scanClock();
  quarantineAfterRun({ scope: searchScope(policy), before: host.protect, seen: seenBy(host.protect), tag: 'warm-up0', since, now: scanClock() });
  await registration.release();
  await recordCompleted(audit, buildReport({ ...identity, plan: undefined, decision: undefined, result: { exitCode: 0, signal: null, started: true, durationMs: 1 }, error: undefined }));
}
