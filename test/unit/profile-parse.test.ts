/** Reading and parsing one profile file (src/profile/parse.ts), through the loader. */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadMergedProfile, type LoadContext } from '../../src/profile/load.js';
import { MAX_PROFILE_BYTES } from '../../src/profile/parse.js';
import { expectIsolateRejection } from './expect-error.js';

let dir: string;
beforeEach(() => {
  dir = realpathSync(mkdtempSync(join(tmpdir(), 'isolate-parse-')));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function write(name: string, text: string | Buffer): string {
  const file = join(dir, name);
  writeFileSync(file, text);
  return file;
}

const ctx = (): LoadContext => ({ callerCwd: dir, env: {} });

describe('reading a profile file', () => {
  it('extends: /dev/zero is refused at once as not a regular file, naming the extending file', async () => {
    const child = write('child.yaml', 'extends: /dev/zero\n');
    const err = await expectIsolateRejection(loadMergedProfile(child, ctx()), 'E_PROFILE_NOT_FOUND');
    expect(err.message).toBe(`cannot read profile /dev/zero (extends in ${child}): not a regular file`);
  });

  it('a named pipe is refused without blocking on it', async () => {
    const fifo = join(dir, 'pipe.yaml');
    execFileSync('mkfifo', [fifo]);
    const err = await expectIsolateRejection(loadMergedProfile(fifo, ctx()), 'E_PROFILE_NOT_FOUND');
    expect(err.message).toContain(`${fifo}: not a regular file`);
  });

  it('a directory is refused, naming the extending file', async () => {
    mkdirSync(join(dir, 'sub'));
    const child = write('child.yaml', 'extends: ./sub/\n');
    const err = await expectIsolateRejection(loadMergedProfile(child, ctx()), 'E_PROFILE_NOT_FOUND');
    expect(err.message).toContain(`(extends in ${child})`);
  });

  it(`a file larger than ${MAX_PROFILE_BYTES} bytes is refused; one of exactly that size is read`, async () => {
    const filler = (n: number): string => `description: ${'x'.repeat(n - 'description: \n'.length)}\n`;
    const big = write('big.yaml', filler(MAX_PROFILE_BYTES + 1));
    const err = await expectIsolateRejection(loadMergedProfile(big, ctx()), 'E_PROFILE_NOT_FOUND');
    expect(err.message).toContain(`${big}: larger than 1024 KiB`);
    const fits = write('fits.yaml', filler(MAX_PROFILE_BYTES));
    expect((await loadMergedProfile(fits, ctx())).description).toHaveLength(MAX_PROFILE_BYTES - 'description: \n'.length);
  });

  it('a leading byte-order mark is ignored in YAML and JSON (editors on Windows write one)', async () => {
    const y = write('bom.yaml', '\uFEFFdescription: yaml with bom\n');
    const j = write('bom.json', '\uFEFF{"description": "json with bom"}');
    expect((await loadMergedProfile(y, ctx())).description).toBe('yaml with bom');
    expect((await loadMergedProfile(j, ctx())).description).toBe('json with bom');
  });
});
