/**
 * Red team: the launcher isolate starts on the host. bwrap (and nsjail) is
 * found through ISOLATE_BWRAP (ISOLATE_NSJAIL) or on PATH; a build of it in
 * the project the sandbox may write (a checkout of bubblewrap, a `bin/` on
 * PATH) was replaced by the command of one run, and the next run started
 * the replacement on the host, outside any sandbox, as the user.
 *
 * Written as a failing finding first; it now guards the refusal
 * (host/launcher-check.ts).
 */
import { chmodSync, copyFileSync, existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { giveTo, isolate, projectSite, runners } from '../helpers/isolate.js';
import { findBwrap } from '../../src/host/facts.js';

const BWRAP = findBwrap({ PATH: process.env['PATH'] ?? '' });
if (BWRAP === undefined) console.warn('red team: the launcher in a writable path skipped: no bwrap on PATH to copy into the project (install bubblewrap)');

describe.skipIf(BWRAP === undefined).each(runners())('red team: the launcher in a writable path ($label)', (runner) => {
  let dir: string;
  let project: string;
  let env: Record<string, string>;
  let cleanup: () => void;
  beforeEach(() => {
    ({ dir, project, env, cleanup } = projectSite(runner, 'isolate-it-rtb-'));
    mkdirSync(join(project, 'build'));
    copyFileSync(BWRAP as string, join(project, 'build', 'bwrap'));
    chmodSync(join(project, 'build', 'bwrap'), 0o755);
    giveTo(runner, dir);
    env = { ...env, ISOLATE_BWRAP: join(project, 'build', 'bwrap') };
  });
  afterEach(() => cleanup());

  it('a bwrap inside the writable project is refused before it is read or started, so a replacement never runs on the host', () => {
    const marker = join(dir, 'ran-on-host');
    const replace = `printf '#!/bin/sh\\ntouch ${marker}\\nexec ${BWRAP as string} "$@"\\n' > build/bwrap.new && chmod 755 build/bwrap.new && mv build/bwrap.new build/bwrap; echo replaced`;
    const first = isolate(runner, ['run', '--backend', 'bwrap', '--', 'sh', '-c', replace], { cwd: project, env });
    const second = isolate(runner, ['run', '--backend', 'bwrap', '--', 'true'], { cwd: project, env });
    expect(existsSync(marker), `the next run started the replaced bwrap on the host: ${first.stdout} ${second.stderr}`).toBe(false);
    expect(first.status, first.stderr).toBe(125);
    expect(first.stderr).toContain(`bwrap at ${join(project, 'build', 'bwrap')} is inside a path the sandbox can write`);
  });

  it('a bwrap in the project is refused also under a profile that makes the project read-only: an earlier run could have replaced it', () => {
    const marker = join(dir, 'ran-on-host');
    const replace = `printf '#!/bin/sh\ntouch ${marker}\nexec ${BWRAP as string} "$@"\n' > build/bwrap.new && chmod 755 build/bwrap.new && mv build/bwrap.new build/bwrap; echo replaced`;
    // The earlier run: the default profile, started with the system's bwrap.
    const { ISOLATE_BWRAP: _project, ...system } = env;
    const first = isolate(runner, ['run', '--backend', 'bwrap', '--', 'sh', '-c', replace], { cwd: project, env: system });
    expect(first.stdout, first.stderr).toContain('replaced');
    const second = isolate(runner, ['run', '--backend', 'bwrap', '-p', 'strict', '--', 'true'], { cwd: project, env });
    expect(existsSync(marker), `the next run started the replaced bwrap on the host: ${second.stderr}`).toBe(false);
    expect(second.status, second.stderr).toBe(125);
    expect(second.stderr).toContain(`bwrap at ${join(project, 'build', 'bwrap')} is inside a path the sandbox can write`);
  });
});
