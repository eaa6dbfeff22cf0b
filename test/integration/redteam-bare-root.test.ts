/**
 * Red team: the project turned into a bare repository. When a directory's
 * `.git` is no git directory (a HEAD the command overwrote, or no
 * repository at all, where isolate's empty placeholder stands), git takes
 * the directory itself for a bare repository if it holds `HEAD`, `objects`
 * and `refs`, and obeys its `config`: a core.fsmonitor there ran on the
 * user's next `git status` in the project. No name at the top of the project
 * was protected, and the search after the run left all of it in place.
 * `HEAD` is now a protected name: blocked at the top of each writable path,
 * read-only where it is, and moved aside where a run creates one, so a bare
 * repository a run makes deeper in the project is no longer one either.
 *
 * Judged by what host git runs afterwards in the project, in a repository
 * and in a directory with none.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { giveTo, isolateAsync, type Project } from '../helpers/isolate.js';
import { backendCases } from '../helpers/backends.js';
import { checkoutWithSubdirectory, type Checkout } from '../helpers/git-checkout.js';

/** The shell lines that make the working directory a bare repository whose config runs `touch <marker>` as core.fsmonitor. */
const bareHere = (marker: string): string =>
  [
    'mkdir -p objects refs',
    'echo "ref: refs/heads/main" > HEAD',
    `printf '[core]\\n\\trepositoryformatversion = 0\\n\\tbare = false\\n\\tworktree = %s\\n\\tfsmonitor = "touch ${marker}; false"\\n' "$PWD" > config`,
  ].join('\n');

describe.each(backendCases('a project made a bare repository'))('the project made a bare repository ($label)', ({ runner, backend, backendEnv }) => {
  let p: Project;
  let hostGit: Checkout['hostGit'];
  let marker: string;
  const run = (cwd: string, script: string) => isolateAsync(runner, ['run', '--backend', backend, '--', 'sh', '-c', script], { cwd, env: { ...p.env, ...backendEnv } });

  beforeEach(() => {
    ({ p, hostGit } = checkoutWithSubdirectory(runner));
    marker = join(p.home, 'pwned');
  });
  afterEach(() => p.cleanup());

  it('a repository whose HEAD the command broke: the top of the project cannot become the bare repository host git falls back to', async () => {
    const r = await run(p.project, `echo garbage > .git/HEAD\n${bareHere(marker)}`);
    hostGit(p.project, 'status');
    hostGit(join(p.project, 'packages', 'foo'), 'status');
    expect(existsSync(marker), "host git ran the sandbox's core.fsmonitor").toBe(false);
    expect(r.stderr).toMatch(/HEAD: Read-only file system/);
  });

  it('a directory with no repository: the same, where the empty .git placeholder stood', async () => {
    const plain = join(p.home, 'plain');
    mkdirSync(plain);
    giveTo(runner, plain);
    const r = await isolateAsync(runner, ['run', '--backend', backend, '--cwd', plain, '--allow-write', plain, '--', 'sh', '-c', bareHere(marker)], { cwd: p.project, env: { ...p.env, ...backendEnv } });
    hostGit(plain, 'status');
    expect(existsSync(marker), "host git ran the sandbox's core.fsmonitor").toBe(false);
    expect(r.stderr).toMatch(/HEAD: Read-only file system/);
  });

  it('a bare repository made deeper in the project (git init --bare, or by hand) is moved aside when the run ends', async () => {
    const r = await run(p.project, `git init -q --bare deep.git && git -C deep.git config core.fsmonitor "touch ${marker}; false"\nmkdir byhand && cd byhand && ${bareHere(marker)}`);
    hostGit(join(p.project, 'deep.git'), 'status');
    hostGit(join(p.project, 'byhand'), 'status');
    expect(existsSync(marker), "host git ran the sandbox's core.fsmonitor").toBe(false);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/deep\.git\/HEAD.*moved aside/);
    expect(r.stderr).toMatch(/byhand\/HEAD.*moved aside/);
  });

  it('node_modules made a bare repository whose worktree is the project: moved aside, host git in a package runs nothing', async () => {
    mkdirSync(join(p.project, 'node_modules', 'leftpad'), { recursive: true });
    giveTo(runner, p.project);
    const r = await run(p.project, `cd node_modules && ${bareHere(marker).replace('"$PWD"', '..')}`);
    hostGit(join(p.project, 'node_modules', 'leftpad'), 'status');
    expect(existsSync(marker), "host git ran the sandbox's core.fsmonitor").toBe(false);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/node_modules\/HEAD.*moved aside/);
  });
});
