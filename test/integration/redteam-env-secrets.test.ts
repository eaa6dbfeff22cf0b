/**
 * Red team: the caller's secrets through a wildcard in environment.pass.
 * Names that look like secrets never pass through a wildcard (README), but
 * the standard names of some clients' passwords and credential-bearing URLs
 * did not look like one: `MYSQL_PWD` (the mysql client's password),
 * `RABBITMQ_DEFAULT_PASS`, `REDIS_URL` and `MONGODB_URI` (with the password
 * in them), `AZURE_STORAGE_...`-style connection strings. A profile passing
 * `MYSQL_*` or `REDIS_*` handed them to the command.
 *
 * Nor did a token of a well-known format (`ghp_...`) under a name the
 * built-in profiles' `LC_*` passes, or `LC_CREDS`.
 *
 * Each test was written as a failing finding first; it now guards the fix.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { homeWithProject, isolate, plant, runners, type Project } from '../helpers/isolate.js';

const secret = (label: string): string => `${label}_${randomBytes(10).toString('hex')}`;

describe.each(runners())('red team: secrets through a wildcard ($label)', (runner) => {
  let p: Project;
  let secrets: Record<string, string>;
  beforeAll(() => {
    p = homeWithProject(runner);
    secrets = {
      MYSQL_PWD: secret('mysqlpwd'),
      RABBITMQ_DEFAULT_PASS: secret('rabbitpass'),
      REDIS_URL: `redis://:${secret('redispw')}@cache:6379/0`,
      MONGODB_URI: `mongodb://app:${secret('mongopw')}@db/app`,
      AMQP_URL: `amqp://app:${secret('amqppw')}@mq/`,
      CELERY_BROKER_URL: `redis://:${secret('celerypw')}@cache/1`,
      SQL_CONNECTION_STRING: `Server=db;Password=${secret('sqlpw')}`,
    };
  });
  afterAll(() => p.cleanup());

  it('names of passwords and credential-bearing URLs are withheld from a wildcard; other names under it pass', () => {
    const profile = plant(runner, p.home, 'profiles/wild.yaml', 'extends: default\nenvironment:\n  pass: [MYSQL_*, RABBITMQ_*, REDIS_*, MONGODB_*, AMQP_*, CELERY_*, SQL_*]\n');
    const r = isolate(runner, ['run', '-p', profile, '--', 'env'], { cwd: p.project, env: { ...p.env, ...secrets, MYSQL_HOST: 'db', REDIS_DB: '3' } });
    expect(r.status, r.stderr).toBe(0);
    for (const [name, value] of Object.entries(secrets)) expect(r.stdout, `${name} reached the command`).not.toContain(value);
    expect(r.stdout).toContain('MYSQL_HOST=db');
    expect(r.stdout).toContain('REDIS_DB=3');
  });

  it("a token of a well-known format under a name a wildcard passes (LC_*, which the built-in profiles pass) is withheld, and a short name for credentials", () => {
    const token = `ghp_${randomBytes(18).toString('hex')}`;
    const r = isolate(runner, ['run', '--', 'env'], { cwd: p.project, env: { ...p.env, LC_X: token, LC_CREDS: secret('creds'), LC_TIME: 'en_GB.UTF-8' } });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout, 'the token reached the command').not.toContain(token);
    expect(r.stdout).not.toContain('LC_CREDS=');
    expect(r.stdout).toContain('LC_TIME=en_GB.UTF-8'); // control: LC_* passes
  });
});
