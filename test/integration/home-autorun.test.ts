/**
 * With the working directory at a writable home, the command cannot leave a
 * file that a program on the host runs, or takes a command from, later: at
 * login, at a shell's or an interpreter's start, at every prompt or `cd`,
 * or when a build tool, a cloud CLI or git's pager starts. Judged on the
 * host: after the run, none of these files exists; a plain file does.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { isolate, keyValues, DEFAULT_PATH } from '../helpers/isolate.js';
import { backendCases } from '../helpers/backends.js';
import { planter, useWritableHome } from '../helpers/writable-home.js';

/** Files each of which makes a host program run code the command chose. */
const PLANTED = [
  '.bashrc.d/rt.sh',
  '.kshrc',
  '.cshrc',
  '.login',
  '.xsession',
  '.config/plasma-workspace/env/rt.sh',
  '.local/share/systemd/user/rt.service',
  '.local/lib/python3/site-packages/rt.pth',
  '.ipython/profile_default/startup/00-rt.py',
  '.jupyter/jupyter_server_config.py',
  '.local/share/jupyter/kernels/rt/kernel.json',
  '.config/pip/pip.conf',
  '.pip/pip.conf',
  '.cargo/env',
  '.cargo/bin/git',
  '.config/go/env',
  '.gradle/init.d/rt.gradle',
  '.m2/settings.xml',
  '.mavenrc',
  '.terraformrc',
  '.bunfig.toml',
  '.aws/config',
  '.kube/config',
  '.docker/config.json',
  '.config/gh/config.yml',
  '.gnupg/gpg-agent.conf',
  '.lesskey',
  '.config/direnv/direnvrc',
  '.direnvrc',
  '.config/starship.toml',
  '.gdbinit',
  '.config/autostart/rt.desktop',
  '.hgrc',
  '.config/hg/hgrc',
  '.bash_completion',
  '.local/share/bash-completion/completions/git',
];

/** Whether Mercurial is installed here (the hook test needs the host's hg; the planting test above covers its files without it). */
function hgHere(): boolean {
  const here = spawnSync('hg', ['version', '-q'], { env: { PATH: DEFAULT_PATH, HOME: '/nonexistent' }, timeout: 20_000 }).status === 0;
  if (!here) console.warn("the host-hg hook test is skipped: hg is not installed here (apt-get install mercurial); the planting test still covers ~/.hgrc and ~/.config/hg");
  return here;
}

const script = planter(PLANTED);

describe.each(backendCases('checks of code a writable home runs later'))('a writable home gains no code the host runs later ($label)', ({ runner, backend, backendEnv }) => {
  const fixture = useWritableHome(runner, backendEnv);
  let home: string;
  let env: Record<string, string>;
  beforeEach(() => {
    home = fixture.home();
    env = fixture.env();
  });

  it('none of the start-up, configuration or PATH files a host program obeys can be created; a plain file can', () => {
    const r = isolate(runner, ['run', '--backend', backend, '--', 'sh', '-c', script], { cwd: home, env });
    expect(r.status, r.stderr).toBe(0);
    const kv = keyValues(r.stdout);
    expect(kv['notes.txt']).toBe('written'); // control: the home is writable
    for (const path of PLANTED) {
      expect(kv[path], path).toBe('refused');
      expect(existsSync(join(home, path)), `${path} on the host`).toBe(false);
    }
  });

  it.runIf(hgHere())("the host's hg runs no hook the command chose (~/.hgrc, ~/.config/hg/hgrc)", () => {
    const marker = join(home, 'hg-hook-ran');
    const hook = `[hooks]\npre-version = touch ${marker}\n`;
    const plant = `printf '${hook}' > .hgrc; mkdir -p .config/hg && printf '${hook}' > .config/hg/hgrc; true`;
    const r = isolate(runner, ['run', '--backend', backend, '--', 'sh', '-c', plant], { cwd: home, env });
    expect(r.status, r.stderr).toBe(0);
    const hg = spawnSync('hg', ['version', '-q'], { env: { HOME: home, PATH: DEFAULT_PATH }, encoding: 'utf8', timeout: 20_000 });
    expect(hg.status, hg.stderr).toBe(0); // control: the host's hg ran
    expect(existsSync(marker), 'the host hg ran a hook from a file the command wrote').toBe(false);
  });
});
