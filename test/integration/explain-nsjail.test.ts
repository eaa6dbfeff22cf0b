/**
 * The command line `explain` prints for nsjail, pasted into bash: the
 * environment's values reach nsjail's config as the shell expands them only
 * when they cannot end the config's quoted string; any other value is
 * printed escaped, so a hostile value cannot add lines to the config.
 */
import { describe, expect, it } from 'vitest';
import { findNsjail } from '../../src/host/facts.js';
import { asRunner, homeWithProject, isolate, runners } from '../helpers/isolate.js';

const NSJAIL = findNsjail(process.env);
if (NSJAIL === undefined) console.warn('skipping the nsjail explain tests: no nsjail binary on PATH or in ISOLATE_NSJAIL');

describe.skipIf(NSJAIL === undefined).each(runners())('explain --backend nsjail, pasted ($label)', (runner) => {
  it('a TERM that tries to close the envar string and add a mount stays one value', () => {
    const q = homeWithProject(runner);
    try {
      const term = 'xterm"\nmount { dst: "/tmp/injected" src: "/" is_bind: true rw: true }\nenvar: "Z=z';
      const env = { ...q.env, TERM: term, ISOLATE_NSJAIL: NSJAIL ?? '' };
      const probe = 'test -e /tmp/injected/etc && echo INJECTED; test -n "$Z" && echo Z-SET; printf "%s" "$TERM"';
      const e = JSON.parse(isolate(runner, ['explain', '--json', '--backend', 'nsjail', '--', 'sh', '-c', probe], { cwd: q.project, env }).stdout) as { commandLine: string };
      expect(e.commandLine).not.toContain(`TERM='"$TERM"'`); // printed escaped, not expanded at paste time
      expect(e.commandLine).toContain('envar: "TERM=xterm\\"\\nmount');
      expect(e.commandLine).toContain(`PATH='"$PATH"'`); // an ordinary value is still expanded at paste time
      const r = asRunner(runner, ['bash', '-c', e.commandLine], { cwd: q.project, env: { ...q.env, TERM: term } });
      expect(r.status, r.stderr).toBe(0);
      expect(r.stdout).not.toContain('INJECTED');
      expect(r.stdout).not.toContain('Z-SET');
      expect(r.stdout).toBe(term);
    } finally {
      q.cleanup();
    }
  });
});
