/**
 * Red team: isolate's own core dump. isolate holds a run's real credentials
 * in its memory, and its working directory is the project the next sandbox
 * writes and reads. Started by a shell whose core size limit is unlimited,
 * on a host whose core_pattern is `core` (Debian's default without a crash
 * handler), a crash of isolate (an abort on a heap exhausted by a flood, a
 * signal) would leave `core` in the project, tokens and all, for the next
 * sandboxed command to read. bin/isolate.js starts Node with no core dumps.
 *
 * Judged on the host: the core size limit of the running isolate, and, where
 * core_pattern writes `core` into the working directory, no such file after
 * isolate is killed with SIGSEGV.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { giveTo, runners, tempDirFor, DEFAULT_PATH } from '../helpers/isolate.js';

const corePattern = existsSync('/proc/sys/kernel/core_pattern') ? readFileSync('/proc/sys/kernel/core_pattern', 'utf8').trim() : '';
const dumpsHere = corePattern === 'core' || corePattern.startsWith('core.');

/** The soft and hard core size limits of a process, from /proc/<pid>/limits. */
function coreLimits(pid: number): string {
  const line = readFileSync(`/proc/${pid}/limits`, 'utf8').split('\n').find((l) => l.startsWith('Max core file size'));
  return (line ?? '').replace(/\s+/g, ' ').trim();
}

const exited = (child: ChildProcess): Promise<void> => new Promise((resolve) => (child.exitCode !== null || child.signalCode !== null ? resolve() : child.once('exit', () => resolve())));

describe.each(runners())("red team: isolate's own core dump ($label)", (runner) => {
  let dir: string;
  let cleanup: () => void;
  let child: ChildProcess | undefined;
  beforeEach(() => ({ dir, cleanup } = tempDirFor(runner)));
  afterEach(async () => {
    if (child !== undefined && child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await exited(child);
    }
    child = undefined;
    cleanup();
  });

  it('started from a shell with unlimited core dumps, isolate runs with none: a crash leaves no core in the project', async () => {
    giveTo(runner, dir);
    const script = 'ulimit -c unlimited 2>/dev/null || ulimit -c "$(ulimit -H -c)"; echo "$(ulimit -c)" > shell-limit; exec "$0" run -- sleep 30';
    child = spawn(runner.prefix[0] ?? 'sh', [...runner.prefix.slice(1), ...(runner.prefix.length > 0 ? ['sh'] : []), '-c', script, runner.bin], {
      cwd: dir,
      env: { PATH: DEFAULT_PATH, HOME: join(dir, 'home'), XDG_STATE_HOME: runner.stateDir, LANG: 'C.UTF-8' },
      stdio: 'ignore',
    });
    const pid = child.pid as number;
    // The shell execs bin/isolate.js, which execs Node: one pid, whose sandbox runs once the shell wrote its limit.
    for (let i = 0; i < 100 && !existsSync(join(dir, 'shell-limit')); i++) await new Promise((r) => setTimeout(r, 50));
    await new Promise((r) => setTimeout(r, 1000));
    const shellLimit = readFileSync(join(dir, 'shell-limit'), 'utf8').trim();
    expect(shellLimit, 'control: the shell allowed core dumps').not.toBe('0');
    expect(coreLimits(pid), "isolate's core size limit").toMatch(/^Max core file size 0 0 bytes$/);
    if (!dumpsHere) {
      console.warn(`red team: core dump: core_pattern is ${JSON.stringify(corePattern)}, not a file in the working directory: the crash itself is not tried (the limit above is what stops it)`);
      return;
    }
    child.kill('SIGSEGV');
    await exited(child);
    expect(readdirSync(dir).filter((n) => n.startsWith('core')), 'a core dump of isolate in the project').toEqual([]);
  });
});
