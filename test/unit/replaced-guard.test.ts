import { mkdtempSync, renameSync, rmSync, unlinkSync, writeFileSync, type watch } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { existingProtected, guardReplaced, placeholderPaths, replacedError, type ReplacedGuard } from '../../src/run/replaced-guard.js';
import type { Plan } from '../../src/backends/types.js';

/** A guard watching `paths` from now on. */
function guarded(paths: string[], onReplaced: (path: string) => void): ReplacedGuard {
  const guard = guardReplaced(onReplaced);
  guard.add(paths, 'protected');
  return guard;
}

/** A watch that never fires by itself: `emit` calls the listener of the last directory watched. */
function fakeWatch(): { fake: typeof watch; emit: (event: string, name: string | null) => void } {
  let listener: (event: string, name: string | null) => void = () => undefined;
  const fake = ((_dir: string, _options: unknown, l: typeof listener) => {
    listener = l;
    return { on: () => undefined, close: () => undefined };
  }) as unknown as typeof watch;
  return { fake, emit: (event, name) => listener(event, name) };
}

const settle = (ms = 200): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('guardReplaced', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'isolate-guard-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('trips at once when a file is renamed over a protected name, and says so once', async () => {
    const config = join(dir, 'config');
    writeFileSync(config, 'a');
    const seen: string[] = [];
    const guard = guarded([config], (p) => seen.push(p));
    writeFileSync(`${config}.lock`, 'b');
    renameSync(`${config}.lock`, config);
    await settle();
    expect(seen).toEqual([config]);
    writeFileSync(`${config}.lock`, 'c');
    renameSync(`${config}.lock`, config);
    await settle();
    expect(seen).toEqual([config]);
    expect(guard.finish()).toEqual([{ path: config, kept: 'protected' }]);
  });

  it('does not trip on a write in place or on other names in the directory', async () => {
    const envrc = join(dir, '.envrc');
    writeFileSync(envrc, 'a');
    const seen: string[] = [];
    const guard = guarded([envrc], (p) => seen.push(p));
    writeFileSync(envrc, 'changed in place');
    writeFileSync(join(dir, 'other'), 'x');
    renameSync(join(dir, 'other'), join(dir, 'other2'));
    await settle();
    expect(seen).toEqual([]);
    expect(guard.finish()).toEqual([]);
  });

  it('finds a name removed and made again, even before any event is read', () => {
    const config = join(dir, 'config');
    writeFileSync(config, 'a');
    const guard = guarded([config], () => undefined);
    // The held file cannot be freed, so the new one cannot take its inode number.
    unlinkSync(config);
    writeFileSync(config, 'b');
    expect(guard.finish()).toEqual([{ path: config, kept: 'protected' }]);
  });

  it('finds a name that was removed', () => {
    const config = join(dir, 'config');
    writeFileSync(config, 'a');
    const guard = guarded([config], () => undefined);
    unlinkSync(config);
    expect(guard.finish()).toEqual([{ path: config, kept: 'protected' }]);
  });

  it('refuses the run when a name cannot be held for another reason than its absence', () => {
    // A name longer than the system allows stands for any open that fails for a reason other than absence.
    expect(() => guarded([join(dir, 'x'.repeat(300))], () => undefined)).toThrow(/cannot watch .* during the run/);
  });

  it('a path just made that is gone already trips the guard', () => {
    const seen: string[] = [];
    const guard = guardReplaced((p) => seen.push(p));
    guard.add([join(dir, 'placeholder')], 'protected', true);
    expect(seen).toEqual([join(dir, 'placeholder')]);
    expect(guard.finish()).toEqual([{ path: join(dir, 'placeholder'), kept: 'protected' }]);
  });

  it('compares every path on a timer too, as the kernel may drop events', async () => {
    const config = join(dir, 'config');
    writeFileSync(config, 'a');
    const seen: string[] = [];
    // No watch at all (a directory that cannot be watched; a queue that overflowed): the timer still finds it.
    const guard = guardReplaced((p) => seen.push(p), (() => {
      throw Object.assign(new Error('no watch'), { code: 'ENOSPC' });
    }) as unknown as typeof watch);
    guard.add([config], 'protected');
    unlinkSync(config);
    writeFileSync(config, 'b');
    await settle(400);
    expect(seen).toEqual([config]);
    guard.finish();
  });

  it('on an event naming one watched path compares that one; on any other event, every path in the directory', () => {
    const [a, b] = [join(dir, 'a'), join(dir, 'b')];
    writeFileSync(a, 'a');
    writeFileSync(b, 'b');
    const { fake, emit } = fakeWatch();
    const seen: string[] = [];
    const guard = guardReplaced((p) => seen.push(p), fake);
    guard.add([a, b], 'protected');
    unlinkSync(b);
    writeFileSync(b, 'replaced');
    emit('rename', 'a');
    expect(seen).toEqual([]);
    emit('rename', 'not-watched');
    expect(seen).toEqual([b]);
    guard.finish();
  });

  it('compares every path on an event without a name', () => {
    const config = join(dir, 'config');
    writeFileSync(config, 'a');
    const { fake, emit } = fakeWatch();
    const seen: string[] = [];
    const guard = guardReplaced((p) => seen.push(p), fake);
    guard.add([config], 'protected');
    unlinkSync(config);
    writeFileSync(config, 'b');
    emit('rename', null);
    expect(seen).toEqual([config]);
    guard.finish();
  });

  it('holds only names that exist when the run starts', () => {
    const guard = guarded([join(dir, 'missing')], () => undefined);
    expect(guard.finish()).toEqual([]);
  });

  it('tells which paths were kept hidden and which read-only', () => {
    const [config, secret] = [join(dir, 'config'), join(dir, 'secret')];
    writeFileSync(config, 'a');
    writeFileSync(secret, 'a');
    const guard = guardReplaced(() => undefined);
    guard.add([config], 'protected');
    guard.add([secret], 'hidden');
    unlinkSync(secret);
    writeFileSync(secret, 'new');
    expect(guard.finish()).toEqual([{ path: secret, kept: 'hidden' }]);
  });
});

