/**
 * Red team: a denied `git push` run by git itself. git runs commands it is
 * given in its arguments (`rebase -x`, `submodule foreach`, `bisect run`,
 * `filter-branch --tree-filter`, `difftool -x`, `grep -O`, `--upload-pack`)
 * and in its settings (an alias, also one without `!`: `git -c alias.p=push
 * p` is `git push`), and takes settings from its environment
 * (`GIT_CONFIG_COUNT`, `GIT_CONFIG_PARAMETERS`, `GIT_EDITOR`). Each script
 * below really pushes to a repository (checked first, with real git and a
 * real shell); the policy with the deny rule "git push *" must refuse it, or,
 * where the command comes from a value known only when it runs, call it
 * undecidable.
 *
 * Judged by the effect: the remote's refs after the script.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decideCommands } from '../../src/policy/commands.js';
import { DEFAULT_PATH, giveTo, isolate, removeTestTree, runners, tempDirFor, TEMP_PREFIX } from '../helpers/isolate.js';

/** The pushed ref each script makes in the remote. */
const REF = 'refs/heads/pushed';
const PUSH = `git push -q origin HEAD:${REF}`;

/** Scripts whose command is written out: the policy must refuse them. */
const DECIDABLE = [
  `git -c alias.p=push p -q origin HEAD:${REF}`,
  `git -c Alias.P=push P -q origin HEAD:${REF}`,
  `git -c alias.a=b -c alias.b=push a -q origin HEAD:${REF}`,
  `git -c 'alias.p=!${PUSH}' p`,
  `git rebase -q -x '${PUSH}' HEAD~1`,
  `git rebase -q --exe='${PUSH}' HEAD~1`,
  `git rebase -qx '${PUSH}' HEAD~1`,
  `git submodule -q foreach '${PUSH}'`,
  `git bisect start HEAD HEAD~2 >/dev/null 2>&1; git bisect run git push -q origin HEAD:${REF} >/dev/null 2>&1`,
  `FILTER_BRANCH_SQUELCH_WARNING=1 git filter-branch -f --tree-filter '${PUSH}' HEAD >/dev/null 2>&1`,
  `git difftool -y -x '${PUSH} #' HEAD~1`,
  `git grep -O'${PUSH} #' -e two >/dev/null`,
  `git ls-remote --upload-pack='${PUSH}; git-upload-pack' origin >/dev/null 2>&1`,
  `git fetch -q --upload-pa='${PUSH}; git-upload-pack' origin 2>/dev/null`,
  `git send-pack ../remote.git HEAD:${REF}`,
  `git -C . send-pack ../remote.git HEAD:${REF}`,
  `/usr/lib/git-core/git-send-pack ../remote.git HEAD:${REF}`,
];

/** Scripts whose command git takes from a value the policy cannot know: refused or undecidable. */
const FROM_ENVIRONMENT = [
  `X=push git --config-env=alias.p=X p -q origin HEAD:${REF}`,
  `GIT_CONFIG_COUNT=1 GIT_CONFIG_KEY_0=alias.p GIT_CONFIG_VALUE_0=push git p -q origin HEAD:${REF}`,
  `export GIT_CONFIG_COUNT=1 GIT_CONFIG_KEY_0=alias.p GIT_CONFIG_VALUE_0=push; git p -q origin HEAD:${REF}`,
  `GIT_CONFIG_PARAMETERS="'alias.p=push'" git p -q origin HEAD:${REF}`,
  `GIT_EDITOR='${PUSH}; true' git commit -q --allow-empty -m x -e`,
  `env GIT_SEQUENCE_EDITOR='${PUSH}; true' git rebase -q -i HEAD~1`,
  `git -c help.autocorrect=immediate psuh -q origin HEAD:${REF} 2>/dev/null`,
  `git config help.autocorrect immediate; git psuh -q origin HEAD:${REF} 2>/dev/null`,
];

