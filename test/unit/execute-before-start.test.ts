/**
 * ExecuteOptions.beforeStart (the audit log's run-started record): it runs
 * while the launcher waits unfed, and the command starts only after it; when
 * it fails, the launcher is killed unfed and nothing runs. The launcher is a
 * plain /bin/sh that "runs the command" by creating a marker file once it has
 * read its arguments.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { IsolateError } from '../../src/errors.js';
import type { Plan } from '../../src/backends/types.js';
import { execute, type ExecuteResult } from '../../src/run/execute.js';
import { fakePlan } from '../helpers/fake-plan.js';

// Reads its arguments on fd 3 as bwrap does (to the end of the pipe), then runs "the command": the marker.
const READS_ARGS = 'read -r args <&3 || true; : > "$1"';
// Starts "the command" at once, as a launcher with no input does.
const AT_ONCE = ': > "$1"';
const refusal = new IsolateError('E_AUDIT_IO', 'the start of this run cannot be recorded');
// Fails after a while, as a slow audit log does: time enough for a launcher fed too early to run the command.
const refuseLate = async (): Promise<void> => {
  await sleep(150);
  throw refusal;
};

/** Run `plan` with a beforeStart that looks for the command's marker after a while: not there yet; there once the run ends. */
async function ranAfterBeforeStart(plan: Plan, ran: string): Promise<ExecuteResult> {
  const seen: boolean[] = [];
  const beforeStart = async (): Promise<void> => {
    await sleep(200);
    seen.push(existsSync(ran));
  };
  const r = await execute(plan, { stdio: 'capture', beforeStart });
  expect(seen).toEqual([false]);
  expect(r.exitCode).toBe(0);
  expect(existsSync(ran)).toBe(true);
  return r;
}

describe('execute: beforeStart', () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });
  const marker = (): string => {
    const d = mkdtempSync(join(tmpdir(), 'isolate-unit-before-'));
    dirs.push(d);
    return join(d, 'ran');
  };

  it('a launcher that reads its arguments waits for beforeStart: the command starts after it', async () => {
    const ran = marker();
    const r = await ranAfterBeforeStart({ ...fakePlan(READS_ARGS, { args: 3 }, [ran]), pipedArgs: ['x'] }, ran);
    expect(r.error).toBeUndefined();
  });

  it('beforeStart fails: the launcher is killed unfed, execute rejects with that error, and the command never ran', async () => {
    const ran = marker();
    const plan = { ...fakePlan(READS_ARGS, { args: 3 }, [ran]), pipedArgs: ['x'] };
    await expect(execute(plan, { stdio: 'capture', beforeStart: refuseLate })).rejects.toBe(refusal);
    await sleep(100);
    expect(existsSync(ran)).toBe(false);
  });

  it('a launcher that would start the command at once is started only after beforeStart, and not at all when it fails', async () => {
    const ran = marker();
    await ranAfterBeforeStart(fakePlan(AT_ONCE, {}, [ran]), ran);

    const never = marker();
    await expect(execute(fakePlan(AT_ONCE, {}, [never]), { stdio: 'capture', beforeStart: refuseLate })).rejects.toBe(refusal);
    await sleep(100);
    expect(existsSync(never)).toBe(false);
  });
});
