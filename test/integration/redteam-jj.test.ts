/**
 * Red team: Jujutsu's repository files. jj runs what a repository's
 * configuration names (ui.pager at every `jj log` in a terminal, diff and
 * merge tools, git.executable-path). Before 0.38 it read
 * `.jj/repo/config.toml` and `.jj/workspace-config.toml`; since, a
 * repository without a `config-id` has such a file moved into the user's
 * configuration directory by the next jj command, which obeys it. Its git
 * store (`store/git_target` names it; `store/git` when not colocated) is a
 * repository whose `config` and `hooks` the git that `jj git fetch` starts
 * obeys. None of these was protected: a command could give the project's
 * repository a pager that the user's next `jj log` ran on the host.
 *
 * Judged on the host: what the files hold after the run (jj itself is
 * rarely installed; its reading of them is lib/src/secure_config.rs,
 * maybe_load_config, and lib/src/git_subprocess.rs).
 *
 * Each test was written as a failing finding first; it now guards the fix.
 */
import { existsSync, lstatSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { giveTo, isolate } from '../helpers/isolate.js';
import { backendCases } from '../helpers/backends.js';
import { plantSite } from '../helpers/plant-site.js';

const REPO_CONFIG = '.jj/repo/config.toml';
const WORKSPACE_CONFIG = '.jj/workspace-config.toml';
const STORE = '.jj/repo/store';

describe.each(backendCases('red team: Jujutsu'))('red team: Jujutsu repository files ($label)', ({ runner, backend, backendEnv }) => {
  const site = plantSite(runner, backendEnv);

  const run = (script: string) => isolate(runner, ['run', '--backend', backend, '--', 'sh', '-c', script], { cwd: site.project, env: site.env, timeoutMs: 30_000 });
  const pager = (): string => `printf '[ui]\\npager = ["sh", "-c", "touch ${site.marker}; cat"]\\n'`;
  /** What `rel` (in the project) holds, '' when it is not a file. */
  const held = (rel: string): string => {
    const at = join(site.project, rel);
    return existsSync(at) && lstatSync(at).isFile() ? readFileSync(at, 'utf8') : '';
  };
  /** A repository as `jj git init` (not colocated) leaves it, with `files` (relative to the project) added. */
  const jjRepo = (files: Record<string, string> = {}): void => {
    for (const dir of ['.jj/working_copy', '.jj/repo/op_store', '.jj/repo/op_heads', `${STORE}/git/objects`, `${STORE}/git/refs`]) mkdirSync(join(site.project, dir), { recursive: true });
    const base = { [`${STORE}/type`]: 'git', [`${STORE}/git_target`]: 'git', [`${STORE}/git/HEAD`]: 'ref: refs/heads/main\n', [`${STORE}/git/config`]: '[core]\n\tbare = true\n' };
    for (const [rel, text] of Object.entries({ ...base, ...files })) writeFileSync(join(site.project, rel), text);
    giveTo(runner, site.dir);
  };

  it('an existing repository configuration cannot be rewritten, nor .jj/repo moved away and replaced', () => {
    jjRepo({ [REPO_CONFIG]: '[user]\nname = "kept"\n', [WORKSPACE_CONFIG]: '' });
    const r = run(`${pager()} > ${REPO_CONFIG}; ${pager()} > ${WORKSPACE_CONFIG}; mv .jj/repo .jj/repo.old && mkdir .jj/repo && ${pager()} > ${REPO_CONFIG}; echo done`);
    expect(r.status, r.stderr).toBe(0);
    expect(held(REPO_CONFIG)).toBe('[user]\nname = "kept"\n');
    expect(held(WORKSPACE_CONFIG)).not.toContain('pager');
  });

  it('one made in a repository that has none (jj 0.38 and later move it out and obey it) is moved aside', () => {
    jjRepo();
    const r = run(`${pager()} > ${REPO_CONFIG}; ${pager()} > ${WORKSPACE_CONFIG}; echo done`);
    expect(r.status, r.stderr).toBe(0);
    expect(held(REPO_CONFIG)).not.toContain('pager');
    expect(held(WORKSPACE_CONFIG)).not.toContain('pager');
    expect(r.stderr, 'the files moved aside are named').toContain(REPO_CONFIG);
  });

  it("the git store's config, hooks and git_target cannot be changed", () => {
    jjRepo();
    const hook = `#!/bin/sh\ntouch ${site.marker}\n`;
    const r = run(
      [
        `printf '[core]\\n\\tsshCommand = touch ${site.marker}\\n' >> ${STORE}/git/config`,
        `mkdir -p ${STORE}/git/hooks && printf '${hook.replace(/\n/g, '\\n')}' > ${STORE}/git/hooks/reference-transaction && chmod +x ${STORE}/git/hooks/reference-transaction`,
        `printf '../../../evil.git' > ${STORE}/git_target`,
        'echo done',
      ].join('; '),
    );
    expect(r.status, r.stderr).toBe(0);
    expect(held(`${STORE}/git/config`)).not.toContain('sshCommand');
    expect(held(`${STORE}/git/hooks/reference-transaction`)).toBe('');
    expect(held(`${STORE}/git_target`)).toBe('git');
  });

  it("a second workspace's .jj/repo, which names the repository, cannot be pointed at one the command made", () => {
    const main = join(site.dir, 'main-repo');
    mkdirSync(join(site.project, '.jj/working_copy'), { recursive: true });
    mkdirSync(main);
    writeFileSync(join(site.project, '.jj/repo'), main);
    giveTo(runner, site.dir);
    const r = run(`mkdir -p x && ${pager()} > x/config.toml && printf '%s' "$PWD/x" > .jj/repo; mkdir -p pkg/.jj && printf '%s' "$PWD/x" > pkg/.jj/repo; echo done`);
    expect(r.status, r.stderr).toBe(0);
    expect(held('.jj/repo')).toBe(main);
    expect(held('pkg/.jj/repo'), 'one made in a new workspace is moved aside').toBe('');
  });

  it("only .jj/repo is taken for a pointer: a kernel tree's .config file is neither kept read-only nor moved aside", () => {
    writeFileSync(join(site.project, '.config'), 'CONFIG_X=y\n');
    mkdirSync(join(site.project, 'sub'));
    giveTo(runner, site.dir);
    const r = run(`printf 'CONFIG_X=n\\n' > .config; printf 'CONFIG_Y=y\\n' > sub/.config; echo done`);
    expect(r.status, r.stderr).toBe(0);
    expect(held('.config')).toBe('CONFIG_X=n\n');
    expect(held('sub/.config')).toBe('CONFIG_Y=y\n');
  });

  it('a link at the old name (jj 0.38 and later leave one where they moved the file) is refused: a link cannot be kept read-only', () => {
    const moved = join(site.dir, 'moved-config.toml');
    writeFileSync(moved, '[user]\nname = "kept"\n');
    jjRepo({ '.jj/repo/config-id': '0123456789abcdef0123' });
    symlinkSync(moved, join(site.project, REPO_CONFIG));
    giveTo(runner, site.dir);
    const r = run(`${pager()} > ${REPO_CONFIG}; echo done`);
    expect(r.status, 'a run that could write through the link').toBe(125);
    expect(r.stderr).toContain(REPO_CONFIG);
    expect(readFileSync(moved, 'utf8')).toBe('[user]\nname = "kept"\n');
  });
});
