/**
 * 100 separate OS processes append to one audit log at the same moment: every
 * record lands exactly once, seq 1..100, and the log verifies.
 *
 * How the workers run the TypeScript module: dist/ may be stale or absent (the
 * tests must not depend on `npm run build` having run after src/audit/ last
 * changed), and Node 20 cannot import .ts files. So beforeAll bundles
 * src/audit/log.ts and what it imports into one .mjs file in the test's temp
 * directory with esbuild (already a dev dependency, used by the build; takes
 * milliseconds). The worker script implements nothing: it imports that
 * bundle and calls appendRecord.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { headPath, readRecords, verifyLog, type VerifyResult } from '../../src/audit/log.js';

const REPO = fileURLToPath(new URL('../..', import.meta.url));
const WORKERS = 100;

// Each worker imports the bundle, reports "ready", waits for the go file (so
// that all appends start together, not staggered by Node's start-up time),
// appends one record and prints the result.
const WORKER = `
import { existsSync } from 'node:fs';
import { appendRecord } from './audit-log.mjs';
const [file, go, id] = process.argv.slice(2);
process.stdout.write('ready\\n');
// A test that is killed before the go file appears must not leave its workers polling forever.
const deadline = Date.now() + 120000;
while (!existsSync(go)) {
  if (Date.now() > deadline || process.ppid === 1) process.exit(3);
  await new Promise((r) => setTimeout(r, 5));
}
const report = { schemaVersion: 1, kind: 'run', startedAt: new Date().toISOString(), command: ['worker', id], pid: process.pid, exitCode: 0 };
const result = await appendRecord(file, report, { lockTimeoutMs: 60000 });
process.stdout.write(JSON.stringify(result) + '\\n');
`;

interface Outcome {
  id: number;
  code: number | null;
  stdout: string;
  stderr: string;
}

describe('audit log: concurrent appends from separate processes', () => {
  let dir: string;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'isolate-audit-concurrency-'));
    await build({
      entryPoints: [join(REPO, 'src', 'audit', 'log.ts')],
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node20',
      outfile: join(dir, 'audit-log.mjs'),
      logLevel: 'silent',
    });
    writeFileSync(join(dir, 'worker.mjs'), WORKER);
  });
  /** Every worker started, stopped after the test whatever its outcome. */
  const children: ChildProcess[] = [];
  afterAll(() => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });

  it(`${WORKERS} processes appending at once each get one distinct seq, 1..${WORKERS}, and the log verifies`, async () => {
    const log = join(dir, 'state', 'audit.jsonl');
    const go = join(dir, 'go');
    let ready = 0;
    let allReady: () => void = () => undefined;
    const readyPromise = new Promise<void>((r) => (allReady = r));

    const outcomes = Array.from({ length: WORKERS }, (_, id) =>
      new Promise<Outcome>((resolve) => {
        const child = spawn(process.execPath, [join(dir, 'worker.mjs'), log, go, String(id)], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
        children.push(child);
        let stdout = '';
        let stderr = '';
        let counted = false;
        child.stdout.setEncoding('utf8').on('data', (d: string) => {
          stdout += d;
          if (!counted && stdout.includes('ready\n')) {
            counted = true;
            if (++ready === WORKERS) allReady();
          }
        });
        child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
        child.on('close', (code) => {
          if (!counted && ++ready === WORKERS) allReady(); // a worker that failed early must not hang the barrier
          resolve({ id, code, stdout, stderr });
        });
      }),
    );
    await readyPromise;
    writeFileSync(go, '');
    // Meanwhile, verify the log over and over: it takes no lock, so it must
    // cope with records and head updates landing while it reads.
    let finished = false;
    const all = Promise.all(outcomes).finally(() => (finished = true));
    const seen: VerifyResult[] = [];
    while (!finished) {
      seen.push(verifyLog(log));
      await new Promise((r) => setTimeout(r, 5));
    }
    const results = await all;
    expect(seen.filter((r) => !r.ok)).toEqual([]);
    expect(seen.length).toBeGreaterThan(1);

    const failed = results.filter((r) => r.code !== 0);
    expect(failed.map((f) => `worker ${f.id}: exit ${f.code}: ${f.stderr}`)).toEqual([]);

    // Each worker was told its own, distinct seq.
    const told = results.map((r) => (JSON.parse(r.stdout.split('\n')[1] ?? '') as { seq: number }).seq);
    expect([...told].sort((a, b) => a - b)).toEqual(Array.from({ length: WORKERS }, (_, i) => i + 1));

    // The log: 100 well-formed lines, seq 1..100 in order, one record per worker.
    const text = readFileSync(log, 'utf8');
    expect(text.endsWith('\n')).toBe(true);
    expect(text.split('\n')).toHaveLength(WORKERS + 1);
    const records = [...readRecords(log)];
    expect(records.map((e) => e.record['seq'])).toEqual(Array.from({ length: WORKERS }, (_, i) => i + 1));
    const ids = records.map((e) => Number((e.record['command'] as string[])[1]));
    expect(new Set(ids).size).toBe(WORKERS);

    expect(verifyLog(log)).toEqual({ ok: true, records: WORKERS });
    expect(JSON.parse(readFileSync(headPath(log), 'utf8'))).toMatchObject({ seq: WORKERS });
    // Starting 100 Node processes is what takes the time, on a busy 2-core machine well over the default 30 s.
  }, 120_000);
});
