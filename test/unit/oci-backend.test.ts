/**
 * --backend oci outside its plan (test/golden/oci-backend.test.ts has the
 * plans): auto never picks it, its conformance column enforces every feature,
 * and the leftover search only takes what dead runs of this user left.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { selectBackend } from '../../src/backends/index.js';
import { FEATURES } from '../../src/backends/conformance.js';
import { bundleDirName, staleBundleDirs } from '../../src/host/oci-bundle-dir.js';

describe('--backend oci', () => {
  it('auto never selects it, whatever is installed', () => {
    expect(selectBackend('auto', { platform: 'linux', bwrap: undefined, nsjail: undefined })).toBe('bwrap');
    expect(selectBackend('auto', { platform: 'linux', bwrap: { path: '/usr/bin/bwrap', version: '0.8.0' }, nsjail: undefined })).toBe('bwrap');
    expect(selectBackend('oci', { platform: 'linux', bwrap: undefined, nsjail: undefined })).toBe('oci');
  });

  it('the conformance table has its column, and no feature it cannot enforce', () => {
    for (const f of FEATURES) {
      expect(f.by.oci.how, f.id).not.toBe('none');
      expect(f.by.oci.note.length, f.id).toBeGreaterThan(10);
    }
  });

  it.skipIf(process.platform !== 'linux')('the leftover search takes only bundles of isolates that no longer run, never this one\'s', () => {
    const base = mkdtempSync(join(tmpdir(), 'isolate-oci-unit-'));
    try {
      const own = bundleDirName();
      // A pid no process has (above the kernel's pid_max default), with this process's marks otherwise.
      const dead = own.replace(/^oci-\d+-/, 'oci-4194305-');
      for (const name of [own, dead, 'oci-not-a-run', 'net-1-a-b-00000000']) mkdirSync(join(base, name), { mode: 0o700 });
      mkdirSync(join(base, dead.replace(/.{8}$/, '11111111')), { mode: 0o755 });
      expect(staleBundleDirs(base)).toEqual([join(base, dead)]);
    } finally {
      rmSync(base, { recursive: true, force: true });
    }
  });
});
