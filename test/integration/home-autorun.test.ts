/**
 * With the working directory at a writable home, the command cannot leave a
 * file that a program on the host runs, or takes a command from, later: at
 * login, at a shell's or an interpreter's start, at every prompt or `cd`,
 * or when a build tool, a cloud CLI or git's pager starts. Judged on the
 * host: after the run, none of these files exists; a plain file does.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { giveTo, isolate, keyValues, tempDirFor, DEFAULT_PATH } from '../helpers/isolate.js';
import { backendCases } from '../helpers/backends.js';

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

const script = [
  'plant() { mkdir -p "$(dirname "$1")" 2>/dev/null; if echo rt > "$1" 2>/dev/null; then echo "$1=written"; else echo "$1=refused"; fi; }',
  ...PLANTED.map((p) => `plant ${p}`),
  'plant notes.txt',
].join('\n');

describe.each(backendCases('checks of code a writable home runs later'))('a writable home gains no code the host runs later ($label)', ({ runner, backend, backendEnv }) => {
  let home: string;
  let cleanup: () => void;
  let env: Record<string, string>;
  beforeEach(() => {
    ({ dir: home, cleanup } = tempDirFor(runner));
    // What most homes have: the XDG directories themselves.
    mkdirSync(join(home, '.config'));
    mkdirSync(join(home, '.local/share'), { recursive: true });
    giveTo(runner, home);
    env = { HOME: home, PATH: DEFAULT_PATH, XDG_STATE_HOME: join(home, '.local/state'), ...backendEnv };
  });
  afterEach(() => cleanup());

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
