/**
 * A terminal of its own for interactive commands, driven through a real
 * pseudo-terminal as a user's (test/helpers/pty.ts): job control, /dev/tty,
 * window sizes, the relay's filter, the user's terminal modes put back
 * however the run ends, and nothing typed into the user's terminal.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backendCases } from '../helpers/backends.js';
import { DEFAULT_PATH, homeWithProject, isolateArgv, plant, type Project } from '../helpers/isolate.js';
import { haveDriver, onTerminalAsync, type DriveOptions, type TerminalRun } from '../helpers/pty.js';

const driver = haveDriver();
if (!driver) console.warn('terminal tests skipped: they need python3 (with its pty module) to make the terminal they drive');

const CLIPBOARD = 'printf "a\\033]52;c;ZXZpbA==\\007b\\n"';
const INJECT = "import fcntl, termios\nfor c in b'echo INJECTED\\n': fcntl.ioctl(0, termios.TIOCSTI, bytes([c]))\nprint('injected-inside')";

describe.skipIf(!driver).each(backendCases('terminal tests'))('a terminal of its own ($label)', { concurrent: true }, ({ runner, backend, backendEnv }) => {
  let p: Project;
  let noSeccomp: string;
  const on = (args: string[], more: Partial<DriveOptions> = {}): Promise<TerminalRun> =>
    onTerminalAsync(isolateArgv(runner, ['run', '--backend', backend, ...args]), {
      cwd: p.project,
      env: { ...p.env, ...backendEnv, PATH: DEFAULT_PATH, XDG_STATE_HOME: runner.stateDir, TERM: 'xterm' },
      ...more,
    });

  beforeAll(() => {
    p = homeWithProject(runner);
    noSeccomp = plant(runner, p.home, 'profiles/none.yaml', 'extends: default\nsyscalls:\n  preset: none\n');
  });
  afterAll(() => p.cleanup());

  it('an interactive shell has job control, /dev/tty, its window size and every change of it; the terminal is raw during the run and as before after it', async () => {
    const r = await on(['--', 'bash', '--norc', '--noprofile', '-i'], {
      steps: [
        { expect: 'bash-[0-9.]+[#$] ' },
        { modes: true },
        { send: 'tty\n' },
        { expect: '/dev/pts/[0-9]+\r+\n' },
        { send: 'sleep 100 & jobs\n' },
        { expect: '\\[1\\]\\+ +Running +sleep 100' },
        { send: 'echo via-tty > /dev/tty; read -r line < /dev/tty; echo "got=$line"\n' },
        { expect: 'via-tty\r+\n' },
        { send: 'typed-in\r' },
        { expect: 'got=typed-in' },
        { send: 'stty size\n' },
        { expect: '30 100' },
        // Ctrl-C interrupts the foreground job, not the shell (and not isolate).
        { send: 'sleep 50\n' },
        { sleep: 0.5 },
        { send: '\x03' },
        { send: 'echo after-$((1+1))\n' },
        { expect: 'after-2' },
        { resize: [40, 120] },
        { sleep: 0.5 },
        { send: 'stty size\n' },
        { expect: '40 120' },
        { send: 'kill %1; exit 3\n' },
      ],
    });
    expect(r.failed, r.output).toBeNull();
    expect(r.status, r.output).toBe(3);
    expect(r.output).not.toMatch(/no job control|cannot set terminal process group/);
    expect(r.during[0]).not.toEqual(r.before);
    expect(r.after).toEqual(r.before);
  });

  it('a program waiting for SIGWINCH (as a curses program does) gets it when the window changes, and reads the new size', async () => {
    // SIGWINCH is taken with sigwait, not a handler: a handler that prints could run inside the print of 'ready' (Python refuses that).
    const program = [
      'import os, signal',
      'signal.pthread_sigmask(signal.SIG_BLOCK, [signal.SIGWINCH])',
      "print('ready', flush=True)",
      'while True:',
      '    signal.sigwait([signal.SIGWINCH])',
      '    size = os.get_terminal_size()',
      "    print('winch', size, flush=True)",
      '    if size.columns == 132: break',
    ].join('\n');
    const r = await on(['--', 'python3', '-c', program], { steps: [{ expect: 'ready' }, { resize: [50, 132] }] });
    expect(r.failed, r.output).toBeNull();
    expect(r.status, r.output).toBe(0);
    expect(r.output).toContain('winch os.terminal_size(columns=132, lines=50)');
  });

  it('a clipboard write (OSC 52) is dropped on its way to the terminal, and passed with --raw-terminal', async () => {
    const report = join(p.project, 'report.json');
    const filtered = await on(['--report', report, '--', 'sh', '-c', CLIPBOARD]);
    expect(filtered.status, filtered.output).toBe(0);
    expect((JSON.parse(readFileSync(report, 'utf8')) as { terminal?: unknown }).terminal).toEqual({ given: true });
    expect(filtered.output).toMatch(/ab\r+\n/);
    expect(filtered.output).not.toContain(']52;');
    const raw = await on(['--raw-terminal', '--', 'sh', '-c', CLIPBOARD]);
    expect(raw.status, raw.output).toBe(0);
    expect(raw.output).toContain('a\x1b]52;c;ZXZpbA==\x07b\r');
  });

  it("the terminal's modes are put back after isolate's timeout, after the command is killed, and after a SIGTERM to isolate, which the command gets", async () => {
    // Three runs at once, each on a terminal of its own: each waits mostly on its command.
    const [termed, timedOut, killed] = await Promise.all([
      on(['--', 'sh', '-c', 'echo started; sleep 30'], { steps: [{ expect: 'started' }, { modes: true }, { signal: 15 }] }),
      on(['--timeout', '1s', '--', 'sh', '-c', 'echo started; sleep 30'], { steps: [{ expect: 'started' }, { modes: true }] }),
      on(['--', 'sh', '-c', 'echo started; sleep 1; kill -KILL $$'], { steps: [{ expect: 'started' }, { modes: true }] }),
    ]);
    expect(termed.status, termed.output).toBe(143);
    expect(termed.during[0]).not.toEqual(termed.before);
    expect(termed.after).toEqual(termed.before);
    expect(timedOut.status, timedOut.output).toBe(124);
    expect(timedOut.during[0]).not.toEqual(timedOut.before);
    expect(timedOut.after).toEqual(timedOut.before);
    expect(killed.status, killed.output).toBe(137);
    expect(killed.during[0]).not.toEqual(killed.before);
    expect(killed.after).toEqual(killed.before);
  });

  it("TIOCSTI from the command types into its own terminal only, never into the user's (control: the same probe outside isolate does)", async () => {
    const control = await onTerminalAsync(['python3', '-c', INJECT], { cwd: p.project, env: { PATH: DEFAULT_PATH } });
    if (control.pending === 0) {
      console.warn('TIOCSTI is refused by this kernel (dev.tty.legacy_tiocsti = 0): the control cannot inject, so the test only shows nothing arrives');
    } else {
      expect(control.output).toContain('injected-inside');
    }
    // Without seccomp's TIOCSTI rule, so that the injection itself succeeds inside the sandbox.
    const r = await on(['-p', noSeccomp, '--', 'python3', '-c', INJECT]);
    expect(r.status, r.output).toBe(0);
    expect(r.output).toContain('injected-inside');
    expect(r.pending).toBe(0);
  });

  it('--no-tty: no terminal of its own, the same filter on the way to the terminal (--raw-terminal passes all); output to a file: bytes unfiltered', async () => {
    // Changed: --no-tty passed every byte to the terminal, a clipboard write included (redteam-terminal-escapes.test.ts).
    const noTty = await on(['--no-tty', '--', 'sh', '-c', `tty; ${CLIPBOARD}`]);
    expect(noTty.status, noTty.output).toBe(0);
    expect(noTty.output).not.toMatch(/\/dev\/pts\/[0-9]+/);
    expect(noTty.output).toMatch(/ab\r?\n/);
    expect(noTty.output).not.toContain(']52;');
    const raw = await on(['--no-tty', '--raw-terminal', '--', 'sh', '-c', CLIPBOARD]);
    expect(raw.status, raw.output).toBe(0);
    expect(raw.output).toContain(']52;');
    const file = join(p.project, 'out.bin');
    const args = isolateArgv(runner, ['run', '--backend', backend, '--', 'sh', '-c', CLIPBOARD]);
    const toFile = await onTerminalAsync(['sh', '-c', `"$@" > ${file}`, 'sh', ...args], { cwd: p.project, env: { ...p.env, ...backendEnv, PATH: DEFAULT_PATH, XDG_STATE_HOME: runner.stateDir } });
    expect(toFile.status, toFile.output).toBe(0);
    expect(readFileSync(file, 'latin1')).toBe('a\x1b]52;c;ZXZpbA==\x07b\n');
  });

  it('without python3 inside the sandbox the command runs as before, with a warning', async () => {
    const report = join(p.project, 'report-fallback.json');
    const r = await on(['--report', report, '--deny', '/usr/bin/python3', '--deny', '/usr/bin/python3.11', '--deny', '/usr/local/bin/python3', '--', 'sh', '-c', 'echo ran'], {});
    expect(r.status, r.output).toBe(0);
    expect((JSON.parse(readFileSync(report, 'utf8')) as { terminal?: unknown }).terminal).toMatchObject({ given: false, reason: expect.stringMatching(/not visible inside the sandbox/) });
    expect(r.output).toContain('ran');
    expect(r.output).toMatch(/warning: the command runs without a terminal of its own/);
  });
});
