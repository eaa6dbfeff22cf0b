/**
 * Red team: version managers' `.tool-versions`. asdf (and mise, which reads
 * the same file) takes the version of each tool from the nearest
 * `.tool-versions`, with no trust prompt, and a version written
 * `path:<dir>` runs `<dir>/bin/<tool>` whenever the user types the tool's
 * name there: a command that wrote `nodejs path:./.cache/x` into the project
 * would have its own `node` run by the user's next `node` or `npm` in it,
 * outside the sandbox. The file stays read-only where it exists, cannot be
 * made at the top of the project, and one made deeper is moved aside.
 *
 * Judged on the host: what the file holds after the run.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { giveTo } from '../helpers/isolate.js';
import { projectRuns } from '../helpers/project-runs.js';
import { backendCases } from '../helpers/backends.js';

const PLANTED = 'nodejs path:./.cache/evil\n';

describe.each(backendCases('red team: .tool-versions'))('red team: .tool-versions ($label)', ({ runner, backend, backendEnv }) => {
  const { p, run } = projectRuns(runner, backend, backendEnv);

  it('an existing .tool-versions cannot be rewritten, and none can be made at the top of the project', () => {
    writeFileSync(join(p.project, '.tool-versions'), 'nodejs 20.11.0\n');
    mkdirSync(join(p.project, 'other'));
    giveTo(runner, p.home);
    const r = run(`printf '${PLANTED}' > .tool-versions; printf '${PLANTED}' > other/notes; echo done`);
    expect(r.status, r.stderr).toBe(0);
    expect(readFileSync(join(p.project, '.tool-versions'), 'utf8')).toBe('nodejs 20.11.0\n');
    expect(readFileSync(join(p.project, 'other', 'notes'), 'utf8'), 'control: the project is writable').toBe(PLANTED);
  });

  it('one made at the top of a project that had none does not take effect; one made deeper is moved aside', () => {
    mkdirSync(join(p.project, 'pkg'));
    giveTo(runner, p.home);
    const r = run(`printf '${PLANTED}' > .tool-versions; printf '${PLANTED}' > pkg/.tool-versions; true`);
    expect(r.status, r.stderr).toBe(0);
    const quarantined = (JSON.parse(r.stdout) as { quarantined?: { path: string }[] }).quarantined ?? [];
    expect(quarantined.map((q) => q.path)).toContain(join(p.project, 'pkg', '.tool-versions'));
    for (const rel of ['.tool-versions', 'pkg/.tool-versions']) {
      const at = join(p.project, rel);
      expect(existsSync(at) ? readFileSync(at, 'utf8') : '', rel).not.toContain('path:');
    }
  });
});
