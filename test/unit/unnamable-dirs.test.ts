/**
 * Directories whose names are not UTF-8 (unnamable-dirs.ts): how they are
 * named in messages, and which of them refuse a run.
 */
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { escapedName, refuseUnnamableDirs } from '../../src/host/unnamable-dirs.js';

describe('escapedName', () => {
  it('keeps printable ASCII and escapes every other byte, and the backslash', () => {
    expect(escapedName(Buffer.from([0x61, 0xff, 0x62]))).toBe('a\\xffb');
    expect(escapedName(Buffer.from('caf\u00e9'))).toBe('caf\\xc3\\xa9');
    expect(escapedName(Buffer.from('a\\x\nb'))).toBe('a\\x5cx\\x0ab');
  });
});

describe.skipIf(process.platform !== 'linux')('refuseUnnamableDirs (Linux file systems take any bytes as a name)', () => {
  let root: string;
  const odd = (name: number[]): Buffer => Buffer.concat([Buffer.from(`${root}/`), Buffer.from(name)]);
  const decoded = (): string[] => readdirSync(root);
  const anyone = (): boolean => true;
  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'isolate-it-unnamable-'));
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  it('refuses a directory whose name is not UTF-8, naming it with its bytes escaped', () => {
    mkdirSync(odd([0x61, 0xff]));
    expect(() => refuseUnnamableDirs(root, decoded(), anyone)).toThrow(`${root}/a\\xff: a directory whose name is not UTF-8`);
  });

  it('lets through a file with such a name, a UTF-8 name with the replacement character, and one the sandbox cannot enter', () => {
    writeFileSync(odd([0x66, 0xfe]), 'x');
    mkdirSync(join(root, 'real\uFFFDchar'));
    mkdirSync(odd([0x6c, 0xfd]));
    chmodSync(odd([0x6c, 0xfd]), 0o700);
    expect(() => refuseUnnamableDirs(root, decoded(), (st) => (st.mode & 0o777) !== 0o700)).not.toThrow();
  });

  it('does not list again when no decoded name shows the replacement character', () => {
    mkdirSync(odd([0x61, 0xff]));
    expect(() => refuseUnnamableDirs(root, ['plain'], anyone)).not.toThrow();
  });
});
