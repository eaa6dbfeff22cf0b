/**
 * Red team: darcs's repository defaults. darcs reads
 * `_darcs/prefs/defaults` of the repository it runs in (found from the
 * working directory upwards) and applies it to every command: `ALL prehook
 * <cmd>` with `ALL run-prehook` runs <cmd>, with no prompt, before the
 * user's next `darcs whatsnew` or `darcs log` there, or a prompt's. A
 * command that wrote the file into the project would have its command run
 * on the host. It stays read-only where it exists, and one a run creates
 * (in the project's repository, or a new one at any depth) is moved aside.
 *
 * Judged on the host: what the defaults files hold after the run (darcs
 * itself is rarely installed; its reading of the file is in
 * src/Darcs/UI/RunCommand.hs, runWithHooks).
 *
 * Each test was written as a failing finding first; it now guards the fix.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { giveTo, isolate } from '../helpers/isolate.js';
import { backendCases } from '../helpers/backends.js';
import { plantSite } from '../helpers/plant-site.js';

const DEFAULTS = '_darcs/prefs/defaults';

describe.each(backendCases('red team: darcs defaults'))('red team: darcs defaults ($label)', ({ runner, backend, backendEnv }) => {
  const site = plantSite(runner, backendEnv);

  const run = (script: string) => isolate(runner, ['run', '--backend', backend, '--', 'sh', '-c', script], { cwd: site.project, env: site.env, timeoutMs: 30_000 });
  const plant = (dir: string): string => `mkdir -p ${dir}/_darcs/prefs && printf 'ALL prehook touch ${site.marker}\\nALL run-prehook\\n' > ${dir}/${DEFAULTS}`;
  /** What the defaults file in `dir` (relative to the project) holds, '' when there is none. */
  const defaultsIn = (dir: string): string => {
    const at = join(site.project, dir, DEFAULTS);
    return existsSync(at) ? readFileSync(at, 'utf8') : '';
  };
  /** A darcs repository's directory as `darcs init` leaves it, with or without defaults. */
  const darcsRepo = (dir: string, defaults?: string): void => {
    mkdirSync(join(site.project, dir, '_darcs/prefs'), { recursive: true });
    writeFileSync(join(site.project, dir, '_darcs/format'), 'hashed|no-working-dir\ndarcs-2\n');
    writeFileSync(join(site.project, dir, '_darcs/prefs/boring'), '');
    if (defaults !== undefined) writeFileSync(join(site.project, dir, DEFAULTS), defaults);
    giveTo(runner, site.dir);
  };

  it('an existing defaults file cannot be rewritten, nor its _darcs moved away and replaced', () => {
    darcsRepo('.', 'ALL summary\n');
    mkdirSync(join(site.project, 'other'));
    giveTo(runner, site.dir);
    const r = run(`${plant('.')}; mv _darcs _darcs.old && ${plant('.')}; ${plant('other')}; echo done`);
    expect(r.status, r.stderr).toBe(0);
    expect(defaultsIn('.')).not.toContain('prehook');
    expect(defaultsIn('other'), 'control: the project is writable; one made in a new repository is moved aside').not.toContain('prehook');
  });

  it('one made in a repository that had none is moved aside', () => {
    darcsRepo('.');
    const r = run(`${plant('.')}; echo done`);
    expect(r.status, r.stderr).toBe(0);
    expect(defaultsIn('.')).not.toContain('prehook');
    expect(r.stderr, 'the file moved aside is named').toContain(DEFAULTS);
  });

  it('one made in a new repository, at the top or deeper, is moved aside', () => {
    mkdirSync(join(site.project, 'pkg/sub'), { recursive: true });
    giveTo(runner, site.dir);
    const r = run(`${plant('.')}; ${plant('pkg/sub')}; echo done`);
    expect(r.status, r.stderr).toBe(0);
    expect(defaultsIn('.')).not.toContain('prehook');
    expect(defaultsIn('pkg/sub')).not.toContain('prehook');
  });
});
