/**
 * Red team: `dev` started with HOME unset (`env -i`, a service, `sudo`
 * without -E). The profile's `~` is then the home the password database
 * gives (as for any program), and the sandbox reads it; the search for the
 * git configurations it holds must look at that same home, or every token
 * in `~/.gitconfig` and in the other repositories there is shown as it is.
 *
 * Through the Node API, whose caller environment can lack HOME while this
 * process's (what the password-database lookup reads first) names a temp
 * home. Judged by what the command could print.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { run } from '../../src/index.js';

describe('red team: dev with HOME unset', () => {
  let home: string;
  let savedHome: string | undefined;
  const repoToken = `ghp_${randomBytes(12).toString('hex')}`;
  const globalToken = `ghs_${randomBytes(12).toString('hex')}`;
  beforeEach(() => {
    home = realpathSync(mkdtempSync(join(tmpdir(), 'isolate-it-nohomevar-')));
    mkdirSync(join(home, 'project'));
    mkdirSync(join(home, 'src', 'other', '.git'), { recursive: true });
    writeFileSync(join(home, 'src', 'other', '.git', 'config'), `[remote "origin"]\n\turl = https://me:${repoToken}@github.com/me/other.git\n`);
    writeFileSync(join(home, '.gitconfig'), `[http]\n\textraHeader = AUTHORIZATION: bearer ${globalToken}\n[user]\n\tname = t\n`);
    savedHome = process.env['HOME'];
    process.env['HOME'] = home;
  });
  afterEach(() => {
    if (savedHome === undefined) delete process.env['HOME'];
    else process.env['HOME'] = savedHome;
    rmSync(home, { recursive: true, force: true });
  });

  it('a token in another repository of the home, or in ~/.gitconfig, is not printed', async () => {
    const script = 'cat "$0/src/other/.git/config" "$0/.gitconfig"';
    const report = await run(['sh', '-c', script, home], { profile: 'dev', backend: 'bwrap', callerCwd: join(home, 'project'), callerEnv: { PATH: '/usr/local/bin:/usr/bin:/bin', LANG: 'C.UTF-8', XDG_STATE_HOME: join(home, '.state') }, audit: { enabled: false } });
    const out = (report.stdout ?? '') + (report.stderr ?? '');
    expect(report.error, out).toBeNull();
    expect(out).toContain('github.com/me/other.git');
    expect(out.includes(repoToken), 'the other repository\'s token').toBe(false);
    expect(out.includes(globalToken), 'the token in ~/.gitconfig').toBe(false);
  });
});
