/**
 * What the host runs by name, from a writable home or project: a program in
 * `~/bin` (which Debian's and Ubuntu's ~/.profile put on PATH at login), in
 * a directory on the caller's PATH that lies inside a writable path (a
 * version manager's bin, a project's own `bin/` that direnv put on PATH),
 * and the scripts the usual shell start-up files source from the home
 * (nvm, sdkman, oh-my-zsh, fzf, conda, ...). Judged on the host: after the
 * run, each file is as it was, or was never made; a plain file is written.
 */
import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { giveTo, isolate, keyValues, plant, DEFAULT_PATH } from '../helpers/isolate.js';
import { backendCases } from '../helpers/backends.js';
import { planter, useWritableHome } from '../helpers/writable-home.js';

/** Start-up code that exists in a home with these tools installed: each replaced, it runs on the host at the next shell. */
const SOURCED = [
  '.nvm/nvm.sh',
  '.nvm/bash_completion',
  '.nvm/versions/node/v20.0.0/bin/node',
  '.sdkman/bin/sdkman-init.sh',
  '.oh-my-zsh/oh-my-zsh.sh',
  '.oh-my-zsh/custom/plugins/rt/rt.plugin.zsh',
  '.fzf.bash',
  '.fzf/shell/key-bindings.bash',
  '.pyenv/shims/python',
  '.rbenv/shims/ruby',
  '.asdf/asdf.sh',
  '.local/share/mise/shims/node',
  'miniconda3/bin/conda',
  '.rustup/toolchains/stable-x86_64-unknown-linux-gnu/bin/cargo',
  '.zinit/bin/zinit.zsh',
  '.local/share/zinit/zinit.git/zinit.zsh',
  '.p10k.zsh',
  '.tmux/plugins/tpm/tpm',
  '.local/share/nvim/site/plugin/rt.lua',
  '.vscode-server/bin/abc/node',
  '.subversion/config',
];

/** The same tools' files in a home without them: none may be made. */
const MISSING = ['.fzf.zsh', '.nodenv/shims/node', '.goenv/shims/go', 'anaconda3/bin/conda', 'miniforge3/bin/conda', '.antidote/antidote.zsh', '.zplug/init.zsh', '.zim/init.zsh', '.local/share/nvim/lazy/rt/plugin/rt.lua', '.cursor-server/bin/abc/node'];

const ORIGINAL = 'original\n';

