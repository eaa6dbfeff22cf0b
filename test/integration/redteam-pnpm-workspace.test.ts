/**
 * Red team: pnpm's workspace file. pnpm 10.6 and later read every setting
 * of `.npmrc` from `pnpm-workspace.yaml` too (pnpm 11 its non-auth settings
 * from there only), `pnpmfile` among them: the hook file pnpm loads, with no
 * prompt and whatever `--ignore-scripts` says, in every `pnpm install`,
 * `pnpm list` and `pnpm outdated` of the workspace, outside the sandbox. A
 * command that wrote `pnpmfile: tools/setup.cjs` and the file it names would
 * have its code run by the user's next pnpm there, as `.pnpmfile.cjs`
 * itself would (pnpm 10 also loads `.pnpmfile.mjs`). The files stay
 * read-only where they exist, cannot be made at the top of the project, and
 * one made deeper (pnpm looks for the workspace file upwards) is moved aside.
 *
 * Judged on the host: what the files hold after the run.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { giveTo } from '../helpers/isolate.js';
import { projectRuns } from '../helpers/project-runs.js';
import { backendCases } from '../helpers/backends.js';

const PLANTED = 'pnpmfile: tools/setup.cjs\\n';
const NAMES = ['pnpm-workspace.yaml', '.pnpmfile.mjs'];
const WORKSPACE = "packages:\n  - 'apps/*'\n";

describe.each(backendCases('red team: pnpm-workspace.yaml'))('red team: pnpm-workspace.yaml ($label)', ({ runner, backend, backendEnv }) => {
  const { p, run } = projectRuns(runner, backend, backendEnv);

  it('an existing workspace file cannot be rewritten, and none can be made at the top of the project', () => {
    writeFileSync(join(p.project, 'pnpm-workspace.yaml'), WORKSPACE);
    giveTo(runner, p.home);
    const r = run(`for f in ${NAMES.join(' ')}; do printf '${PLANTED}' > $f; printf '${PLANTED}' >> $f; done; printf '${PLANTED}' > notes; echo done`);
    expect(r.status, r.stderr).toBe(0);
    expect(readFileSync(join(p.project, 'pnpm-workspace.yaml'), 'utf8')).toBe(WORKSPACE);
    const mjs = join(p.project, '.pnpmfile.mjs');
    expect(existsSync(mjs) ? readFileSync(mjs, 'utf8') : '').not.toContain('pnpmfile');
    expect(readFileSync(join(p.project, 'notes'), 'utf8'), 'control: the project is writable').toContain('pnpmfile: ');
  });

  it('one made in a subdirectory is moved aside', () => {
    mkdirSync(join(p.project, 'apps'));
    giveTo(runner, p.home);
    const r = run(`for f in ${NAMES.join(' ')}; do printf '${PLANTED}' > apps/$f; done; true`);
    expect(r.status, r.stderr).toBe(0);
    const quarantined = (JSON.parse(r.stdout) as { quarantined?: { path: string }[] }).quarantined ?? [];
    for (const name of NAMES) {
      const at = join(p.project, 'apps', name);
      expect(quarantined.map((q) => q.path)).toContain(at);
      expect(existsSync(at) ? readFileSync(at, 'utf8') : '', name).not.toContain('pnpmfile');
    }
  });
});
