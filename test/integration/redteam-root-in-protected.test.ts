/**
 * Red team: a writable path given at or inside a protected name. The names
 * were matched only below each writable path, relative to it, so a writable
 * path that is `.git` itself (`--profile strict --allow-write .git`, which
 * makes nothing else of the project writable) or `.git/hooks` never matched
 * `.git/hooks` or `.git/config`: the command planted a pre-commit hook and a
 * core.fsmonitor that the user's next `git commit` and `git status` ran. The
 * same held for the names that matter in a home directory given as the
 * writable path: `~/.config/autostart` (a desktop entry the next login
 * runs) and the file `~/.bashrc`.
 *
 * Judged by the effect on the host: host git, run as the runner's user
 * outside the sandbox, runs no hook or fsmonitor the command wrote (and
 * does run one written without a sandbox: the control), and the home's
 * files are as they were.
 */
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { asRunner, DEFAULT_PATH, giveTo, isolate, tempDirFor, type Result } from '../helpers/isolate.js';
import { backendCases } from '../helpers/backends.js';

/** Shell lines that make git run `touch <marker>` at the next commit (a pre-commit hook) and `git status` (core.fsmonitor). */
const plantHookAndMonitor = (hookMarker: string, monitorMarker: string): string =>
  [
    'echo started',
    `printf '#!/bin/sh\\necho PWNED > ${hookMarker}\\n' > .git/hooks/pre-commit`,
    'chmod +x .git/hooks/pre-commit',
    `printf '[core]\\n\\tfsmonitor = "touch ${monitorMarker}; false"\\n' >> .git/config`,
  ].join('\n');

