/**
 * A small regular file read without ever blocking (host/small-file.ts), as
 * git's files are read for the protected-name search and for the copies
 * shown without secrets: a FIFO is never read, a large file not at all, and
 * an exact read follows no final link. Temp dirs only.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readSmallFile } from '../../src/host/small-file.js';

let dir: string;
beforeEach(() => {
  dir = realpathSync(mkdtempSync(join(tmpdir(), 'isolate-small-file-')));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('readSmallFile', () => {
  it('a regular file\'s bytes; null when it is missing or not a regular file; undefined when larger than the bound', () => {
    writeFileSync(join(dir, 'f'), 'abc');
    for (const exact of [false, true]) {
      expect(readSmallFile(join(dir, 'f'), { maxBytes: 3, exact })?.toString()).toBe('abc');
      expect(readSmallFile(join(dir, 'f'), { maxBytes: 2, exact })).toBeUndefined();
      expect(readSmallFile(join(dir, 'missing'), { maxBytes: 3, exact })).toBeNull();
      expect(readSmallFile(dir, { maxBytes: 3, exact })).toBeNull();
    }
  });

  it('a FIFO is neither waited on nor read, in either kind of read', () => {
    expect(spawnSync('mkfifo', [join(dir, 'fifo')]).status).toBe(0);
    expect(readSmallFile(join(dir, 'fifo'), { maxBytes: 1024 })).toBeNull();
    expect(readSmallFile(join(dir, 'fifo'), { maxBytes: 1024, exact: true })).toBeNull();
  });

  it('a final link: followed by a plain read, refused by an exact one', () => {
    writeFileSync(join(dir, 'target'), 'abc');
    symlinkSync(join(dir, 'target'), join(dir, 'link'));
    expect(readSmallFile(join(dir, 'link'), { maxBytes: 1024 })?.toString()).toBe('abc');
    expect(readSmallFile(join(dir, 'link'), { maxBytes: 1024, exact: true })).toBeUndefined();
  });
});
