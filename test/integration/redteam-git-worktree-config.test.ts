/**
 * Red team: a linked worktree's own settings. With extensions.worktreeConfig,
 * `git config --worktree` writes to `.git/worktrees/<name>/config.worktree`
 * in the main repository's git directory, whichever worktree it was run in; a
 * remote's token or an extraheader set so for one worktree (a CI job's
 * checkout in a worktree, a developer's per-branch remote) sits there while
 * the worktree is elsewhere (outside the project, outside the home) or gone
 * and not pruned. A command run in the main checkout (`default`, the project
 * writable) or in another project of the home (`dev`) must not print it.
 *
 * Judged by what the command could print.
 */
import { randomBytes } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { giveTo, homeWithProject, isolate, type Project } from '../helpers/isolate.js';
import { backendCases } from '../helpers/backends.js';

describe.each(backendCases('red team: linked worktrees\' settings'))('red team: a linked worktree\'s config.worktree ($label)', ({ runner, backend, backendEnv }) => {
  let p: Project;
  let gitEnv: NodeJS.ProcessEnv;
  const projectToken = `ghp_${randomBytes(12).toString('hex')}`;
  const otherToken = `glpat-${randomBytes(12).toString('hex')}`;
  const git = (cwd: string, ...args: string[]) => spawnSync('git', ['-c', 'safe.directory=*', ...args], { cwd, env: gitEnv, encoding: 'utf8' });
  const leaked = (text: string): string[] => [projectToken, otherToken].filter((s) => text.includes(s));
  /** A repository with a linked worktree whose own remote holds `token`; the worktree then removed without pruning. */
  const withWorktreeToken = (dir: string, token: string): void => {
    mkdirSync(dir, { recursive: true });
    git(dir, 'init', '-q');
    git(dir, 'commit', '-q', '--allow-empty', '-m', 'first');
    git(dir, 'config', 'extensions.worktreeConfig', 'true');
    const wt = `${dir}-wt`;
    expect(git(dir, 'worktree', 'add', '-q', wt).status).toBe(0);
    git(wt, 'config', '--worktree', 'remote.origin.url', `https://me:${token}@github.com/me/repo.git`);
    rmSync(wt, { recursive: true, force: true });
  };
  const file = (dir: string): string => join(dir, '.git', 'worktrees', `${dir.split('/').pop() ?? ''}-wt`, 'config.worktree');

  beforeEach(() => {
    p = homeWithProject(runner);
    gitEnv = { PATH: p.env['PATH'], HOME: p.home, GIT_CONFIG_NOSYSTEM: '1', GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@example.com', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@example.com' };
    withWorktreeToken(p.project, projectToken);
    withWorktreeToken(join(p.home, 'src', 'other'), otherToken);
    giveTo(runner, p.home);
  });
  afterEach(() => p.cleanup());

  it('the project\'s and another repository\'s worktree settings are shown without their tokens', () => {
    const files = [file(p.project), file(join(p.home, 'src', 'other'))];
    expect(leaked(files.map((f) => readFileSync(f, 'utf8')).join('')).length, 'the positive control: the host\'s files hold the tokens').toBe(2);
    for (const profile of ['default', 'dev']) {
      const r = isolate(runner, ['run', '--profile', profile, '--backend', backend, '--', 'sh', '-c', `cat ${files.map((f) => `"${f}"`).join(' ')} 2>/dev/null; true`], { cwd: p.project, env: { ...p.env, ...backendEnv } });
      expect(leaked(r.stdout + r.stderr), `a token the sandbox printed under ${profile}`).toEqual([]);
      if (backend === 'nsjail') {
        expect(r.status, r.stderr).toBe(125);
        continue;
      }
      expect(r.status, r.stderr).toBe(0);
      expect(r.stdout, `the worktree's remote, without its token, under ${profile}`).toContain('url = "https://github.com/me/repo.git"');
    }
  });
});
