/** Parsing durations, sizes and counts (src/profile/limits.ts), and their bounds. */
import { describe, expect, it } from 'vitest';
import { MAX_COUNT, MAX_DURATION_MS, MAX_SIZE_BYTES, parseCount, parseDuration, parseSize } from '../../src/profile/limits.js';

const value = (r: ReturnType<typeof parseDuration>): number | string => (r.ok ? r.value : r.message);

describe('parseDuration', () => {
  it('reads seconds, units and fractions', () => {
    expect(value(parseDuration('30s'))).toBe(30_000);
    expect(value(parseDuration('1.5h'))).toBe(5_400_000);
    expect(value(parseDuration('500ms'))).toBe(500);
    expect(value(parseDuration(2))).toBe(2000);
  });

  it('596h, the longest a Node timer holds in whole hours, is accepted; a millisecond more is not', () => {
    expect(MAX_DURATION_MS).toBeLessThanOrEqual(2 ** 31 - 1);
    expect(value(parseDuration('596h'))).toBe(MAX_DURATION_MS);
    expect(value(parseDuration(`${MAX_DURATION_MS}ms`))).toBe(MAX_DURATION_MS);
    expect(value(parseDuration(`${MAX_DURATION_MS + 1}ms`))).toBe(`expected at most 596h (about 24.8 days, the longest a timer can wait), received "${MAX_DURATION_MS + 1}ms"`);
  });

  it('refuses what a timer cannot hold (it would fire at once) instead of killing the command early', () => {
    for (const input of ['597h', '2147484s', '35792m', '99999999999999999999h', 2 ** 31, 1e300, Number.MAX_VALUE]) {
      expect(value(parseDuration(input)), String(input)).toMatch(/^expected at most 596h/);
    }
  });

  it('refuses what is not a positive duration', () => {
    for (const input of ['1e309s', '1e3s', 'Infinity', 'NaN', '-1s', '0', '0.4ms', '', '1d', Infinity, Number.NaN, -5, 0]) {
      expect(parseDuration(input).ok, String(input)).toBe(false);
    }
  });
});

describe('parseSize', () => {
  it('1024T is the largest size; above it, and numbers in exponent form, are refused', () => {
    expect(value(parseSize('1024T'))).toBe(MAX_SIZE_BYTES);
    expect(value(parseSize(MAX_SIZE_BYTES))).toBe(MAX_SIZE_BYTES);
    expect(value(parseSize('1025T'))).toBe('expected at most 1024T, received "1025T"');
    for (const input of ['99999999999T', 2 ** 60, 1e300, Number.MAX_SAFE_INTEGER + 2]) {
      expect(value(parseSize(input)), String(input)).toMatch(/^expected at most 1024T/);
    }
  });
});

describe('parseCount', () => {
  it(`${MAX_COUNT} is the largest count; larger numbers (which would print as 1e+300 in a prlimit argument) are refused`, () => {
    expect(value(parseCount(MAX_COUNT))).toBe(MAX_COUNT);
    expect(value(parseCount(`${MAX_COUNT}`))).toBe(MAX_COUNT);
    for (const input of [2 ** 31, 2 ** 53, 1e300]) expect(value(parseCount(input)), String(input)).toMatch(/^expected at most 2147483647/);
  });
});
