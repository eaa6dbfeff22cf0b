/** psql's version-named start-up files beside a protected ~/.psqlrc (host/versioned-rc.ts). */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { versionedRcPaths } from '../../src/host/versioned-rc.js';

describe("psql's version-named start-up files", () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  it('are the .psqlrc-<…> names that exist beside a protected .psqlrc, and nothing else', () => {
    const home = mkdtempSync(join(tmpdir(), 'isolate-unit-psqlrc-'));
    dirs.push(home);
    for (const name of ['.psqlrc-16', '.psqlrc-16.2', '.psqlrc-9.6', '.psqlrc', '.psqlrcx', 'psqlrc-16', '.bashrc']) writeFileSync(join(home, name), '');
    mkdirSync(join(home, '.psqlrc-17'));
    expect(versionedRcPaths([join(home, '.psqlrc')]).sort()).toEqual(['.psqlrc-16', '.psqlrc-16.2', '.psqlrc-17', '.psqlrc-9.6'].map((n) => join(home, n)));
    expect(versionedRcPaths([join(home, '.bashrc'), join(home, 'missing', '.psqlrc')])).toEqual([]);
  });
});
