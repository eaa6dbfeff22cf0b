import { describe, expect, it } from 'vitest';
import { REDACTED, redactArgv } from '../../src/audit/redact.js';

describe('redactArgv', () => {
  it.each([
    [['curl', '--token=abc123'], ['curl', `--token=${REDACTED}`]],
    [['tool', '--password', 'hunter2', 'next'], ['tool', '--password', REDACTED, 'next']],
    [['tool', '--api-key', 'k'], ['tool', '--api-key', REDACTED]],
    [['env', 'GITHUB_TOKEN=ghp_x', 'AWS_SECRET_ACCESS_KEY=abc', 'X=1'], ['env', `GITHUB_TOKEN=${REDACTED}`, `AWS_SECRET_ACCESS_KEY=${REDACTED}`, 'X=1']],
    [['git', 'clone', 'https://user:pa55@github.com/x.git'], ['git', 'clone', `https://user:${REDACTED}@github.com/x.git`]],
    [['curl', '-H', 'Authorization: Bearer abc.def'], ['curl', '-H', `Authorization: ${REDACTED}`]],
    [['echo', 'ghp_abcdefghijklmnopqrstuvwxyz0123456789'], ['echo', REDACTED]],
    [['x', 'prefix-AKIAABCDEFGHIJKLMNOP-suffix'], ['x', `prefix-${REDACTED}-suffix`]],
    [['x', 'sk-proj-abcdefghijklmnopqrstuvwxyz'], ['x', REDACTED]],
  ])('%j', (input, expected) => {
    expect(redactArgv(input)).toEqual(expected);
  });

  it('keeps ordinary arguments and the argument count', () => {
    const argv = ['npm', 'run', 'build', '--', '--port=8080', 'https://example.com/a?b=c', 'KEY', '-p', '5432'];
    expect(redactArgv(argv)).toEqual(argv);
  });

  it('redacts within a shell script (the argument after -c): headers, secret-named options and assignments, wherever they stand', () => {
    const script = 'curl -H "Authorization: Bearer abc123secretXYZ" --token MYTOK987 --password=Hunter22pw -H \'PRIVATE-TOKEN: glpatzz\' -b x https://u:pw9@h/x';
    const out = redactArgv(['/bin/sh', '-c', script]);
    expect(out).toHaveLength(3);
    for (const secret of ['abc123secretXYZ', 'MYTOK987', 'Hunter22pw', 'glpatzz', 'pw9']) expect(out[2]).not.toContain(secret);
    expect(out[2]).toBe(`curl -H "Authorization: ${REDACTED}" --token ${REDACTED} --password=${REDACTED} -H 'PRIVATE-TOKEN: ${REDACTED}' -b x https://u:${REDACTED}@h/x`);
  });

  it('in a script, an assignment hides its value only, and the rest of the script stays readable', () => {
    expect(redactArgv(['bash', '-lc', 'GITHUB_TOKEN=abcdef gh api /user && echo ok; X=1 npm test -- --port 8080'])).toEqual(['bash', '-lc', `GITHUB_TOKEN=${REDACTED} gh api /user && echo ok; X=1 npm test -- --port 8080`]);
    expect(redactArgv(['sh', '-ec', "export NPM_TOKEN='a b c'; npm publish"])).toEqual(['sh', '-ec', `export NPM_TOKEN=${REDACTED}; npm publish`]);
    // Not after -c: an argument is one value, redacted whole as before.
    expect(redactArgv(['env', 'MY_TOKEN=a b', 'cmd'])).toEqual(['env', `MY_TOKEN=${REDACTED}`, 'cmd']);
  });
});

describe('redactArgv on long words (a call with one must not stall the MCP server)', () => {
  // Before, the URL-password pattern read a word of letters once per letter: 150 KB took minutes. Each must finish.
  it.each([['letters', 'x'], ['dashes', 'a-'], ['dots', 'a.'], ['colons', 'a:'], ['schemes', 'a://'], ['userinfo', 'a://b:']])('a 1 MiB word of %s, as an argument and in a script', (_what, unit) => {
    const word = unit.repeat(Math.ceil((1 << 20) / unit.length));
    expect(redactArgv(['echo', word])[1]).toHaveLength(word.length);
    expect(redactArgv(['sh', '-c', `echo ${word} x`])[2]).toHaveLength(word.length + 7);
  });

  it('still finds the password of a URL, with or without a user, after any scheme', () => {
    expect(redactArgv(['sh', '-c', 'redis-cli -u redis://:s3cret@cache x; git clone https://u:pw9@h/r 1http://a:b@c'])[2]).toBe(
      `redis-cli -u redis://:${REDACTED}@cache x; git clone https://u:${REDACTED}@h/r 1http://a:${REDACTED}@c`,
    );
  });
});
