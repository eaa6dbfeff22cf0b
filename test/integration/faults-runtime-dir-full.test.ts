/**
 * isolate's runtime directory ($XDG_RUNTIME_DIR/isolate, where runs register
 * their placeholders) on a full file system: a 64 KiB tmpfs the test mounts
 * (root only) and fills, with no page left, or one (room for the registry's
 * lock, none for the run's entry). The command must not run without its
 * registration (the placeholders it makes would have no owner to remove them),
 * the refusal must say how to get past it, and nothing may be left in the
 * project.
 */
import { readdirSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { homeWithProject, isolate, runners, type Project, type Runner } from '../helpers/isolate.js';
import { smallTmpfs, tmpfsUnavailable, type SmallDisk } from '../helpers/tmpfs.js';

const noTmpfs = tmpfsUnavailable();
if (noTmpfs !== undefined) console.warn(`skipping the full runtime directory tests: ${noTmpfs}`);

describe.skipIf(noTmpfs !== undefined).each(runners())('isolate run with its runtime directory on a full file system ($label)', (runner: Runner) => {
  const cleanups: (() => void)[] = [];
  afterEach(() => {
    for (const c of cleanups.splice(0).reverse()) c();
  });

  function setUp(leavePages: number): { p: Project; disk: SmallDisk } {
    const p = homeWithProject(runner);
    cleanups.push(p.cleanup);
    const disk = smallTmpfs(64, runner);
    cleanups.push(() => disk.unmount());
    disk.fill(leavePages * 4096);
    return { p, disk };
  }

  for (const leavePages of [0, 1]) {
    it(`${leavePages === 0 ? 'no page free' : 'one page free (the lock, not the entry)'}: exit 125 before the command, the registry's fix, nothing left in the project`, () => {
      const { p, disk } = setUp(leavePages);
      const r = isolate(runner, ['run', '--', 'sh', '-c', 'echo ran'], { cwd: p.project, env: { ...p.env, XDG_RUNTIME_DIR: disk.dir } });
      expect(r.stdout, 'the command did not run').toBe('');
      expect(r.status, r.stderr).toBe(125);
      expect(r.stderr).toMatch(/placeholder registry/);
      expect(r.stderr).toMatch(/ENOSPC|no space/i);
      expect(r.stderr).toMatch(/XDG_RUNTIME_DIR/);
      expect(r.stderr).not.toMatch(/internal error/);
      expect(readdirSync(p.project), 'no placeholder left in the project').toEqual([]);
    });
  }
});
