/**
 * Red team: what `isolate audit show` prints to the user's terminal. The
 * table shows each run's command as recorded, and the command is chosen by
 * whoever asks for the run: a coding assistant's MCP call, which a
 * manipulated model response writes. Its escape sequences went to the
 * terminal as they were: a clipboard write (OSC 52), a title, a newline
 * that fakes a row of the table.
 *
 * Each test was written as a failing finding first; it now guards the fix.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auditRecords, homeWithProject, isolate, isolateAsync, pollFor, runners, spawnIsolate, type Project, START_WAIT_MS } from '../helpers/isolate.js';

describe.each(runners())('red team: audit show ($label)', (runner) => {
  let p: Project;
  beforeAll(() => {
    p = homeWithProject(runner);
  });
  afterAll(() => p.cleanup());

  it('control characters of a recorded command are shown escaped, never sent to the terminal', () => {
    const env = { ...p.env, XDG_STATE_HOME: join(p.home, 'state') };
    const hostile = 'A\x1b]52;c;ZXZpbA==\x07B\n2026-01-01T00:00:00.000Z     0  default    root     faked-row\x9b2J';
    const run = isolate(runner, ['run', '--', 'echo', hostile], { cwd: p.project, env });
    expect(run.status, run.stderr).toBe(0);
    const shown = isolate(runner, ['audit', 'show'], { cwd: p.project, env });
    expect(shown.status, shown.stderr).toBe(0);
    expect(shown.stdout).toContain('echo A');
    for (const c of ['\x1b', '\x07', '\x9b']) expect(shown.stdout.includes(c), `${JSON.stringify(c)} reached the terminal`).toBe(false);
    expect(shown.stdout.split('\n').filter((l) => l.includes('faked-row') && !l.includes('echo')), 'a recorded command faked a row').toEqual([]);
  });

  it('Unicode direction controls of a recorded command are shown escaped: a command cannot show itself as another', () => {
    const env = { ...p.env, XDG_STATE_HOME: join(p.home, 'state') };
    // Shown raw, the right-to-left override turns "rm -rf ~ #sgol" into what reads as "...# logs".
    const hostile = ['rm -rf ~ #\u202esgol daer', 'x\u2066y\u2067z\u2068w\u2069v\u200fu\u061ct'];
    const run = isolate(runner, ['run', '--', 'echo', ...hostile], { cwd: p.project, env });
    expect(run.status, run.stderr).toBe(0);
    const shown = isolate(runner, ['audit', 'show'], { cwd: p.project, env });
    expect(shown.status, shown.stderr).toBe(0);
    expect(shown.stdout).toContain('\\u202e');
    for (const c of ['\u202e', '\u2066', '\u2067', '\u2068', '\u2069', '\u200f', '\u061c']) expect(shown.stdout.includes(c), `${JSON.stringify(c)} reached the terminal`).toBe(false);
  });

  it('audit verify lists a run still going with its command escaped, never sent to the terminal', async () => {
    const env = { ...p.env, XDG_STATE_HOME: join(p.home, 'state') };
    const log = join(p.home, 'state', 'isolate', 'audit.jsonl');
    const hostile = 'A\x1b]0;title\x07B\nintact: faked line\x9b2J';
    const child = spawnIsolate(runner, ['run', '--', 'sh', '-c', `sleep 30 # ${hostile}`], { cwd: p.project, env });
    try {
      await pollFor('the run-started record', () => (auditRecords(log).some((r) => JSON.stringify(r).includes('sleep 30')) ? true : undefined), START_WAIT_MS);
      const verified = await isolateAsync(runner, ['audit', 'verify'], { cwd: p.project, env });
      expect(verified.status, verified.stderr).toBe(0);
      expect(verified.stdout).toContain('sleep 30 # A');
      for (const c of ['\x1b', '\x07', '\x9b']) expect(verified.stdout.includes(c), `${JSON.stringify(c)} reached the terminal`).toBe(false);
      expect(verified.stdout.split('\n').filter((l) => l.startsWith('intact: faked')), 'a recorded command faked a line').toEqual([]);
    } finally {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('close', r));
    }
  });
});
