/**
 * Red team: a rebase or cherry-pick in progress is a list of what git does
 * next. `git rebase --continue` runs the `exec` lines of
 * `.git/rebase-merge/git-rebase-todo`, and the merge program that
 * `rebase-merge/strategy` names (`git-merge-<name>`, which with a slash in
 * the name is a path from the working tree); `git cherry-pick --continue`
 * takes its strategy from `.git/sequencer/opts`. A command that stopped a
 * rebase in the sandbox (a `break` line) with such a state, or wrote one
 * into the user's own rebase in progress, would have the user's next
 * `git rebase --continue` (which `git status` and shell prompts invite) run
 * its code on the host. A state the run made or changed is moved aside
 * after it; one it did not touch is the user's, and stays.
 *
 * Judged on the host: the marker file host git's --continue would make.
 */
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { asRunner, isolate } from '../helpers/isolate.js';
import { backendCases } from '../helpers/backends.js';
import { plantSite } from '../helpers/plant-site.js';

describe.each(backendCases('red team: git rebase state'))('red team: a rebase in progress ($label)', ({ runner, backend, backendEnv }) => {
  const site = plantSite(runner, backendEnv);
  let dir: string;
  let project: string;
  let env: Record<string, string>;
  let marker: string;
  beforeEach(() => {
    ({ dir, project, env, marker } = site);
    for (const i of [1, 2, 3]) {
      writeFileSync(join(project, `f${i}`), `${i}\n`);
      git(['init', '-q']);
      git(['add', `f${i}`]);
      git(['commit', '-qm', `c${i}`]);
    }
  });

  const gitArgs = ['-c', 'safe.directory=*', '-c', 'user.name=t', '-c', 'user.email=t@t'];
  const git = (args: string[], extra: Record<string, string> = {}) => asRunner(runner, ['git', ...gitArgs, ...args], { cwd: project, env: { ...env, HOME: dir, ...extra } });
  const run = (script: string) => isolate(runner, ['run', '--json', '--backend', backend, '--', 'sh', '-c', script], { cwd: project, env });
  const inSandbox = `git ${gitArgs.join(' ')}`;
  /** The rebase's list, for a sequence editor (`sh .todo`): `todo`'s lines, with the last two commits (c2, c3) swapped so each pick needs a merge. */
  const writeTodo = (first: string) => writeFileSync(join(project, '.todo'), `printf '${first}\\npick %s c3\\npick %s c2\\n' "$(git rev-parse --short HEAD)" "$(git rev-parse --short HEAD~1)" > "$1"\n`);
  const rebaseInSandbox = (after: string) => run(`GIT_SEQUENCE_EDITOR='sh .todo' ${inSandbox} rebase -q -i HEAD~2 >/dev/null 2>&1; ${after}`);
  const moved = (stdout: string): string[] => ((JSON.parse(stdout) as { quarantined?: { path: string }[] }).quarantined ?? []).map((q) => q.path);
  /** A merge program `git-merge-x/../evil` reaches from the working tree. */
  const evil = () => `mkdir -p git-merge-x && printf '#!/bin/sh\\ntouch ${marker}\\nexit 1\\n' > evil && chmod +x evil`;
  const rebaseState = () => join(project, '.git', 'rebase-merge');

  it('a rebase the run stopped with an exec line in its list is moved aside: the host\'s git rebase --continue runs nothing planted', () => {
    writeTodo(`break\\nexec touch ${marker}`);
    const r = rebaseInSandbox('true');
    expect(r.status, r.stderr).toBe(0);
    expect(moved(r.stdout)).toContain(rebaseState());
    git(['rebase', '--continue']);
    expect(existsSync(marker), 'the host ran the planted exec line').toBe(false);
  });

  it('a rebase the run stopped with a merge program in its state is moved aside: the host\'s git rebase --continue runs nothing planted', () => {
    writeTodo('break');
    const r = rebaseInSandbox(`${evil()} && echo x/../evil > .git/rebase-merge/strategy`);
    expect(r.status, r.stderr).toBe(0);
    expect(moved(r.stdout)).toContain(rebaseState());
    git(['rebase', '--continue']);
    expect(existsSync(marker), 'the host ran the planted merge program').toBe(false);
  });

  it('an exec line written into the user\'s own rebase in progress is moved aside with it; a rebase the run did not touch stays', () => {
    writeTodo('break');
    git(['rebase', '-q', '-i', 'HEAD~2'], { GIT_SEQUENCE_EDITOR: 'sh .todo' });
    expect(existsSync(rebaseState()), 'control: the user\'s rebase is stopped').toBe(true);
    const untouched = run('git status --short >/dev/null');
    expect(untouched.status, untouched.stderr).toBe(0);
    expect(moved(untouched.stdout), 'a rebase the run only looked at').not.toContain(rebaseState());
    expect(existsSync(rebaseState()), 'control: the rebase the run only looked at stays').toBe(true);
    const r = run(`printf 'exec touch ${marker}\\n' >> .git/rebase-merge/git-rebase-todo`);
    expect(r.status, r.stderr).toBe(0);
    expect(moved(r.stdout)).toContain(rebaseState());
    git(['rebase', '--continue']);
    expect(existsSync(marker), 'the host ran the exec line added to its rebase').toBe(false);
  });

  it('a cherry-pick the run stopped with a merge program in its options is moved aside: the host\'s git cherry-pick --continue runs nothing planted', () => {
    // c3 first, onto a branch where f3 differs (a conflict: the pick stops), then c2 with the planted strategy.
    const stop = `b=$(git branch --show-current) && ${inSandbox} checkout -q -b side HEAD~2 && echo other > f3 && git add f3 && ${inSandbox} commit -qm other && { ${inSandbox} cherry-pick "$b" "$b~1" >/dev/null 2>&1; git add f3; }`;
    const r = run(`${stop} && ${evil()} && git config -f .git/sequencer/opts options.strategy x/../evil`);
    expect(r.status, r.stderr).toBe(0);
    expect(moved(r.stdout)).toContain(join(project, '.git', 'sequencer'));
    git(['cherry-pick', '--continue'], { GIT_EDITOR: 'true' });
    expect(existsSync(marker), 'the host ran the planted merge program').toBe(false);
  });

});
