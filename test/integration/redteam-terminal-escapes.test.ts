/**
 * Red team: escape sequences to the user's terminal from a run without a
 * terminal of its own. isolate filters what reaches the terminal from a
 * command that has one (docs/terminal.md, "What the relay drops": a clipboard
 * write, requests the terminal answers by typing into the shell's input).
 * A run without one, because stdin was a file or a pipe (`cmd < data`,
 * `producer | isolate run -- cmd`) or --no-tty, handed the command the
 * terminal itself or copied its bytes unfiltered: an OSC 52 clipboard write
 * reached the terminal, and a terminal the caller does not own (`sudo
 * isolate run`) was the command's to write through any descriptor.
 *
 * Each test was written as a failing finding first; it now guards the fix.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backendCases } from '../helpers/backends.js';
import { DEFAULT_PATH, homeWithProject, isolateArgv, type Project } from '../helpers/isolate.js';
import { haveDriver, onTerminal, type TerminalRun } from '../helpers/pty.js';

const driver = haveDriver();
if (!driver) console.warn('red team terminal escapes skipped: python3 with its pty module is needed to drive a terminal');

/** A clipboard write (OSC 52) between two letters, on stdout, on stderr and through every other descriptor that may be the terminal. */
const CLIPBOARD = (tag: string): string =>
  `printf "${tag}1\\033]52;c;ZXZpbA==\\007x\\n"; printf "${tag}2\\033]52;c;ZXZpbA==\\007y\\n" >&2; printf "${tag}3\\033]52;c;ZXZpbA==\\007z\\n" >&0 2>/dev/null; echo done`;

describe.skipIf(!driver).each(backendCases('red team terminal escapes'))('red team: escape sequences without a terminal of its own ($label)', ({ runner, backend, backendEnv }) => {
  let p: Project;
  const on = (args: string[], stdin: string): TerminalRun =>
    onTerminal(['sh', '-c', `"$@" ${stdin}`, 'sh', ...isolateArgv(runner, ['run', '--backend', backend, ...args])], {
      cwd: p.project,
      env: { ...p.env, ...backendEnv, PATH: DEFAULT_PATH, XDG_STATE_HOME: runner.stateDir, TERM: 'xterm' },
    });

  beforeAll(() => {
    p = homeWithProject(runner);
  });
  afterAll(() => p.cleanup());

  it('stdin from /dev/null or a pipe: a clipboard write on stdout or stderr never reaches the terminal; the text around it does', () => {
    for (const stdin of ['</dev/null', '<<EOF\nline\nEOF']) {
      const r = on(['--', 'sh', '-c', CLIPBOARD('a')], stdin);
      expect(r.status, r.output).toBe(0);
      expect(r.output).toContain('done');
      expect(r.output).toMatch(/a1x\r?\n/);
      expect(r.output).toMatch(/a2y\r?\n/);
      expect(r.output, `a clipboard write reached the terminal (stdin ${stdin})`).not.toContain(']52;');
    }
  });

  it('--no-tty with the terminal on stdin: nothing the command writes, through stdout, stderr or stdin, reaches the terminal unfiltered', () => {
    const r = on(['--no-tty', '--', 'sh', '-c', `${CLIPBOARD('b')}; if test -t 0; then echo stdin-is-a-terminal; fi`], '');
    expect(r.status, r.output).toBe(0);
    expect(r.output).toContain('done');
    expect(r.output).toMatch(/b1x\r?\n/);
    expect(r.output, 'a clipboard write reached the terminal').not.toContain(']52;');
    expect(r.output, 'the command held the terminal on its stdin').not.toContain('stdin-is-a-terminal');
  });

  it('--raw-terminal passes the sequences, as with a terminal of its own', () => {
    const r = on(['--raw-terminal', '--', 'sh', '-c', CLIPBOARD('c')], '</dev/null');
    expect(r.status, r.output).toBe(0);
    expect(r.output).toContain('c1\x1b]52;c;ZXZpbA==\x07x');
  });
});
