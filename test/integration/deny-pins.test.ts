/**
 * A deny rule inside a writable project names a path: the command must not be
 * able to move the hidden file out from under it by renaming or removing the
 * directories above it, and read it at its new name in a later run. Judged on
 * the host (the files are where they were) and by a second run that looks for
 * the secrets everywhere in the project.
 */
import { existsSync, linkSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { giveTo, isolate, keyValues, plant, projectSite } from '../helpers/isolate.js';
import { backendCases } from '../helpers/backends.js';

/** The hidden files, relative to the project, and their contents. */
const SECRETS: Readonly<Record<string, string>> = {
  'config/secret.txt': 'CONFIG-SECRET-1f3a',
  'deep/a/b/secret.txt': 'DEEP-SECRET-77c2',
  'lib/vault/key.txt': 'VAULT-SECRET-a9d0',
};

const PROFILE = ['extends: default', 'filesystem:', '  deny:', '    - "${CWD}/config/secret.txt"', '    - "${CWD}/deep/a/b/secret.txt"', '    - "${CWD}/lib/vault"', ''].join('\n');

/** Each attempt in a subshell; `<name>=done` when it succeeded, `<name>=refused` otherwise. */
const ATTACKS: Readonly<Record<string, string>> = {
  mvParent: 'mv config config2',
  mvDotDot: 'mv config/../config config3',
  mvFromInside: 'cd config && mv ../config ../config4',
  rmParent: 'rm -rf config',
  mvTwoUp: 'mv deep deep2',
  mvOneUp: 'mv deep/a deep/a2',
  mvParentDeep: 'mv deep/a/b deep/a/b2',
  rmDeep: 'rm -rf deep',
  mvAboveDir: 'mv lib lib2',
  mvDir: 'mv lib/vault lib/vault2',
  rmAboveDir: 'rm -rf lib',
  swapParent: 'mkdir -p fresh && mv -T fresh config',
  controlRename: 'mv other other2',
};

const script = (ops: Readonly<Record<string, string>>): string =>
  Object.entries(ops)
    .map(([name, cmd]) => `if (${cmd}) 2>/dev/null; then echo "${name}=done"; else echo "${name}=refused"; fi`)
    .join('\n');

/** A second run: every file of the project, at whatever name it has now. */
const READ_ALL = 'find . -type f -exec cat {} + 2>/dev/null; cat config*/secret.txt deep*/a*/b*/secret.txt lib*/vault*/key.txt 2>/dev/null; true';

describe.each(backendCases('deny rules inside a writable path'))('a deny rule inside the project after renames above it ($label)', ({ runner, backend, backendEnv }) => {
  let site: ReturnType<typeof projectSite>;
  let profile: string;
  beforeEach(() => {
    site = projectSite(runner, 'isolate-it-denypin-', backendEnv);
    for (const [rel, secret] of Object.entries(SECRETS)) plant(runner, site.project, rel, `${secret}\n`);
    plant(runner, site.project, 'config/settings.txt', 'plain\n');
    plant(runner, site.project, 'other/readme.txt', 'other\n');
    profile = join(site.dir, 'denypin.yaml');
    writeFileSync(profile, PROFILE);
    giveTo(runner, site.dir);
  });
  afterEach(() => site.cleanup());

  it('keeps every hidden path where it was, and a later run still cannot read it anywhere', () => {
    const run = (cmd: string): ReturnType<typeof isolate> => isolate(runner, ['run', '--backend', backend, '-p', profile, '--', 'sh', '-c', cmd], { cwd: site.project, env: site.env });
    const first = run(script(ATTACKS));
    expect(first.status, first.stderr).toBe(0);
    const kv = keyValues(first.stdout);
    expect(kv['controlRename'], first.stdout).toBe('done'); // control: other directories of the project can be renamed
    for (const name of Object.keys(ATTACKS).filter((n) => n !== 'controlRename')) expect(kv[name], `${name}: ${first.stdout}`).toBe('refused');

    for (const [rel, secret] of Object.entries(SECRETS)) expect(readFileSync(join(site.project, rel), 'utf8'), rel).toBe(`${secret}\n`);
    expect(existsSync(join(site.project, 'other2/readme.txt'))).toBe(true);
    for (const gone of ['config2', 'config3', 'config4', 'deep2', 'deep/a2', 'deep/a/b2', 'lib2', 'lib/vault2']) expect(existsSync(join(site.project, gone)), gone).toBe(false);

    const second = run(READ_ALL);
    expect(second.status, second.stderr).toBe(0);
    expect(second.stdout).toContain('other'); // control: the second run reads the project
    for (const secret of Object.values(SECRETS)) expect(second.stdout + second.stderr).not.toContain(secret);
  });
});

/**
 * A hard link made before the run (by an earlier run, before the secret was written into the file, or by a tool) is the
 * hidden file under another name: the rule names a path, so the run is refused rather than show the file there.
 */
describe.each(backendCases('hidden files with other names'))('a hidden file with another name (a hard link) in the project ($label)', ({ runner, backend, backendEnv }) => {
  let site: ReturnType<typeof projectSite>;
  beforeEach(() => {
    site = projectSite(runner, 'isolate-it-denylink-', backendEnv);
    plant(runner, site.project, 'config/secret.txt', 'LINKED-SECRET-5e1b\n');
    linkSync(join(site.project, 'config/secret.txt'), join(site.project, 'notes.txt'));
    writeFileSync(join(site.dir, 'denylink.yaml'), ['extends: default', 'filesystem:', '  deny:', '    - "${CWD}/config/secret.txt"', ''].join('\n'));
    giveTo(runner, site.dir);
  });
  afterEach(() => site.cleanup());

  it('is refused (exit 125) before the command runs, naming the file, and the command never sees it', () => {
    const r = isolate(runner, ['run', '--backend', backend, '-p', join(site.dir, 'denylink.yaml'), '--', 'sh', '-c', 'cat notes.txt; echo ran'], { cwd: site.project, env: site.env });
    expect(r.status, r.stderr).toBe(125);
    expect(r.stderr).toContain(`${join(site.project, 'config/secret.txt')} has 1 other name`);
    expect(r.stdout + r.stderr).not.toContain('LINKED-SECRET');
    expect(r.stdout).not.toContain('ran');
  });
});
