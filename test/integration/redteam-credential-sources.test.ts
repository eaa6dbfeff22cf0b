/**
 * Red team: where a credential's value comes from, on the host.
 *
 * A `from: command` runs on the host, outside any sandbox, before every
 * run, and its program was looked up on the caller's PATH when it ran. A
 * directory of the writable project on PATH before the real program
 * (direnv's `PATH_add bin`, `node_modules/.bin`) let the command of one run
 * put a program of that name there, which the next run executed on the host
 * as the user.
 *
 * A `from: file` in a path the sandbox can read (the project, a home that
 * `dev` reads) was there for the command to read: the real value beside
 * its placeholder.
 *
 * Each was written as a failing finding first; they now guard the refusal
 * (run/credential-program.ts) and the hiding (profile/resolve.ts).
 */
import { chmodSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { backendCases } from '../helpers/backends.js';
import { DEFAULT_PATH, giveTo, isolate, tempDirFor } from '../helpers/isolate.js';

const PROFILE = `extends: default
network: {mode: filtered}
credentials:
  - {name: RT_TOKEN, from: {command: [rt9-token]}, hosts: [example.com]}
`;

describe.each(backendCases('red team: where a credential comes from'))('red team: where a credential comes from ($label)', ({ runner, backend, backendEnv }) => {
  let dir: string;
  let project: string;
  let env: Record<string, string>;
  let cleanup: () => void;
  beforeEach(() => {
    ({ dir, cleanup } = tempDirFor(runner, 'isolate-it-rtc-'));
    const home = join(dir, 'home');
    project = join(home, 'project');
    mkdirSync(join(project, 'bin'), { recursive: true });
    mkdirSync(join(home, '.config', 'isolate', 'profiles'), { recursive: true });
    writeFileSync(join(home, '.config', 'isolate', 'profiles', 'cred.yaml'), PROFILE, { mode: 0o644 });
    mkdirSync(join(dir, 'tools'));
    writeFileSync(join(dir, 'tools', 'rt9-token'), '#!/bin/sh\necho rt9-legit-token-value\n');
    chmodSync(join(dir, 'tools', 'rt9-token'), 0o755);
    giveTo(runner, dir);
    env = { ...backendEnv, HOME: home, PATH: `${join(project, 'bin')}:${join(dir, 'tools')}:${DEFAULT_PATH}` };
  });
  afterEach(() => cleanup());

  it('a program the command puts on PATH in the project is not run on the host by the next run', () => {
    const marker = join(dir, 'ran-on-host');
    const plant = `printf '#!/bin/sh\\ntouch ${marker}\\necho rt9-legit-token-value\\n' > bin/rt9-token && chmod 755 bin/rt9-token && echo planted`;
    const first = isolate(runner, ['run', '--backend', backend, '-p', 'cred', '--', 'sh', '-c', plant], { cwd: project, env });
    expect(first.stdout, first.stderr).toContain('planted');
    const second = isolate(runner, ['run', '--backend', backend, '-p', 'cred', '--', 'true'], { cwd: project, env });
    expect(existsSync(marker), `the next run ran the planted program on the host: ${second.stderr}`).toBe(false);
    expect(second.status).toBe(125);
    expect(second.stderr).toContain(`its program ${join(project, 'bin', 'rt9-token')} is inside a path the sandbox can write`);
  });

  it('the file a credential is read from is hidden from the command, in the project or elsewhere it can read', () => {
    const value = 'ghp_rt9RealValueNeverInTheSandbox0123456';
    writeFileSync(join(project, '.token'), `${value}\n`);
    writeFileSync(join(dir, 'home', '.config', 'isolate', 'profiles', 'credf.yaml'), PROFILE.replace('{command: [rt9-token]}', '{file: ~/project/.token}'), { mode: 0o644 });
    giveTo(runner, dir);
    const r = isolate(runner, ['run', '--backend', backend, '-p', 'credf', '--', 'sh', '-c', 'echo "env=$RT_TOKEN"; cat .token; grep -r rt9RealValue . 2>/dev/null; echo done'], { cwd: project, env });
    expect(r.stdout, r.stderr).toContain('done');
    expect(r.stdout).toMatch(/env=ghp_\w+/);
    expect(r.stdout, 'the command read the real value from the credential\'s file').not.toContain(value);
  });
});
