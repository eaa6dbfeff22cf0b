/**
 * Red team: a git configuration file of another user, which the sandbox
 * cannot read. isolate reads each repository's configuration to show it
 * without its tokens (git-scrub.ts); run by root, it reads with root's
 * capabilities, which the sandbox has not. A cleaned copy of a file the
 * sandbox could not read must not be what makes it readable: `cat` of
 * another user's 0600 `.git/config` must say "Permission denied" in the
 * sandbox as it does without a token in the file. And a repository behind
 * a directory the sandbox cannot enter (another user's 0700 `.git`) must not
 * make the run fail where the launcher cannot reach the copy's place.
 *
 * The other user is `nobody` (uid 65534): neither runner. Judged by what the
 * command could print (a private line of the file, and its token), and by
 * the run running.
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, chownSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { giveTo, homeWithProject, isolate, type Project } from '../helpers/isolate.js';
import { backendCases } from '../helpers/backends.js';

const NOBODY = 65534;
const asRoot = process.getuid?.() === 0;
if (!asRoot) console.warn('red team: another user\'s git configuration skipped: only root can make a file of another user for the test (run the suite as root)');

describe.runIf(asRoot).each(backendCases('red team: another user\'s git configuration'))('red team: another user\'s git configuration ($label)', ({ runner, backend, backendEnv }) => {
  let p: Project;
  const token = `ghs_${randomBytes(12).toString('hex')}`;
  const privateLine = `private-${randomBytes(8).toString('hex')}@example.com`;
  const config = `[core]\n\trepositoryformatversion = 0\n\tbare = false\n[user]\n\temail = ${privateLine}\n[http "https://github.com/"]\n\textraheader = AUTHORIZATION: basic ${Buffer.from(`x-access-token:${token}`).toString('base64')}\n`;

  /** `dir/.git/config` of nobody's (0600, or as given), in a `.git` directory of the given mode. */
  const othersRepo = (dir: string, gitMode: number, fileMode = 0o600): void => {
    mkdirSync(join(dir, '.git'), { recursive: true });
    writeFileSync(join(dir, '.git', 'config'), config, { mode: fileMode });
    chmodSync(join(dir, '.git', 'config'), fileMode);
    chownSync(join(dir, '.git', 'config'), NOBODY, NOBODY);
    chownSync(join(dir, '.git'), NOBODY, NOBODY);
    chmodSync(join(dir, '.git'), gitMode);
  };
  const run = (profile: string, script: string) =>
    isolate(runner, ['run', '--profile', profile, '--backend', backend, '--', 'sh', '-c', script], { cwd: p.project, env: { ...p.env, ...backendEnv } });
  const leaked = (text: string): string[] => [privateLine, token].filter((s) => text.includes(s));
  /**
   * Refused, not shown: nsjail cannot show a file without its token; an ordinary user cannot make the protected
   * names' placeholders in another user's git directory inside its writable project.
   */
  const refused = (r: { status: number | null; stderr: string }, profile: string): boolean =>
    r.status === 125 && ((backend === 'nsjail' && r.stderr.includes('holds a credential')) || (runner.uid !== 0 && profile === 'default' && r.stderr.includes('placeholder')));

  beforeEach(() => {
    p = homeWithProject(runner);
    mkdirSync(join(p.project, 'sub'));
    writeFileSync(join(p.project, 'file'), 'file\n');
    giveTo(runner, p.project);
  });
  afterEach(() => p.cleanup());

  it.each([
    ['strict', '0600'],
    ['default', '0600'],
    ['strict', '0640'],
  ])('%s: cat of another user\'s .git/config (mode %s, the sandbox in neither its owner nor its group) is refused in the sandbox, with or without a token in it', (profile, mode) => {
    othersRepo(join(p.project, 'sub'), 0o755, parseInt(mode, 8));
    const r = run(profile, 'cat sub/.git/config; echo RAN');
    expect(leaked(r.stdout + r.stderr), 'a line of a file the sandbox cannot read').toEqual([]);
    if (refused(r, profile)) return;
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain('RAN');
    // Root's sandbox meets the file as it is; an ordinary user's isolate could not read it either and shows it empty.
    if (runner.uid === 0) expect(r.stderr).toContain('Permission denied');
  });

  it('default: a .git file an earlier run left, pointing at another user\'s repository, shows it no more', () => {
    const other = join(p.project, 'other');
    mkdirSync(other);
    othersRepo(other, 0o755);
    mkdirSync(join(p.project, 'ptr'));
    writeFileSync(join(p.project, 'ptr', '.git'), 'gitdir: ../other/.git\n');
    giveTo(runner, join(p.project, 'ptr'));
    const r = run('default', 'cat other/.git/config; echo RAN');
    expect(leaked(r.stdout + r.stderr), 'a line of a file the sandbox cannot read').toEqual([]);
    if (refused(r, 'default')) return;
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain('RAN');
  });

  it.each(['0700', '0750'])('strict: a repository in a directory of another user\'s that the sandbox cannot enter (mode %s) does not stop the run', (gitMode) => {
    othersRepo(join(p.project, 'sub'), parseInt(gitMode, 8));
    const r = run('strict', 'cat file; ls sub/.git || true');
    expect(leaked(r.stdout + r.stderr)).toEqual([]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain('file');
  });
});
