/**
 * run/bundle.ts: the bundle of one --backend oci run is written into a new
 * private directory and removed with everything in it; a directory that is
 * there already is never used. (The runtime itself is exercised by
 * test/integration/oci-backend.test.ts.)
 */
import { lstatSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, readlinkSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { BundlePlan } from '../../src/backends/types.js';
import { configNow, createBundle, removeBundle } from '../../src/run/bundle.js';

describe.skipIf(process.platform !== 'linux')('the bundle of a --backend oci run', () => {
  let base: string;
  let plan: BundlePlan;
  beforeEach(() => {
    base = mkdtempSync(join(tmpdir(), 'isolate-bundle-unit-'));
    const dir = join(base, 'oci-1-a-b-00000000');
    // The runtime is never started here: a path that does not exist stands for it.
    plan = { dir, configFile: 'config.json', config: '{"secret":"value"}\n', dirs: ['rootfs', 'rootfs/usr'], links: [{ path: 'rootfs/bin', target: '/usr/bin' }], sealEntries: [], stateDir: join(dir, 'state'), name: 'oci-1-a-b-00000000', runtime: '/nonexistent/runc' };
  });
  afterEach(() => rmSync(base, { recursive: true, force: true }));

  it('is written into a new directory of mode 0700, config.json 0600, with the rootfs layout', () => {
    createBundle(plan);
    expect(statSync(plan.dir).mode & 0o777).toBe(0o700);
    expect(statSync(join(plan.dir, 'config.json')).mode & 0o777).toBe(0o600);
    expect(readFileSync(join(plan.dir, 'config.json'), 'utf8')).toBe(plan.config);
    expect(statSync(join(plan.dir, 'rootfs/usr')).isDirectory()).toBe(true);
    expect(readlinkSync(join(plan.dir, 'rootfs/bin'))).toBe('/usr/bin');
    expect(removeBundle(plan)).toBeUndefined();
    expect(lstatSync(plan.dir, { throwIfNoEntry: false })).toBeUndefined();
  });

  it('a directory already at its path is refused and left as it is (exit 125, nothing written into it)', () => {
    mkdirSync(plan.dir, { mode: 0o700 });
    writeFileSync(join(plan.dir, 'theirs'), 'x');
    expect(() => createBundle(plan)).toThrow(expect.objectContaining({ code: 'E_SANDBOX_SETUP' }) as unknown as Error);
    expect(readFileSync(join(plan.dir, 'theirs'), 'utf8')).toBe('x');
    expect(lstatSync(join(plan.dir, 'config.json'), { throwIfNoEntry: false })).toBeUndefined();
  });

  it('binds a sealed directory\'s entry the host removed or swapped for a link since the plan from its empty stand-in, never from its path; the others as planned', () => {
    const sealed = join(base, 'sealed');
    const standIns = join(base, 'stand-ins');
    mkdirSync(sealed);
    for (const name of ['kept', 'gone', 'linked']) writeFileSync(join(sealed, name), name);
    mkdirSync(join(sealed, 'dir'));
    const mount = (name: string, source = join(sealed, name)) => ({ destination: join(sealed, name), type: 'bind', source, options: ['rbind', 'ro'] });
    const other = { destination: '/etc/hosts', type: 'bind', source: '/dev/null', options: ['rbind', 'ro'] };
    const names = ['kept', 'gone', 'linked', 'dir'];
    plan = {
      ...plan,
      config: `${JSON.stringify({ mounts: [...names.map((n) => mount(n)), other] }, null, 2)}\n`,
      sealEntries: names.map((n) => ({ path: join(sealed, n), type: n === 'dir' ? ('dir' as const) : ('file' as const) })),
    };
    // Each as listed: the planned text as it is.
    expect(configNow(plan.config, plan.sealEntries, standIns)).toEqual({ text: plan.config, standIns: new Set() });
    rmSync(join(sealed, 'gone'));
    rmSync(join(sealed, 'linked'));
    symlinkSync('/etc/passwd', join(sealed, 'linked'));
    rmSync(join(sealed, 'dir'), { recursive: true });
    symlinkSync('/etc', join(sealed, 'dir'));
    expect(createBundle(plan, standIns)).toEqual(new Set(['gone', 'linked', 'dir'].map((n) => join(sealed, n))));
    const written = JSON.parse(readFileSync(join(plan.dir, 'config.json'), 'utf8')) as { mounts: unknown[] };
    expect(written.mounts).toEqual([mount('kept'), mount('gone', join(standIns, 'file')), mount('linked', join(standIns, 'file')), mount('dir', join(standIns, 'dir')), other]);
    expect(statSync(join(standIns, 'file')).size).toBe(0);
    expect(readdirSync(join(standIns, 'dir'))).toEqual([]);
  });
});
