/**
 * git in a subdirectory of a checkout. A writable root without a `.git` gets
 * a placeholder there, so the command cannot make a repository whose config
 * would run on the user's next git command (docs/protected-files.md). An
 * empty placeholder file stopped git (`fatal: invalid gitfile format`); an
 * empty read-only directory is no repository to git, which goes on to the
 * checkout above, and still lets nothing be made in it.
 *
 * Judged by what git inside the sandbox says, and by what is left on the
 * host after the run.
 */
import { existsSync, mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { giveTo, isolate, type Project } from '../helpers/isolate.js';
import { backendCases } from '../helpers/backends.js';
import { checkoutWithSubdirectory, type Checkout } from '../helpers/git-checkout.js';

describe.each(backendCases('git in a subdirectory of a checkout'))('git in a subdirectory of a checkout ($label)', ({ runner, backend, backendEnv }) => {
  let p: Project;
  let sub: string;
  let hostGit: Checkout['hostGit'];
  /** `script` in the sandbox, from `cwd`, with the checkout shown read-only (the working directory is writable). */
  const run = (cwd: string, script: string) =>
    isolate(runner, ['run', '--backend', backend, '--allow-read', p.project, '--', 'sh', '-c', script], { cwd, env: { ...p.env, ...backendEnv } });

  beforeEach(() => {
    ({ p, sub, hostGit } = checkoutWithSubdirectory(runner));
  });
  afterEach(() => p.cleanup());

  it('git status and git rev-parse --show-toplevel work from the subdirectory, and nothing is left there', () => {
    const r = run(sub, 'git -c safe.directory=* rev-parse --show-toplevel && git -c safe.directory=* status --short && echo STATUS-OK');
    expect(r.stderr).not.toContain('invalid gitfile format');
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout.split('\n')[0]).toBe(p.project);
    expect(r.stdout).toContain('STATUS-OK');
    expect(readdirSync(sub), 'the placeholder is removed after the run').toEqual([]);
  });

  it('git init in the subdirectory still fails, and no repository is left on the host', () => {
    const r = run(sub, 'git init -q; echo "init=$?"; ls -A .git | wc -l');
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^init=(?!0\n)\d+\n0\n$/);
    expect(existsSync(join(sub, '.git')), 'no .git left in the subdirectory').toBe(false);
    expect(readdirSync(sub)).toEqual([]);
    expect(hostGit(sub, 'rev-parse', '--show-toplevel').stdout.trim(), 'host git still finds the checkout above').toBe(p.project);
  });

  it('a writable root in no repository: git says so, and nothing is left', () => {
    const lone = join(p.home, 'lone');
    mkdirSync(lone);
    giveTo(runner, lone);
    const r = isolate(runner, ['run', '--backend', backend, '--', 'sh', '-c', 'git -c safe.directory=* status; echo "status=$?"'], { cwd: lone, env: { ...p.env, ...backendEnv } });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toContain('not a git repository');
    expect(r.stderr).not.toContain('invalid gitfile format');
    expect(r.stdout).toMatch(/status=128/);
    expect(readdirSync(lone)).toEqual([]);
  });
});
