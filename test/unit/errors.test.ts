import { describe, expect, it } from 'vitest';
import { IsolateError, shown } from '../../src/errors.js';

describe('IsolateError text', () => {
  it('a newline or escape sequence from a user value cannot fake a second message or recolour the terminal', () => {
    const e = new IsolateError('E_PATH_MISSING', 'filesystem.read[0]: readable path /x\nisolate: all good\u001b[2J does not exist', {
      detail: 'line one\nline \u001b[31mtwo',
      fix: 'check /x\u0007',
    });
    expect(e.message).toBe('filesystem.read[0]: readable path /x\\u000aisolate: all good\\u001b[2J does not exist');
    expect(e.detail).toBe('line one\nline \\u001b[31mtwo');
    expect(e.fix).toBe('check /x\\u0007');
  });

  it('a user value cannot reorder what is printed around it: Unicode direction controls are escaped', () => {
    const e = new IsolateError('E_PATH_MISSING', 'readable path /x\u202e/gol.txt\u2066a\u2069\u200e\u200f\u061c\u202a does not exist');
    expect(e.message).toBe('readable path /x\\u202e/gol.txt\\u2066a\\u2069\\u200e\\u200f\\u061c\\u202a does not exist');
  });

  it('shown() quotes a value, escapes quotes and control characters, and cuts it after 100 characters', () => {
    expect(shown('597h')).toBe('"597h"');
    expect(shown(-5)).toBe('-5');
    expect(shown('a"b\\c\u0000\u2028')).toBe('"a\\"b\\\\c\\u0000\\u2028"');
    expect(shown('x'.repeat(70_000))).toBe(`"${'x'.repeat(100)}…" (70000 characters)`);
  });
});
