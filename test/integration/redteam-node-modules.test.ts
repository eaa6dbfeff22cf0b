/**
 * Red team: a repository inside node_modules. Git looks for a `.git` in
 * each directory from where it runs up to the root, so a `.git` the command
 * leaves in `node_modules` (or in a package's directory there) is the
 * repository of every host git run below it: a shell prompt's `git status`
 * after `cd node_modules/<pkg>`, an editor's git integration for a file
 * opened there. Its config runs commands (core.fsmonitor). The searches
 * before and after the run skipped node_modules, so such a repository took
 * effect on the host, and an existing one there (a package cloned into
 * node_modules to debug it) had a writable config.
 *
 * Each test was written as a failing finding first; it now guards the fix.
 */
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { asRunner, giveTo, isolate } from '../helpers/isolate.js';
import { backendCases } from '../helpers/backends.js';
import { plantSite } from '../helpers/plant-site.js';

describe.each(backendCases('red team: node_modules'))('red team: a repository inside node_modules ($label)', ({ runner, backend, backendEnv }) => {
  const site = plantSite(runner, backendEnv);

  const run = (script: string) => isolate(runner, ['run', '--backend', backend, '--', 'sh', '-c', script], { cwd: site.project, env: site.env, timeoutMs: 30_000 });
  const hostGit = (args: string[], cwd: string) =>
    asRunner(runner, ['git', '-c', 'safe.directory=*', '-c', 'user.name=t', '-c', 'user.email=t@t', ...args], { cwd, env: { ...site.env, HOME: site.dir } });
  const fsmonitor = (): string => `'touch ${site.marker}; false'`;

  it('a repository the run creates in node_modules has its config moved aside: host git below it runs nothing planted', () => {
    mkdirSync(join(site.project, 'node_modules/dep/lib'), { recursive: true });
    giveTo(runner, site.dir);
    const r = run(`git init -q node_modules && git -C node_modules config core.fsmonitor ${fsmonitor()} && git init -q node_modules/dep/lib && git -C node_modules/dep/lib config core.fsmonitor ${fsmonitor()}`);
    expect(r.status, r.stderr).toBe(0);
    hostGit(['status', '--short'], join(site.project, 'node_modules/dep'));
    hostGit(['status', '--short'], join(site.project, 'node_modules/dep/lib'));
    expect(existsSync(site.marker), 'host git in node_modules/dep ran the fsmonitor the sandbox planted').toBe(false);
    expect(readdirSync(join(site.project, 'node_modules/.git')).some((n) => n.startsWith('config.isolate-quarantined-')), 'the new repository\'s config was not moved aside').toBe(true);
  });

  it('an existing repository in node_modules keeps its configuration and hooks: the command cannot rewrite them', () => {
    const clone = join(site.project, 'node_modules/dep');
    mkdirSync(clone, { recursive: true });
    giveTo(runner, site.dir);
    expect(hostGit(['init', '-q', '.'], clone).status).toBe(0);
    const r = run(`git -C node_modules/dep config core.fsmonitor ${fsmonitor()}; printf '#!/bin/sh\\ntouch ${site.marker}\\n' > node_modules/dep/.git/hooks/pre-commit; chmod +x node_modules/dep/.git/hooks/pre-commit; echo done`);
    expect(r.status, r.stderr).toBe(0);
    hostGit(['status', '--short'], clone);
    hostGit(['commit', '-q', '--allow-empty', '-m', 'x'], clone);
    expect(existsSync(site.marker), 'host git in node_modules/dep ran what the sandbox wrote into its .git').toBe(false);
  });

  it('packages in node_modules stay writable and removable, their own dot-directories (.github, .vscode) included', () => {
    for (const sub of ['node_modules/a/.github/workflows', 'node_modules/a/.vscode', 'node_modules/b/.husky']) mkdirSync(join(site.project, sub), { recursive: true });
    writeFileSync(join(site.project, 'node_modules/a/.vscode/settings.json'), '{}\n');
    writeFileSync(join(site.project, 'node_modules/a/.github/workflows/ci.yml'), 'x\n');
    giveTo(runner, site.dir);
    const r = run('rm -rf node_modules/a node_modules/b && mkdir -p node_modules/c/.vscode && echo "{}" > node_modules/c/.vscode/settings.json && echo ok');
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain('ok');
    expect(readdirSync(join(site.project, 'node_modules')).sort()).toEqual(['c']);
    expect(readdirSync(join(site.project, 'node_modules/c'))).toEqual(['.vscode']);
  });
});
