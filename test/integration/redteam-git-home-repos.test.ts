/**
 * Red team: the user's other repositories under `dev`, which shows the home
 * directory read-only (and the host network). A developer who cloned with a
 * personal access token in the URL (`https://me:ghp_...@github.com/...`),
 * or whose CI-style checkout keeps an extraheader, has that token in
 * `~/src/other/.git/config`, in its submodules' configs under
 * `.git/modules/`, and in Go-style trees (`~/go/src/github.com/org/repo`).
 * A command run in one project must not print a token that belongs to
 * another; the configuration is shown without it, as in the project.
 *
 * Judged by what the command could print (the token raw, and in the base64
 * form the header carries).
 */
import { randomBytes } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { giveTo, homeWithProject, type Project } from '../helpers/isolate.js';
import { devRunPrintsNoToken } from '../helpers/dev-tokens.js';
import { backendCases } from '../helpers/backends.js';

describe.each(backendCases('red team: git credentials in the home'))('red team: other repositories in the home under dev ($label)', ({ runner, backend, backendEnv }) => {
  let p: Project;
  let gitEnv: NodeJS.ProcessEnv;
  const urlToken = `ghp_${randomBytes(12).toString('hex')}`;
  const headerToken = `ghs_${randomBytes(12).toString('hex')}`;
  const subToken = `ghs_${randomBytes(12).toString('hex')}`;
  const goToken = `glpat-${randomBytes(12).toString('hex')}`;
  const mirrorToken = `ghp_${randomBytes(12).toString('hex')}`;
  const secrets = [urlToken, headerToken, subToken, goToken, mirrorToken];
  const header = (t: string): string => `AUTHORIZATION: basic ${Buffer.from(`x-access-token:${t}`).toString('base64')}`;
  const git = (cwd: string, ...args: string[]) => spawnSync('git', ['-c', 'safe.directory=*', '-c', 'protocol.file.allow=always', ...args], { cwd, env: gitEnv, encoding: 'utf8' });
  const commit = (dir: string, name: string): void => {
    mkdirSync(dir, { recursive: true });
    git(dir, 'init', '-q');
    writeFileSync(join(dir, name), `${name}\n`);
    git(dir, 'add', name);
    git(dir, 'commit', '-q', '-m', name);
  };
  const leaked = (text: string): string[] => secrets.flatMap((s) => [s, Buffer.from(`x-access-token:${s}`).toString('base64')]).filter((s) => text.includes(s));
  const configs = ['src/other/.git/config', 'src/other/.git/modules/lib/config', 'go/src/github.com/org/repo/.git/config', 'mirrors/other.git/config'];

  beforeEach(() => {
    p = homeWithProject(runner);
    gitEnv = { PATH: p.env['PATH'], HOME: p.home, GIT_CONFIG_NOSYSTEM: '1', GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@example.com', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@example.com' };
    commit(p.project, 'file');
    const upstream = join(p.home, 'upstream');
    commit(upstream, 'lib');
    // Another project of the user's, cloned with a token in its URL, with a submodule whose config holds a header.
    const other = join(p.home, 'src', 'other');
    commit(other, 'main');
    expect(git(other, 'submodule', 'add', '-q', upstream, 'lib').status).toBe(0);
    git(other, 'commit', '-q', '-m', 'lib');
    git(other, 'config', 'remote.origin.url', `https://me:${urlToken}@github.com/me/other.git`);
    git(other, 'config', 'http.https://github.com/.extraheader', header(headerToken));
    git(join(other, 'lib'), 'config', 'http.https://github.com/.extraheader', header(subToken));
    // A Go workspace's checkout, five levels below the home.
    const goRepo = join(p.home, 'go', 'src', 'github.com', 'org', 'repo');
    commit(goRepo, 'go.mod');
    git(goRepo, 'config', 'remote.origin.url', `https://oauth2:${goToken}@gitlab.com/org/repo.git`);
    // A mirror (git clone --mirror https://me:<token>@...): a bare repository, no `.git` in it.
    const mirror = join(p.home, 'mirrors', 'other.git');
    expect(git(p.home, 'clone', '-q', '--mirror', other, mirror).status).toBe(0);
    git(mirror, 'config', 'remote.origin.url', `https://me:${mirrorToken}@github.com/me/other.git`);
    giveTo(runner, p.home);
  });
  afterEach(() => p.cleanup());

  it('cat, git config -l and grep -r over the home print no token of another project; the rest of its configuration is shown', () => {
    const hostText = configs.map((f) => readFileSync(join(p.home, f), 'utf8')).join('');
    expect(leaked(hostText).length, 'the host\'s configs hold the tokens (the positive control)').toBe(5);
    const script = [
      `cat ${configs.map((f) => `"$HOME/${f}"`).join(' ')}`,
      '(cd "$HOME/src/other" && git -c safe.directory=* config -l && git -c safe.directory=* status --short >/dev/null && echo STATUS-OK)',
      '(cd "$HOME/src/other/lib" && git -c safe.directory=* config -l)',
      '(cd "$HOME/mirrors/other.git" && git -c safe.directory=* config -l)',
      'grep -ra -e token -e basic -e @ "$HOME/src" "$HOME/go" "$HOME/mirrors" || true',
    ].join('; ');
    const r = devRunPrintsNoToken(runner, backend, backendEnv, p, script, leaked);
    if (r === undefined) return;
    expect(r.stdout).toContain('STATUS-OK');
    expect(r.stdout).toContain('remote.origin.url=https://github.com/me/other.git');
    expect(r.stdout).toContain('url = "https://gitlab.com/org/repo.git"');
    expect(r.stdout).toContain('[submodule "lib"]');
    expect(r.stdout).toContain('remote.origin.mirror=true');
  });
});
