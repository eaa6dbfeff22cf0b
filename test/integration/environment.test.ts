/**
 * The child's environment: only the allowlist passes, secret-looking names
 * never pass through a wildcard, and nothing of the caller's environment is
 * readable anywhere inside (not even from the sandbox's pid 1).
 */
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { asRunner, homeWithProject, isolate, keyValues, plant, runners, type Project } from '../helpers/isolate.js';

const secret = (label: string): string => `${label}_${randomBytes(10).toString('hex')}`;

describe.each(runners())('environment ($label)', (runner) => {
  let p: Project;
  let caller: Record<string, string>;
  let secrets: Record<string, string>;

  beforeAll(() => {
    p = homeWithProject(runner);
    secrets = {
      GITHUB_TOKEN: secret('ghp'),
      AWS_SECRET_ACCESS_KEY: secret('aws'),
      MY_API_KEY: secret('apikey'),
      DB_PASSWORD: secret('dbpw'),
      LC_SECRET_TOKEN: secret('lcsecret'), // matches LC_* but looks like a secret
      FOO: secret('foo'), // not a secret, but not on the allowlist either
    };
    caller = {
      ...p.env,
      LANG: 'C.UTF-8',
      LC_ALL: 'C.UTF-8',
      LC_TIME: 'C',
      TERM: 'xterm-256color',
      TZ: 'UTC',
      USER: 'someone',
      LOGNAME: 'someone',
      NO_COLOR: '1',
      PWD: '/caller/pwd/not/passed',
      SHELL: '/bin/caller-shell',
      ...secrets,
    };
  });
  afterAll(() => p.cleanup());

  const allowed = (): Record<string, string> => ({
    PATH: caller['PATH'] as string,
    HOME: p.home,
    LANG: 'C.UTF-8',
    LC_ALL: 'C.UTF-8',
    LC_TIME: 'C',
    TERM: 'xterm-256color',
    TZ: 'UTC',
    USER: 'someone',
    LOGNAME: 'someone',
    NO_COLOR: '1',
    // bwrap sets PWD to the directory it changed into (--chdir); the caller's PWD is not passed.
    PWD: p.project,
  });

  it('the caller has all these variables (control)', () => {
    const r = asRunner(runner, ['env'], { cwd: p.project, env: caller });
    expect(r.status).toBe(0);
    for (const value of Object.values(secrets)) expect(r.stdout).toContain(value);
  });

  it('passes exactly the allowlist', () => {
    const r = isolate(runner, ['run', '--', 'env'], { cwd: p.project, env: caller });
    expect(r.status, r.stderr).toBe(0);
    expect(keyValues(r.stdout)).toEqual(allowed());
    for (const value of Object.values(secrets)) {
      expect(r.stdout).not.toContain(value);
      expect(r.stderr).not.toContain(value);
    }
  });

  it('leaves no caller value readable in any /proc/*/environ inside (bwrap starts with an empty environment)', () => {
    const script = [
      'echo "pid1=$(tr "\\0" "\\n" < /proc/1/environ | wc -l)"',
      'cat /proc/1/environ > /dev/null && echo "pid1read=ok"',
      'for e in /proc/[0-9]*/environ; do tr "\\0" "\\n" < "$e"; done',
      'echo "self=$(cat /proc/self/environ | tr "\\0" " ")"',
    ].join('\n');
    const r = isolate(runner, ['run', '--', 'sh', '-c', script], { cwd: p.project, env: caller });
    expect(r.status, r.stderr).toBe(0);
    const kv = keyValues(r.stdout);
    expect(kv['pid1read']).toBe('ok'); // the read itself worked ...
    expect(kv['pid1']).toBe('0'); // ... and pid 1 (bwrap) has an empty environment
    expect(kv['self']).toContain('LANG=C.UTF-8'); // control: environ files are readable and parsed
    for (const value of Object.values(secrets)) expect(r.stdout).not.toContain(value);
  });

  it('--env NAME passes that one variable exactly', () => {
    const r = isolate(runner, ['run', '--env', 'GITHUB_TOKEN', '--env', 'LC_SECRET_TOKEN', '--', 'env'], { cwd: p.project, env: caller });
    expect(r.status, r.stderr).toBe(0);
    expect(keyValues(r.stdout)).toEqual({ ...allowed(), GITHUB_TOKEN: secrets['GITHUB_TOKEN'], LC_SECRET_TOKEN: secrets['LC_SECRET_TOKEN'] });
    for (const name of ['AWS_SECRET_ACCESS_KEY', 'MY_API_KEY', 'DB_PASSWORD', 'FOO']) expect(r.stdout).not.toContain(secrets[name]);
  });

  it('--env NAME=VALUE sets a variable, also one the caller has', () => {
    const r = isolate(runner, ['run', '--env', 'X=1', '--env', 'FOO=from-flag', '--env', 'EMPTY=', '--env', 'SPACED=a b=c', '--', 'env'], {
      cwd: p.project,
      env: caller,
    });
    expect(r.status, r.stderr).toBe(0);
    expect(keyValues(r.stdout)).toEqual({ ...allowed(), X: '1', FOO: 'from-flag', EMPTY: '', SPACED: 'a b=c' });
    expect(r.stdout).not.toContain(secrets['FOO']);
  });

  it('--env NAME for a variable the caller does not have sets nothing', () => {
    const r = isolate(runner, ['run', '--env', 'NOT_IN_CALLER_ENV', '--', 'env'], { cwd: p.project, env: caller });
    expect(r.status, r.stderr).toBe(0);
    expect(keyValues(r.stdout)).toEqual(allowed());
  });

  it('rejects an invalid variable name with 125 and runs nothing', () => {
    for (const bad of ['bad name', '1X=2', '=value', 'A-B']) {
      const r = isolate(runner, ['run', '--env', bad, '--', 'touch', 'ran.txt'], { cwd: p.project, env: caller });
      expect(r.status, bad).toBe(125);
      expect(r.stderr).toMatch(/--env/);
      expect(r.stderr).toContain('not a valid variable name');
      expect(existsSync(join(p.project, 'ran.txt')), bad).toBe(false);
    }
  });

  it('a NUL byte in a value cannot add bwrap arguments (it would mount a hidden directory): refused with 125, nothing runs', () => {
    const secretText = secret('outside');
    const outside = join(p.home, 'outside');
    plant(runner, p.home, 'outside/secret.txt', secretText);
    expect(asRunner(runner, ['cat', join(outside, 'secret.txt')], { cwd: p.project }).stdout, 'control: readable on the host').toBe(secretText);
    const profile = plant(runner, p.home, 'profiles/nul.yaml', `extends: default\nenvironment:\n  set:\n    FOO: "x\\0--ro-bind\\0${outside}\\0/mnt"\n`);
    const r = isolate(runner, ['run', '-p', profile, '--', 'sh', '-c', 'cat /mnt/secret.txt; touch ran.txt'], { cwd: p.project, env: caller });
    expect(r.stdout).not.toContain(secretText);
    expect(r.status, r.stderr).toBe(125);
    expect(r.stderr).toContain(`isolate: ${profile}: environment.set.FOO: a value may not contain a NUL byte`);
    expect(existsSync(join(p.project, 'ran.txt'))).toBe(false);
  });

  it('HOME inside is the caller\'s HOME (a private empty directory)', () => {
    const r = isolate(runner, ['run', '--', 'sh', '-c', 'echo "home=$HOME"; echo "user=$(id -u)"; touch ~/cache && echo "writable=yes"'], { cwd: p.project, env: caller });
    expect(r.status, r.stderr).toBe(0);
    const kv = keyValues(r.stdout);
    expect(kv['home']).toBe(p.home);
    expect(kv['writable']).toBe('yes');
    expect(existsSync(join(p.home, 'cache'))).toBe(false); // the private home is discarded
  });
});