describe.each(backendCases('checks of what a writable home puts on the host PATH'))('a writable home or project puts no program on the host PATH ($label)', ({ runner, backend, backendEnv }) => {
  const fixture = useWritableHome(runner, backendEnv);
  let home: string;
  let env: Record<string, string>;
  beforeEach(() => {
    home = fixture.home();
    env = fixture.env();
  });

  const run = (cwd: string, script: string, extra: Record<string, string> = {}) => isolate(runner, ['run', '--backend', backend, '--', 'sh', '-c', script], { cwd, env: { ...env, ...extra } });

  it('~/bin can be neither made nor, where it exists, given a program', () => {
    const r = run(home, planter(['bin/git']));
    expect(r.status, r.stderr).toBe(0);
    expect(keyValues(r.stdout)['notes.txt']).toBe('written'); // control: the home is writable
    expect(keyValues(r.stdout)['bin/git']).toBe('refused');
    expect(existsSync(join(home, 'bin')), '~/bin on the host').toBe(false);

    mkdirSync(join(home, 'bin'));
    const tool = plant(runner, home, 'bin/tool', ORIGINAL, 0o755);
    const again = run(home, `${planter(['bin/git'])}\necho rt > bin/tool 2>/dev/null; true`);
    expect(again.status, again.stderr).toBe(0);
    expect(keyValues(again.stdout)['bin/git']).toBe('refused');
    expect(existsSync(join(home, 'bin/git')), '~/bin/git on the host').toBe(false);
    expect(readFileSync(tool, 'utf8')).toBe(ORIGINAL);
  });

  it("a directory on the caller's PATH inside the writable home or project gains or changes no program", () => {
    const dirs = ['.nvm/versions/node/v20.0.0/bin', 'go/bin', '.local/share/pnpm', 'project/bin'];
    for (const dir of dirs) plant(runner, home, `${dir}/tool`, ORIGINAL, 0o755);
    // After the system's directories, so that the launcher's `node` is still the system's; the order does not matter to the protection.
    const PATH = [DEFAULT_PATH, ...dirs.map((d) => join(home, d)), 'relative/bin', join(home, 'missing/bin')].join(':');
    const plants = dirs.flatMap((d) => [`${d}/git`, `${d}/tool`]);
    const fromHome = run(home, planter(plants), { PATH });
    expect(fromHome.status, fromHome.stderr).toBe(0);
    const kv = keyValues(fromHome.stdout);
    expect(kv['notes.txt']).toBe('written');
    for (const path of plants) expect(kv[path], path).toBe('refused');
    for (const dir of dirs) {
      expect(existsSync(join(home, dir, 'git')), `${dir}/git on the host`).toBe(false);
      expect(readFileSync(join(home, dir, 'tool'), 'utf8'), `${dir}/tool on the host`).toBe(ORIGINAL);
    }
    // A project of its own (direnv's `PATH_add bin`), the working directory.
    const project = join(home, 'project');
    const fromProject = run(project, planter(['bin/git', 'bin/tool', 'src/main.c']), { PATH });
    expect(fromProject.status, fromProject.stderr).toBe(0);
    expect(keyValues(fromProject.stdout)['src/main.c']).toBe('written'); // control: the project is writable
    expect(keyValues(fromProject.stdout)['bin/tool']).toBe('refused');
    expect(readFileSync(join(project, 'bin/tool'), 'utf8')).toBe(ORIGINAL);
    expect(existsSync(join(project, 'bin/git'))).toBe(false);
  });

  it("a directory on the caller's PATH that does not exist yet, in a directory that does, cannot be made and given a program", () => {
    // ~/go holds the module cache before the first `go install` makes ~/go/bin; direnv's `PATH_add bin` names bin/ before a build makes it.
    plant(runner, home, 'go/pkg/mod/cache.txt', ORIGINAL);
    plant(runner, home, 'project/node_modules/tsc/bin.js', ORIGINAL);
    const PATH = [DEFAULT_PATH, join(home, 'go/bin'), join(home, 'project/bin'), join(home, 'project/node_modules/.bin')].join(':');
    const r = run(home, planter(['go/bin/git', 'project/bin/git', 'project/node_modules/.bin/tsc', 'go/pkg/mod/other.txt']), { PATH });
    expect(r.status, r.stderr).toBe(0);
    const kv = keyValues(r.stdout);
    expect(kv['notes.txt']).toBe('written'); // control: the home is writable
    expect(kv['go/pkg/mod/other.txt']).toBe('written'); // and so is the rest of ~/go
    expect(kv['project/node_modules/.bin/tsc'], 'a node_modules/.bin stays writable').toBe('written');
    for (const dir of ['go/bin', 'project/bin']) {
      expect(kv[`${dir}/git`], dir).toBe('refused');
      expect(existsSync(join(home, dir)), `${dir} on the host`).toBe(false);
    }
  });

  it("a directory on the caller's PATH under several that do not exist yet cannot be made and given a program", () => {
    // ~/go/bin from Go's install notes before Go made ~/go, .NET's ~/.dotnet/tools before its first run, Fedora's ~/.local/bin in a home without ~/.local.
    const dirs = ['go/bin', '.dotnet/tools', '.deno/bin', 'project/vendor/tool/bin'];
    mkdirSync(join(home, 'project'));
    rmSync(join(home, '.local'), { recursive: true });
    giveTo(runner, home);
    const PATH = [DEFAULT_PATH, ...dirs.map((d) => join(home, d)), join(home, '.local/bin')].join(':');
    const r = run(home, planter([...dirs.map((d) => `${d}/git`), '.local/bin/git', 'project/main.c']), { PATH });
    expect(r.status, r.stderr).toBe(0);
    const kv = keyValues(r.stdout);
    expect(kv['project/main.c']).toBe('written'); // control: the home and project are writable
    for (const dir of [...dirs, '.local/bin']) {
      expect(kv[`${dir}/git`], dir).toBe('refused');
      expect(existsSync(join(home, dir)), `${dir} on the host`).toBe(false);
    }
  });

  it("a directory on the caller's PATH under a link that leads nowhere yet (one an earlier run left) is refused, not left for the command to make", () => {
    symlinkSync(join(home, 'elsewhere/gohome'), join(home, 'go'));
    const PATH = [DEFAULT_PATH, join(home, 'go/bin')].join(':');
    const r = run(home, 'mkdir -p elsewhere/gohome/bin && echo rt > go/bin/git; echo ran', { PATH });
    expect(r.status, r.stdout).toBe(125);
    expect(r.stdout).not.toContain('ran');
    expect(r.stderr).toMatch(/symbolic link/);
    expect(existsSync(join(home, 'elsewhere')), 'the link target on the host').toBe(false);
  });

  it("a directory on the caller's PATH inside one the sandbox cannot enter, but whose owner it runs as, gains no program", () => {
    const project = join(home, 'project');
    plant(runner, home, 'project/locked/bin/tool', ORIGINAL, 0o755);
    chmodSync(join(project, 'locked'), 0o000);
    try {
      const PATH = [DEFAULT_PATH, join(project, 'locked/bin')].join(':');
      const r = run(project, `chmod 755 locked 2>/dev/null; ${planter(['locked/bin/git'])}`, { PATH });
      // Refused, or run with the directory kept read-only: judged on the host below.
      expect([0, 125], r.stderr).toContain(r.status);
      if (r.status === 0) expect(keyValues(r.stdout)['locked/bin/git']).toBe('refused');
    } finally {
      chmodSync(join(project, 'locked'), 0o755);
    }
    expect(existsSync(join(project, 'locked/bin/git')), 'locked/bin/git on the host').toBe(false);
  });

  it('a run that locks a directory above a protected one (chmod 000) does not unprotect it for the next run', () => {
    const project = join(home, 'project');
    const tools = join(project, 'tools');
    plant(runner, home, 'project/tools/bin/tool', ORIGINAL, 0o755);
    const PATH = [DEFAULT_PATH, join(tools, 'bin')].join(':');
    try {
      const first = run(project, 'chmod 000 tools', { PATH });
      // An ordinary user's isolate, which can no longer look into it, stops the run and moves it aside whole (exit 125): nothing left to attack.
      if (existsSync(tools)) {
        const second = run(project, `chmod 755 tools 2>/dev/null; ${planter(['tools/bin/git'])}`, { PATH });
        expect(second.status, second.stderr).toBe(0);
        expect(keyValues(second.stdout)['tools/bin/git']).toBe('refused');
      } else expect(first.status, first.stderr).toBe(125);
    } finally {
      if (existsSync(tools)) chmodSync(tools, 0o755);
    }
    expect(existsSync(join(tools, 'bin/git')), 'tools/bin/git on the host').toBe(false);
  });

  it("a project's node_modules/.bin (npm run, npx) or activated virtual environment's bin on the PATH stays writable for the installs that fill it", () => {
    const project = join(home, 'project');
    plant(runner, home, 'project/node_modules/.bin/tsc', ORIGINAL, 0o755);
    plant(runner, home, 'project/.venv/pyvenv.cfg', 'home = /usr/bin\n', 0o644);
    plant(runner, home, 'project/.venv/bin/activate', ORIGINAL, 0o644);
    const PATH = [join(project, 'node_modules/.bin'), join(project, '.venv/bin'), DEFAULT_PATH].join(':');
    // As activate, `uv run`, `poetry run`, tox and direnv's `layout python` leave it: VIRTUAL_ENV names the environment.
    const result = run(project, planter(['node_modules/.bin/eslint', '.venv/bin/black']), { PATH, VIRTUAL_ENV: join(project, '.venv') });
    expect(result.status, result.stderr).toBe(0);
    for (const path of ['node_modules/.bin/eslint', '.venv/bin/black']) {
      expect(keyValues(result.stdout)[path], path).toBe('written');
      expect(readFileSync(join(project, path), 'utf8')).toBe('rt\n');
    }
  });

  it("a pyvenv.cfg a run leaves beside a project's bin/ that holds an activate of its own does not make it writable for the next run", () => {
    const project = join(home, 'project');
    plant(runner, home, 'project/bin/activate', ORIGINAL, 0o644);
    const PATH = [DEFAULT_PATH, join(project, 'bin')].join(':');
    const first = run(project, 'echo "home = /usr/bin" > pyvenv.cfg', { PATH });
    expect(first.status, first.stderr).toBe(0);
    const second = run(project, planter(['bin/git']), { PATH });
    expect(second.status, second.stderr).toBe(0);
    expect(keyValues(second.stdout)['bin/git']).toBe('refused');
    expect(existsSync(join(project, 'bin/git')), 'bin/git on the host').toBe(false);
  });

  it('the scripts and programs the shell start-up files source or run from the home stay as they were', () => {
    for (const path of SOURCED) plant(runner, home, path, ORIGINAL, 0o755);
    const r = run(home, planter([...SOURCED, ...MISSING]));
    expect(r.status, r.stderr).toBe(0);
    const kv = keyValues(r.stdout);
    expect(kv['notes.txt']).toBe('written');
    for (const path of SOURCED) {
      expect(kv[path], path).toBe('refused');
      expect(readFileSync(join(home, path), 'utf8'), `${path} on the host`).toBe(ORIGINAL);
    }
    for (const path of MISSING) {
      expect(kv[path], path).toBe('refused');
      expect(existsSync(join(home, path)), `${path} on the host`).toBe(false);
    }
  });

  it('an untidy PATH (missing, relative, dotted and duplicate entries, a file, a link) stops no run', () => {
    const project = join(home, 'project');
    mkdirSync(join(project, 'tools/bin'), { recursive: true });
    // A link outside the writable project to a directory in it: the directory it leads to is what the host runs from.
    symlinkSync(join(project, 'tools/bin'), join(home, 'linked-bin'));
    writeFileSync(join(home, 'a-file'), 'x');
    giveTo(runner, home);
    // An empty entry and "." name the working directory, which is writable: refused (the test below); "bin" is the project's bin/.
    const PATH = [DEFAULT_PATH, 'bin', '../nothing', join(home, 'a-file'), join(home, 'nothing/here'), join(home, 'linked-bin'), join(project, 'tools/bin/'), join(project, 'tools/./bin'), `/${join(project, 'tools//bin')}`, join(project, 'tools/bin'), DEFAULT_PATH].join(':');
    const r = run(project, planter(['tools/bin/git', 'bin/git', 'notes.txt']), { PATH });
    expect(r.status, r.stderr).toBe(0);
    expect(keyValues(r.stdout)['notes.txt']).toBe('written');
    expect(keyValues(r.stdout)['tools/bin/git']).toBe('refused');
    expect(keyValues(r.stdout)['bin/git']).toBe('refused');
    expect(existsSync(join(project, 'tools/bin/git'))).toBe(false);
    expect(existsSync(join(project, 'bin'))).toBe(false);
  });

  it('explain lists each such directory under protected, with why', () => {
    plant(runner, home, 'go/bin/tool', ORIGINAL, 0o755);
    const r = isolate(runner, ['explain', '--backend', backend, '--', 'true'], { cwd: home, env: { ...env, PATH: `${DEFAULT_PATH}:${join(home, 'go/bin')}` } });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain(`${join(home, 'go/bin')} (on your PATH: a program put there would run on the host at your next command)`);
    expect(r.stdout).toContain(`${join(home, 'bin')} (does not exist; blocked for the run; on your PATH at your next login`);
  });

  it('a writable path that is itself on the PATH, or a link in one to a PATH directory, is refused, saying why and what to do', () => {
    const project = join(home, 'project');
    mkdirSync(project);
    giveTo(runner, home);
    const r = run(project, 'echo rt > git; echo ran', { PATH: `${DEFAULT_PATH}:${project}` });
    expect(r.status, r.stdout).toBe(125);
    expect(r.stdout).not.toContain('ran');
    expect(r.stderr).toMatch(/on your PATH/);
    expect(existsSync(join(project, 'git'))).toBe(false);

    // "." or an empty entry (a trailing colon) names the directory you are in: the project, where the host would run its ./git.
    for (const PATH of [`${DEFAULT_PATH}:.`, `${DEFAULT_PATH}:`, `:${DEFAULT_PATH}`]) {
      const here = run(project, 'echo rt > git; echo ran', { PATH });
      expect(here.status, `${PATH}: ${here.stdout}`).toBe(125);
      expect(here.stderr).toMatch(/relative to the directory you are in/);
      expect(existsSync(join(project, 'git'))).toBe(false);
    }

    // A directory on the PATH reached through a link in the project: the command could point the link at its own.
    mkdirSync(join(project, 'tools/bin'), { recursive: true });
    symlinkSync('tools/bin', join(project, 'linked'));
    giveTo(runner, home);
    const linked = run(project, 'rm linked && mkdir linked && echo rt > linked/git; echo ran', { PATH: `${DEFAULT_PATH}:${join(project, 'linked')}` });
    expect(linked.status, linked.stdout).toBe(125);
    expect(linked.stdout).not.toContain('ran');
    expect(linked.stderr).toMatch(/symbolic link/);
    expect(existsSync(join(project, 'linked/git'))).toBe(false);

    // Or through a ".." after such a link: the kernel takes it from where the link leads, which the command could change.
    mkdirSync(join(project, 'tools/deep'), { recursive: true });
    rmSync(join(project, 'linked'));
    symlinkSync('tools/deep', join(project, 'linked'));
    giveTo(runner, home);
    const dotted = run(project, 'rm linked && mkdir -p elsewhere/bin && ln -s elsewhere/x linked && echo rt > elsewhere/bin/git; echo ran', { PATH: `${DEFAULT_PATH}:${project}/linked/../bin` });
    expect(dotted.status, dotted.stdout).toBe(125);
    expect(dotted.stderr).toMatch(/symbolic link or a "\.\."/);
    expect(existsSync(join(project, 'elsewhere'))).toBe(false);
  });
});
