/** The turn of a search without a cache: taken, released, and taken over from a holder that is gone. */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { coldSearchTurn } from '../../src/host/cold-search-gate.js';

describe('coldSearchTurn', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'isolate-it-gate-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('is taken by the first and released', () => {
    const release = coldSearchTurn(join(dir, 'cache'));
    expect(release).toBeTypeOf('function');
    expect(existsSync(join(dir, 'cache/.cold-search'))).toBe(true);
    release?.();
    expect(existsSync(join(dir, 'cache/.cold-search'))).toBe(false);
  });

  it('is taken over from a holder that no longer exists', () => {
    writeFileSync(join(dir, '.cold-search'), '2147483646');
    const release = coldSearchTurn(dir);
    expect(release).toBeTypeOf('function');
    release?.();
  });
});
