/**
 * Red team: a CI checkout's git credentials under `strict`, where the
 * working directory is read-only. actions/checkout leaves the job's token in
 * `.git/config` (`http.<url>.extraheader`), in each submodule's config, and
 * in the config of every further repository a job checks out into the
 * workspace (`with: path: tools`); GitLab CI leaves `gitlab-ci-token:<token>@`
 * in `remote.origin.url`. `default` shows these files without their secrets
 * (redteam-git-credentials.test.ts); `strict` shows less of the disk, so it
 * must show these no more than `default` does.
 *
 * Judged by what the command could print (the token raw, and in the base64
 * form the header carries).
 */
import { randomBytes } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { giveTo, homeWithProject, isolate, type Project, type Result } from '../helpers/isolate.js';
import { backendCases } from '../helpers/backends.js';
import { printedNoToken } from '../helpers/dev-tokens.js';

describe.each(backendCases('red team: git credentials, read-only'))('red team: a read-only checkout\'s git credentials ($label)', ({ runner, backend, backendEnv }) => {
  let p: Project;
  let gitEnv: NodeJS.ProcessEnv;
  const token = `ghs_${randomBytes(12).toString('hex')}`;
  const jobToken = `glcbt-${randomBytes(12).toString('hex')}`;
  const subToken = `ghs_${randomBytes(12).toString('hex')}`;
  const toolsToken = `ghs_${randomBytes(12).toString('hex')}`;
  const secrets = [token, jobToken, subToken, toolsToken];
  const header = (t: string): string => `AUTHORIZATION: basic ${Buffer.from(`x-access-token:${t}`).toString('base64')}`;
  const git = (cwd: string, ...args: string[]) => spawnSync('git', ['-c', 'safe.directory=*', '-c', 'protocol.file.allow=always', ...args], { cwd, env: gitEnv, encoding: 'utf8' });
  const commit = (dir: string, name: string): void => {
    git(dir, 'init', '-q');
    writeFileSync(join(dir, name), `${name}\n`);
    git(dir, 'add', name);
    git(dir, 'commit', '-q', '-m', name);
  };

  beforeEach(() => {
    p = homeWithProject(runner);
    gitEnv = { PATH: p.env['PATH'], HOME: p.home, GIT_CONFIG_NOSYSTEM: '1', GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@example.com', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@example.com' };
    const upstream = join(p.home, 'upstream');
    mkdirSync(upstream);
    commit(upstream, 'lib');
    // The job's checkout, with a submodule, and a second repository checked out into the workspace.
    commit(p.project, 'file');
    expect(git(p.project, 'submodule', 'add', '-q', upstream, 'sub').status).toBe(0);
    git(p.project, 'commit', '-q', '-m', 'sub');
    const tools = join(p.project, 'tools');
    mkdirSync(tools);
    commit(tools, 'tool');
    git(p.project, 'config', 'http.https://github.com/.extraheader', header(token));
    git(p.project, 'config', 'remote.origin.url', `https://gitlab-ci-token:${jobToken}@gitlab.com/group/project.git`);
    git(join(p.project, 'sub'), 'config', 'http.https://github.com/.extraheader', header(subToken));
    git(tools, 'config', 'http.https://github.com/.extraheader', header(toolsToken));
    giveTo(runner, p.home);
  });
  afterEach(() => p.cleanup());

  const leaked = (text: string): string[] => secrets.flatMap((s) => [s, Buffer.from(`x-access-token:${s}`).toString('base64')]).filter((s) => text.includes(s));

  /**
   * No token printed; on nsjail, which cannot show a file without its credentials, refused (125), never shown; else the
   * run worked, git status included, and read the configuration's other keys. False: refused, nothing more to look at.
   */
  const shownWithoutToken = (r: Result): boolean => {
    if (!printedNoToken(r, backend, leaked)) return false;
    expect(r.stdout).toContain('STATUS-OK');
    expect(r.stdout).toContain('remote.origin.url=https://gitlab.com/group/project.git');
    return true;
  };

  it('strict: cat, git config -l and grep -r inside print no token; git status still works', () => {
    const before = readFileSync(join(p.project, '.git', 'config'));
    expect(leaked(['.git/modules/sub/config', 'tools/.git/config'].map((f) => readFileSync(join(p.project, f), 'utf8')).join('') + before.toString()).length, 'the host\'s configs hold the tokens (the positive control)').toBe(4);
    const script = [
      'cat .git/config .git/modules/sub/config tools/.git/config',
      'git -c safe.directory=* config -l',
      '(cd sub && git -c safe.directory=* config -l)',
      '(cd tools && git -c safe.directory=* config -l)',
      'grep -ra -e token -e basic -e @ . || true',
      'git -c safe.directory=* status --short >/dev/null && echo STATUS-OK',
    ].join('; ');
    const r = isolate(runner, ['run', '--profile', 'strict', '--backend', backend, '--', 'sh', '-c', script], { cwd: p.project, env: { ...p.env, ...backendEnv } });
    if (!shownWithoutToken(r)) return;
    expect(r.stdout).toContain('[submodule "sub"]');
    expect(readFileSync(join(p.project, '.git', 'config')).equals(before)).toBe(true);
  });

  it('dev, in a subdirectory of the checkout (a job\'s working-directory): the checkout\'s config above it, which the home shows, prints no token', () => {
    const src = join(p.project, 'src');
    mkdirSync(src);
    giveTo(runner, src);
    // git run from the working directory finds the checkout above it (the placeholder of .git there is an empty directory) and reads the copy.
    const script = ['cat ../.git/config', 'git -c safe.directory=* config -l', 'git -c safe.directory=* status --short >/dev/null && echo STATUS-OK'].join('; ');
    const r = isolate(runner, ['run', '--profile', 'dev', '--backend', backend, '--', 'sh', '-c', script], { cwd: src, env: { ...p.env, ...backendEnv } });
    shownWithoutToken(r);
  });
});
