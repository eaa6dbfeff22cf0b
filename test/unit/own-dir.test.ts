/**
 * isolate's own directories under a umask that takes the owner's bits: each
 * directory made is 0700, so the next one can be made inside it (an
 * ordinary user's run could not make the audit log's directory before).
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { makeOwnDir } from '../../src/own-dir.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'isolate-own-dir-test-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

const modeOf = (p: string): number => statSync(p).mode & 0o777;

it('makes every missing parent 0700 under umask 0277, and returns the first one made', () => {
  const old = process.umask(0o277);
  let first: string | undefined;
  try {
    first = makeOwnDir(join(dir, 'a', 'b', 'c'));
  } finally {
    process.umask(old);
  }
  expect(first).toBe(join(dir, 'a'));
  for (const p of ['a', 'a/b', 'a/b/c']) expect(modeOf(join(dir, p))).toBe(0o700);
});

it('makes nothing and returns undefined when the directory exists, leaving its mode', () => {
  expect(makeOwnDir(dir)).toBeUndefined();
  expect(modeOf(dir)).toBe(0o700);
});
