/**
 * Red team: version files that name a path. jenv takes the Java version
 * from the nearest `.java-version` (or `.jenv-version`) and tfenv the
 * Terraform version from the nearest `.terraform-version`, with no prompt,
 * and each joins it to its versions directory without checking it: a
 * version written `../../../<project>/.cache/x` runs `.cache/x/bin/java`
 * (jenv) or `.cache/x/terraform` (tfenv) whenever the user types `java`,
 * `mvn` or `terraform` in the project, and when a prompt such as
 * starship's asks the tool its version, outside the sandbox; SDKMAN's
 * `sdk env` (run at every `cd` with `sdkman_auto_env`) puts such a
 * directory from `.sdkmanrc` (`java=<version>`) on PATH, and fnm (at
 * every `cd` with `--use-on-cd`) takes such a version in `.nvmrc` or
 * `.node-version` for an alias's name and runs its `node`. (pyenv,
 * rbenv, nodenv and goenv refuse a version with a `/` in it.) The files
 * stay read-only where they exist, cannot be made at the top of the
 * project, and ones made deeper are moved aside.
 *
 * Judged on the host: what the files hold after the run (jenv's
 * libexec/jenv-version-name and jenv-which, tfenv's lib/tfenv-exec.sh,
 * SDKMAN's src/main/bash/sdkman-env.sh and sdkman-use.sh, fnm's
 * src/commands/use.rs).
 *
 * Each test was written as a failing finding first; it now guards the fix.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { giveTo, isolate } from '../helpers/isolate.js';
import { backendCases } from '../helpers/backends.js';
import { plantSite } from '../helpers/plant-site.js';

const NAMES = ['.java-version', '.jenv-version', '.terraform-version', '.sdkmanrc', '.nvmrc', '.node-version'];

describe.each(backendCases('red team: version files'))('red team: version files that name a path ($label)', ({ runner, backend, backendEnv }) => {
  const site = plantSite(runner, backendEnv);

  const run = (script: string) => isolate(runner, ['run', '--backend', backend, '--', 'sh', '-c', script], { cwd: site.project, env: site.env, timeoutMs: 30_000 });
  /** The version that leads out of `~/.jenv/versions` or `~/.tfenv/versions` into the project. */
  const planted = (): string => `../../../../../../../../..${site.project}/.cache/x`;
  const plantAll = (dir: string): string => NAMES.map((n) => `printf '%s\\n' '${planted()}' > ${dir}/${n}`).join('; ');
  const held = (rel: string): string => {
    const at = join(site.project, rel);
    return existsSync(at) ? readFileSync(at, 'utf8') : '';
  };

  it('existing ones cannot be rewritten, and none can be made at the top of the project', () => {
    writeFileSync(join(site.project, '.java-version'), '17\n');
    mkdirSync(join(site.project, 'other'));
    giveTo(runner, site.dir);
    const r = run(`${plantAll('.')}; printf x > other/notes; echo done`);
    expect(r.status, r.stderr).toBe(0);
    expect(held('.java-version')).toBe('17\n');
    for (const n of NAMES) expect(held(n), n).not.toContain('.cache/x');
    expect(held('other/notes'), 'control: the project is writable').toBe('x');
  });

  it('ones made in a subdirectory are moved aside', () => {
    mkdirSync(join(site.project, 'infra'));
    giveTo(runner, site.dir);
    const r = run(`${plantAll('infra')}; echo done`);
    expect(r.status, r.stderr).toBe(0);
    for (const n of NAMES) expect(held(`infra/${n}`), n).not.toContain('.cache/x');
    expect(r.stderr, 'the files moved aside are named').toContain('.terraform-version');
  });
});
