/** Colour, decided per stream: only on a TTY; NO_COLOR and TERM=dumb turn it off, FORCE_COLOR on. */
import { describe, expect, it } from 'vitest';
import { createOutput, useColor } from '../../src/cli/output.js';

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

describe('createOutput', () => {
  const stream = (isTTY: boolean): { isTTY: boolean; written: string[]; write: (t: string) => boolean } => {
    const written: string[] = [];
    return { isTTY, written, write: (t: string) => written.push(t) > 0 };
  };

  it('styles per stream: a TTY gets ANSI colours, a pipe beside it plain text', async () => {
    const out = stream(true);
    const err = stream(false);
    const o = await createOutput({ out, err }, {});
    expect([o.color('out'), o.color('err')]).toEqual([true, false]);
    expect(o.style('out').red('x')).toBe('\u001b[31mx\u001b[39m');
    expect(o.style('out').bold('x')).toBe('\u001b[1mx\u001b[22m');
    expect(o.style('err').red('x')).toBe('x');
    o.out('a');
    o.err('b');
    expect([out.written, err.written]).toEqual([['a'], ['b']]);
  });

  it('NO_COLOR: plain on every stream', async () => {
    const o = await createOutput({ out: stream(true), err: stream(true) }, { NO_COLOR: '1' });
    expect(o.style('out').green('ok')).toBe('ok');
    expect(o.style('err').yellow('w')).toBe('w');
  });
});
