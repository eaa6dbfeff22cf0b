/** bwrap's version, read from its binary once per file a process sees: a replaced binary is read again. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { bwrapVersion } from '../../src/host/facts.js';

describe('bwrapVersion', () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  it('reads the version a binary embeds, and reads again when the binary is replaced or changed', () => {
    const dir = mkdtempSync(join(tmpdir(), 'isolate-unit-bwrap-'));
    dirs.push(dir);
    const bin = join(dir, 'bwrap');
    writeFileSync(bin, '\x7fELF...bubblewrap 0.8.0\0...');
    expect(bwrapVersion(bin)).toBe('0.8.0');
    expect(bwrapVersion(bin)).toBe('0.8.0');
    writeFileSync(bin, '\x7fELF...bubblewrap 0.11.1\0...');
    expect(bwrapVersion(bin)).toBe('0.11.1');
    rmSync(bin);
    writeFileSync(bin, '\x7fELF...bubblewrap 0.9.0\0');
    expect(bwrapVersion(bin)).toBe('0.9.0');
  });
});
