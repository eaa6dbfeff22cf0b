/**
 * Red team: a rule of the profile that names its path through a symbolic
 * link the command can replace. Paths are resolved to real paths before each
 * run, so a link inside a writable path (`.env -> .env.local`, `config ->
 * deploy/config`) is read again by the next run: the command of one run
 * points it elsewhere, and the next run hides, shows or opens whatever the
 * link names then, not the file the user's rule named. A rule for
 * `${CWD}/.env` must never leave `.env.local` readable.
 *
 * Written as a failing finding first; it now guards the refusal
 * (profile/rule-links.ts).
 */
import { existsSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { backendCases } from '../helpers/backends.js';
import { giveTo, isolate, projectSite } from '../helpers/isolate.js';

const SECRET = 'RT9-LINKED-SECRET';

describe.each(backendCases('red team: rules named through links'))('red team: rules named through symbolic links ($label)', ({ runner, backend, backendEnv }) => {
  let dir: string;
  let project: string;
  let env: Record<string, string>;
  let cleanup: () => void;
  beforeEach(() => {
    ({ dir, project, env, cleanup } = projectSite(runner, 'isolate-it-rtl-', backendEnv));
  });
  afterEach(() => cleanup());

  const run = (args: readonly string[], script: string) =>
    isolate(runner, ['run', '--backend', backend, ...args, '--', 'sh', '-c', script], { cwd: project, env });

  /** A run that repoints the link, then one more, both under `deny`: neither may print the secret that `read` prints. */
  const repointThenRead = (deny: readonly string[], repoint: string, read: string) => {
    const first = run(deny, `${repoint}; ${read}`);
    expect(first.stdout, 'the first run read the hidden file').not.toContain(SECRET);
    const second = run(deny, read);
    expect(second.stdout, `the next run read the file the rule hid: ${second.stderr}`).not.toContain(SECRET);
    return first;
  };

  it('a hidden file named through a link in the writable project stays hidden in the next run after the command repoints the link', () => {
    writeFileSync(join(project, '.env.local'), `${SECRET}\n`);
    symlinkSync('.env.local', join(project, '.env'));
    giveTo(runner, dir);
    const first = repointThenRead(['--deny', '${CWD}/.env'], 'rm -f .env && ln -s /nonexistent .env', 'cat .env.local');
    // Refused, naming the link and the way out; the path without the link hides the file whatever .env points at.
    expect(first.status, first.stderr).toBe(125);
    expect(first.stderr).toContain(`through the symbolic link ${join(project, '.env')}`);
    const real = run(['--deny', '${CWD}/.env.local'], 'cat .env.local; echo done');
    expect(real.stdout, real.stderr).toContain('done');
    expect(real.stdout).not.toContain(SECRET);
  });

  it('a hidden file under a linked directory in the writable project stays hidden in the next run', () => {
    mkdirSync(join(project, 'deploy', 'config'), { recursive: true });
    writeFileSync(join(project, 'deploy', 'config', 'secrets.yml'), `${SECRET}\n`);
    symlinkSync('deploy/config', join(project, 'config'));
    giveTo(runner, dir);
    repointThenRead(['--deny', '${CWD}/config/secrets.yml'], 'rm -f config && mkdir config', 'cat deploy/config/secrets.yml');
  });

  it('a writable path named through a link in the writable project is not pointed outside it for the next run', () => {
    const outside = join(dir, 'outside');
    mkdirSync(outside);
    mkdirSync(join(project, 'out-real'));
    symlinkSync('out-real', join(project, 'out'));
    giveTo(runner, dir);
    const write = ['--allow-write', '${CWD}/out'];
    run(write, `rm -f out && ln -s ${outside} out`);
    const second = run(write, `echo planted > ${outside}/planted`);
    expect(existsSync(join(outside, 'planted')), `the next run wrote outside the paths the profile names: ${second.stderr}`).toBe(false);
  });
});
