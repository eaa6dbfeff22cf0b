/**
 * A directory whose name is not UTF-8 cannot be named in a mount, so the
 * protected-name search cannot keep what is inside it read-only. A command
 * could make one (`mkdir "$(printf 'a\377')"`), put a repository or an
 * `.envrc` in it, and have a later run rewrite them. Such a directory in a
 * writable path refuses the run (exit 125) before the command starts, naming
 * it and how to fix it; judged on the host: the hook is not written, the
 * repository's files are where they were.
 */
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { giveTo, isolate, projectSite } from '../helpers/isolate.js';
import { backendCases } from '../helpers/backends.js';

/** `a\xffb`: not UTF-8. As bytes, for the host side, and as the shell writes it inside the sandbox. */
const ODD = Buffer.from([0x61, 0xff, 0x62]);
const ODD_IN_SHELL = '"$(printf \'a\\377b\')"';
const ATTACK = `cd ${'"$1"'} && d=${ODD_IN_SHELL} && printf 'echo PWNED\\n' > "$d/.git/hooks/pre-commit" && chmod +x "$d/.git/hooks/pre-commit"; printf 'export PWNED=1\\n' > "$d/.envrc"; echo ran`;

/** A repository (its config and hooks directory) inside the odd directory at `at` in the project. */
function plantRepository(project: string, at: string): Buffer {
  const dir = Buffer.concat([Buffer.from(`${join(project, at)}/`), ODD]);
  mkdirSync(Buffer.concat([dir, Buffer.from('/.git/hooks')]), { recursive: true });
  writeFileSync(Buffer.concat([dir, Buffer.from('/.git/config')]), '[core]\n\tbare = false\n');
  return dir;
}

const inOdd = (dir: Buffer, rel: string): Buffer => Buffer.concat([dir, Buffer.from(`/${rel}`)]);

describe.each(backendCases('directories whose names are not UTF-8'))('a directory whose name is not UTF-8 in the project ($label)', ({ runner, backend, backendEnv }) => {
  let site: ReturnType<typeof projectSite>;
  beforeEach(() => {
    site = projectSite(runner, 'isolate-it-bytes-', backendEnv);
  });
  afterEach(() => site.cleanup());

  for (const at of ['.', 'sub/deeper']) {
    it(`at ${at}: the run is refused (125) naming the directory, and the repository inside is untouched`, () => {
      const odd = plantRepository(site.project, at);
      giveTo(runner, site.dir);
      const r = isolate(runner, ['run', '--backend', backend, '--', 'sh', '-c', ATTACK, 'sh', at], { cwd: site.project, env: site.env });
      expect(r.status, r.stderr).toBe(125);
      expect(r.stdout).not.toContain('ran');
      expect(r.stderr).toContain('not UTF-8');
      expect(r.stderr).toContain(`${join(site.project, at)}/a\\xffb`);
      expect(existsSync(inOdd(odd, '.git/hooks/pre-commit'))).toBe(false);
      expect(existsSync(inOdd(odd, '.envrc'))).toBe(false);
      expect(readFileSync(inOdd(odd, '.git/config'), 'utf8')).toBe('[core]\n\tbare = false\n');
      expect(readdirSync(inOdd(odd, '.git'))).toEqual(['config', 'hooks']); // nothing moved aside
    });
  }

  it('control: the same tree with a UTF-8 name runs, and the hook still cannot be written', () => {
    mkdirSync(join(site.project, 'plain/.git/hooks'), { recursive: true });
    writeFileSync(join(site.project, 'plain/.git/config'), '[core]\n');
    giveTo(runner, site.dir);
    const r = isolate(runner, ['run', '--backend', backend, '--', 'sh', '-c', 'printf x > plain/.git/hooks/pre-commit; echo ran'], { cwd: site.project, env: site.env });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain('ran');
    expect(existsSync(join(site.project, 'plain/.git/hooks/pre-commit'))).toBe(false);
  });

  it('a directory the command itself names oddly refuses the next run, not this one', () => {
    giveTo(runner, site.dir);
    const first = isolate(runner, ['run', '--backend', backend, '--', 'sh', '-c', `mkdir ${ODD_IN_SHELL} && echo made`], { cwd: site.project, env: site.env });
    expect(first.status, first.stderr).toBe(0);
    expect(first.stdout).toContain('made');
    const second = isolate(runner, ['run', '--backend', backend, '--', 'sh', '-c', 'echo ran'], { cwd: site.project, env: site.env });
    expect(second.status, second.stderr).toBe(125);
    expect(second.stdout).not.toContain('ran');
  });
});
