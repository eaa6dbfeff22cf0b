/**
 * `npm run bench` keeps working: its baselines rebuild isolate's own sandbox
 * from a plan (bwrap with the same arguments, spawned directly), so a change
 * to how isolate starts bwrap can break them without any other test seeing
 * it. One round of the start-up and the MCP server's measures; no figure is
 * judged here (timing belongs to the benchmark, not to tests).
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const repo = join(import.meta.dirname, '..', '..');

describe('the benchmark', () => {
  it.each(['startup', 'mcp'])('`npm run bench -- %s` runs its baselines and isolate side by side, to the end', (part) => {
    const env = { ...process.env, BENCH_RUNS: '1' };
    delete env['NODE_EXTRA_CA_CERTS'];
    const r = spawnSync(process.execPath, [join(repo, 'test', 'bench', 'bench.mjs'), part], { cwd: repo, env, encoding: 'utf8', timeout: 120_000 });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/target <= 1\.(25|3)x/);
  });
});
