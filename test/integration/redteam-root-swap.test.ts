/**
 * Red team: a directory the profile binds by its path (the writable working
 * directory, a path given with --allow-read or --allow-write) swapped on the
 * host for a symbolic link to a hidden path after run/ has opened and
 * checked its descriptors and before the launcher mounts. Another sandbox of
 * the same user whose working directory is the parent (so the parent is
 * writable to it, and the hidden ~/.ssh still hidden) can do that in a loop,
 * atomically: `ln -s ~/.ssh l && mv -T l ~/project`, or renameat2's
 * RENAME_EXCHANGE, timed by watching the placeholders appear. A bind by path
 * followed the link: the run's writable project was the host's ~/.ssh, the
 * command printed the private key and wrote ~/.ssh/authorized_keys, and
 * bwrap made its mount points for the protected names in ~/.ssh.
 *
 * Played without a race: the swap is made in beforeStart, once the launcher
 * holds its descriptors and before it mounts. Judged by what the sandbox
 * printed and by what is in ~/.ssh on the host afterwards.
 */
import { mkdirSync, readdirSync, renameSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import * as api from '../../src/index.js';
import { execute } from '../../src/run/execute.js';
import { ownUserCases } from '../helpers/backends.js';
import { giveTo, tempDirFor, DEFAULT_PATH } from '../helpers/isolate.js';

const KEY = 'RT-ROOT-SWAP-PRIVATE-KEY';

const cases = ownUserCases('a bound directory swapped for a link');

describe.each(cases)('red team: a directory the profile binds, swapped for a link once the launcher holds its descriptors ($label)', ({ runner, backend, backendEnv }) => {
  let dir: string;
  let cleanup: () => void;
  let home: string;
  beforeEach(() => {
    ({ dir, cleanup } = tempDirFor(runner));
    home = join(dir, 'home');
    mkdirSync(join(home, 'project'), { recursive: true });
    mkdirSync(join(home, 'docs'));
    mkdirSync(join(home, '.ssh'));
    writeFileSync(join(home, '.ssh', 'id_ed25519'), `${KEY}\n`, { mode: 0o600 });
    writeFileSync(join(home, 'project', 'a.txt'), 'RT-PROJECT\n');
    writeFileSync(join(home, 'docs', 'b.txt'), 'RT-DOCS\n');
    giveTo(runner, dir);
  });
  afterEach(() => cleanup());

  /** `default` hides the home; the project is writable and ~/docs readable, each bound by its own rule. */
  const planned = (script: string): Promise<api.PlanResult> =>
    api.plan(['sh', '-c', script], {
      profile: 'default',
      backend,
      allowRead: [join(home, 'docs')],
      callerCwd: join(home, 'project'),
      callerEnv: { HOME: home, PATH: DEFAULT_PATH, XDG_STATE_HOME: join(dir, 'state'), ...backendEnv },
    });

  /** The host's swap: a link to ~/.ssh in place of the directory (the original kept aside). */
  const swap = (name: string): void => {
    renameSync(join(home, name), join(home, `${name}.real`));
    symlinkSync(join(home, '.ssh'), join(home, name));
  };

  const SCRIPT = `cat ${'$HOME'}/project/id_ed25519 ${'$HOME'}/docs/id_ed25519 2>&1; cat ${'$HOME'}/project/a.txt ${'$HOME'}/docs/b.txt 2>&1; echo pwned > ${'$HOME'}/project/authorized_keys 2>&1; echo done`;

  /**
   * Swapped before the start: run/ finds the link when it opens the protected names in the project, and refuses.
   * It made their placeholders first, through the link: an empty `.git` was left in ~/.ssh (or in any directory a
   * link leads to, where git then stops: "invalid gitfile format").
   */
  it('project swapped before the start: refused, and no placeholder made where the link leads', async () => {
    const p = await planned(SCRIPT);
    swap('project');
    const r = await execute(p.plan, { stdio: 'capture' }).catch((e: unknown) => ({ exitCode: 125, started: false, error: e as Error, stdout: '', stderr: '' }));
    const out = `${r.stdout ?? ''}${r.stderr ?? ''}${r.error?.message ?? ''}`;
    expect(out).not.toContain(KEY);
    expect(r.exitCode, out).toBe(125);
    expect(r.error?.message).toMatch(/symbolic link/);
    expect(readdirSync(join(home, '.ssh')), 'entries made in the hidden ~/.ssh on the host').toEqual(['id_ed25519']);
  }, 90_000);

  it.each(['project', 'docs'])('%s: never the key, nothing written in ~/.ssh; bwrap binds the directory it opened', async (name) => {
    const p = await planned(SCRIPT);
    const r = await execute(p.plan, { stdio: 'capture', beforeStart: async () => swap(name) });
    const out = `${r.stdout ?? ''}${r.stderr ?? ''}${r.error?.message ?? ''}`;
    expect(out, 'the hidden key, read through a bound directory swapped for a link').not.toContain(KEY);
    expect(readdirSync(join(home, '.ssh')), 'entries made in the hidden ~/.ssh on the host').toEqual(['id_ed25519']);
    if (backend === 'bwrap') {
      expect(r.exitCode, out).toBe(0);
      expect(r.stdout).toContain('RT-PROJECT');
      expect(r.stdout).toContain('RT-DOCS');
      expect(r.stdout).toContain('done');
    } else {
      // A runtime that binds by path follows the link; run/'s check of the sandbox before "go" (Plan.checkPathFds) refuses it.
      expect(r.exitCode, out).toBe(125);
      expect(r.started).toBe(false);
    }
  }, 90_000);
});
