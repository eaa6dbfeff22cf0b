/**
 * The placeholder registry on a full disk (a 64 KiB tmpfs this test mounts as
 * XDG_RUNTIME_DIR): the run refuses, and what it says fits the registry (free
 * space in the runtime directory, or point XDG_RUNTIME_DIR elsewhere), not the
 * audit log's fix.
 */
import { mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { registerRun } from '../../src/run/placeholders.js';
import { smallTmpfs, tmpfsUnavailable, type SmallDisk } from '../helpers/tmpfs.js';
import { expectIsolateRejection } from './expect-error.js';

const noTmpfs = tmpfsUnavailable();
if (noTmpfs !== undefined) console.warn(`skipping the full-disk placeholder registry tests: ${noTmpfs}`);

describe.skipIf(noTmpfs !== undefined)('the placeholder registry on a full disk', () => {
  let disk: SmallDisk;
  beforeEach(() => {
    disk = smallTmpfs(64);
  });
  afterEach(() => disk.unmount());

  it('no byte free for the roots lock: the run refuses with the registry\'s own fix, not the audit log\'s', async () => {
    const root = join(disk.dir, 'project');
    mkdirSync(root);
    disk.fill();
    const err = await expectIsolateRejection(registerRun([root], { XDG_RUNTIME_DIR: disk.dir }, { timeoutMs: 2_000 }), 'E_IO');
    expect(`${err.message} ${err.detail ?? ''}`).toMatch(/ENOSPC|no space/i);
    expect(err.message).toMatch(/placeholder/);
    expect(err.fix).not.toMatch(/audit/);
    expect(err.fix).toMatch(/XDG_RUNTIME_DIR/);
  });

  it('room for the lock but not for the run\'s entry: the same refusal, and no empty entry left in the registry', async () => {
    const root = join(disk.dir, 'project');
    mkdirSync(root);
    disk.fill(4096);
    const err = await expectIsolateRejection(registerRun([root], { XDG_RUNTIME_DIR: disk.dir }, { timeoutMs: 2_000 }), 'E_IO');
    expect(`${err.message} ${err.detail ?? ''}`).toMatch(/ENOSPC|no space/i);
    expect(err.message).toMatch(/placeholder registry/);
    expect(err.fix).toMatch(/XDG_RUNTIME_DIR/);
    const rootsDir = join(disk.dir, 'isolate', 'roots');
    const entries = readdirSync(rootsDir).flatMap((slot) => (slot.endsWith('.lock') ? [] : readdirSync(join(rootsDir, slot))));
    expect(entries, 'an entry a later run would read as a run of its own').toEqual([]);
  });
});
