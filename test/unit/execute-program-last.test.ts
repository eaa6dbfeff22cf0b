/**
 * Plan.seccomp.afterSetup (bwrap reads --seccomp once the sandbox is set up,
 * just before the command): the launcher gets its arguments at once and sets
 * the sandbox up while beforeStart (the audit log's run-started record) runs;
 * the program, and with it the command, follows only once beforeStart is
 * done. When beforeStart fails, the launcher is killed and its program's pipe
 * closed empty: the command never runs. The launcher is a plain /bin/sh that
 * reads its arguments, "sets up" (a marker), reads the program to its end and
 * "runs the command" (a second marker) only with a program, as bwrap does.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { IsolateError } from '../../src/errors.js';
import type { Plan } from '../../src/backends/types.js';
import { execute } from '../../src/run/execute.js';
import { fakePlan } from '../helpers/fake-plan.js';

// $1 the set-up marker, $2 the command's marker, $3 where the program read goes. As bwrap, the launcher reports on
// fd 4 the init it forks, which sets up, reads the program to its end and starts the command only with one; the
// launcher waits for it and reports its status. Killing the launcher leaves the init alive.
const LAUNCHER = [
  'cat <&3 >/dev/null',
  '( : > "$1"; cat <&5 > "$3"; test -s "$3" || exit 1; : > "$2" ) &',
  'printf \'{ "child-pid": %d }\\n\' $! >&4',
  'wait $!; s=$?',
  'test $s = 0 && printf \'{ "exit-code": 0 }\\n\' >&4',
  'exit $s',
].join('\n');
const PROGRAM = Buffer.from('0123456789abcdef');
const refusal = new IsolateError('E_AUDIT_IO', 'the start of this run cannot be recorded');

describe('execute: a program the launcher reads after setup', () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });
  const files = (): { setUp: string; ran: string; program: string; plan: Plan } => {
    const d = mkdtempSync(join(tmpdir(), 'isolate-unit-program-'));
    dirs.push(d);
    const [setUp, ran, program] = [join(d, 'set-up'), join(d, 'ran'), join(d, 'program')];
    const plan: Plan = { ...fakePlan(LAUNCHER, { args: 3, status: 4 }, [setUp, ran, program]), pipedArgs: ['x'], seccomp: { fd: 5, program: PROGRAM, afterSetup: true } };
    return { setUp, ran, program, plan };
  };

  it('the sandbox is set up while beforeStart runs; the program, and the command, come after it', async () => {
    const { setUp, ran, program, plan } = files();
    const seen: boolean[] = [];
    const beforeStart = async (): Promise<void> => {
      for (let i = 0; i < 100 && !existsSync(setUp); i++) await sleep(20);
      seen.push(existsSync(setUp), existsSync(ran));
      await sleep(100);
      seen.push(existsSync(ran));
    };
    const r = await execute(plan, { stdio: 'capture', beforeStart });
    expect(seen).toEqual([true, false, false]);
    expect(r.exitCode, r.error?.message).toBe(0);
    expect(existsSync(ran)).toBe(true);
    expect(readFileSync(program)).toEqual(PROGRAM);
  });

  it('beforeStart fails: execute rejects with its error; the init, still alive, gets an empty program and never starts the command', async () => {
    const { setUp, ran, program, plan } = files();
    const beforeStart = async (): Promise<void> => {
      for (let i = 0; i < 100 && !existsSync(setUp); i++) await sleep(20);
      throw refusal;
    };
    await expect(execute(plan, { stdio: 'capture', beforeStart })).rejects.toBe(refusal);
    await sleep(100);
    expect(existsSync(setUp)).toBe(true);
    expect(existsSync(ran)).toBe(false);
    expect(existsSync(program) ? readFileSync(program).length : 0).toBe(0);
  });

  it('without a status descriptor the program is not held back: the launcher waits unfed, as before', async () => {
    const { ran, plan } = files();
    const script = 'cat <&3 >/dev/null; : > "$1"; cat <&5 > "$3"; test -s "$3" && : > "$2"';
    const unfed: Plan = { ...plan, argv: ['/bin/sh', '-c', script, 'fake-launcher', ...plan.argv.slice(4)], fds: { args: 3 } };
    const seen: boolean[] = [];
    const r = await execute(unfed, { stdio: 'capture', beforeStart: async () => {
      await sleep(150);
      seen.push(existsSync(ran));
    } });
    expect(seen).toEqual([false]);
    expect(r.exitCode).toBe(0);
    expect(existsSync(ran)).toBe(true);
  });
});
