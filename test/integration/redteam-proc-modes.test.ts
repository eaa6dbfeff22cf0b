/**
 * Red team: the modes of the kernel's own files in /proc. Each file at the
 * top of /proc (meminfo, stat, version, tty/drivers, ...) is one kernel
 * object shared by every /proc mounted on the host; its owner may chmod it
 * with no capability, and when isolate runs as root the sandbox's uid 0 is
 * that owner. A mode set in the sandbox's /proc is then the mode of the file
 * in every /proc mounted after it (the next sandbox's, a container's, the
 * host's own once its cached entry goes): `chmod 0 /proc/meminfo` would
 * break free, top and ps for every other user until someone put it back.
 * Judged by the effect on the host: the mode a fresh /proc shows after the run.
 *
 * Written as a failing finding first; it now guards the fix.
 */
import { chmodSync, statSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { homeWithProject, isolate, keyValues, type Project } from '../helpers/isolate.js';
import { backendCases } from '../helpers/backends.js';

/** A file every kernel has in /proc and nobody depends on: the list of execution domains (mode 0444). */
const VICTIM = '/proc/execdomains';

/** The file's mode in a /proc mounted now (the host's own shows a cached entry: a fresh sandbox's does not). */
const modeIn = (stdout: string): string | undefined => keyValues(stdout)['mode'];

describe.each(backendCases('red team: /proc modes'))('red team: modes of /proc files ($label)', ({ runner, backend, backendEnv }) => {
  let p: Project;
  let before: number;
  beforeEach(() => {
    p = homeWithProject(runner);
    before = statSync(VICTIM).mode & 0o7777;
  });
  afterEach(() => {
    // Should the guard fail, put the host's mode back (root only: an ordinary user cannot have changed it).
    if (process.getuid?.() === 0) chmodSync(VICTIM, before);
    p.cleanup();
  });

  const run = (script: string) => isolate(runner, ['run', '--backend', backend, '--', 'sh', '-c', script], { cwd: p.project, env: { ...p.env, ...backendEnv } });

  it('the command cannot change the mode of a kernel file in /proc, which every /proc mounted later would show', () => {
    const changed = (before & ~0o004).toString(8);
    const attack = run(`chmod ${changed} ${VICTIM} 2>/dev/null && echo chmod=done; echo mode=$(stat -c %a ${VICTIM})`);
    expect(attack.status, attack.stderr).toBe(0);
    // A later sandbox mounts a fresh /proc: the mode it shows is the kernel's, as any /proc mounted from now on shows it.
    const later = run(`echo mode=$(stat -c %a ${VICTIM})`);
    expect(later.status, later.stderr).toBe(0);
    expect(modeIn(later.stdout), `a later /proc shows ${VICTIM} with the mode the command set`).toBe(before.toString(8));
    expect(keyValues(attack.stdout)['chmod']).toBeUndefined();
  });
});
