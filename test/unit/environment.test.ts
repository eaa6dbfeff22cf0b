import { describe, expect, it } from 'vitest';
import { expectIsolateError } from './expect-error.js';
import { SECRET_PATTERNS, computeEnvironment, isSecretName, matchesPattern, type EnvironmentRules } from '../../src/profile/environment.js';

const CALLER: Record<string, string | undefined> = {
  PATH: '/usr/bin:/bin',
  HOME: '/home/user',
  LANG: 'en_US.UTF-8',
  LC_ALL: 'C.UTF-8',
  LC_TIME: 'en_GB.UTF-8',
  LC_MY_TOKEN: 'lc-token-value',
  lc_secret: 'lower-secret',
  lc_messages: 'lower-ok',
  TERM: 'xterm-256color',
  GITHUB_TOKEN: 'ghp_xxx',
  AWS_SECRET_ACCESS_KEY: 'aws-secret',
  SSH_AUTH_SOCK: '/run/user/1000/ssh',
  EDITOR: 'vi',
  UNSET: undefined,
};

function rules(partial: Partial<EnvironmentRules>): EnvironmentRules {
  return { pass: [], set: {}, secrets: [], ...partial };
}

describe('computeEnvironment', () => {
  it('starts empty: nothing passes without a rule', () => {
    expect(computeEnvironment(rules({}), CALLER)).toEqual({ env: {}, withheld: [] });
  });

  it('passes exact names, and only those', () => {
    const { env, withheld } = computeEnvironment(rules({ pass: ['PATH', 'HOME', 'NOT_SET_BY_CALLER'] }), CALLER);
    expect(env).toEqual({ PATH: '/usr/bin:/bin', HOME: '/home/user' });
    expect(withheld).toEqual([]);
  });

  it('passes a secret-looking name when it is named exactly', () => {
    const { env, withheld } = computeEnvironment(rules({ pass: ['GITHUB_TOKEN', 'SSH_AUTH_SOCK'] }), CALLER);
    expect(env).toEqual({ GITHUB_TOKEN: 'ghp_xxx', SSH_AUTH_SOCK: '/run/user/1000/ssh' });
    expect(withheld).toEqual([]);
  });

  it('exact names are case-sensitive', () => {
    expect(computeEnvironment(rules({ pass: ['path'] }), CALLER).env).toEqual({});
  });

  it('a wildcard passes non-secrets and withholds secret-looking names', () => {
    const { env, withheld } = computeEnvironment(rules({ pass: ['LC_*'] }), CALLER);
    expect(env).toEqual({ LC_ALL: 'C.UTF-8', LC_TIME: 'en_GB.UTF-8' });
    expect(withheld).toEqual(['LC_MY_TOKEN']);
  });

  it('a wildcard withholds a value shaped like a known token, and credentials by a short name, whatever else the name says', () => {
    const token = `ghp_${'a1'.repeat(18)}`;
    const caller = { LC_X: token, LC_NOTE: `set by ${token} here`, LC_CREDS: 'user:pw', LC_JWT: 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.c2lnbmF0dXJlLXBhcnQtaGVyZQ', LC_ALL: 'C.UTF-8', LC_SHA: 'a'.repeat(40) };
    const { env, withheld } = computeEnvironment(rules({ pass: ['LC_*'] }), caller);
    expect(env).toEqual({ LC_ALL: 'C.UTF-8', LC_SHA: 'a'.repeat(40) });
    expect(withheld.sort()).toEqual(['LC_CREDS', 'LC_JWT', 'LC_NOTE', 'LC_X']);
    expect(computeEnvironment(rules({ pass: ['LC_X'] }), caller).env).toEqual({ LC_X: token }); // named exactly: passed
  });

  it('secret detection is case-insensitive even when the wildcard matches lower case', () => {
    const { env, withheld } = computeEnvironment(rules({ pass: ['lc_*'] }), CALLER);
    expect(env).toEqual({ lc_messages: 'lower-ok' });
    expect(withheld).toEqual(['lc_secret']);
  });

  it('* passes everything that does not look like a secret', () => {
    const { env, withheld } = computeEnvironment(rules({ pass: ['*'] }), CALLER);
    expect(Object.keys(env).sort()).toEqual(['EDITOR', 'HOME', 'LANG', 'LC_ALL', 'LC_TIME', 'PATH', 'TERM', 'lc_messages']);
    expect(withheld.sort()).toEqual(['AWS_SECRET_ACCESS_KEY', 'GITHUB_TOKEN', 'LC_MY_TOKEN', 'SSH_AUTH_SOCK', 'lc_secret']);
  });

  it('an exact name wins over a wildcard that would withhold it', () => {
    const { env, withheld } = computeEnvironment(rules({ pass: ['LC_*', 'LC_MY_TOKEN'] }), CALLER);
    expect(env['LC_MY_TOKEN']).toBe('lc-token-value');
    expect(withheld).toEqual([]);
  });

  it('set wins over a passed value, and sets names the caller does not have', () => {
    const { env } = computeEnvironment(rules({ pass: ['PATH', 'HOME'], set: { HOME: '/sandbox-home', NEW: 'x' } }), CALLER);
    expect(env).toEqual({ PATH: '/usr/bin:/bin', HOME: '/sandbox-home', NEW: 'x' });
  });

  it('set can set a secret-looking name (the profile author chose the value)', () => {
    expect(computeEnvironment(rules({ set: { API_TOKEN: 'fixed' } }), CALLER).env).toEqual({ API_TOKEN: 'fixed' });
  });

  it('extra secrets patterns withhold more names from wildcards (case-insensitively)', () => {
    const { env, withheld } = computeEnvironment(rules({ pass: ['LC_*', 'EDITOR'], secrets: ['lc_t*'] }), CALLER);
    expect(env).toEqual({ LC_ALL: 'C.UTF-8', EDITOR: 'vi' });
    expect(withheld).toEqual(['LC_MY_TOKEN', 'LC_TIME']);
  });

  it('extra secrets patterns do not stop an exact name', () => {
    expect(computeEnvironment(rules({ pass: ['EDITOR'], secrets: ['EDITOR'] }), CALLER).env).toEqual({ EDITOR: 'vi' });
  });

  it('skips undefined values', () => {
    expect(computeEnvironment(rules({ pass: ['UNSET', '*'] }), { UNSET: undefined }).env).toEqual({});
  });

  it('keeps an empty value', () => {
    expect(computeEnvironment(rules({ pass: ['EMPTY'] }), { EMPTY: '' }).env).toEqual({ EMPTY: '' });
  });

  it('is deterministic: caller names in sorted order, then set names', () => {
    const { env } = computeEnvironment(rules({ pass: ['*'], set: { AAA: '1' } }), { Z: 'z', B: 'b', M: 'm' });
    expect(Object.keys(env)).toEqual(['B', 'M', 'Z', 'AAA']);
  });

  it('does not treat regex characters in patterns as regex', () => {
    expect(computeEnvironment(rules({ pass: ['A.B*'] }), { AXB: '1', 'A.BC': '2' }).env).toEqual({ 'A.BC': '2' });
  });

  it('a NUL byte in a value (API callerEnv, or a set value that skipped the schema) is E_ENV_INVALID: it would add bwrap arguments', () => {
    const inject = 'x\0--bind\0/\0/mnt';
    expect(expectIsolateError(() => computeEnvironment(rules({ pass: ['FOO'] }), { FOO: inject }), 'E_ENV_INVALID').message).toBe("the caller's FOO: a value may not contain a NUL byte");
    expectIsolateError(() => computeEnvironment(rules({ pass: ['F*'] }), { FOO: inject }), 'E_ENV_INVALID');
    expect(expectIsolateError(() => computeEnvironment(rules({ set: { FOO: inject } }), {}), 'E_ENV_INVALID').message).toBe('environment.set.FOO: a value may not contain a NUL byte');
    // a withheld secret's value is never used, so it is not checked
    expect(computeEnvironment(rules({ pass: ['*'] }), { GITHUB_TOKEN: inject }).withheld).toEqual(['GITHUB_TOKEN']);
  });
});

describe('isSecretName', () => {
  it.each([
    'GITHUB_TOKEN',
    'AWS_ACCESS_KEY_ID',
    'AWS_SECRET_ACCESS_KEY',
    'MY_API_KEY',
    'DB_PASSWORD',
    'SSH_AUTH_SOCK',
    'NPM_CONFIG__AUTH',
    'NPM_TOKEN',
    'OPENAI_API_KEY',
    'ANTHROPIC_API_KEY',
    'DATABASE_URL',
    'SENTRY_DSN',
    'GH_PAT',
    'KUBECONFIG',
    'VAULT_ADDR',
    'github_token',
    'Db_Password',
    'SESSION_ID',
    'STRIPE_KEY',
    'MYSQL_PWD',
    'RABBITMQ_DEFAULT_PASS',
    'SQL_CONNECTION_STRING',
  ])('%s is a secret', (name) => {
    expect(isSecretName(name)).toBe(true);
  });

  it.each(['PATH', 'HOME', 'LANG', 'LANGUAGE', 'LC_ALL', 'LC_CTYPE', 'TERM', 'TZ', 'USER', 'LOGNAME', 'COLORTERM', 'NO_COLOR', 'SHELL', 'EDITOR', 'PWD', 'KEYBOARD', 'MONKEY'])(
    '%s is not a secret',
    (name) => {
      expect(isSecretName(name)).toBe(false);
    },
  );

  it('applies extra patterns', () => {
    expect(isSecretName('MY_CERT')).toBe(false);
    expect(isSecretName('MY_CERT', ['*_CERT'])).toBe(true);
    expect(isSecretName('my_cert', ['*_CERT'])).toBe(true);
  });

  it('every built-in pattern is upper case or a wildcard (matching is case-insensitive anyway)', () => {
    for (const p of SECRET_PATTERNS) expect(p).toMatch(/^[A-Z0-9_*]+$/);
  });
});

describe('a value holding a password', () => {
  it('is withheld from a wildcard whatever its name: a URL with a password, a connection string with Password= or Pwd=', () => {
    const caller = { REDIS_URL: 'redis://:pw@cache:6379/0', MONGODB_URI: 'mongodb+srv://app:pw@db/x', SQL_DB: 'Server=db;User Id=a;Pwd=pw', REDIS_HOST: 'cache', HOME_URL: 'https://user@example.com/', PLAIN_URL: 'https://example.com/a:b@c' };
    const r = computeEnvironment(rules({ pass: ['*'] }), caller);
    expect(r.withheld).toEqual(['MONGODB_URI', 'REDIS_URL', 'SQL_DB']);
    expect(Object.keys(r.env).sort()).toEqual(['HOME_URL', 'PLAIN_URL', 'REDIS_HOST']);
    expect(computeEnvironment(rules({ pass: ['REDIS_URL'] }), caller).env).toEqual({ REDIS_URL: caller.REDIS_URL });
  });
});

describe('a value holding an HTTP Authorization header', () => {
  it('is withheld from a wildcard: git\'s GIT_CONFIG_PARAMETERS after git -c http.extraHeader=..., a CI script\'s GIT_CONFIG_VALUE_0', () => {
    const caller = {
      GIT_CONFIG_PARAMETERS: "'http.https://github.com/.extraheader'='AUTHORIZATION: basic eC1hY2Nlc3MtdG9rZW46Z2hz'",
      GIT_CONFIG_COUNT: '1',
      GIT_CONFIG_KEY_0: 'http.extraheader',
      GIT_CONFIG_VALUE_0: 'Authorization: Bearer ghs_0123456789',
      GIT_DIR: '/w/.git',
    };
    const r = computeEnvironment(rules({ pass: ['GIT_*'] }), caller);
    // (GIT_CONFIG_KEY_0 by its name, *_KEY_*.)
    expect(r.withheld.sort()).toEqual(['GIT_CONFIG_KEY_0', 'GIT_CONFIG_PARAMETERS', 'GIT_CONFIG_VALUE_0']);
    expect(Object.keys(r.env).sort()).toEqual(['GIT_CONFIG_COUNT', 'GIT_DIR']);
  });
});

describe('matchesPattern', () => {
  it('matches the whole name, * is any run', () => {
    expect(matchesPattern('LC_ALL', 'LC_*')).toBe(true);
    expect(matchesPattern('XLC_ALL', 'LC_*')).toBe(false);
    expect(matchesPattern('LC_', 'LC_*')).toBe(true);
    expect(matchesPattern('A_B_C', '*_B_*')).toBe(true);
    expect(matchesPattern('PATH', 'PATH')).toBe(true);
    expect(matchesPattern('PATHX', 'PATH')).toBe(false);
  });

  it('is case-sensitive unless asked', () => {
    expect(matchesPattern('lc_all', 'LC_*')).toBe(false);
    expect(matchesPattern('lc_all', 'LC_*', true)).toBe(true);
  });
});
