/**
 * Red team: a directory in the project shared through an access control
 * list. A team directory owned by another user, mode 0770, with `setfacl -m
 * u:<the runner>:rwx`, is one the sandbox enters and writes (the kernel
 * reads the list), but both protected-name searches judged by the
 * permission bits alone and took it for one the sandbox never enters: they
 * did not search it. The command then rewrote the hooks and config of the
 * repository in it, for its owner's next git command, and made a new
 * repository and an `.envrc` there that were not moved aside.
 *
 * Judged by what host git and the files left behind do after the run.
 * Needs root (chown to another user) and setfacl.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isolateAsync, type Project } from '../helpers/isolate.js';
import { backendCases } from '../helpers/backends.js';
import { checkoutWithSubdirectory, type Checkout } from '../helpers/git-checkout.js';

const root = process.getuid?.() === 0;
const setfacl = spawnSync('setfacl', ['--version']).status === 0;
const why = !root ? 'the test must give a directory to another user (run as root)' : !setfacl ? 'setfacl is missing (apt-get install acl)' : undefined;
if (why !== undefined) console.warn(`the access-control-list cases are skipped: ${why}`);

/** Neither the runner nor in its groups: the owner of the shared directory. */
const OTHER = 65534;

describe.runIf(why === undefined).each(backendCases('a directory shared by an access control list'))('a directory shared with the sandbox by an access control list ($label)', ({ runner, backend, backendEnv }) => {
  let p: Project;
  let hostGit: Checkout['hostGit'];
  let team: string;
  let marker: string;

  beforeEach(() => {
    ({ p, hostGit } = checkoutWithSubdirectory(runner));
    marker = join(p.home, 'pwned');
    team = join(p.project, 'team');
    mkdirSync(team);
    const r = hostGit(p.project, 'init', '-q', join(team, 'repo'));
    if (r.status !== 0) throw new Error(r.stderr);
    spawnSync('chown', ['-R', `${OTHER}:${OTHER}`, team]);
    chownSync(team, OTHER, OTHER);
    chmodSync(team, 0o770);
    for (const args of [['-R', '-m', `u:${runner.uid}:rwX`, team], ['-R', '-d', '-m', `u:${runner.uid}:rwX`, team]]) {
      const s = spawnSync('setfacl', args, { encoding: 'utf8' });
      if (s.status !== 0) throw new Error(s.stderr);
    }
  });
  afterEach(() => p.cleanup());

  it('its repository keeps its hooks and config, and a repository and .envrc made there are moved aside', async () => {
    const r = await isolateAsync(runner, ['run', '--backend', backend, '--', 'sh', '-c', [
      `printf '#!/bin/sh\\ntouch ${marker}\\n' > team/repo/.git/hooks/post-checkout; chmod +x team/repo/.git/hooks/post-checkout`,
      `printf '[core]\\n\\tfsmonitor = "touch ${marker}; false"\\n' >> team/repo/.git/config`,
      `echo 'touch ${marker}' > team/.envrc`,
      `git init -q team/new && git -C team/new config core.fsmonitor "touch ${marker}; false"`,
      'ls -A team',
    ].join('\n')], { cwd: p.project, env: { ...p.env, ...backendEnv } });
    expect(r.stdout, 'the sandbox entered the shared directory').toContain('repo');
    hostGit(join(team, 'repo'), 'status');
    hostGit(join(team, 'repo'), 'checkout', '-q', '-b', 'other');
    hostGit(join(team, 'new'), 'status');
    expect(existsSync(marker), "host git ran the sandbox's hook or core.fsmonitor").toBe(false);
    expect(readdirSync(team).filter((e) => e === '.envrc'), 'the .envrc the run made is left in place').toEqual([]);
    expect(r.status, r.stderr).toBe(0);
  });
});
