/**
 * run/'s use of Plan.fds.started (nsjail's init writes one byte there once
 * the sandbox is set up, and waits for "go"): without the byte, the
 * launcher's exit status is a setup failure (125), not the command's. A
 * plain /bin/sh stands in for the launcher, so this runs anywhere with a
 * POSIX shell; the init's own script is used where it matters.
 */
import { describe, expect, it } from 'vitest';
import type { Plan } from '../../src/backends/types.js';
import { INIT_SCRIPT } from '../../src/backends/nsjail.js';
import { execute } from '../../src/run/execute.js';
import { fakePlan } from '../helpers/fake-plan.js';

const run = (script: string, fds: Plan['fds']) => execute(fakePlan(script, fds), { stdio: 'capture' });

describe('execute: the started descriptor', () => {
  it('the byte arrived: run/ answers "go", and the launcher\'s 255 is the command\'s', async () => {
    const r = await run('printf . >&4; read -r go <&4; exec 4>&-; echo "answer=$go"; exit 255', { started: 4 });
    expect(r.exitCode).toBe(255);
    expect(r.started).toBe(true);
    expect(r.error).toBeUndefined();
    expect(r.stdout).toBe('answer=go\n');
  });

  it('nsjail\'s init script: starts the command after "go", with its status and stderr, and without fd 4', async () => {
    const plan = fakePlan(INIT_SCRIPT, { started: 4 });
    plan.argv = ['/bin/sh', '-c', INIT_SCRIPT, 'isolate-init', '/bin/sh', '-c', 'echo err >&2; ls /proc/self/fd; exit 255'];
    const r = await execute(plan, { stdio: 'capture' });
    expect(r.exitCode).toBe(255);
    expect(r.error).toBeUndefined();
    expect(r.stderr).toBe('err\n');
    // The command never holds the start descriptor (the init closed it).
    const fds = (r.stdout ?? '').split('\n').filter(Boolean).map(Number);
    expect(fds).toEqual(expect.arrayContaining([0, 1, 2]));
    expect(fds).not.toContain(4);
  });

  it('other exit codes and 128+N pass through once started', async () => {
    expect((await run('printf . >&4; exit 7', { started: 4 })).exitCode).toBe(7);
    const k = await run('printf . >&4; exit 143', { started: 4 });
    expect(k.exitCode).toBe(143);
    expect(k.signal).toBe('SIGTERM');
  });

  it('no byte: a setup failure, exit 125, with the launcher\'s last stderr lines as the detail', async () => {
    const r = await run('for i in 1 2 3 4 5 6; do echo "[E] setup line $i" >&2; done; exit 255', { started: 4 });
    expect(r.exitCode).toBe(125);
    expect(r.started).toBe(false);
    expect(r.error?.code).toBe('E_SANDBOX_SETUP');
    expect(r.error?.message).toBe('nsjail could not set up the sandbox (exit 255); the command was not run');
    expect(r.error?.detail).toBe(['[E] setup line 2', '[E] setup line 3', '[E] setup line 4', '[E] setup line 5', '[E] setup line 6'].join('\n'));
  });

  it('no byte and exit 0 is a setup failure too: nothing said the command started', async () => {
    const r = await run('exec 4>&-; exit 0', { started: 4 });
    expect(r.exitCode).toBe(125);
    expect(r.error?.code).toBe('E_SANDBOX_SETUP');
  });

  it('without a started descriptor the launcher\'s status is the command\'s, as before', async () => {
    const r = await run('exit 255', {});
    expect(r.exitCode).toBe(255);
    expect(r.started).toBe(true);
    expect(r.error).toBeUndefined();
  });
});