const git = (cwd: string, env: NodeJS.ProcessEnv, ...args: string[]): string => {
  const r = spawnSync('git', args, { cwd, env, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`git ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
};

describe('red team: git runs a denied git push it was given', () => {
  let dir: string;
  let env: NodeJS.ProcessEnv;
  let n = 0;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), `${TEMP_PREFIX}git-runs-`));
    const home = join(dir, 'home');
    mkdirSync(home);
    writeFileSync(join(home, '.gitconfig'), '[user]\n\tname = t\n\temail = t@example.com\n[protocol "file"]\n\tallow = always\n[init]\n\tdefaultBranch = main\n');
    env = { PATH: DEFAULT_PATH, HOME: home, GIT_CONFIG_NOSYSTEM: '1', LANG: 'C' };
  });
  afterAll(() => removeTestTree(dir));

  /** A remote, and a clone of it with two commits and a submodule; returns the clone. */
  const fresh = (): { clone: string; remote: string } => {
    const at = join(dir, `case-${++n}`);
    mkdirSync(at);
    const remote = join(at, 'remote.git');
    git(at, env, 'init', '-q', '--bare', remote);
    const clone = join(at, 'clone');
    git(at, env, 'clone', '-q', remote, clone);
    for (const text of ['one', 'two']) {
      writeFileSync(join(clone, 'file'), `${text}\n`);
      git(clone, env, 'add', 'file');
      git(clone, env, 'commit', '-q', '-m', text);
    }
    git(clone, env, 'push', '-q', 'origin', 'HEAD:refs/heads/main');
    git(clone, env, 'submodule', '-q', 'add', remote, 'sub');
    git(clone, env, 'commit', '-q', '-m', 'sub');
    return { clone, remote };
  };

  /** Whether `script`, run by sh in a fresh clone, pushed to the remote. */
  const pushes = (script: string): boolean => {
    const { clone, remote } = fresh();
    spawnSync('sh', ['-c', script], { cwd: clone, env, stdio: 'ignore', timeout: 20_000 });
    return spawnSync('git', ['rev-parse', '-q', '--verify', REF], { cwd: remote, env }).status === 0;
  };

  it.each(DECIDABLE)('refused: %s', async (script) => {
    expect(pushes(script), 'the script really pushes').toBe(true);
    const d = await decideCommands({ allow: [], deny: ['git push *'] }, ['sh', '-c', script]);
    expect(d.decision, d.reason).toBe('refused');
  });

  it.each(FROM_ENVIRONMENT)('refused or undecidable: %s', async (script) => {
    expect(pushes(script), 'the script really pushes').toBe(true);
    const d = await decideCommands({ allow: [], deny: ['git push *'] }, ['sh', '-c', script]);
    expect(d.decision === 'refused' || d.undecidable.length > 0, d.reason).toBe(true);
  });
});

describe.each(runners())('red team: git push through an alias, in a sandbox ($label)', (runner) => {
  it('is refused before it starts: the remote in the project gets nothing', () => {
    const { dir, cleanup } = tempDirFor(runner, `${TEMP_PREFIX}git-alias-`);
    try {
      const env = { PATH: DEFAULT_PATH, HOME: join(dir, 'home'), GIT_CONFIG_NOSYSTEM: '1' };
      const project = join(dir, 'project');
      mkdirSync(project);
      git(project, env, 'init', '-q', '--bare', 'remote.git');
      git(project, env, 'clone', '-q', 'remote.git', 'clone');
      git(join(project, 'clone'), env, '-c', 'user.name=t', '-c', 'user.email=t@example.com', 'commit', '-q', '--allow-empty', '-m', 'x');
      writeFileSync(join(dir, 'profile.yaml'), 'extends: default\ncommands:\n  deny: ["git push *"]\n');
      giveTo(runner, dir);
      const r = isolate(runner, ['run', '-p', join(dir, 'profile.yaml'), '--', 'sh', '-c', `cd clone && git -c alias.p=push p -q origin HEAD:${REF}`], { cwd: project, env });
      expect(r.status, r.stderr).toBe(126);
      expect(r.stderr).toContain('git push *');
      expect(spawnSync('git', ['rev-parse', '-q', '--verify', REF], { cwd: join(project, 'remote.git'), env }).status).not.toBe(0);
    } finally {
      cleanup();
    }
  });
});
