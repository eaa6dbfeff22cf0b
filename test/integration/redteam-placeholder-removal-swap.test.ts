/**
 * Red team: the last run out of a directory removes the placeholders runs
 * made there (run/placeholders.ts), while a sandbox still running in the
 * directory above swaps the placeholders' directory for a symbolic link to
 * another directory, in a tight loop of renames. A run whose profile
 * protects nothing holds no registration, so nothing delays the removal
 * until it ends; `ln -s ~/other l; mv sub sub.real; mv l sub; ...` over and
 * over. The removal checked that the directory's path led to itself, then
 * looked at the placeholder and removed it (or moved it to the spare
 * placeholders) by its path: between the two the path led through the
 * link, and an empty read-only file of the same name there (another
 * project's placeholder) was taken away from the host, outside every
 * writable path.
 *
 * The swapping sandbox is played by a process on the host doing what it
 * would (renames in the directory it may write); the run ending is played
 * by the registry's own registration and release, many times over.
 * Judged by the file outside the project afterwards.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { registerRun } from '../../src/run/placeholders.js';
import { removeTestTree, TEMP_PREFIX } from '../helpers/isolate.js';

/** Renames `sub` away and a link to `victim` in its place, and back, until `stop` exists. */
const SWAPPER = `
const fs = require('node:fs');
const [sub, real, lnk, stop] = process.argv.slice(1);
while (!fs.existsSync(stop)) {
  for (let i = 0; i < 200; i++) {
    try { fs.renameSync(sub, real); fs.renameSync(lnk, sub); fs.renameSync(sub, lnk); fs.renameSync(real, sub); } catch {}
  }
}
try { fs.renameSync(real, sub); } catch {}
`;

/** How long the runs go on when nothing is taken away (on the code this test was written against, the first few dozen runs did). */
const BUDGET_MS = 4_000;

describe('red team: placeholders removed while a sandbox above swaps their directory for a link', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), TEMP_PREFIX));
  });
  afterEach(() => removeTestTree(dir));

  it('the last run out never removes or moves a file the link leads to', async () => {
    const project = join(dir, 'project');
    const sub = join(project, 'sub');
    const other = join(dir, 'other-project');
    mkdirSync(sub, { recursive: true });
    mkdirSync(other);
    // Another project's placeholder: what a removal through the link would take for one of this run's.
    const victim = join(other, '.envrc');
    writeFileSync(victim, '', { mode: 0o444 });
    const runtime = join(dir, 'runtime');
    mkdirSync(runtime, { mode: 0o700 });
    const env = { XDG_RUNTIME_DIR: runtime };
    const stop = join(dir, 'stop');
    const lnk = join(project, 'lnk');
    symlinkSync(other, lnk);
    const swapper = spawn(process.execPath, ['-e', SWAPPER, sub, join(project, 'sub.real'), lnk, stop], { stdio: 'ignore' });
    const ended = new Promise((resolve) => swapper.on('exit', resolve));
    let runs = 0;
    try {
      const start = Date.now();
      while (Date.now() - start < BUDGET_MS && existsSync(victim)) {
        const registration = await registerRun([sub], env);
        const placeholder = join(sub, '.envrc');
        try {
          writeFileSync(placeholder, '', { mode: 0o444, flag: 'wx' }); // as a run makes it (never through the link: the file there exists)
        } catch {
          // the directory was swapped away at this moment: this run made no placeholder
        }
        await registration.update([placeholder]);
        await registration.release();
        runs++;
      }
    } finally {
      writeFileSync(stop, '');
      await ended;
    }
    expect(existsSync(victim), `after ${runs} runs, the file in ${other} was taken (left there: ${readdirSync(other).join(', ')})`).toBe(true);
    expect(runs).toBeGreaterThan(10);
  }, 60_000);
});
