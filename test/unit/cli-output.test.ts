/** Colour, decided per stream: only on a TTY; NO_COLOR and TERM=dumb turn it off, FORCE_COLOR on. */
import { describe, expect, it } from 'vitest';
import { styleFor, useColor } from '../../src/cli/output.js';

const tty = { isTTY: true };
const pipe = { isTTY: false };

describe('useColor', () => {
  it('a TTY gets colour, a pipe or file does not', () => {
    expect(useColor(tty, {})).toBe(true);
    expect(useColor(pipe, {})).toBe(false);
    expect(useColor({ isTTY: undefined } as unknown as typeof pipe, {})).toBe(false);
  });

  it('NO_COLOR (any non-empty value) turns it off, even with FORCE_COLOR', () => {
    expect(useColor(tty, { NO_COLOR: '1' })).toBe(false);
    expect(useColor(tty, { NO_COLOR: '1', FORCE_COLOR: '1' })).toBe(false);
    expect(useColor(tty, { NO_COLOR: '' })).toBe(true);
  });

  it('TERM=dumb turns it off', () => {
    expect(useColor(tty, { TERM: 'dumb' })).toBe(false);
    expect(useColor(tty, { TERM: 'xterm-256color' })).toBe(true);
  });

  it('FORCE_COLOR (but 0) turns it on for a pipe', () => {
    expect(useColor(pipe, { FORCE_COLOR: '1' })).toBe(true);
    expect(useColor(pipe, { FORCE_COLOR: '' })).toBe(true);
    expect(useColor(pipe, { FORCE_COLOR: '0' })).toBe(false);
  });
});

describe('styleFor', () => {
  it('with colour: ANSI styles; without: the text as it is', () => {
    expect(styleFor(true).red('x')).toBe('\u001b[31mx\u001b[39m');
    expect(styleFor(true).bold.green('ok')).toContain('\u001b[32m');
    expect(styleFor(false).red('x')).toBe('x');
    expect(styleFor(false).bold.green('ok')).toBe('ok');
  });
});
