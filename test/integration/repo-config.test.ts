/**
 * What an existing repository's own configuration makes host git run or
 * read stays out of the command's reach: the hooks directory core.hooksPath
 * names (existing, missing, or the project itself) and the files
 * include.path and includeIf.*.path pull in (followed through includes).
 * Judged on the host: host git afterwards runs nothing the command planted.
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { asRunner, giveTo, isolate, keyValues } from '../helpers/isolate.js';
import { plantSite } from '../helpers/plant-site.js';
import { backendCases } from '../helpers/backends.js';
import { attempts } from '../helpers/fs-fixture.js';

describe.each(backendCases('checks of a repository\'s configuration'))('a repository\'s hooks path and includes ($label)', ({ runner, backend, backendEnv }) => {
  const site = plantSite(runner, backendEnv);

  const hostGit = (args: string[]) => asRunner(runner, ['git', '-c', 'safe.directory=*', '-c', 'user.name=t', '-c', 'user.email=t@t', ...args], { cwd: site.project, env: { ...site.env, HOME: site.dir } });
  /** A repository in the project with these settings, owned by the runner. */
  const repo = (settings: [string, string][], files: string[] = []) => {
    giveTo(runner, site.dir);
    expect(hostGit(['init', '-q', '.']).status).toBe(0);
    for (const [key, value] of settings) expect(hostGit(['config', '--add', key, value]).status).toBe(0);
    for (const file of files) {
      mkdirSync(join(site.project, file, '..'), { recursive: true });
      writeFileSync(join(site.project, file), '');
    }
    giveTo(runner, site.dir);
  };
  const run = (ops: Record<string, string>) => {
    const r = isolate(runner, ['run', '--backend', backend, '--', 'sh', '-c', attempts({ ...ops, control: 'echo ok > notes.txt' })], { cwd: site.project, env: site.env });
    expect(r.status, r.stderr).toBe(0);
    const kv = keyValues(r.stdout);
    expect(kv['control']).toBe('WROTE');
    return kv;
  };
  const hook = (path: string) => `mkdir -p ${path} && printf '#!/bin/sh\\ntouch ${site.marker}\\n' > ${path}/pre-commit && chmod +x ${path}/pre-commit`;
  const fsmonitor = () => `printf '[core]\\n\\tfsmonitor = touch ${site.marker}; false\\n'`;
  const expectNothingRuns = () => {
    hostGit(['status', '--short']);
    hostGit(['commit', '-q', '--allow-empty', '-m', 'x']);
    expect(existsSync(site.marker), 'host git ran what the command planted').toBe(false);
  };

  it('a hooks directory that does not exist yet cannot be created, nor one at the top of the project', () => {
    repo([['core.hooksPath', 'ci/git-hooks']]);
    expect(run({ missing: hook('ci/git-hooks') })).toMatchObject({ missing: 'blocked' });
    expectNothingRuns();
  });

  it('a hooks directory that is the project itself: the hooks in it are blocked', () => {
    repo([['core.hooksPath', '.']]);
    expect(run({ root: hook('.') })).toMatchObject({ root: 'blocked' });
    expectNothingRuns();
  });

  it('an included file, one an includeIf names, and one an included file includes are read-only or blocked', () => {
    repo(
      [
        ['include.path', '../git/shared.cfg'],
        ['includeIf.gitdir:/.path', '../git/always.cfg'],
      ],
      ['git/shared.cfg'],
    );
    writeFileSync(join(site.project, 'git/shared.cfg'), '[include]\n\tpath = nested.cfg\n');
    giveTo(runner, site.dir);
    const kv = run({
      shared: `${fsmonitor()} >> git/shared.cfg`,
      always: `${fsmonitor()} > git/always.cfg`,
      nested: `${fsmonitor()} > git/nested.cfg`,
    });
    expect(kv).toMatchObject({ shared: 'blocked', always: 'blocked', nested: 'blocked' });
    expectNothingRuns();
  });

  it('a file the user\'s own git configuration includes, in a writable home, is blocked', () => {
    const home = join(site.dir, 'home');
    mkdirSync(home);
    writeFileSync(join(home, '.gitconfig'), '[include]\n\tpath = ~/.gitconfig.local\n');
    giveTo(runner, site.dir);
    const r = isolate(runner, ['run', '--backend', backend, '--', 'sh', '-c', attempts({ local: `${fsmonitor()} > .gitconfig.local`, control: 'echo ok > notes.txt' })], { cwd: home, env: site.env });
    expect(r.status, r.stderr).toBe(0);
    expect(keyValues(r.stdout)).toEqual({ local: 'blocked', control: 'WROTE' });
    const git = asRunner(runner, ['git', 'config', '--global', '--get', 'core.fsmonitor'], { cwd: home, env: site.env });
    expect(git.stdout).toBe('');
  });

  it('a hooks path set in an included file is protected too', () => {
    repo([['include.path', '../hooks.cfg']], ['hooks.cfg', 'tools/hooks/README']);
    writeFileSync(join(site.project, 'hooks.cfg'), '[core]\n\thooksPath = tools/hooks\n');
    giveTo(runner, site.dir);
    expect(run({ hooks: hook('tools/hooks') })).toMatchObject({ hooks: 'blocked' });
    expectNothingRuns();
  });
});
