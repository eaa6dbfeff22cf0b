/**
 * Red team: protected names created during a run that still take effect on
 * the host after it (README, "Protected files": "found when the run ends and
 * renamed aside"). Each test lets the sandbox plant a git setting that runs
 * a command (core.fsmonitor, a hook), then runs git on the host as the same
 * user and looks for the file that command would create.
 *
 * Each test was written as a failing finding first; it now guards the fix.
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { asRunner, giveTo, isolate } from '../helpers/isolate.js';
import { backendCases } from '../helpers/backends.js';
import { plantSite } from '../helpers/plant-site.js';

describe.each(backendCases('red team: quarantine'))('red team: protected names created during a run ($label)', ({ label, runner, backend, backendEnv }) => {
  const site = plantSite(runner, backendEnv);
  let dir: string;
  let project: string;
  let env: Record<string, string>;
  let marker: string;
  beforeEach(() => ({ dir, project, env, marker } = site));

  const run = (script: string, timeoutMs?: number) =>
    isolate(runner, ['run', '--backend', backend, '--', 'sh', '-c', script], { cwd: project, env, ...(timeoutMs === undefined ? {} : { timeoutMs }) });
  const hostGit = (args: string[], cwd = project) =>
    asRunner(runner, ['git', '-c', 'safe.directory=*', '-c', 'user.name=t', '-c', 'user.email=t@t', ...args], { cwd, env: { ...env, HOME: dir } });
  /** A new repository in `sub` whose config runs `touch marker` on the host's next git status there. */
  const plantRepo = (sub: string) => `git init -q ${sub} && git -C ${sub} config core.fsmonitor 'touch ${marker}; false'`;

  it('a .git that is a symbolic link to a repository the run made under another name is moved aside: host git runs nothing planted', () => {
    mkdirSync(join(project, 'src'));
    giveTo(runner, dir);
    const r = run(`git init -q --bare .cache-x && git -C .cache-x config core.bare false && git -C .cache-x config core.fsmonitor 'touch ${marker}; false' && ln -s ../.cache-x src/.git`);
    expect(r.status, r.stderr).toBe(0);
    hostGit(['status', '--short'], join(project, 'src'));
    expect(existsSync(marker), 'host git in src/ ran the fsmonitor of the linked repository').toBe(false);
  });

  it('a new repository in a directory the run made unenterable (chmod 000) is moved aside: host git runs nothing planted', () => {
    const r = run(`${plantRepo('sub')} && chmod 000 sub`);
    expect(r.status, r.stderr).toBe(0);
    // As root the host can enter it anyway (CAP_DAC_OVERRIDE); the sandbox's root could not, so the scan skipped it.
    hostGit(['-C', 'sub', 'status', '--short']);
    expect(existsSync(marker), 'host git in sub/ ran the planted fsmonitor').toBe(false);
  });

  it('a new repository whose directories the run made read-only (chmod 555 on its .git, on it and on the project) is moved aside: host git runs nothing planted', () => {
    try {
      const r = run(`${plantRepo('sub')} && chmod 555 sub/.git sub .`);
      expect(r.status, r.stderr).toBe(0);
      hostGit(['-C', 'sub', 'status', '--short']);
      expect(existsSync(marker), 'host git in sub/ ran the planted fsmonitor').toBe(false);
      expect(r.stderr, 'a name was left in place').not.toMatch(/could not be moved aside/);
    } finally {
      asRunner(runner, ['chmod', '-R', 'u+w', project], { cwd: dir, env });
    }
  });

  it('an empty config with a second name in its .git, made in one run, is not written through that name in the next: host git runs nothing planted', () => {
    const first = run('mkdir -p sub/.git/objects sub/.git/refs/heads && echo "ref: refs/heads/main" > sub/.git/HEAD && : > sub/.git/config && ln sub/.git/config sub/.git/description');
    expect(first.status, first.stderr).toBe(0);
    run(`printf '[core]\\n\\trepositoryformatversion = 0\\n\\tfsmonitor = "touch ${marker}; false"\\n' > sub/.git/description`);
    hostGit(['-C', 'sub', 'status', '--short']);
    expect(existsSync(marker), 'host git in sub/ ran the fsmonitor written through the second name').toBe(false);
  });

  it('a repository at the depth where the search after the run runs out of descriptors (a hard limit of 600) is moved aside whole: host git runs nothing planted', () => {
    // A repository by hand at each of 700 levels (git init 700 times would take half a minute).
    const repo = `mkdir -p .git/objects .git/refs && echo 'ref: refs/heads/main' > .git/HEAD && printf '[core]\\n\\tfsmonitor = "touch ${marker}; false"\\n' > .git/config`;
    const deep = `i=0; while [ $i -lt 700 ]; do mkdir d && cd d && ${repo} || break; i=$((i+1)); done; echo levels=$i`;
    const r = asRunner(runner, ['prlimit', '--nofile=600:600', runner.bin, 'run', '--backend', backend, '--', 'sh', '-c', deep], { cwd: project, env });
    expect(r.stdout, r.stderr).toContain('levels=700');
    // Down the tree as far as it goes unmoved: each level's git obeys that level's config, if it is still there.
    let at = project;
    while (existsSync(join(at, 'd'))) {
      at = join(at, 'd');
      if (existsSync(join(at, '.git', 'config'))) hostGit(['status', '--short'], at);
    }
    expect(existsSync(marker), 'host git ran a planted fsmonitor the search left in place').toBe(false);
  });

  // The search runs on the host once the sandbox has ended, the same after every backend: the tree of 50,000
  // directories is made (and removed) under bubblewrap only, once per runner.
  if (backend !== 'bwrap') console.warn(`red team: 50,000 directories (${label}) skipped: the post-run search runs on the host after every backend alike; the bubblewrap case makes the tree`);
  it.runIf(backend === 'bwrap')('more than 50,000 directories made by the run do not stop the post-run search: the new repository is moved aside', () => {
    const r = run(`${plantRepo('sub')} && mkdir many && cd many && seq 1 50010 | xargs mkdir`);
    expect(r.stderr).not.toMatch(/more than 50000 directories/);
    expect(r.status).toBe(0);
    hostGit(['status', '--short'], join(project, 'sub'));
    expect(existsSync(marker), 'host git in sub/ ran the planted fsmonitor').toBe(false);
  }, 120_000);

  it('a path longer than PATH_MAX made by the run does not stop the post-run search: the new repository is moved aside', () => {
    const deep = 'a'.repeat(200);
    const r = run(`${plantRepo('sub')} && for i in $(seq 1 40); do mkdir ${deep} && cd ${deep} || exit 0; done`);
    expect(/internal error|ENAMETOOLONG/.test(r.stderr), 'isolate failed in its post-run scan').toBe(false);
    hostGit(['status', '--short'], join(project, 'sub'));
    expect(existsSync(marker), 'host git in sub/ ran the planted fsmonitor').toBe(false);
  }, 60_000);

  it('the hooks directory an existing repository names with core.hooksPath is not writable: host git runs no planted hook', () => {
    // Adapted: `.githooks` is itself a protected name (README, "Protected files"), so the write there failed and the
    // test's `status 0` could not hold; `tools/hooks` is a name only the repository's core.hooksPath makes special.
    expect(hostGit(['init', '-q', '.']).status).toBe(0);
    mkdirSync(join(project, 'tools/hooks'), { recursive: true });
    writeFileSync(join(project, 'README'), 'x\n');
    giveTo(runner, dir);
    expect(hostGit(['config', 'core.hooksPath', 'tools/hooks']).status).toBe(0);
    const r = run(`printf '#!/bin/sh\\ntouch ${marker}\\n' > tools/hooks/pre-commit && chmod +x tools/hooks/pre-commit; echo done`);
    expect(r.status, r.stderr).toBe(0);
    hostGit(['commit', '-q', '--allow-empty', '-m', 'x']);
    expect(existsSync(marker), 'host git commit ran the hook the sandbox wrote').toBe(false);
  });
});
