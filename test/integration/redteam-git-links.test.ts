/**
 * Red team: symbolic links among git's own files. git writes several files
 * of its directory by opening them, following a symbolic link there:
 * `COMMIT_EDITMSG` on every commit (the message), `MERGE_MSG`, `SQUASH_MSG`,
 * `TAG_EDITMSG`, `FETCH_HEAD`. A command that put
 * `.git/COMMIT_EDITMSG -> ~/.bashrc` in the project would have the user's
 * next `git commit` on the host write the message into their `.bashrc` (and
 * with a planted `MERGE_HEAD` and `MERGE_MSG`, a text of the command's own
 * choosing): a file outside every writable path, written on the host. A link
 * the run made in a repository's git directory is moved aside after it.
 *
 * Judged on the host: a real `git commit` after the run, and the file the
 * link named.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, lstatSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { giveTo, homeWithProject, isolate, type Project } from '../helpers/isolate.js';
import { backendCases } from '../helpers/backends.js';

describe.each(backendCases('red team: links in .git'))('red team: links among git\'s files ($label)', ({ runner, backend, backendEnv }) => {
  let p: Project;
  let gitEnv: NodeJS.ProcessEnv;
  const git = (...args: string[]) => spawnSync('git', ['-c', 'safe.directory=*', ...args], { cwd: p.project, env: gitEnv, encoding: 'utf8' });
  beforeEach(() => {
    p = homeWithProject(runner);
    gitEnv = { PATH: p.env['PATH'], HOME: p.home, GIT_CONFIG_NOSYSTEM: '1', GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@example.com', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@example.com', GIT_EDITOR: 'true' };
    git('init', '-q');
    writeFileSync(join(p.project, 'file'), 'one\n');
    git('add', 'file');
    git('commit', '-q', '-m', 'one');
    writeFileSync(join(p.home, '.bashrc'), '# the user\'s own\n');
  });
  afterEach(() => p.cleanup());

  const run = (script: string) => isolate(runner, ['run', '--json', '--backend', backend, '--', 'sh', '-c', script], { cwd: p.project, env: { ...p.env, ...backendEnv } });

  it('the next git commit on the host writes nothing through a link the run put at .git/COMMIT_EDITMSG', () => {
    giveTo(runner, p.home);
    const bashrc = join(p.home, '.bashrc');
    const r = run(`ln -sf ${bashrc} .git/COMMIT_EDITMSG && ln -sf ${bashrc} .git/FETCH_HEAD && git rev-parse HEAD > .git/MERGE_HEAD && printf 'merge\\ntouch /tmp/planted\\n' > .git/MERGE_MSG && echo two > file`);
    expect(r.status, r.stderr).toBe(0);
    const quarantined = ((JSON.parse(r.stdout) as { quarantined?: { path: string }[] }).quarantined ?? []).map((q) => q.path);
    expect(quarantined).toContain(join(p.project, '.git', 'COMMIT_EDITMSG'));
    expect(quarantined).toContain(join(p.project, '.git', 'FETCH_HEAD'));
    const c = git('commit', '-q', '-a');
    expect(c.status, c.stderr).toBe(0);
    expect(readFileSync(bashrc, 'utf8')).toBe('# the user\'s own\n');
    expect(existsSync(join(p.project, '.git', 'COMMIT_EDITMSG')), 'git wrote its own file').toBe(true);
  });

  it('a link in a git directory the command made unlistable (search permission kept, all git needs) is moved aside too', () => {
    giveTo(runner, p.home);
    const bashrc = join(p.home, '.bashrc');
    const r = run(`ln -sf ${bashrc} .git/COMMIT_EDITMSG && chmod 300 .git && echo two > file`);
    expect(r.status, r.stderr).toBe(0);
    const quarantined = ((JSON.parse(r.stdout) as { quarantined?: { path: string }[] }).quarantined ?? []).map((q) => q.path);
    expect(quarantined).toContain(join(p.project, '.git', 'COMMIT_EDITMSG'));
    chmodSync(join(p.project, '.git'), 0o755);
    const c = git('commit', '-q', '-a', '-m', 'two');
    expect(c.status, c.stderr).toBe(0);
    expect(readFileSync(bashrc, 'utf8')).toBe('# the user\'s own\n');
  });

  it('a link in the git directory from before the run (git-new-workdir makes them) is left alone', () => {
    writeFileSync(join(p.home, 'description'), 'shared\n');
    symlinkSync(join(p.home, 'description'), join(p.project, '.git', 'description.shared'));
    giveTo(runner, p.home);
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 300); // older than the run by more than the clock's tick
    const r = run('true');
    expect(r.status, r.stderr).toBe(0);
    expect((JSON.parse(r.stdout) as { quarantined?: unknown[] }).quarantined ?? []).toEqual([]);
    expect(lstatSync(join(p.project, '.git', 'description.shared')).isSymbolicLink()).toBe(true);
  });

  it('control: git\'s own files, written in the sandbox by git itself, stay where they are', () => {
    giveTo(runner, p.home);
    const r = run('echo two > file && git -c user.name=t -c user.email=t@example.com commit -q -am two && git log --oneline | wc -l');
    expect(r.status, r.stderr).toBe(0);
    const quarantined = (JSON.parse(r.stdout) as { quarantined?: { path: string }[] }).quarantined ?? [];
    expect(quarantined).toEqual([]);
    expect(readFileSync(join(p.project, '.git', 'COMMIT_EDITMSG'), 'utf8')).toBe('two\n');
  });
});
