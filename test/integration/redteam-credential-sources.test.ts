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
 * The CA file `network.upstreamCa` names, which the proxy trusts for a
 * credential's host, in the writable project (or named through a link
 * there): the command of one run put its own CA there, and the next run's
 * proxy trusted it, so a server the command chose could pass for the
 * credential's host and be handed the real value.
 *
 * Each was written as a failing finding first; they now guard the refusals
 * (run/credential-program.ts, run/credential-sources.ts) and the hiding
 * (profile/resolve.ts).
 */
import { chmodSync, copyFileSync, existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { backendCases } from '../helpers/backends.js';
import { makeCerts } from '../helpers/credential-site.js';
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
    // The planted program prints a token of its own: a command word holding the real value is refused before the command starts.
    const plant = `printf '#!/bin/sh\\ntouch ${marker}\\necho rt9-planted-token-value\\n' > bin/rt9-token && chmod 755 bin/rt9-token && echo planted`;
    // bin/ is on the PATH the run starts with, so the run cannot write there (docs/protected-files.md, programs on your PATH).
    const first = isolate(runner, ['run', '--backend', backend, '-p', 'cred', '--', 'sh', '-c', plant], { cwd: project, env });
    expect(first.stdout, first.stderr).not.toContain('planted');
    expect(existsSync(join(project, 'bin', 'rt9-token'))).toBe(false);
    // A run started with another PATH can: the next run with bin/ on PATH must still not run what it left there.
    const other = isolate(runner, ['run', '--backend', backend, '-p', 'cred', '--', 'sh', '-c', plant], { cwd: project, env: { ...env, PATH: `${join(dir, 'tools')}:${DEFAULT_PATH}` } });
    expect(other.stdout, other.stderr).toContain('planted');
    const second = isolate(runner, ['run', '--backend', backend, '-p', 'cred', '--', 'true'], { cwd: project, env });
    expect(existsSync(marker), `the next run ran the planted program on the host: ${second.stderr}`).toBe(false);
    expect(second.status).toBe(125);
    expect(second.stderr).toContain(`its program ${join(project, 'bin', 'rt9-token')} is inside a path the sandbox can write`);
  });

  it('a program an earlier run put on PATH in the project is not run on the host by a profile that makes the project read-only', () => {
    const marker = join(dir, 'ran-on-host');
    const profiles = join(dir, 'home', '.config', 'isolate', 'profiles');
    writeFileSync(join(profiles, 'cred-strict.yaml'), PROFILE.replace('extends: default', 'extends: strict'), { mode: 0o644 });
    giveTo(runner, dir);
    // An earlier run, with the default profile and a PATH without bin/, plants the program.
    const plant = `printf '#!/bin/sh\ntouch ${marker}\necho rt9-planted-token-value\n' > bin/rt9-token && chmod 755 bin/rt9-token && echo planted`;
    const other = isolate(runner, ['run', '--backend', backend, '--', 'sh', '-c', plant], { cwd: project, env: { ...env, PATH: `${join(dir, 'tools')}:${DEFAULT_PATH}` } });
    expect(other.stdout, other.stderr).toContain('planted');
    const next = isolate(runner, ['run', '--backend', backend, '-p', 'cred-strict', '--', 'true'], { cwd: project, env });
    expect(existsSync(marker), `the next run ran the planted program on the host: ${next.stderr}`).toBe(false);
    expect(next.status, next.stderr).toBe(125);
    expect(next.stderr).toContain(`its program ${join(project, 'bin', 'rt9-token')} is inside a path the sandbox can write`);
  });

  // strict: the profile makes the project read-only for its own run, which does not make it a file no earlier run wrote.
  it.each(['default', 'strict'])('a profile (extends: %s) the command writes in the project does not make the next run read a file or run a program on the host', (base) => {
    const marker = join(dir, 'ran-on-host');
    const written = [
      `extends: ${base}`,
      'network: {mode: filtered, allow: [example.com]}',
      'credentials:',
      `  - {name: RT_TOKEN, from: {command: [sh, -c, "touch ${marker}; echo rt9-chosen-by-the-command"]}, hosts: [example.com]}`,
      `  - {name: RT_OTHER, from: {file: ${join(dir, 'home', '.git-credentials')}}, hosts: [example.com]}`,
    ].join('\n');
    writeFileSync(join(dir, 'home', '.git-credentials'), 'https://dev:rt9-host-secret-value@github.com\n', { mode: 0o600 });
    giveTo(runner, dir);
    const plant = isolate(runner, ['run', '--backend', backend, '--', 'sh', '-c', `printf '%s\\n' '${written}' > ci.yaml && echo planted`], { cwd: project, env });
    expect(plant.stdout, plant.stderr).toContain('planted');
    const next = isolate(runner, ['run', '--backend', backend, '-p', './ci.yaml', '--', 'true'], { cwd: project, env });
    expect(existsSync(marker), `the next run ran the command's program on the host: ${next.stderr}`).toBe(false);
    expect(next.status, next.stderr).toBe(125);
    expect(next.stderr).toContain(`${join(project, 'ci.yaml')} is inside a path the sandbox can write`);
    expect(next.stderr).toContain('the command of an earlier run could have written it');
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

  /** A profile whose credential's host is verified against `ca` (a path as the profile writes it), with its own filesystem lines. */
  function caProfile(ca: string, filesystem = ''): void {
    const text = PROFILE.replace('{command: [rt9-token]}', '{env: RT_TOKEN}').replace('network: {mode: filtered}', `network: {mode: filtered, upstreamCa: ${ca}}${filesystem}`);
    writeFileSync(join(dir, 'home', '.config', 'isolate', 'profiles', 'ca.yaml'), text, { mode: 0o644 });
  }

  /** The test CA (ca.pem) and a second one the command would plant (evil/ca.pem), both real certificates. */
  function twoCas(): { ca: string; evil: string } {
    const certs = join(dir, 'certs');
    mkdirSync(join(certs, 'evil'), { recursive: true });
    makeCerts(certs);
    makeCerts(join(certs, 'evil'));
    return { ca: join(certs, 'ca.pem'), evil: join(certs, 'evil', 'ca.pem') };
  }

  it('the CA the proxy trusts for a credential\'s host is refused inside the project: the command could plant its own for the next run', () => {
    const { ca, evil } = twoCas();
    const inProject = join(project, 'upstream-ca.pem');
    copyFileSync(ca, inProject);
    copyFileSync(evil, join(project, 'evil.pem'));
    caProfile('~/project/upstream-ca.pem');
    giveTo(runner, dir);
    const cmd = ['sh', '-c', 'cp evil.pem upstream-ca.pem && echo planted'];
    const first = isolate(runner, ['run', '--backend', backend, '-p', 'ca', '--', ...cmd], { cwd: project, env: { ...env, RT_TOKEN: 'rt9-legit-token-value' } });
    expect(first.stdout, 'the command replaced the CA the next run\'s proxy trusts').not.toContain('planted');
    expect(readFileSync(inProject, 'utf8')).toBe(readFileSync(ca, 'utf8'));
    expect(first.status, first.stderr).toBe(125);
    expect(first.stderr).toContain(`network.upstreamCa: ${inProject} is inside a path the sandbox can write`);
  });

  it('the CA is refused inside the project also when the profile makes the project read-only: an earlier run could have planted it', () => {
    const { ca } = twoCas();
    const inProject = join(project, 'upstream-ca.pem');
    copyFileSync(ca, inProject);
    caProfile('~/project/upstream-ca.pem');
    const text = readFileSync(join(dir, 'home', '.config', 'isolate', 'profiles', 'ca.yaml'), 'utf8').replace('extends: default', 'extends: strict');
    writeFileSync(join(dir, 'home', '.config', 'isolate', 'profiles', 'ca.yaml'), text, { mode: 0o644 });
    giveTo(runner, dir);
    const r = isolate(runner, ['run', '--backend', backend, '-p', 'ca', '--', 'echo', 'ran'], { cwd: project, env: { ...env, RT_TOKEN: 'rt9-legit-token-value' } });
    expect(r.stdout).not.toContain('ran');
    expect(r.status, r.stderr).toBe(125);
    expect(r.stderr).toContain(`network.upstreamCa: ${inProject} is inside a path the sandbox can write`);
  });

  it('the CA named through a link in the project is refused: the command could point the link at its own', () => {
    const { ca } = twoCas();
    const link = join(project, 'upstream-ca.pem');
    symlinkSync(ca, link);
    caProfile('~/project/upstream-ca.pem');
    giveTo(runner, dir);
    const r = isolate(runner, ['run', '--backend', backend, '-p', 'ca', '--', 'sh', '-c', 'echo ran'], { cwd: project, env: { ...env, RT_TOKEN: 'rt9-legit-token-value' } });
    expect(r.stdout).not.toContain('ran');
    expect(r.status, r.stderr).toBe(125);
    expect(r.stderr).toContain('network.upstreamCa');
    expect(r.stderr).toContain(link);
  });

  it('the CA file is hidden from the command where a rule would show it, and the run goes on', () => {
    const { ca } = twoCas();
    caProfile(ca, `\nfilesystem: {read: [${join(dir, 'certs')}]}`);
    giveTo(runner, dir);
    const r = isolate(runner, ['run', '--backend', backend, '-p', 'ca', '--', 'sh', '-c', `cat ${ca} 2>/dev/null; ls ${join(dir, 'certs')}; echo done`], { cwd: project, env: { ...env, RT_TOKEN: 'rt9-legit-token-value' } });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain('done');
    expect(r.stdout).toContain('server.pem'); // the rule shows the directory
    expect(r.stdout, 'the command read the CA file').not.toContain('BEGIN CERTIFICATE');
  });
});
