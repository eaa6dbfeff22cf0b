import { describe, expect, it } from 'vitest';
import { caselessPathsRegex } from '../../src/backends/sbpl-caseless.js';

describe('caselessPathsRegex: paths as a case-insensitive macOS volume compares them', () => {
  it('matches a path and what is below it in any letter case, and nothing beside it', () => {
    const re = new RegExp(caselessPathsRegex(['/Users/me/.ssh'], true));
    for (const p of ['/Users/me/.ssh', '/users/ME/.SSH', '/Users/me/.Ssh/id_rsa']) expect(re.test(p), p).toBe(true);
    for (const p of ['/Users/me/.sshx', '/Users/me/xssh', '/Users/me', '/Users/me/.ssh-agent/x']) expect(re.test(p), p).toBe(false);
  });

  it('matches exactly the paths without below, and escapes what a regex would read', () => {
    const re = new RegExp(caselessPathsRegex(['/p/a.b', '/p/(x)|y+'], false));
    expect(re.test('/P/A.B')).toBe(true);
    expect(re.test('/p/aXb')).toBe(false);
    expect(re.test('/p/(X)|Y+')).toBe(true);
    expect(re.test('/p/a.b/c')).toBe(false);
  });

  it('lets a run of non-ASCII characters stand for any other form of it within one name', () => {
    const re = new RegExp(caselessPathsRegex(['/Users/j\u00e9r\u00f4me/.envrc'], false));
    expect(re.test('/Users/je\u0301ro\u0302me/.ENVRC')).toBe(true);
    expect(re.test('/Users/j/x/r\u00f4me/.envrc')).toBe(false);
  });

  it('covers everything for the root', () => {
    expect(new RegExp(caselessPathsRegex(['/'], true)).test('/anything')).toBe(true);
  });
});
