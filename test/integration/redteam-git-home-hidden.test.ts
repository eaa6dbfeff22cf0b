/**
 * Red team: repositories of the home in directories whose names start with a
 * dot, under `dev` (the home read-only, the host network). The bounded walk
 * of the home does not enter hidden directories (git-home.ts), but some of
 * them are repositories themselves, and common ones: a dotfiles checkout
 * (`~/.dotfiles`, cloned with a token in its URL), a dotfiles repository
 * kept bare (`git clone --bare https://<token>@... ~/.cfg`, the
 * `git --git-dir=$HOME/.cfg --work-tree=$HOME` pattern), and an
 * organisation's `.github` repository beside its other projects
 * (`~/src/org/.github`). A command run in one project must not print their
 * tokens.
 *
 * Judged by what the command could print.
 */
import { randomBytes } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { giveTo, homeWithProject, type Project } from '../helpers/isolate.js';
import { devRunPrintsNoToken } from '../helpers/dev-tokens.js';
import { backendCases } from '../helpers/backends.js';

describe.each(backendCases('red team: git repositories in hidden directories'))('red team: repositories in hidden directories of the home under dev ($label)', ({ runner, backend, backendEnv }) => {
  let p: Project;
  let gitEnv: NodeJS.ProcessEnv;
  const dotToken = `ghp_${randomBytes(12).toString('hex')}`;
  const bareToken = `ghp_${randomBytes(12).toString('hex')}`;
  const orgToken = `glpat-${randomBytes(12).toString('hex')}`;
  const secrets = [dotToken, bareToken, orgToken];
  const git = (cwd: string, ...args: string[]) => spawnSync('git', ['-c', 'safe.directory=*', ...args], { cwd, env: gitEnv, encoding: 'utf8' });
  const commit = (dir: string): void => {
    mkdirSync(dir, { recursive: true });
    git(dir, 'init', '-q');
    writeFileSync(join(dir, 'README'), 'readme\n');
    git(dir, 'add', 'README');
    git(dir, 'commit', '-q', '-m', 'readme');
  };
  const leaked = (text: string): string[] => secrets.filter((s) => text.includes(s));
  const configs = ['.dotfiles/.git/config', '.cfg/config', 'src/org/.github/.git/config'];

  beforeEach(() => {
    p = homeWithProject(runner);
    gitEnv = { PATH: p.env['PATH'], HOME: p.home, GIT_CONFIG_NOSYSTEM: '1', GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@example.com', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@example.com' };
    commit(p.project);
    const dotfiles = join(p.home, '.dotfiles');
    commit(dotfiles);
    git(dotfiles, 'config', 'remote.origin.url', `https://me:${dotToken}@github.com/me/dotfiles.git`);
    expect(git(p.home, 'clone', '-q', '--bare', dotfiles, join(p.home, '.cfg')).status).toBe(0);
    git(join(p.home, '.cfg'), 'config', 'remote.origin.url', `https://me:${bareToken}@github.com/me/dotfiles.git`);
    const org = join(p.home, 'src', 'org', '.github');
    commit(org);
    git(org, 'config', 'remote.origin.url', `https://oauth2:${orgToken}@gitlab.com/org/.github.git`);
    giveTo(runner, p.home);
  });
  afterEach(() => p.cleanup());

  it('cat and git config -l print none of their tokens; the rest of their configuration is shown', () => {
    const hostText = configs.map((f) => readFileSync(join(p.home, f), 'utf8')).join('');
    expect(leaked(hostText).length, 'the host\'s configs hold the tokens (the positive control)').toBe(3);
    const script = [
      `cat ${configs.map((f) => `"$HOME/${f}"`).join(' ')}`,
      '(cd "$HOME/.dotfiles" && git -c safe.directory=* config -l)',
      'git -c safe.directory=* --git-dir="$HOME/.cfg" --work-tree="$HOME" config -l',
    ].join('; ');
    const r = devRunPrintsNoToken(runner, backend, backendEnv, p, script, leaked);
    if (r === undefined) return;
    expect(r.stdout).toContain('remote.origin.url=https://github.com/me/dotfiles.git');
    expect(r.stdout).toContain('url = "https://gitlab.com/org/.github.git"');
  });
});
