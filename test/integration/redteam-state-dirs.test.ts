/**
 * Red team: runs of one user with different state directories
 * (XDG_STATE_HOME). Run A keeps its audit log and scan cache inside the
 * project; run B, without that variable, makes the project writable: its
 * command must not append to A's audit log, forge A's scan cache (so that
 * A's next run misses a protected name) or move A's state away. And what a
 * sandbox planted in a state directory before its first use is not trusted.
 * Judged on the host: the bytes of A's files.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { giveTo, homeWithProject, isolate, runners, snapshot, type Project } from '../helpers/isolate.js';

describe.each(runners())('red team: another run\'s state directory ($label)', (runner) => {
  let p: Project;
  let stateA: string;
  beforeEach(() => {
    p = homeWithProject(runner, 'isolate-it-statedirs-');
    mkdirSync(join(p.project, 'src'));
    writeFileSync(join(p.project, 'src/index.js'), 'x\n');
    // The home has a state base, as most do (isolate lists other state directories in its state directory there).
    mkdirSync(join(p.home, '.local/state'), { recursive: true });
    giveTo(runner, p.home);
    stateA = join(p.project, '.state');
  });
  afterEach(() => p.cleanup());

  // A run by root with a fresh state directory searches the system for root-only files without a cache first: give a loaded machine time.
  const runA = (cmd: string) => isolate(runner, ['run', '--', 'sh', '-c', cmd], { cwd: p.project, env: { ...p.env, XDG_STATE_HOME: stateA }, timeoutMs: 60_000 });
  const runB = (cmd: string) => isolate(runner, ['run', '--', 'sh', '-c', cmd], { cwd: p.project, env: p.env, timeoutMs: 60_000 });

  it('a run with another state directory cannot write, remove or move the first one\'s', () => {
    const a = runA('true');
    expect(a.status, a.stderr).toBe(0);
    const own = join(stateA, 'isolate');
    expect(existsSync(join(own, 'audit.jsonl'))).toBe(true);
    const before = snapshot(own);
    const attack = [
      'echo forged >> .state/isolate/audit.jsonl',
      'mkdir -p .state/isolate/scan-cache && echo forged > .state/isolate/scan-cache/x.bin',
      'rm .state/isolate/audit.jsonl.head',
      'mv .state .state2',
      'mv .state/isolate .state/gone',
    ]
      .map((cmd) => `(${cmd}) 2>/dev/null && echo "DONE: ${cmd}"`)
      .join('; ');
    const b = runB(`ls -A .state/isolate; ${attack}; true`);
    expect(b.status, b.stderr).toBe(0);
    expect(b.stdout).not.toContain('DONE');
    expect(b.stdout).not.toContain('audit.jsonl');
    expect(snapshot(own)).toEqual(before);
  }, 180_000);

  it('what a sandbox put in a state directory before its first use is not kept as its scan cache', () => {
    // Run B (its own state directory) writes a would-be cache where run A will keep its state.
    const b = runB('mkdir -p .state/isolate/scan-cache && echo forged > .state/isolate/scan-cache/0123.bin');
    expect(b.status, b.stderr).toBe(0);
    expect(readFileSync(join(stateA, 'isolate/scan-cache/0123.bin'), 'utf8')).toBe('forged\n');
    const a = runA('true');
    expect(a.status, a.stderr).toBe(0);
    expect(existsSync(join(stateA, 'isolate/scan-cache/0123.bin'))).toBe(false);
  }, 180_000);
});
