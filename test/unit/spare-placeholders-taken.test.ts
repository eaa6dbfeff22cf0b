/**
 * A spare a run had taken (renamed to `.taken.<its tag>`) when it was killed:
 * the next run to claim a spare removes it once its taker is gone (its pid
 * ended, or reused by another process), or, when the taker cannot be told,
 * once it is older than the stale limit; never one a live run holds.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { closeSync, mkdirSync, mkdtempSync, openSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { processStart } from '../../src/host/alive.js';
import { SparePool } from '../../src/run/spare-placeholders.js';

describe('spares taken by killed runs', () => {
  let dir: string;
  let spareDir: string;
  let project: string;
  let live: ChildProcess | undefined;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'isolate-unit-taken-'));
    spareDir = join(dir, 'spare');
    project = join(dir, 'project');
    mkdirSync(spareDir, { mode: 0o700 });
    mkdirSync(project);
  });
  afterEach(() => {
    live?.kill('SIGKILL');
    live = undefined;
    rmSync(dir, { recursive: true, force: true });
  });

  /** A pid that was a process's and is no more. */
  const deadPid = (): number => {
    const r = spawnSync('true');
    if (r.pid === undefined) throw new Error('could not start true');
    return r.pid;
  };
  /** A live process of the test's own, stopped by afterEach. */
  const livePid = (): number => {
    live = spawn('sleep', ['60'], { stdio: 'ignore' });
    if (live.pid === undefined) throw new Error('could not start sleep');
    return live.pid;
  };
  /** A taken spare as a run whose tag is `tag` leaves it. */
  const taken = (tag: string): string => {
    const name = `.taken.${tag}-0`;
    closeSync(openSync(join(spareDir, name), 'wx', 0o444));
    return name;
  };
  const hex12 = '0123456789ab';
  /** The next run's claim (for a name with no spare). */
  const nextClaim = (): boolean => new SparePool(spareDir).take(join(project, '.envrc'));

  it("a killed taker's spare (its pid gone) is removed by the next claim", () => {
    taken(`${deadPid().toString(36)}-${hex12}`);
    expect(readdirSync(spareDir)).toHaveLength(1);
    expect(nextClaim()).toBe(false);
    expect(readdirSync(spareDir)).toEqual([]);
  });

  it('one whose pid now belongs to another process (started after the taker) is removed too', () => {
    const pid = livePid();
    const start = processStart(pid);
    if (start === undefined) {
      console.warn('skipped: /proc does not tell when a process started here');
      return;
    }
    taken(`${pid.toString(36)}-${(start > 0 ? start - 1 : 1).toString(36)}-${hex12}`);
    expect(nextClaim()).toBe(false);
    expect(readdirSync(spareDir)).toEqual([]);
  });

  it("a live taker's spare is never removed", () => {
    const pid = livePid();
    const start = processStart(pid);
    const mine = taken(start === undefined ? `${pid.toString(36)}-${hex12}` : `${pid.toString(36)}-${start.toString(36)}-${hex12}`);
    const untold = taken(`${pid.toString(36)}-${hex12.replace('0', 'f')}`);
    expect(nextClaim()).toBe(false);
    expect(readdirSync(spareDir).sort()).toEqual([mine, untold].sort());
  });

  it('one whose taker cannot be told (no start time in its name) is removed once older than the stale limit', async () => {
    const pid = livePid();
    taken(`${pid.toString(36)}-${hex12}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(new SparePool(spareDir, { staleMs: 10 }).take(join(project, '.envrc'))).toBe(false);
    expect(readdirSync(spareDir)).toEqual([]);
  });

  it('names of other shapes in the store are left for makeRoom, as before', () => {
    const other = taken('left-by-someone');
    expect(nextClaim()).toBe(false);
    expect(readdirSync(spareDir)).toEqual([other]);
  });
});
