/**
 * Red team: Vim's exrc files. With `set exrc` in the user's vimrc (a common
 * line in shared dotfiles), Vim sources the first of `.vimrc`, `_vimrc` and
 * `.exrc` in the directory it starts in, with no prompt and no `secure`
 * unless the vimrc sets it: a command that wrote `_vimrc` into the project
 * would have its Vim script (`system()`, `!cmd`) run by the user's next
 * `vim` there, outside the sandbox. Only `.exrc` was blocked at the top of
 * the project, though Vim reads `.vimrc` and `_vimrc` before it, and
 * `_vimrc`, `_gvimrc` and `.nvimrc` were not protected anywhere. Each name
 * cannot be made at the top of the project, stays read-only where it
 * exists, and one made deeper is moved aside.
 *
 * Judged on the host: host Vim with `exrc` set, started in the project,
 * creates no marker (where Vim is installed), and what the files hold.
 *
 * Each test was written as a failing finding first; it now guards the fix.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { asRunner, giveTo, isolate } from '../helpers/isolate.js';
import { backendCases } from '../helpers/backends.js';
import { plantSite } from '../helpers/plant-site.js';

/** Every name Vim, gvim or Neovim sources from the directory it starts in. */
const NAMES = ['.vimrc', '_vimrc', '.exrc', '.gvimrc', '_gvimrc', '.nvim.lua', '.nvimrc'];

const vim = spawnSync('vim', ['--version'], { stdio: 'ignore' }).status === 0;
if (!vim) console.warn('red team: Vim exrc: host Vim not run as the oracle (only the files are judged): vim is not installed (apt-get install vim)');

describe.each(backendCases('red team: Vim exrc'))('red team: Vim exrc files ($label)', ({ runner, backend, backendEnv }) => {
  const site = plantSite(runner, backendEnv);

  const run = (script: string) => isolate(runner, ['run', '--backend', backend, '--', 'sh', '-c', script], { cwd: site.project, env: site.env, timeoutMs: 30_000 });
  const planted = (): string => `call writefile([], '${site.marker}')`;
  /** Each name written in `dir` (relative to the project), printing `wrote <name>` for each write that succeeded. */
  const plantAll = (dir: string): string => NAMES.map((n) => `printf '%s\\n' "${planted()}" > ${dir}/${n} 2>/dev/null && echo "wrote ${dir}/${n}"`).join('; ');
  /** Host Vim started in `cwd` by a user whose vimrc sets exrc (its own home, so the project's files are not that vimrc). */
  const hostVim = (cwd: string): void => {
    if (!vim) return;
    const home = join(site.dir, 'vim-home');
    mkdirSync(home, { recursive: true });
    writeFileSync(join(home, '.vimrc'), 'set exrc\n');
    giveTo(runner, home);
    const r = asRunner(runner, ['vim', '--not-a-term', '-X', '-n', '-i', 'NONE', '+qa!'], { cwd, env: { HOME: home, TERM: 'dumb' }, timeoutMs: 10_000 });
    expect(r.signal, 'host vim did not finish').toBeNull();
  };

  it.runIf(vim)('control: host vim with exrc sources a _vimrc written outside the sandbox', () => {
    const dir = join(site.dir, 'control');
    mkdirSync(dir);
    writeFileSync(join(dir, '_vimrc'), `${planted()}\n`);
    giveTo(runner, site.dir);
    hostVim(dir);
    expect(existsSync(site.marker), 'the oracle: host vim ran the _vimrc').toBe(true);
  });

  it('none can be made at the top of the project: host vim with exrc runs nothing planted', () => {
    const r = run(`${plantAll('.')}; true`);
    expect(r.status, r.stderr).toBe(0);
    hostVim(site.project);
    expect(existsSync(site.marker), 'host vim sourced an exrc file the sandbox wrote').toBe(false);
    expect(r.stdout, 'the command wrote an exrc file at the top of the project').not.toContain('wrote');
  });

  it('existing ones cannot be rewritten', () => {
    for (const n of NAMES) writeFileSync(join(site.project, n), '" kept\n');
    mkdirSync(join(site.project, 'other'));
    giveTo(runner, site.dir);
    const r = run(`${plantAll('.')}; printf 'x\\n' > other/notes && echo control; true`);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout, 'control: the project is writable').toContain('control');
    for (const n of NAMES) expect(readFileSync(join(site.project, n), 'utf8'), n).toBe('" kept\n');
    hostVim(site.project);
    expect(existsSync(site.marker), 'host vim sourced an exrc file the sandbox rewrote').toBe(false);
  });

  it('ones made in a subdirectory are moved aside: host vim there runs nothing planted', () => {
    const sub = join(site.project, 'sub');
    mkdirSync(sub);
    giveTo(runner, site.dir);
    const r = run(`${plantAll('sub')}; true`);
    expect(r.status, r.stderr).toBe(0);
    hostVim(sub);
    expect(existsSync(site.marker), 'host vim sourced an exrc file the sandbox made in a subdirectory').toBe(false);
    for (const n of NAMES) {
      const at = join(sub, n);
      expect(existsSync(at) ? readFileSync(at, 'utf8') : '', n).not.toContain('writefile');
    }
    expect(r.stderr, 'the names moved aside are named').toContain('_vimrc');
  });
});
