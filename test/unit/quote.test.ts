import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { bashQuote, shellJoin, shellQuote } from '../../src/run/quote.js';

/** What `sh` makes of a quoted word: the first positional parameter, printed verbatim. */
function throughSh(quoted: string): string {
  const r = spawnSync('/bin/sh', ['-c', `set -- ${quoted}; printf %s "$1"`], { encoding: 'utf8', env: { PATH: '/usr/bin:/bin', HOME: '/nonexistent-home' } });
  if (r.status !== 0) throw new Error(`sh failed (${String(r.status)}): ${r.stderr}`);
  return r.stdout;
}

function argCount(line: string): number {
  const r = spawnSync('/bin/sh', ['-c', `set -- ${line}; printf %s "$#"`], { encoding: 'utf8', env: { PATH: '/usr/bin:/bin' } });
  return Number(r.stdout);
}

const NASTY = [
  '',
  ' ',
  'plain',
  'two words',
  "it's",
  "''",
  '"double"',
  '$HOME',
  '${HOME}',
  '$(id)',
  '`id`',
  'a\\b',
  'back\\',
  'new\nline',
  'tab\there',
  '*',
  '?',
  '[a]',
  '~',
  '~/x',
  'a;b',
  'a|b',
  'a&b',
  'a>b',
  '<',
  '#comment',
  '!bang',
  '-n',
  '--help',
  '=x',
  'ünïcödé',
  "mixed 'single' and \"double\" $and `ticks`\n",
];

describe('shellQuote', () => {
  it.each(NASTY.map((s) => [JSON.stringify(s), s]))('round-trips %s through sh', (_label, s) => {
    expect(throughSh(shellQuote(s))).toBe(s);
  });

  it('produces exactly one word for each argument', () => {
    for (const s of NASTY) expect(argCount(shellQuote(s)), JSON.stringify(s)).toBe(1);
  });

  it('leaves safe words bare and quotes everything else', () => {
    expect(shellQuote('/usr/bin/bwrap')).toBe('/usr/bin/bwrap');
    expect(shellQuote('--ro-bind')).toBe('--ro-bind');
    expect(shellQuote('a=b,c:d@e%f+g')).toBe('a=b,c:d@e%f+g');
    expect(shellQuote('')).toBe("''");
    expect(shellQuote('a b')).toBe("'a b'");
    expect(shellQuote("it's")).toBe("'it'\\''s'");
  });

  it('shellJoin quotes each argument and keeps them apart', () => {
    const args = ['printf', '%s|', 'a b', '', "c'd", '$x'];
    const line = shellJoin(args);
    const r = spawnSync('/bin/sh', ['-c', line], { encoding: 'utf8', env: { PATH: '/usr/bin:/bin' } });
    expect(r.stdout).toBe("a b||c'd|$x|");
  });
});

/** What `bash` makes of a quoted word, as throughSh (UTF-8, for $'\\uHHHH'). */
function throughBash(quoted: string): string {
  const r = spawnSync('bash', ['-c', `set -- ${quoted}; printf %s "$1"`], { encoding: 'utf8', env: { PATH: '/usr/bin:/bin', HOME: '/nonexistent-home', LC_ALL: 'C.UTF-8' } });
  if (r.status !== 0) throw new Error(`bash failed (${String(r.status)}): ${r.stderr}`);
  return r.stdout;
}

describe('bashQuote (the command line explain prints)', () => {
  const CONTROLS = ['\u001b]52;c;ZXZpbA==\u0007', 'a\rb', 'new\nline', "it's\u001b[2J", '\u009b31m', 'x\u2028y', '\u007f', '\u0000'.slice(1) + 'tab\there'];
  it.each([...NASTY, ...CONTROLS].map((s) => [JSON.stringify(s), s]))('round-trips %s through bash', (_label, s) => {
    expect(throughBash(bashQuote(s))).toBe(s);
  });

  it('writes no control character of its own: none reaches a terminal, no line is started', () => {
    // eslint-disable-next-line no-control-regex -- control characters are what this looks for
    for (const s of [...NASTY, ...CONTROLS]) expect(bashQuote(s), JSON.stringify(s)).not.toMatch(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/);
    expect(bashQuote('a\nb', { newlines: true })).toBe("'a\nb'");
  });
});
