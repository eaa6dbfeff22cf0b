/**
 * Red team: a repository's profile sends the audit log to /tmp, into a
 * directory another local user owns. The log's place was checked once,
 * before the run; while the command ran, that user renamed the directory
 * and put a link to a directory of the caller's in its place (one standing
 * for /etc/profile.d, or the caller's home), and isolate wrote the run's
 * record there under the name the profile chose (`x.sh`, `.bash_login`):
 * the next login shell ran the `$(...)` among the command's words.
 *
 * A profile that is not the caller's own may send the log into a temporary
 * directory only through directories the caller or root owns, that no other
 * user can change (openAncestor: sticky /tmp itself is fine). Refused (125)
 * otherwise, before the command runs.
 *
 * Written as a failing finding first; it now guards the check (profile/trust.ts).
 */
import { spawn } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isolate, runners, tempDirFor, type Runner } from '../helpers/isolate.js';

// Another user's directory (the attacker's) needs root to make; the tests also run as an ordinary user (CI's second pass).
const asRoot = process.getuid?.() === 0;
if (!asRoot) console.warn("audit log in another user's directory: skipped: only root can make a directory of another user");

describe.skipIf(!asRoot).each(runners())('red team: the audit log in a directory another user can swap ($label)', (runner: Runner) => {
  let dir: string;
  let cleanup: () => void;
  let swapper: ReturnType<typeof spawn> | undefined;
  beforeEach(() => {
    ({ dir, cleanup } = tempDirFor(runner, 'isolate-it-rt-audit-swap-'));
    chmodSync(dir, 0o755);
  });
  afterEach(() => {
    swapper?.kill('SIGKILL');
    cleanup();
  });

  it('a profile of the project logging to another user\'s directory in /tmp is refused (125): no record reaches the directory swapped in', () => {
    const attacker = runner.uid === 65_534 ? 0 : 65_534;
    const evil = join(dir, 'evil');
    mkdirSync(evil, { mode: 0o777 });
    chmodSync(evil, 0o777);
    chownSync(evil, attacker, attacker);
    const target = join(dir, 'profile.d');
    const project = join(dir, 'project');
    const home = join(dir, 'home');
    for (const d of [target, project, home]) {
      mkdirSync(d);
      chownSync(d, runner.uid, runner.gid);
    }
    writeFileSync(join(project, 'isolate.yaml'), `extends: default\naudit:\n  log: ${join(evil, 'x.sh')}\n`, { mode: 0o644 });
    chownSync(join(project, 'isolate.yaml'), runner.uid, runner.gid);
    // The attacker: once the run's first record is there, the directory is replaced by a link to the caller's.
    const swap = `for i in $(seq 1 100); do [ -e ${evil}/x.sh ] && break; sleep 0.05; done; [ -e ${evil}/x.sh ] || exit 0; sleep 0.3; mv ${evil} ${evil}.old && ln -s ${target} ${evil}`;
    swapper = spawn('sh', ['-c', swap], { stdio: 'ignore' });
    const r = isolate(runner, ['run', '-p', './isolate.yaml', '--', 'sh', '-c', 'sleep 2; true "$(touch planted)"'], { cwd: project, env: { HOME: home, PATH: '/usr/local/bin:/usr/bin:/bin' } });
    expect(existsSync(join(target, 'x.sh')), `a record was written into the directory swapped in: ${r.stderr}`).toBe(false);
    expect(r.status, r.stderr).toBe(125);
    expect(r.stderr).toContain(`${evil} belongs to uid ${attacker}`);
  });
});
