/**
 * Red team: lefthook's other configuration files. lefthook (run by the git
 * hooks it installs) reads its main configuration from any of
 * `lefthook.{yml,yaml,toml,json,jsonc}`, with or without a leading dot, or
 * under `.config/`, and merges a `lefthook-local.*` of any of these forms on
 * top; its scripts live in `.lefthook/` and `.lefthook-local/`. A command
 * that wrote `lefthook-local.yaml` beside the project's `lefthook.yml`
 * would have its own `pre-commit` job run by the user's next `git commit`,
 * outside the sandbox, and one that rewrote a script in `.lefthook/` would
 * too. Existing ones stay read-only; ones a run creates are moved aside
 * after it.
 *
 * Judged on the host: what the files hold after the run.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { giveTo } from '../helpers/isolate.js';
import { projectRuns } from '../helpers/project-runs.js';
import { backendCases } from '../helpers/backends.js';

const PLANTED = 'pre-commit:\\n  jobs:\\n    - run: touch /tmp/planted\\n';
const CREATED = ['lefthook-local.yaml', '.lefthook-local.json', 'lefthook.toml', '.config/lefthook-local.yml', 'pkg/lefthook-local.jsonc', '.lefthook-local/pre-commit/x.sh'];

describe.each(backendCases('red team: lefthook'))('red team: lefthook configuration ($label)', ({ runner, backend, backendEnv }) => {
  const { p, run } = projectRuns(runner, backend, backendEnv);

  it('the scripts of an existing .lefthook directory and an existing configuration in another form cannot be rewritten', () => {
    mkdirSync(join(p.project, '.lefthook', 'pre-commit'), { recursive: true });
    writeFileSync(join(p.project, '.lefthook', 'pre-commit', 'lint.sh'), 'npm run lint\n');
    writeFileSync(join(p.project, 'lefthook.yaml'), 'pre-commit:\n  scripts:\n    lint.sh:\n      runner: sh\n');
    mkdirSync(join(p.project, 'other'));
    giveTo(runner, p.home);
    const r = run(`printf 'touch /tmp/planted\\n' > .lefthook/pre-commit/lint.sh; printf '${PLANTED}' > lefthook.yaml; printf '${PLANTED}' > other/notes; true`);
    expect(r.status, r.stderr).toBe(0);
    expect(readFileSync(join(p.project, '.lefthook', 'pre-commit', 'lint.sh'), 'utf8')).toBe('npm run lint\n');
    expect(readFileSync(join(p.project, 'lefthook.yaml'), 'utf8')).not.toContain('planted');
    expect(readFileSync(join(p.project, 'other', 'notes'), 'utf8'), 'control: the project is writable').toContain('planted');
  });

  it('configuration a run creates beside the project\'s lefthook.yml, in any form, is moved aside', () => {
    writeFileSync(join(p.project, 'lefthook.yml'), 'pre-commit:\n  jobs:\n    - run: npm test\n');
    mkdirSync(join(p.project, 'pkg'));
    giveTo(runner, p.home);
    const writes = CREATED.map((rel) => `mkdir -p "$(dirname ${rel})" && printf '${PLANTED}' > ${rel}`).join('; ');
    const r = run(`${writes}; true`);
    expect(r.status, r.stderr).toBe(0);
    const quarantined = ((JSON.parse(r.stdout) as { quarantined?: { path: string }[] }).quarantined ?? []).map((q) => q.path);
    for (const rel of CREATED) {
      const at = join(p.project, rel);
      expect(existsSync(at) ? readFileSync(at, 'utf8') : '', rel).not.toContain('planted');
      expect(quarantined.some((q) => at === q || at.startsWith(`${q}/`)), `${rel} in ${quarantined.join(', ')}`).toBe(true);
    }
  });
});
