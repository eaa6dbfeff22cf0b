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
});
