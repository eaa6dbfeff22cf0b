import { mkdtempSync, renameSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { existingProtected, guardProtected, placeholderPaths, type ProtectedGuard } from '../../src/run/protected-guard.js';
import type { Plan } from '../../src/backends/types.js';

/** A guard watching `paths` from now on. */
function guarded(paths: string[], onReplaced: (path: string) => void): ProtectedGuard {
  const guard = guardProtected(onReplaced);
  guard.add(paths);
  return guard;
}

const settle = (ms = 200): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('guardProtected', () => {
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
    expect(guard.finish()).toEqual([config]);
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
    expect(guard.finish()).toEqual([config]);
  });

  it('finds a name that was removed', () => {
    const config = join(dir, 'config');
    writeFileSync(config, 'a');
    const guard = guarded([config], () => undefined);
    unlinkSync(config);
    expect(guard.finish()).toEqual([config]);
  });

  it('refuses the run when a name cannot be held for another reason than its absence', () => {
    // A name longer than the system allows stands for any open that fails for a reason other than absence.
    expect(() => guarded([join(dir, 'x'.repeat(300))], () => undefined)).toThrow(/cannot watch the protected name/);
  });

  it('holds only names that exist when the run starts', () => {
    const guard = guarded([join(dir, 'missing')], () => undefined);
    expect(guard.finish()).toEqual([]);
  });
});

describe('existingProtected', () => {
  it('takes read-only path descriptors that are not placeholders', () => {
    const plan = {
      pathFds: [
        { fd: 10, path: '/p', readOnly: false },
        { fd: 11, path: '/p/.git/config', readOnly: true },
        { fd: 12, path: '/p/.envrc', readOnly: true, create: true },
      ],
    } as unknown as Plan;
    expect(existingProtected(plan)).toEqual(['/p/.git/config']);
    expect(placeholderPaths(plan)).toEqual(['/p/.envrc']);
  });
});
