/**
 * Red team: a protected name replaced by a program on the host during the
 * run. `.git/config` is kept read-only by a mount on its own path; git
 * writes it by renaming a new file over it (`git config`, `git remote add`,
 * `git push -u`), and the kernel then detaches every mount on the old path
 * in other mount namespaces. A command that waits for that moment could
 * write `core.fsmonitor` into the new file, which host git runs on its next
 * `git status` (an editor's git integration runs one every few seconds).
 *
 * Judged by the host: after the run, host git runs nothing the command
 * wrote, and the file that was open to the command is moved aside.
 */
import { existsSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { asRunner, giveTo, isolateAsync, projectSite, type Result, type Runner, START_WAIT_MS } from '../helpers/isolate.js';
import { backendCases } from '../helpers/backends.js';

/** The command: say it is up, then try to append `line` to `file` until it can (at most ~8 s). */
function attack(file: string, line: string): string {
  return [
    'touch ready',
    'i=0',
    'while [ $i -lt 400 ]; do',
    `  if printf '%s\\n' '${line}' 2>/dev/null >> ${file}; then touch written; break; fi`,
    '  sleep 0.02; i=$((i+1))',
    'done',
    'sleep 1',
  ].join('\n');
}

async function waitFor(path: string, ms: number): Promise<boolean> {
  for (const end = Date.now() + ms; Date.now() < end; ) {
    if (existsSync(path)) return true;
    await new Promise((r) => setTimeout(r, 20));
  }
  return false;
}

/**
 * Start the attack on `rel` in the project, and once the command is up do what a host program does when it saves
 * the file: write `content` to a new file and rename it over. The run's result.
 */
async function replacedDuringRun(site: Site, args: string[], rel: string, line: string, content: string): Promise<Result> {
  const run = isolateAsync(site.runner, [...args, 'sh', '-c', attack(rel, line)], { cwd: site.project, env: site.env, timeoutMs: 30_000 });
  expect(await waitFor(join(site.project, 'ready'), START_WAIT_MS), 'the command started').toBe(true);
  const file = join(site.project, rel);
  writeFileSync(`${file}.new`, content);
  giveTo(site.runner, `${file}.new`);
  renameSync(`${file}.new`, file);
  return run;
}

interface Site {
  runner: Runner;
  project: string;
  env: Record<string, string>;
}

describe.each(backendCases('red team: protected names replaced on the host'))('red team: protected names replaced on the host ($label)', ({ runner, backend, backendEnv }) => {
  let site: ReturnType<typeof projectSite>;
  beforeEach(() => {
    site = projectSite(runner, 'isolate-it-replaced-', backendEnv);
  });
  afterEach(() => site.cleanup());

  it('a .git/config that host git replaces during the run never carries what the command wrote', async () => {
    const { project, env } = site;
    const marker = join(site.dir, 'fsmonitor-ran');
    asRunner(runner, ['git', 'init', '-q', project], { cwd: project, env });
    const config = join(project, '.git/config');
    // What git does for `git config`: a new file renamed over the old one.
    const args = ['run', '--backend', backend, '-p', 'default', '--'];
    const r = await replacedDuringRun({ runner, project, env }, args, '.git/config', `[core] fsmonitor = touch ${marker}`, `${readFileSync(config, 'utf8')}[user]\n\tname = host\n`);
    const now = existsSync(config) ? readFileSync(config, 'utf8') : '';
    expect(now).not.toContain('fsmonitor');
    spawnSync('git', ['-c', 'safe.directory=*', 'status'], { cwd: project, env: { ...env, GIT_CONFIG_NOSYSTEM: '1' }, stdio: 'ignore' });
    expect(existsSync(marker), 'host git ran the command the sandbox planted').toBe(false);
    expect(r.status, r.stderr).toBe(125);
    expect(r.stderr).toContain(config);
    expect(r.stderr).toMatch(/replaced .*outside the sandbox/);
    expect(readdirSync(join(project, '.git')).some((n) => n.startsWith('config.isolate-quarantined-')), 'the file open to the command was moved aside').toBe(true);
  });

  it('a placeholder a host program replaces during the run never carries what the command wrote', async () => {
    const { project, env } = site;
    asRunner(runner, ['git', 'init', '-q', project], { cwd: project, env });
    const envrc = join(project, '.envrc');
    // An editor saving a new .envrc: a new file renamed over the (empty, read-only) placeholder.
    const args = ['run', '--backend', backend, '-p', 'default', '--'];
    const r = await replacedDuringRun({ runner, project, env }, args, '.envrc', 'touch planted-by-sandbox', 'export FROM_HOST=1\n');
    expect(existsSync(envrc) ? readFileSync(envrc, 'utf8') : '').not.toContain('planted-by-sandbox');
    expect(r.status, r.stderr).toBe(125);
    expect(r.stderr).toContain(envrc);
    expect(readdirSync(project).some((n) => n.startsWith('.envrc.isolate-quarantined-')), 'the file open to the command was moved aside').toBe(true);
  });

  it('a .git the host moves away during the run is not replaced by one the command made', async () => {
    const { project, env } = site;
    const marker = join(site.dir, 'fsmonitor-ran');
    asRunner(runner, ['git', 'init', '-q', project], { cwd: project, env });
    // Once .git is gone, make a repository of its own there whose config runs a command.
    const script = [
      'touch ready',
      'i=0',
      'while [ $i -lt 400 ] && [ -e .git ]; do sleep 0.02; i=$((i+1)); done',
      `git init -q . 2>/dev/null && git config core.fsmonitor "touch ${marker}" 2>/dev/null && touch written`,
      'sleep 1',
    ].join('\n');
    const run = isolateAsync(runner, ['run', '--backend', backend, '-p', 'default', '--', 'sh', '-c', script], { cwd: project, env, timeoutMs: 30_000 });
    expect(await waitFor(join(project, 'ready'), START_WAIT_MS), 'the command started').toBe(true);
    renameSync(join(project, '.git'), join(project, '.git-moved'));
    const r = await run;
    const config = join(project, '.git/config');
    expect(existsSync(config) ? readFileSync(config, 'utf8') : '').not.toContain('fsmonitor');
    spawnSync('git', ['-c', 'safe.directory=*', 'status'], { cwd: project, env: { ...env, GIT_CONFIG_NOSYSTEM: '1' }, stdio: 'ignore' });
    expect(existsSync(marker), 'host git ran the command the sandbox planted').toBe(false);
    expect(r.status, r.stderr).toBe(125);
    expect(r.stderr).toContain(join(project, '.git'));
  });

  it('a hidden file in the writable project that a host program replaces is not read', async () => {
    const { project, env } = site;
    const profile = join(site.dir, 'hides.yaml');
    writeFileSync(profile, ['extends: default', 'filesystem:', '  deny:', '    - "${CWD}/secret.txt"', ''].join('\n'));
    writeFileSync(join(project, 'secret.txt'), 'OLDSECRET\n');
    giveTo(runner, site.dir);
    // The command reads the file a second after the host replaced it: long after isolate noticed.
    const script = ['touch ready', 'while [ ! -e go ]; do sleep 0.02; done', 'sleep 1', 'cat secret.txt 2>&1', 'echo finished'].join('\n');
    const run = isolateAsync(runner, ['run', '--backend', backend, '-p', profile, '--', 'sh', '-c', script], { cwd: project, env, timeoutMs: 30_000 });
    expect(await waitFor(join(project, 'ready'), START_WAIT_MS), 'the command started').toBe(true);
    writeFileSync(join(project, 'secret.new'), 'NEWSECRET\n');
    giveTo(runner, join(project, 'secret.new'));
    renameSync(join(project, 'secret.new'), join(project, 'secret.txt'));
    writeFileSync(join(project, 'go'), '');
    const r = await run;
    expect(r.stdout).not.toContain('NEWSECRET');
    expect(r.stdout).not.toContain('finished');
    expect(r.status, r.stderr).toBe(125);
    expect(r.stderr).toContain(join(project, 'secret.txt'));
    expect(readFileSync(join(project, 'secret.txt'), 'utf8'), 'the host\'s new file is left as it is').toBe('NEWSECRET\n');
  });

  it('a protected name the host leaves alone is not reported', async () => {
    const { project, env } = site;
    asRunner(runner, ['git', 'init', '-q', project], { cwd: project, env });
    const r = await isolateAsync(runner, ['run', '--backend', backend, '-p', 'default', '--', 'sh', '-c', 'git config --list >/dev/null; sleep 0.3'], { cwd: project, env, timeoutMs: 30_000 });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).not.toMatch(/outside the sandbox/);
    expect(readdirSync(join(project, '.git')).filter((n) => n.includes('isolate-quarantined'))).toEqual([]);
  });
});
