/**
 * Protected names created during a run do not take effect on the host: a
 * new repository's config (core.fsmonitor), a .git/commondir in an existing
 * repository, a .git file pointing elsewhere, an .envrc at any depth. Judged
 * by running git on the host afterwards and looking for the file its
 * fsmonitor would have created; the run report and the audit log name each.
 */
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { asRunner, giveTo, isolate, tempDirFor, DEFAULT_PATH } from '../helpers/isolate.js';
import { backendCases } from '../helpers/backends.js';
import { plantSite } from '../helpers/plant-site.js';

describe.each(backendCases('checks of names created during a run'))('names created during a run ($label)', ({ runner, backend, backendEnv }) => {
  const site = plantSite(runner, backendEnv);
  let dir: string;
  let project: string;
  let env: Record<string, string>;
  let marker: string;
  beforeEach(() => ({ dir, project, env, marker } = site));

  const run = (script: string) => isolate(runner, ['run', '--json', '--backend', backend, '--', 'sh', '-c', script], { cwd: project, env });
  const hostGit = (cwd: string) => asRunner(runner, ['git', '-c', `safe.directory=*`, 'status', '--short'], { cwd, env: { ...env, HOME: dir } });

  it('a new repository\'s config and hooks, and an .envrc deep down, are moved aside and reported', () => {
    const r = run(`git init -q app && git -C app config core.fsmonitor 'touch ${marker}' && mkdir -p a/b && echo 'touch ${marker}' > a/b/.envrc`);
    expect(r.status, r.stderr).toBe(0);
    const report = JSON.parse(r.stdout) as { quarantined?: { path: string; movedTo: string | null }[]; runId: string };
    const paths = (report.quarantined ?? []).map((q) => q.path);
    expect(paths).toEqual(expect.arrayContaining([join(project, 'app/.git/config'), join(project, 'app/.git/hooks'), join(project, 'a/b/.envrc')]));
    for (const q of report.quarantined ?? []) expect(q.movedTo, q.path).toMatch(/\.isolate-quarantined-[0-9a-f]{8}$/);
    expect(existsSync(join(project, 'a/b/.envrc'))).toBe(false);
    // Host git in the new repository: it works, and runs nothing the sandbox planted.
    const git = hostGit(join(project, 'app'));
    expect(git.status, git.stderr).toBe(0);
    expect(existsSync(marker)).toBe(false);
    // The audit log has the same list.
    const shown = isolate(runner, ['audit', 'show', '--json'], { cwd: project, env });
    expect(shown.status, shown.stderr).toBe(0);
    const records = shown.stdout.split('\n').filter((l) => l.trim() !== '').map((l) => JSON.parse(l) as { runId?: string; quarantined?: { path: string }[] });
    const mine = records.filter((rec) => rec.runId === report.runId).flatMap((rec) => rec.quarantined ?? []);
    expect(mine.map((q) => q.path)).toEqual(expect.arrayContaining([join(project, 'app/.git/config')]));
  });

  it('a .git/commondir added to an existing repository, and a .git file pointing elsewhere, are moved aside', () => {
    expect(asRunner(runner, ['git', 'init', '-q', project], { cwd: project, env }).status).toBe(0);
    mkdirSync(join(project, 'sub'));
    giveTo(runner, dir);
    const evil = `mkdir -p evil && git init -q --bare evil && git --git-dir=evil config core.fsmonitor 'touch ${marker}'`;
    const r = run(`${evil} && echo ../evil > .git/commondir && echo 'gitdir: ../evil' > sub/.git`);
    expect(r.status, r.stderr).toBe(0);
    const report = JSON.parse(r.stdout) as { quarantined?: { path: string }[] };
    expect((report.quarantined ?? []).map((q) => q.path)).toEqual(expect.arrayContaining([join(project, '.git/commondir'), join(project, 'sub/.git')]));
    expect(hostGit(project).status).toBe(0);
    expect(existsSync(marker)).toBe(false);
  });

  it('leaves alone what the run did not create, and empty names', () => {
    expect(asRunner(runner, ['git', 'init', '-q', project], { cwd: project, env }).status).toBe(0);
    const r = run('mkdir -p x && : > x/.envrc && echo data > notes.txt');
    expect(r.status, r.stderr).toBe(0);
    expect((JSON.parse(r.stdout) as { quarantined?: unknown[] }).quarantined).toBeUndefined();
    expect(readFileSync(join(project, '.git/HEAD'), 'utf8')).toContain('ref:');
    expect(existsSync(join(project, 'x/.envrc'))).toBe(true);
  });
});

describe.each(backendCases('checks of home names'))('names that matter in a home directory ($label)', ({ runner, backend, backendEnv }) => {
  it('are blocked in the home directory, and one a run creates in a project is moved aside after it', () => {
    const { dir, cleanup } = tempDirFor(runner);
    try {
      const home = join(dir, 'home');
      const project = join(dir, 'project');
      mkdirSync(join(home, '.local/share'), { recursive: true });
      mkdirSync(project);
      giveTo(runner, dir);
      const env = { HOME: home, PATH: DEFAULT_PATH, XDG_STATE_HOME: join(dir, 'state'), ...backendEnv };
      // In the home (writable: it is the working directory): blocked during the run.
      const inHome = isolate(runner, ['run', '--backend', backend, '--', 'sh', '-c', 'echo pwned > .bashrc && echo wrote'], { cwd: home, env });
      expect(inHome.stdout).not.toContain('wrote');
      expect(existsSync(join(home, '.bashrc'))).toBe(false);
      // In a project: no placeholder; created, then moved aside.
      const inProject = isolate(runner, ['run', '--json', '--backend', backend, '--', 'sh', '-c', 'echo pwned > .bashrc'], { cwd: project, env });
      expect(inProject.status, inProject.stderr).toBe(0);
      expect((JSON.parse(inProject.stdout) as { quarantined?: { path: string }[] }).quarantined?.map((q) => q.path)).toEqual([join(project, '.bashrc')]);
      expect(existsSync(join(project, '.bashrc'))).toBe(false);
    } finally {
      cleanup();
    }
  });
});

describe.each(backendCases('checks of quarantine messages'))('the quarantine message ($label)', ({ runner, backend, backendEnv }) => {
  it('prints a path the command chose with its control characters escaped, so it cannot rewrite the warning', () => {
    const { dir, cleanup } = tempDirFor(runner);
    try {
      giveTo(runner, dir);
      const env = { HOME: join(dir, 'home'), PATH: DEFAULT_PATH, XDG_STATE_HOME: join(dir, 'state'), ...backendEnv };
      const r = isolate(runner, ['run', '--backend', backend, '--', 'sh', '-c', 'd="$(printf "x\\033[2K\\rok")"; mkdir -p "$d" && echo x > "$d/.envrc"'], { cwd: dir, env });
      expect(r.status, r.stderr).toBe(0);
      expect(r.stderr).toContain('\\u001b[2K\\u000dok/.envrc');
      expect(r.stderr).not.toContain('\u001b');
    } finally {
      cleanup();
    }
  });
});
