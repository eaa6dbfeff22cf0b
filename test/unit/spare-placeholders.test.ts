/**
 * Spare placeholders (run/spare-placeholders.ts): a removed placeholder is
 * kept and linked into place again for the same name in the same directory,
 * and only when it is exactly what a new placeholder would be; never as a
 * second name of one file, never for another name or directory, never over
 * a file that exists.
 */
import { chmodSync, closeSync, linkSync, lstatSync, mkdirSync, mkdtempSync, openSync, readFileSync, readdirSync, renameSync, rmSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
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
  const placeholder = (name: string, inDir = project): string => {
    const path = join(inDir, name);
    closeSync(openSync(path, 'wx', 0o444));
    chmodSync(path, 0o444);
    return path;
  };
  const give = (pool: SparePool, path: string): boolean => pool.give(path, lstatSync(path));

  it('a removed placeholder is the next one for the same name: the same file, one name, nothing left among the spares', () => {
    const path = placeholder('.envrc');
    const ino = lstatSync(path).ino;
    expect(give(new SparePool(spareDir), path)).toBe(true);
    expect(() => lstatSync(path)).toThrow();
    expect(new SparePool(spareDir).take(path)).toBe(true);
    const st = lstatSync(path);
    expect(st.ino).toBe(ino);
    expect(st.nlink).toBe(1);
    expect(st.size).toBe(0);
    expect(readdirSync(spareDir)).toEqual([]);
  });

  it('never for another name, nor for the same path once its directory is another one', () => {
    const path = placeholder('.envrc');
    expect(give(new SparePool(spareDir), path)).toBe(true);
    expect(new SparePool(spareDir).take(join(project, '.bashrc'))).toBe(false);
    renameSync(project, `${project}-old`);
    mkdirSync(project);
    expect(new SparePool(spareDir).take(path)).toBe(false);
    expect(readdirSync(project)).toEqual([]);
    expect(readdirSync(spareDir)).toHaveLength(1);
  });

  it('no spare: take says so, and the caller creates the placeholder', () => {
    expect(new SparePool(spareDir).take(join(project, '.envrc'))).toBe(false);
    expect(readdirSync(project)).toEqual([]);
  });

  it('never replaces what exists: the file keeps its content, and the spare stays', () => {
    const path = placeholder('.envrc');
    const ino = lstatSync(path).ino;
    expect(give(new SparePool(spareDir), path)).toBe(true);
    writeFileSync(path, 'export SECRET=1\n');
    const pool = new SparePool(spareDir);
    expect(pool.take(path)).toBe(true); // the path exists: the caller checks what is there
    expect(readFileSync(path, 'utf8')).toBe('export SECRET=1\n');
    expect(lstatSync(path).nlink).toBe(1);
    unlinkSync(path);
    expect(new SparePool(spareDir).take(path)).toBe(true);
    expect(lstatSync(path).ino).toBe(ino);
  });

  it('never links through a final symlink', () => {
    const path = placeholder('.envrc');
    expect(give(new SparePool(spareDir), path)).toBe(true);
    const target = join(dir, 'target');
    symlinkSync(target, path);
    expect(new SparePool(spareDir).take(path)).toBe(true);
    expect(lstatSync(path).isSymbolicLink()).toBe(true);
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

  it('a spare that changed while kept (a second name, content, a write bit) is deleted, never used', () => {
    const pool = new SparePool(spareDir);
    const paths = ['a', 'b', 'c'].map((name) => placeholder(name));
    for (const p of paths) expect(give(pool, p)).toBe(true);
    const [x, y, z] = readdirSync(spareDir).map((n) => join(spareDir, n));
    linkSync(x ?? '', join(dir, 'second-name'));
    chmodSync(y ?? '', 0o644);
    writeFileSync(y ?? '', 'payload');
    chmodSync(z ?? '', 0o666);
    const next = new SparePool(spareDir);
    for (const p of paths) expect(next.take(p)).toBe(false);
    expect(readdirSync(spareDir)).toEqual([]);
    expect(readdirSync(project)).toEqual([]);
    expect(lstatSync(join(dir, 'second-name')).nlink).toBe(1);
  });

  it('two runs never take the same spare', () => {
    const path = placeholder('.envrc');
    expect(give(new SparePool(spareDir), path)).toBe(true);
    const [first, second] = [new SparePool(spareDir), new SparePool(spareDir)];
    expect(first.take(path)).toBe(true);
    unlinkSync(path);
    // The second had listed the same spare; it is gone: it must create the placeholder itself.
    expect(second.take(path)).toBe(false);
  });

  it(`keeps at most ${MAX_SPARES} spares: another name's makes room`, () => {
    for (let i = 0; i < MAX_SPARES; i++) closeSync(openSync(join(spareDir, `${'0'.repeat(32)}.s${i}`), 'wx', 0o444));
    const path = placeholder('.envrc');
    expect(give(new SparePool(spareDir), path)).toBe(true);
    expect(readdirSync(spareDir)).toHaveLength(MAX_SPARES);
    expect(new SparePool(spareDir).take(path)).toBe(true);
  });

  it('a full store makes room by deleting what is no spare first (a name a killed run had taken)', () => {
    for (let i = 0; i < MAX_SPARES - 1; i++) closeSync(openSync(join(spareDir, `${'0'.repeat(32)}.s${i}`), 'wx', 0o444));
    closeSync(openSync(join(spareDir, '.taken.left-by-a-killed-run'), 'wx', 0o444));
    expect(give(new SparePool(spareDir), placeholder('.envrc'))).toBe(true);
    const names = readdirSync(spareDir);
    expect(names).toHaveLength(MAX_SPARES);
    expect(names).not.toContain('.taken.left-by-a-killed-run');
  });
});