describe.each(backendCases('a writable path at or inside a protected name'))('red team: a writable path at or inside a protected name ($label)', ({ runner, backend, backendEnv }) => {
  let dir: string;
  let cleanup: () => void;
  let home: string;
  let project: string;
  let env: Record<string, string>;
  let hookMarker: string;
  let monitorMarker: string;

  /** git on the host, as the runner's user, in `cwd`. */
  const hostGit = (cwd: string, ...args: string[]): Result =>
    asRunner(runner, ['git', '-c', 'safe.directory=*', ...args], { cwd, env: { PATH: DEFAULT_PATH, HOME: home, GIT_CONFIG_NOSYSTEM: '1', GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@example.com', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@example.com' } });

  /** What host git runs in the project afterwards: a commit (hooks), then a status (core.fsmonitor). */
  const hostGitRuns = (): { hook: boolean; monitor: boolean } => {
    hostGit(project, 'commit', '-q', '--allow-empty', '-m', 'next');
    hostGit(project, 'status');
    return { hook: existsSync(hookMarker), monitor: existsSync(monitorMarker) };
  };

  const run = (args: readonly string[], script: string): Result => isolate(runner, ['run', '--backend', backend, '-p', 'strict', ...args, '--', 'sh', '-c', script], { cwd: project, env });

  beforeEach(() => {
    ({ dir, cleanup } = tempDirFor(runner));
    home = join(dir, 'home');
    project = join(dir, 'project');
    mkdirSync(join(home, '.config', 'autostart'), { recursive: true });
    writeFileSync(join(home, '.bashrc'), '# the user\'s own\n');
    writeFileSync(join(home, 'notes.txt'), 'notes\n');
    mkdirSync(project);
    writeFileSync(join(project, 'README'), 'readme\n');
    giveTo(runner, dir);
    for (const args of [['init', '-q'], ['add', 'README'], ['commit', '-q', '-m', 'first']]) {
      const r = hostGit(project, ...args);
      if (r.status !== 0) throw new Error(`git ${args.join(' ')}: ${r.stderr}`);
    }
    hookMarker = join(dir, 'hook-ran');
    monitorMarker = join(dir, 'fsmonitor-ran');
    env = { HOME: home, PATH: DEFAULT_PATH, ...backendEnv };
  });
  afterEach(() => cleanup());

  it('control: the hook and the fsmonitor, written without a sandbox, run in host git', () => {
    const r = asRunner(runner, ['sh', '-c', plantHookAndMonitor(hookMarker, monitorMarker)], { cwd: project, env: { HOME: home } });
    expect(r.status, r.stderr).toBe(0);
    expect(hostGitRuns()).toEqual({ hook: true, monitor: true });
  });

  it('strict with --allow-write .git: the hooks and the config stay read-only', () => {
    const r = run(['--allow-write', join(project, '.git')], plantHookAndMonitor(hookMarker, monitorMarker));
    expect(r.stdout, r.stderr).toMatch(/started/);
    expect(hostGitRuns(), r.stderr).toEqual({ hook: false, monitor: false });
  });

  /** Shell lines that point git's COMMIT_EDITMSG at ~/.bashrc: host git writes the message of its next commit there. */
  const linkCommitMessage = (): string => `rm -f .git/COMMIT_EDITMSG && ln -s '${join(home, '.bashrc')}' .git/COMMIT_EDITMSG && echo linked`;
  const bashrc = (): string => readFileSync(join(home, '.bashrc'), 'utf8');

  it('control: a COMMIT_EDITMSG linked to ~/.bashrc without a sandbox has host git write into it', () => {
    const r = asRunner(runner, ['sh', '-c', linkCommitMessage()], { cwd: project, env: { HOME: home } });
    expect(r.stdout, r.stderr).toMatch(/linked/);
    expect(hostGit(project, 'commit', '-q', '--allow-empty', '-m', 'touch /tmp/x').status).toBe(0);
    expect(bashrc()).not.toBe("# the user's own\n");
  });

  it('strict with --allow-write .git: a link the command placed among git\'s files is moved aside after the run', () => {
    const r = run(['--allow-write', join(project, '.git')], `echo started; ${linkCommitMessage()}`);
    expect(r.stdout, r.stderr).toMatch(/linked/);
    expect(hostGit(project, 'commit', '-q', '--allow-empty', '-m', 'touch /tmp/x').status).toBe(0);
    expect(bashrc(), '~/.bashrc on the host').toBe("# the user's own\n");
    expect(r.stderr).toMatch(/COMMIT_EDITMSG/);
  });

  it('strict with --allow-write .git where .git/hooks is missing: none can be made', () => {
    rmSync(join(project, '.git', 'hooks'), { recursive: true, force: true });
    const r = run(['--allow-write', join(project, '.git')], `echo started\nmkdir -p .git/hooks\n${plantHookAndMonitor(hookMarker, monitorMarker)}`);
    expect(r.stdout, r.stderr).toMatch(/started/);
    expect(hostGitRuns(), r.stderr).toEqual({ hook: false, monitor: false });
  });

  it('strict with --allow-write .git/hooks: no hook can be planted', () => {
    const r = run(['--allow-write', join(project, '.git', 'hooks')], plantHookAndMonitor(hookMarker, monitorMarker));
    expect(r.stdout, r.stderr).toMatch(/started/);
    expect(hostGitRuns(), r.stderr).toEqual({ hook: false, monitor: false });
  });

  it('--allow-write ~/.config/autostart: no desktop entry can be created there; another directory of ~/.config given so is written', () => {
    const other = join(home, '.config', 'notes');
    mkdirSync(other);
    giveTo(runner, other);
    const plant = 'echo started; printf "[Desktop Entry]\\nExec=sh -c \'echo PWNED\'\\n" > "$HOME/.config/autostart/e.desktop"; echo x > "$HOME/.config/notes/n.txt"; true';
    const r = run(['--allow-write', join(home, '.config', 'autostart'), '--allow-write', other], plant);
    expect(r.stdout, r.stderr).toMatch(/started/);
    expect(existsSync(join(other, 'n.txt')), 'control: the other directory given with --allow-write is written').toBe(true);
    expect(existsSync(join(home, '.config', 'autostart', 'e.desktop')), 'the desktop entry on the host').toBe(false);
  });

  it('--allow-write ~/.bashrc: the file stays as it was; another file of the home given so is written, with no warning', () => {
    const r = run(['--allow-write', join(home, '.bashrc'), '--allow-write', join(home, 'notes.txt')], 'echo started; echo "echo PWNED" >> "$HOME/.bashrc"; echo more >> "$HOME/notes.txt"; true');
    expect(r.stdout, r.stderr).toMatch(/started/);
    expect(readFileSync(join(home, 'notes.txt'), 'utf8'), 'control: the other file given with --allow-write is written').toBe('notes\nmore\n');
    expect(readFileSync(join(home, '.bashrc'), 'utf8'), '~/.bashrc on the host').toBe("# the user's own\n");
    expect(r.stderr).not.toMatch(/could not be moved aside|ENOTDIR/);
  });
});
