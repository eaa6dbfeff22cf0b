/**
 * Unit files share their worker with the files before them unless they are
 * listed in UNIT_ISOLATED: every file that mocks a module or changes the
 * process is listed, so that no other file sees what it changed.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { CHANGES_THE_WORKER, UNIT_ISOLATED } from '../helpers/unit-isolated.js';

const REPO = fileURLToPath(new URL('../..', import.meta.url));

const files = (dir: string): string[] =>
  readdirSync(join(REPO, dir), { recursive: true, encoding: 'utf8' })
    .filter((name) => name.endsWith('.test.ts'))
    .map((name) => `${dir}/${name.split('\\').join('/')}`);

describe('the unit files that run in a worker of their own', () => {
  it('are every file that mocks a module or changes the process (this file excepted: it only names them)', () => {
    const changing = [...files('test/unit'), ...files('test/golden')].filter(
      (file) => file !== 'test/unit/unit-isolated.test.ts' && CHANGES_THE_WORKER.test(readFileSync(join(REPO, file), 'utf8')),
    );
    expect(changing.length).toBeGreaterThan(0); // the search finds them at all
    expect(changing.filter((file) => !UNIT_ISOLATED.includes(file))).toEqual([]);
  });

  it('name files that exist', () => {
    const all = new Set(files('test/unit'));
    expect(UNIT_ISOLATED.filter((file) => !all.has(file))).toEqual([]);
  });
});