describe('replacedError', () => {
  it('says what a replacement lifted: a protected file moved aside, a hidden one readable for a moment', () => {
    const e = replacedError([{ path: '/p/.git/config', kept: 'protected' }, { path: '/p/secret', kept: 'hidden' }], true, true);
    expect(e.code).toBe('E_PROTECTED_REPLACED');
    expect(e.exitCode).toBe(125);
    expect(e.message).toBe('/p/.git/config, /p/secret were replaced by a program outside the sandbox during the run; the sandbox was stopped');
    expect(e.detail).toMatch(/moved aside/);
    expect(e.detail).toMatch(/could have read the new one/);
    expect(replacedError([{ path: '/p/secret', kept: 'hidden' }], false, true).detail).toBe('the command had not started');
    expect(replacedError([{ path: '/p/secret', kept: 'hidden' }], true, false).message).toMatch(/found when the command had ended$/);
  });
});

describe('existingProtected', () => {
  it('takes the path descriptors that are not placeholders: pinned directories and protected names, not the entries of sealed directories', () => {
    const plan = {
      pathFds: [
        { fd: 10, path: '/p', readOnly: false },
        { fd: 11, path: '/p/.git/config', readOnly: true },
        { fd: 12, path: '/p/.envrc', readOnly: true, create: true },
        { fd: 13, path: '/home/u/.bashrc', readOnly: true, seal: 'file' },
      ],
    } as unknown as Plan;
    expect(existingProtected(plan)).toEqual(['/p', '/p/.git/config']);
    expect(placeholderPaths(plan)).toEqual({ protected: ['/p/.envrc'], hidden: [] });
  });
});
