/**
 * Red team: Mercurial's repository files beside `.hg/hgrc`. hg reads
 * `.hg/hgrc-not-shared` after `.hg/hgrc` in every repository, and a
 * repository whose `.hg/requires` says `shared` and `share-safe` reads the
 * `hgrc` of the directory `.hg/sharedpath` names. Only `.hg/hgrc` was
 * protected, so a command could give the project's repository hooks that
 * the host's next `hg status` ran.
 *
 * Each test was written as a failing finding first; it now guards the fix.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { asRunner, giveTo, isolate } from '../helpers/isolate.js';
import { backendCases } from '../helpers/backends.js';
import { plantSite } from '../helpers/plant-site.js';

const hg = spawnSync('hg', ['--version'], { stdio: 'ignore' }).status === 0;
if (!hg) console.warn('red team: Mercurial skipped: hg is not installed (apt-get install mercurial)');

describe.skipIf(!hg).each(backendCases('red team: Mercurial'))('red team: Mercurial repository files ($label)', ({ runner, backend, backendEnv }) => {
  const site = plantSite(runner, backendEnv);

  const run = (script: string) => isolate(runner, ['run', '--backend', backend, '--', 'sh', '-c', script], { cwd: site.project, env: site.env, timeoutMs: 30_000 });
  const hostHg = (args: string[]) => asRunner(runner, ['hg', '--config', 'ui.username=t', ...args], { cwd: site.project, env: { ...site.env, HOME: site.dir } });
  const hook = (): string => `printf '[hooks]\\npre-status = touch ${site.marker}\\n'`;
  const init = (): void => {
    giveTo(runner, site.dir);
    expect(hostHg(['init', '.']).status).toBe(0);
  };

  it('.hg/hgrc-not-shared cannot be written: host hg runs no planted hook', () => {
    init();
    const r = run(`${hook()} > .hg/hgrc-not-shared; echo done`);
    expect(r.status, r.stderr).toBe(0);
    hostHg(['status']);
    expect(existsSync(site.marker), 'host hg status ran the hook the sandbox put in .hg/hgrc-not-shared').toBe(false);
  });

  it('.hg/requires and .hg/sharedpath cannot send hg to a configuration the command wrote: host hg runs no planted hook', () => {
    init();
    const requires = readFileSync(join(site.project, '.hg/requires'), 'utf8');
    const script = [
      'mkdir -p evil/store',
      'cp .hg/store/requires evil/store/requires',
      'printf "share-safe\\n" > evil/requires',
      `${hook()} > evil/hgrc`,
      `printf 'shared\\n${requires.replace(/\n/g, '\\n')}' > .hg/requires.new; mv .hg/requires.new .hg/requires`,
      `printf '%s\\n' "$PWD/evil" > .hg/sharedpath`,
      'echo done',
    ].join('; ');
    const r = run(script);
    expect(r.status, r.stderr).toBe(0);
    hostHg(['status']);
    expect(existsSync(site.marker), 'host hg status ran the hook of the configuration .hg/sharedpath names').toBe(false);
  });
});
