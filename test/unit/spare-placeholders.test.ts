/**
 * Spare placeholders (run/spare-placeholders.ts): a removed placeholder is
 * kept and linked into place for a later run, but only when it is exactly
 * what a new placeholder would be, never as a second name of one inode, and
 * never over a file that exists.
 */
import { chmodSync, closeSync, linkSync, lstatSync, mkdirSync, mkdtempSync, openSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MAX_SPARES, SparePool } from '../../src/run/spare-placeholders.js';

describe('spare placeholders', () => {
  let dir: string;
  let spareDir: string;
  let project: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'isolate-unit-spare-'));
    spareDir = join(dir, 'spare');
    project = join(dir, 'project');
    mkdirSync(spareDir, { mode: 0o700 });
    mkdirSync(project);
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  /** An empty read-only file, as run/launch/path-fds.ts creates a placeholder. */
  const placeholder = (name: string): string => {
    const path = join(project, name);
    closeSync(openSync(path, 'wx', 0o444));
    chmodSync(path, 0o444);
    return path;
  };
  const give = (pool: SparePool, path: string): boolean => pool.give(path, lstatSync(path));

  it('a removed placeholder becomes the next one: the same inode, one name, nothing left among the spares', () => {
    const old = placeholder('.envrc');
    const ino = lstatSync(old).ino;
    expect(give(new SparePool(spareDir), old)).toBe(true);
    expect(() => lstatSync(old)).toThrow();
    const next = join(project, '.bashrc');
    expect(new SparePool(spareDir).take(next)).toBe(true);
    const st = lstatSync(next);
    expect(st.ino).toBe(ino);
    expect(st.nlink).toBe(1);
    expect(st.size).toBe(0);
    expect(readdirSync(spareDir)).toEqual([]);
  });

  it('no spare: take says so, and the caller creates the placeholder', () => {
    expect(new SparePool(spareDir).take(join(project, '.envrc'))).toBe(false);
    expect(readdirSync(project)).toEqual([]);
  });

  it('never replaces what exists: the file keeps its content, and the spare stays for the next placeholder', () => {
    expect(give(new SparePool(spareDir), placeholder('.npmrc'))).toBe(true);
    const existing = join(project, '.envrc');
    writeFileSync(existing, 'export SECRET=1\n');
    const pool = new SparePool(spareDir);
    expect(pool.take(existing)).toBe(true); // the path exists: the caller checks what is there
    expect(readFileSync(existing, 'utf8')).toBe('export SECRET=1\n');
    expect(lstatSync(existing).nlink).toBe(1);
    expect(pool.take(join(project, '.bashrc'))).toBe(true);
    expect(lstatSync(join(project, '.bashrc')).nlink).toBe(1);
  });

  it('never links through a final symlink', () => {
    expect(give(new SparePool(spareDir), placeholder('.npmrc'))).toBe(true);
    const target = join(dir, 'target');
    symlinkSync(target, join(project, '.envrc'));
    expect(new SparePool(spareDir).take(join(project, '.envrc'))).toBe(true);
    expect(lstatSync(join(project, '.envrc')).isSymbolicLink()).toBe(true);
    expect(() => lstatSync(target)).toThrow();
  });

  it('keeps only what a new placeholder would be: not a writable, executable, non-empty or twice-named file', () => {
    const pool = new SparePool(spareDir);
    const writable = placeholder('a');
    chmodSync(writable, 0o644);
    const executable = placeholder('b');
    chmodSync(executable, 0o555);
    const full = placeholder('c');
    chmodSync(full, 0o644);
    writeFileSync(full, 'x');
    chmodSync(full, 0o444);
    const twice = placeholder('d');
    linkSync(twice, join(dir, 'other-name'));
    for (const p of [writable, executable, full, twice]) expect(give(pool, p)).toBe(false);
    expect(readdirSync(spareDir)).toEqual([]);
  });

  it('a spare that changed while kept (a second name, content, a write bit, a directory) is removed, never used', () => {
    const pool = new SparePool(spareDir);
    for (const name of ['a', 'b', 'c']) expect(give(pool, placeholder(name))).toBe(true);
    const [x, y, z] = readdirSync(spareDir).map((n) => join(spareDir, n));
    linkSync(x ?? '', join(dir, 'second-name'));
    chmodSync(y ?? '', 0o644);
    writeFileSync(y ?? '', 'payload');
    chmodSync(z ?? '', 0o666);
    mkdirSync(join(spareDir, 'a-directory'));
    expect(new SparePool(spareDir).take(join(project, '.envrc'))).toBe(false);
    expect(readdirSync(spareDir)).toEqual([]);
    expect(readdirSync(project)).toEqual([]);
    expect(lstatSync(join(dir, 'second-name')).nlink).toBe(1);
  });

  it('two runs never take the same spare', () => {
    expect(give(new SparePool(spareDir), placeholder('.npmrc'))).toBe(true);
    const [first, second] = [new SparePool(spareDir), new SparePool(spareDir)];
    const a = join(project, '.envrc');
    const b = join(project, '.bashrc');
    // Both have listed the one spare before either takes it.
    expect([first.take(a), second.take(b)].filter(Boolean)).toHaveLength(1);
    for (const p of [a, b]) if (readdirSync(project).includes(p.slice(project.length + 1))) expect(lstatSync(p).nlink).toBe(1);
  });

  it(`keeps at most ${MAX_SPARES} spares; the rest are deleted by the caller`, () => {
    for (let i = 0; i < MAX_SPARES; i++) closeSync(openSync(join(spareDir, `s${i}`), 'wx', 0o444));
    expect(give(new SparePool(spareDir), placeholder('.envrc'))).toBe(false);
  });
});
