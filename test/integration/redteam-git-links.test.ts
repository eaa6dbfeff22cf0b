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
import { chmodSync, existsSync, lstatSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
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

  it('the next git checkout on the host appends nothing through a link the run put at .git/logs/HEAD (a reflog)', () => {
    giveTo(runner, p.home);
    const bashrc = join(p.home, '.bashrc');
    const marker = join(p.home, 'ran');
    // git appends a line to the reflog of HEAD each time HEAD moves, naming the branch it leaves: a branch named
    // `x;cmd;` makes that line run `cmd` in the user's next shell once the reflog is their .bashrc.
    const branch = 'x;touch${IFS}ran;'; // a name has no slash: `ran` is made in the shell's directory, the home
    const r = run(`ln -sf ${bashrc} .git/logs/HEAD && mkdir -p .git/logs/refs/heads && ln -sf ${bashrc} .git/logs/refs/heads/master && git rev-parse HEAD > '.git/refs/heads/${branch}' && printf 'ref: refs/heads/%s\\n' '${branch}' > .git/HEAD`);
    expect(r.status, r.stderr).toBe(0);
    git('checkout', '-q', '-f', 'master');
    writeFileSync(join(p.project, 'file'), 'two\n');
    git('commit', '-q', '-a', '-m', 'two');
    expect(readFileSync(bashrc, 'utf8')).toBe('# the user\'s own\n');
    spawnSync('bash', [bashrc], { cwd: p.home, stdio: 'ignore' });
    expect(existsSync(marker), 'the user\'s shell ran what the run planted').toBe(false);
  });

  it('a directory of links from an earlier run, moved into the git directory by a later one, is moved aside', () => {
    giveTo(runner, p.home);
    const bashrc = join(p.home, '.bashrc');
    // Outside a git directory a link is left where the run made it (README: links in the project).
    const first = run(`mkdir -p stash/logs && ln -s ${bashrc} stash/logs/HEAD`);
    expect(first.status, first.stderr).toBe(0);
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 300); // older than the next run by more than the clock's tick
    const second = run('rm -rf .git/logs && mv stash/logs .git/logs');
    expect(second.status, second.stderr).toBe(0);
    writeFileSync(join(p.project, 'file'), 'two\n');
    const c = git('commit', '-q', '-a', '-m', 'two');
    expect(c.status, c.stderr).toBe(0);
    expect(readFileSync(bashrc, 'utf8')).toBe('# the user\'s own\n');
  });

  it('a link in a subdirectory of the git directory from before the run is left alone, whatever git does in the run', () => {
    mkdirSync(join(p.home, 'shared-logs'));
    symlinkSync(join(p.home, 'shared-logs'), join(p.project, '.git', 'logs', 'shared'));
    giveTo(runner, p.home);
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 300);
    const r = run('echo two > file && git -c user.name=t -c user.email=t@example.com commit -q -am two && git checkout -q -b other');
    expect(r.status, r.stderr).toBe(0);
    expect((JSON.parse(r.stdout) as { quarantined?: unknown[] }).quarantined ?? []).toEqual([]);
    expect(lstatSync(join(p.project, '.git', 'logs', 'shared')).isSymbolicLink()).toBe(true);
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
