/**
 * Red team: `isolate export --out` inside a directory another user can
 * change. Whoever may rename entries of the directory that holds the output
 * can swap the output directory for a symbolic link after isolate made it
 * and before it writes config.json and rootfs/ there, and have a root export
 * create files in a directory of their choosing. Such a directory is refused
 * (exit 125, nothing written); a sticky one (as /tmp) and a path through a
 * symbolic link to a safe directory are fine.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readdirSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { giveTo, isolate, projectSite, runners } from '../helpers/isolate.js';

const skipReason = process.platform !== 'linux' ? `OCI export needs Linux (this is ${process.platform})` : undefined;
if (skipReason !== undefined) console.warn(`export --out tests skipped: ${skipReason}`);

describe.skipIf(skipReason !== undefined).each(runners().map((runner) => ({ label: runner.label, runner })))('export --out, the directories on the way ($label)', ({ runner }) => {
  const cleanups: (() => void)[] = [];
  afterEach(() => {
    for (const c of cleanups.splice(0)) c();
  });

  it('in a directory others can write (not sticky): refused with the reason, nothing written; sticky or through a symlink to a safe directory: written', () => {
    const site = projectSite(runner, 'isolate-it-export-out-');
    cleanups.push(site.cleanup);
    const open = join(site.dir, 'open');
    const sticky = join(site.dir, 'sticky');
    const safe = join(site.dir, 'safe');
    for (const d of [open, sticky, safe]) mkdirSync(d);
    symlinkSync(safe, join(site.dir, 'via-link'));
    giveTo(runner, site.dir);
    chmodSync(open, 0o777);
    chmodSync(sticky, 0o1777);
    const exportTo = (out: string) => isolate(runner, ['export', '--format', 'oci', '--out', out, '--', 'true'], { cwd: site.project, env: site.env });

    const refused = exportTo(join(open, 'bundle'));
    expect(refused.status, refused.stderr).toBe(125);
    expect(refused.stderr).toContain(`${open} can be written by other users and is not sticky`);
    expect(readdirSync(open)).toEqual([]);
    // The same below it: a directory of the caller's inside the open one can be renamed away too.
    mkdirSync(join(open, 'mine'));
    giveTo(runner, join(open, 'mine'));
    expect(exportTo(join(open, 'mine', 'bundle')).status).toBe(125);
    expect(readdirSync(join(open, 'mine'))).toEqual([]);

    const inSticky = exportTo(join(sticky, 'bundle'));
    expect(inSticky.status, inSticky.stderr).toBe(0);
    expect(existsSync(join(sticky, 'bundle', 'config.json'))).toBe(true);
    const viaLink = exportTo(join(site.dir, 'via-link', 'bundle'));
    expect(viaLink.status, viaLink.stderr).toBe(0);
    expect(existsSync(join(safe, 'bundle', 'config.json'))).toBe(true);
    expect(spawnSync('stat', ['-c', '%a', join(safe, 'bundle')], { encoding: 'utf8' }).stdout.trim()).toBe('700');
  });
});
