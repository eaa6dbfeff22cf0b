/**
 * Red team: a git directory in the project that is not named `.git`. A `.git`
 * file sends git to a git directory of any name (`gitdir: ./.bare`, the bare
 * clone and worktrees layout; `git init --separate-git-dir=gd`, which writes
 * an absolute path; or a relative one written by hand), and a bare
 * repository (`git init --bare sub.git`) is a git directory with no `.git`
 * at all. Only the names under `.git/` were kept read-only, so a command
 * could write `core.fsmonitor` into such a directory's `config`, or a hook
 * into its `hooks/`, and the user's next `git status`, `git commit` or `git
 * push` on the host ran it. They are now protected as a `.git` directory's
 * are. So is the directory an include or a hooks path leaves by a `..`
 * after a name (`sub/../inc.cfg`): git, like the kernel, goes through `sub`,
 * which a command could turn into a link to a directory of its own.
 *
 * Judged by the effect: host git, run afterwards by the test as the
 * runner's user, runs the planted fsmonitor or hook (it writes a marker
 * file) or does not. The control plants the same files outside the sandbox
 * in the same layout, and host git does run them.
 */
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { asRunner, giveTo, homeWithProject, isolate, type Project, type Runner } from '../helpers/isolate.js';
import { backendCases } from '../helpers/backends.js';

/** One layout: how it is made in `site`, what the command plants there, and the host git commands that obey the plants. */
interface Layout {
  name: string;
  /** Makes the layout in `site` (an empty directory), as the runner. */
  make: string;
  /** Where the sandboxed command runs, below `site`. */
  at: string;
  /** The shell lines that plant the payloads, each writing `$M.<what>` when it runs. */
  plant: string;
  /** Host git commands (each run in its own directory below `site`) that run what was planted. */
  trigger: { cwd: string; args: string[] }[];
  /** The markers the plants write when host git runs them. */
  markers: string[];
}

const IDENT = ['-c', 'user.name=t', '-c', 'user.email=t@example.com'];
/** A repository `src` with one commit, to clone from. */
const SOURCE = `git init -q -b main src && git -C src ${IDENT.join(' ')} commit -q --allow-empty -m first`;
/** Lines that append a core.fsmonitor running `id -un > $M.fsmonitor` to the config in `$1`, and a pre-commit hook writing `$M.hook` into the hooks directory in `$1`. */
const PLANT_CONFIG_AND_HOOK = (dir: string): string =>
  [
    `printf '[core]\\n\\tfsmonitor = "id -un > %s.fsmonitor; false"\\n' "$M" >> ${dir}/config`,
    `mkdir -p ${dir}/hooks; printf '#!/bin/sh\\necho HOOK > %s.hook\\n' "$M" > ${dir}/hooks/pre-commit; chmod +x ${dir}/hooks/pre-commit`,
  ].join('\n');
const STATUS_AND_COMMIT = (cwd: string): Layout['trigger'] => [
  { cwd, args: ['status'] },
  { cwd, args: [...IDENT, 'commit', '-q', '--allow-empty', '-m', 'x'] },
];

