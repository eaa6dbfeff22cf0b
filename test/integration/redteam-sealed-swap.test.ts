/**
 * Red team: an entry of a sealed directory (backends/seal.ts: `dev`'s home,
 * read-only with ~/.ssh hidden in it) swapped on the host for a symbolic link
 * to a hidden path between the listing (host facts, when the run is planned)
 * and the launcher's mount. Another sandbox of the same user with a writable
 * home (which hides ~/.ssh from itself) can do that in a loop:
 * `ln -s ~/.ssh/id_ed25519 ~/.bashrc.new && mv -T ~/.bashrc.new ~/.bashrc`.
 * A bind of the entry by its path followed the link, and the read-only sandbox
 * printed the private key. The same for a directory swapped for a link to a
 * hidden directory.
 *
 * Played without a race: the run is planned (the listing taken), the host
 * swaps, then the plan is executed; and the swap once more while the launcher
 * already holds its descriptors and waits (beforeStart). Judged by what the
 * sandbox prints.
 */
import { existsSync, mkdirSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import * as api from '../../src/index.js';
import { execute } from '../../src/run/execute.js';
import { ownUserCases } from '../helpers/backends.js';
import { giveTo, tempDirFor, DEFAULT_PATH } from '../helpers/isolate.js';

const KEY = 'RT-SEALED-SWAP-PRIVATE-KEY';

const cases = ownUserCases('a sealed entry swapped for a link');

describe.each(cases)('red team: a sealed directory\'s entry swapped for a link before the start ($label)', ({ runner, backend, backendEnv }) => {
  let dir: string;
  let cleanup: () => void;
  let home: string;
  beforeEach(() => {
    ({ dir, cleanup } = tempDirFor(runner));
    home = join(dir, 'home');
    mkdirSync(join(home, 'project'), { recursive: true });
    mkdirSync(join(home, '.ssh'));
    writeFileSync(join(home, '.ssh', 'id_ed25519'), `${KEY}\n`, { mode: 0o600 });
    writeFileSync(join(home, '.bashrc'), 'RT-BASHRC\n');
    writeFileSync(join(home, 'gone.txt'), 'RT-GONE\n');
    mkdirSync(join(home, 'notes'));
    writeFileSync(join(home, 'notes', 'todo.txt'), 'RT-NOTES\n');
    giveTo(runner, dir);
  });
  afterEach(() => cleanup());

  const planned = (script: string): Promise<api.PlanResult> =>
    api.plan(['sh', '-c', script], {
      profile: 'dev',
      backend,
      callerCwd: join(home, 'project'),
      callerEnv: { HOME: home, PATH: DEFAULT_PATH, XDG_STATE_HOME: join(dir, 'state'), ...backendEnv },
    });

  /** The host's swap: `~/.bashrc` a link to the key, `~/notes` a link to `~/.ssh` (the originals kept aside). */
  const swap = (): void => {
    renameSync(join(home, '.bashrc'), join(home, '.bashrc.real'));
    symlinkSync(join(home, '.ssh', 'id_ed25519'), join(home, '.bashrc'));
    renameSync(join(home, 'notes'), join(home, 'notes.real'));
    symlinkSync(join(home, '.ssh'), join(home, 'notes'));
  };

  const SCRIPT = 'echo "rc=$(cat ~/.bashrc 2>&1)"; echo "notes=$(cat ~/notes/id_ed25519 ~/notes/todo.txt 2>&1)"; echo "ls=$(ls -A ~/notes 2>&1)"; echo done';

  it('swapped (or removed) after the listing, before the start: the sandbox never reads the key; the entries show empty', async () => {
    const p = await planned(`${SCRIPT}; [ -f ~/gone.txt ] && [ ! -s ~/gone.txt ] && echo gone=empty`);
    swap();
    rmSync(join(home, 'gone.txt'));
    const r = await execute(p.plan, { stdio: 'capture' });
    const out = `${r.stdout ?? ''}${r.stderr ?? ''}`;
    expect(out, 'the hidden key, read through a sealed entry swapped for a link').not.toContain(KEY);
    expect(r.exitCode, out).toBe(0);
    // The fix's path: each entry not as listed is an empty stand-in of the listed type, not the link's target.
    expect(r.stdout).toContain('rc=\n');
    expect(r.stdout).toContain('ls=\n');
    expect(r.stdout).toContain('done');
    expect(r.stdout, 'an entry removed since the listing').toContain('gone=empty');
  }, 90_000);

  /**
   * bwrap binds the very file and directory run/ opened (where they are now: renamed aside); a runtime that binds
   * by path (oci, nsjail) follows the link, and run/'s check of the sandbox before "go" (Plan.checkPathFds) refuses it.
   */
  it('swapped once the launcher holds its descriptors, before it mounts: never the key (bwrap shows the entries opened; by path, the run is refused)', async () => {
    const p = await planned(SCRIPT);
    const r = await execute(p.plan, { stdio: 'capture', beforeStart: async () => swap() });
    const out = `${r.stdout ?? ''}${r.stderr ?? ''}${r.error?.message ?? ''}`;
    expect(out, 'the hidden key, read through a sealed entry swapped for a link').not.toContain(KEY);
    expect(existsSync(join(home, '.bashrc.real'))).toBe(true);
    if (backend === 'bwrap') {
      expect(r.exitCode, out).toBe(0);
      expect(r.stdout).toContain('rc=RT-BASHRC');
      expect(r.stdout).toContain('RT-NOTES');
    } else {
      expect(r.exitCode, out).toBe(125);
      expect(r.started).toBe(false);
      expect(r.error?.message).toMatch(/changed while the sandbox was being set up/);
    }
  }, 90_000);
});
