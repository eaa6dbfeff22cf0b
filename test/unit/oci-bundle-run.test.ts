/**
 * run/bundle.ts: the bundle of one --backend oci run is written into a new
 * private directory and removed with everything in it; a directory that is
 * there already is never used. (The runtime itself is exercised by
 * test/integration/oci-backend.test.ts.)
 */
import { lstatSync, mkdirSync, mkdtempSync, readFileSync, readlinkSync, rmSync, statSync, writeFileSync } from 'node:fs';
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
    plan = { dir, configFile: 'config.json', config: '{"secret":"value"}\n', dirs: ['rootfs', 'rootfs/usr'], links: [{ path: 'rootfs/bin', target: '/usr/bin' }], optionalSources: [], stateDir: join(dir, 'state'), name: 'oci-1-a-b-00000000', runtime: '/nonexistent/runc' };
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

  it('leaves out the bind of a sealed directory\'s entry the host removed since the plan, and keeps the others', () => {
    const sealed = join(base, 'sealed');
    mkdirSync(sealed);
    for (const name of ['kept', 'gone']) writeFileSync(join(sealed, name), name);
    const mount = (name: string) => ({ destination: join(sealed, name), type: 'bind', source: join(sealed, name), options: ['rbind', 'ro'] });
    const other = { destination: '/etc/hosts', type: 'bind', source: '/dev/null', options: ['rbind', 'ro'] };
    plan = { ...plan, config: `${JSON.stringify({ mounts: [mount('kept'), mount('gone'), other] }, null, 2)}\n`, optionalSources: [join(sealed, 'kept'), join(sealed, 'gone')] };
    // Nothing gone: the planned text as it is.
    expect(configNow(plan.config, plan.optionalSources)).toBe(plan.config);
    rmSync(join(sealed, 'gone'));
    createBundle(plan);
    const written = JSON.parse(readFileSync(join(plan.dir, 'config.json'), 'utf8')) as { mounts: unknown[] };
    expect(written.mounts).toEqual([mount('kept'), other]);
  });
});