const LAYOUTS: Layout[] = [
  {
    name: 'a .git file pointing at ./.bare, the bare clone and worktrees layout',
    make: `${SOURCE} && mkdir p && git clone -q --bare src p/.bare && echo 'gitdir: ./.bare' > p/.git && git -C p worktree add -q main main`,
    at: 'p',
    plant: PLANT_CONFIG_AND_HOOK('.bare'),
    trigger: STATUS_AND_COMMIT('p/main'),
    markers: ['fsmonitor', 'hook'],
  },
  {
    name: 'a .git file naming a separate git directory by its absolute path (git init --separate-git-dir)',
    make: `mkdir p && git -C p init -q -b main --separate-git-dir="$PWD/p/gd" . && git -C p ${IDENT.join(' ')} commit -q --allow-empty -m first`,
    at: 'p',
    plant: PLANT_CONFIG_AND_HOOK('gd'),
    trigger: STATUS_AND_COMMIT('p'),
    markers: ['fsmonitor', 'hook'],
  },
  {
    name: 'a .git file naming a separate git directory by a relative path',
    make: `mkdir -p p/meta && git -C p init -q -b main --separate-git-dir="$PWD/p/meta/gd" . && git -C p ${IDENT.join(' ')} commit -q --allow-empty -m first && echo 'gitdir: meta/../meta/gd' > p/.git`,
    at: 'p',
    plant: PLANT_CONFIG_AND_HOOK('meta/gd'),
    trigger: STATUS_AND_COMMIT('p'),
    markers: ['fsmonitor', 'hook'],
  },
  {
    name: 'an include written with a name before `..` (sub/../inc.cfg): the command turns sub into a link, and git follows it',
    make: `mkdir -p p/sub && git -C p init -q -b main . && git -C p ${IDENT.join(' ')} commit -q --allow-empty -m first && printf '[include]\\n\\tpath = ../sub/../inc.cfg\\n' >> p/.git/config`,
    at: 'p',
    plant: [
      'mv sub sub.old && mkdir -p x/y && ln -s x/y sub',
      `printf '[core]\\n\\tfsmonitor = "id -un > %s.fsmonitor; false"\\n' "$M" > x/inc.cfg`,
    ].join('\n'),
    trigger: [{ cwd: 'p', args: ['status'] }],
    markers: ['fsmonitor'],
  },
  {
    name: 'a bare repository in the project: a hook run by a host git push into it',
    make: `${SOURCE} && mkdir p && git init -q --bare p/sub.git && git clone -q src clone 2>/dev/null`,
    at: 'p',
    plant: `printf '#!/bin/sh\\necho HOOK > %s.hook\\n' "$M" > sub.git/hooks/post-receive; chmod +x sub.git/hooks/post-receive`,
    trigger: [{ cwd: 'clone', args: ['push', '-q', '../p/sub.git', 'main'] }],
    markers: ['hook'],
  },
  {
    name: 'a bare repository in the project: its config obeyed by host git (core.hooksPath to hooks the command made)',
    make: `${SOURCE} && mkdir p && git init -q --bare p/sub.git && git clone -q src clone 2>/dev/null`,
    at: 'p',
    plant: [
      `mkdir -p evil && printf '#!/bin/sh\\necho HOOK > %s.config\\n' "$M" > evil/pre-receive && chmod +x evil/pre-receive`,
      `printf '[core]\\n\\thooksPath = %s/evil\\n' "$PWD" >> sub.git/config`,
    ].join('\n'),
    trigger: [{ cwd: 'clone', args: ['push', '-q', '../p/sub.git', 'main'] }],
    markers: ['config'],
  },
  {
    name: 'a bare repository in the project whose config includes a file beside it: that file obeyed by host git',
    make: `${SOURCE} && mkdir p && git init -q --bare p/sub.git && git -C p/sub.git config include.path ../shared.cfg && touch p/shared.cfg && git clone -q src clone 2>/dev/null`,
    at: 'p',
    plant: [
      `mkdir -p evil && printf '#!/bin/sh\\necho HOOK > %s.include\\n' "$M" > evil/pre-receive && chmod +x evil/pre-receive`,
      `printf '[core]\\n\\thooksPath = %s/evil\\n' "$PWD" >> shared.cfg`,
    ].join('\n'),
    trigger: [{ cwd: 'clone', args: ['push', '-q', '../p/sub.git', 'main'] }],
    markers: ['include'],
  },
];

describe.each(backendCases('red team: git directories not named .git'))('red team: a git directory not named .git ($label)', ({ runner, backend, backendEnv }) => {
  let p: Project;
  const env = (): Record<string, string> => ({ HOME: p.home, PATH: p.env['PATH'] ?? '', GIT_CONFIG_NOSYSTEM: '1', LANG: 'C' });
  const sh = (r: Runner, cwd: string, script: string) => asRunner(r, ['sh', '-c', script], { cwd, env: env() });
  const hostGit = (cwd: string, args: string[]) => asRunner(runner, ['git', ...args], { cwd, env: env() });
  /** A fresh directory `name` in the home, with the layout made in it by the runner. */
  const site = (name: string, layout: Layout): string => {
    const dir = join(p.home, name);
    mkdirSync(dir);
    giveTo(runner, dir);
    const r = sh(runner, dir, `set -e\n${layout.make}`);
    expect(r.status, `making the layout: ${r.stderr}`).toBe(0);
    return dir;
  };
  const ran = (marker: string, layout: Layout): string[] => layout.markers.filter((m) => existsSync(`${marker}.${m}`));

  beforeEach(() => {
    p = homeWithProject(runner);
    writeFileSync(join(p.home, '.gitconfig'), '[init]\n\tdefaultBranch = main\n[protocol "file"]\n\tallow = always\n');
    giveTo(runner, p.home);
  });
  afterEach(() => p.cleanup());

  it.each(LAYOUTS)('$name: host git runs nothing the command planted', (layout) => {
    // The control: planted outside the sandbox, host git runs each payload.
    const control = site('control', layout);
    const controlMarker = join(p.home, 'control-ran');
    const c = sh(runner, join(control, layout.at), `M=${controlMarker}\n${layout.plant}`);
    expect(c.status, c.stderr).toBe(0);
    for (const t of layout.trigger) hostGit(join(control, t.cwd), t.args);
    expect(ran(controlMarker, layout), 'the control: host git runs each payload planted outside the sandbox').toEqual(layout.markers);

    const attacked = site('attacked', layout);
    const marker = join(p.home, 'pwned');
    const r = isolate(runner, ['run', '--backend', backend, '--', 'sh', '-c', `M=${marker}\n${layout.plant}\ntrue`], { cwd: join(attacked, layout.at), env: { ...env(), ...backendEnv } });
    expect(r.status, r.stderr).toBe(0);
    for (const t of layout.trigger) hostGit(join(attacked, t.cwd), t.args);
    expect(ran(marker, layout), "host git ran a payload the sandbox planted").toEqual([]);
    expect(readdirSync(p.home).filter((e) => e.startsWith('pwned')), 'no marker at all').toEqual([]);
    expect(r.stderr, 'the plants were refused in the sandbox').toMatch(/Read-only file system|Permission denied|Device or resource busy/);
  });
});
