/**
 * Red team: a repository's git credentials. In CI, actions/checkout writes
 * the job's token into the checkout's `.git/config` as
 * `http.https://github.com/.extraheader = AUTHORIZATION: basic <base64>`
 * (and into each submodule's config); GitLab CI puts
 * `gitlab-ci-token:<token>@` in `remote.origin.url`; developers keep
 * `https://user:token@host/` remotes and `url.<with token>.insteadOf`. The
 * code a job builds must not read them: the sandbox sees each such file
 * without its secrets, and git in it still works.
 *
 * Judged by what the command could print (the token raw, and in the base64
 * form the header carries) and on the host (its `.git/config` byte for byte).
 */
import { randomBytes } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { existsSync, linkSync, mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { giveTo, homeWithProject, isolate, isolateAsync, type Project, START_WAIT_MS } from '../helpers/isolate.js';
import { backendCases } from '../helpers/backends.js';

describe.each(backendCases('red team: git credentials'))('red team: a repository\'s git credentials ($label)', ({ runner, backend, backendEnv }) => {
  let p: Project;
  let gitEnv: NodeJS.ProcessEnv;
  const token = `ghs_${randomBytes(12).toString('hex')}`;
  const jobToken = `glcbt-${randomBytes(12).toString('hex')}`;
  const userToken = `ghp_${randomBytes(12).toString('hex')}`;
  const subToken = `ghs_${randomBytes(12).toString('hex')}`;
  const secrets = [token, jobToken, userToken, subToken];
  const header = (t: string): string => `AUTHORIZATION: basic ${Buffer.from(`x-access-token:${t}`).toString('base64')}`;
  const git = (cwd: string, ...args: string[]) => spawnSync('git', ['-c', 'safe.directory=*', '-c', 'protocol.file.allow=always', ...args], { cwd, env: gitEnv, encoding: 'utf8' });

  beforeEach(() => {
    p = homeWithProject(runner);
    gitEnv = { PATH: p.env['PATH'], HOME: p.home, GIT_CONFIG_NOSYSTEM: '1', GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@example.com', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@example.com' };
    // The submodule's upstream, outside the project.
    const upstream = join(p.home, 'upstream');
    mkdirSync(upstream);
    git(upstream, 'init', '-q');
    writeFileSync(join(upstream, 'lib'), 'lib\n');
    git(upstream, 'add', 'lib');
    git(upstream, 'commit', '-q', '-m', 'lib');
    // The checkout: a commit, a submodule, a linked worktree inside the project (a `.git` file pointing into .git/worktrees).
    git(p.project, 'init', '-q');
    writeFileSync(join(p.project, 'file'), 'one\n');
    git(p.project, 'add', 'file');
    git(p.project, 'commit', '-q', '-m', 'one');
    expect(git(p.project, 'submodule', 'add', '-q', upstream, 'sub').status).toBe(0);
    git(p.project, 'commit', '-q', '-m', 'sub');
    expect(git(p.project, 'worktree', 'add', '-q', 'wt').status).toBe(0);
    // What actions/checkout, GitLab CI and a developer leave behind.
    git(p.project, 'config', 'http.https://github.com/.extraheader', header(token));
    git(p.project, 'config', 'remote.origin.url', `https://gitlab-ci-token:${jobToken}@gitlab.com/group/project.git`);
    git(p.project, 'config', `url.https://dev:${userToken}@github.com/.insteadOf`, 'https://github.com/');
    git(p.project, 'config', 'extensions.worktreeConfig', 'true');
    git(join(p.project, 'wt'), 'config', '--worktree', 'HTTP.https://github.com/.ExtraHeader', header(token));
    git(join(p.project, 'sub'), 'config', 'http.https://github.com/.extraheader', header(subToken));
    giveTo(runner, p.home);
  });
  afterEach(() => p.cleanup());

  const run = (script: string) => isolate(runner, ['run', '--backend', backend, '--', 'sh', '-c', script], { cwd: p.project, env: { ...p.env, ...backendEnv } });
  const leaked = (text: string): string[] => secrets.flatMap((s) => [s, Buffer.from(`x-access-token:${s}`).toString('base64')]).filter((s) => text.includes(s));

  it('cat, git config -l and grep -r inside print no token; git status and git log still work; the host keeps its config', () => {
    const before = readFileSync(join(p.project, '.git', 'config'));
    expect(leaked(before.toString()).length, 'the host\'s config holds the tokens (the positive control)').toBeGreaterThan(0);
    const script = [
      'cat .git/config .git/modules/sub/config .git/worktrees/wt/config.worktree',
      'git -c safe.directory=* config -l',
      '(cd sub && git -c safe.directory=* config -l)',
      '(cd wt && git -c safe.directory=* config -l)',
      'grep -ra -e token -e basic -e @ . || true',
      'git -c safe.directory=* status --short >/dev/null && echo STATUS-OK',
      'git -c safe.directory=* log --oneline | grep -q sub && echo LOG-OK',
      '(cd wt && git -c safe.directory=* log --oneline | grep -q sub && echo WT-LOG-OK)',
    ].join('; ');
    const r = run(script);
    if (backend === 'nsjail') {
      // nsjail cannot show the file without its credentials: refused, never shown.
      expect(r.status, r.stderr).toBe(125);
      expect(r.stderr).toContain('holds a credential');
      expect(leaked(r.stdout + r.stderr)).toEqual([]);
      return;
    }
    expect(r.status, r.stderr).toBe(0);
    expect(leaked(r.stdout + r.stderr), 'a token the sandbox printed').toEqual([]);
    expect(r.stdout).toContain('STATUS-OK');
    expect(r.stdout).toContain('LOG-OK');
    expect(r.stdout).toContain('WT-LOG-OK');
    // The rest of the configuration is there: the remote (without its userinfo), the worktree setting.
    expect(r.stdout).toContain('remote.origin.url=https://gitlab.com/group/project.git');
    expect(r.stdout).toContain('extensions.worktreeconfig=true');
    // Each file was read in the sandbox: the submodule's (its core.worktree) and the project's (its submodule).
    expect(r.stdout).toContain('worktree = ../../../sub');
    expect(r.stdout).toContain('[submodule "sub"]');
    // The host's file is as it was, and host git still has the real token.
    expect(readFileSync(join(p.project, '.git', 'config')).equals(before)).toBe(true);
    expect(git(p.project, 'config', 'remote.origin.url').stdout).toContain(jobToken);
  });

  it('a config with a second name (a hard link in the project) is refused: the copy would cover one name, the command could read the other', () => {
    linkSync(join(p.project, '.git', 'config'), join(p.project, 'notes.txt'));
    const r = run('cat notes.txt .git/config');
    expect(leaked(r.stdout + r.stderr), 'a token the sandbox printed').toEqual([]);
    expect(r.status, r.stderr).toBe(125);
    if (backend !== 'nsjail') expect(r.stderr).toMatch(/other name.*hard link/);
  });

  it('a credential store a helper names (store --file in the project) is hidden: the command reads no token from it', () => {
    writeFileSync(join(p.project, '.creds'), `https://x-access-token:${token}@github.com\n`);
    git(p.project, 'config', 'credential.helper', `store --file ${join(p.project, '.creds')}`);
    giveTo(runner, p.project);
    const r = run('cat .creds; git -c safe.directory=* credential fill <<EOF\nprotocol=https\nhost=github.com\n\nEOF\necho DONE');
    expect(leaked(r.stdout + r.stderr), 'a token the sandbox printed').toEqual([]);
    if (backend !== 'nsjail') expect(r.stdout, r.stderr).toContain('DONE');
  });

  it('host git replacing the config during the run (git config renames a new file over it) stops the sandbox: the command never writes the new one', async () => {
    if (backend === 'nsjail') return; // refused before the start (the test above)
    const config = join(p.project, '.git', 'config');
    const marker = join(p.home, 'fsmonitor-ran');
    // The command: say it is up, then try to append to .git/config until it can.
    const attack = ['touch ready', 'i=0', 'while [ $i -lt 400 ]; do', `  if printf '[core]\\n\\tfsmonitor = touch ${marker}\\n' 2>/dev/null >> .git/config; then touch written; break; fi`, '  sleep 0.02; i=$((i+1))', 'done', 'sleep 1'].join('\n');
    const run = isolateAsync(runner, ['run', '--backend', backend, '--', 'sh', '-c', attack], { cwd: p.project, env: { ...p.env, ...backendEnv }, timeoutMs: 30_000 });
    const ready = join(p.project, 'ready');
    for (const end = Date.now() + START_WAIT_MS; !existsSync(ready) && Date.now() < end; ) await new Promise((r) => setTimeout(r, 20));
    expect(existsSync(ready), 'the command started').toBe(true);
    writeFileSync(`${config}.new`, `${readFileSync(config, 'utf8')}[user]\n\tname = host\n`);
    giveTo(runner, `${config}.new`);
    renameSync(`${config}.new`, config);
    const r = await run;
    expect(r.status, r.stderr).toBe(125);
    expect(r.stderr).toMatch(/replaced .*outside the sandbox/);
    expect(existsSync(config) ? readFileSync(config, 'utf8') : '').not.toContain('fsmonitor');
    expect(readdirSync(join(p.project, '.git')).some((n) => n.startsWith('config.isolate-quarantined-')), 'the file open to the command was moved aside').toBe(true);
    expect(leaked(r.stdout + r.stderr)).toEqual([]);
  });
});
