/**
 * Where a profile that is not one of the caller's own (one that came with a
 * repository) may send the audit log. Its records hold the commands' words,
 * and a shell that sourced the file would run a `$(...)` among them: not a
 * hidden name in the home (~/.bash_login), nor outside the home and the
 * temporary directories, where the system keeps start-up files
 * (/etc/profile.d/*.sh, sourced by every login shell: a run by root in a
 * repository it cloned), nor a temporary directory another user can swap
 * for a link while the command runs. Judged on the rule alone: a test must
 * not write under /etc.
 */
import { chmodSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { checkForeignAuditLog } from '../../src/profile/trust.js';
import { expectIsolateError } from './expect-error.js';

const HOME = '/home/user';
const env = { HOME, XDG_CONFIG_HOME: `${HOME}/.config`, XDG_STATE_HOME: `${HOME}/.local/state` };
const fromRepository = { 'audit.log': '/home/user/src/repo/isolate.yaml: audit.log' };
const fromOwn = { 'audit.log': '/home/user/.config/isolate/profiles/mine.yaml: audit.log' };

describe("a repository profile's audit.log", () => {
  it.each(['/etc/profile.d/zz.sh', '/etc/bash_completion.d/isolate', '/usr/share/bash-completion/completions/git', '/var/spool/cron/crontabs/root', '/root/x.jsonl'])('%s: refused, outside the home and the temporary directories', (log) => {
    expect(expectIsolateError(() => checkForeignAuditLog(log, fromRepository, env, HOME), 'E_PROFILE_INVALID').message).toMatch(/outside your home directory and the temporary directories/);
  });

  it.each(['/home/user/.bash_login', '/home/user/.bashrc.d/x.jsonl'])('%s: refused, a hidden name in the home', (log) => {
    expect(expectIsolateError(() => checkForeignAuditLog(log, fromRepository, env, HOME), 'E_PROFILE_INVALID').message).toMatch(/a hidden name in your home directory/);
  });

  it.each(['/home/user/logs/audit.jsonl', '/home/user/.local/state/isolate/other.jsonl', '/var/tmp/a.jsonl'])('%s: allowed', (log) => {
    expect(() => checkForeignAuditLog(log, fromRepository, env, HOME)).not.toThrow();
  });

  describe('in a temporary directory: through directories no other user can change (the record is written at the end of the run)', () => {
    let dir: string;
    beforeEach(() => {
      dir = mkdtempSync(join(tmpdir(), 'isolate-unit-audit-tmp-'));
    });
    afterEach(() => rmSync(dir, { recursive: true, force: true }));

    it('a directory of the caller\'s own: allowed', () => {
      expect(() => checkForeignAuditLog(join(dir, 'audit.jsonl'), fromRepository, env, HOME)).not.toThrow();
    });

    it('a directory that does not exist yet (another user could make it first): refused', () => {
      const log = join(dir, 'missing', 'audit.jsonl');
      expect(expectIsolateError(() => checkForeignAuditLog(log, fromRepository, env, HOME), 'E_PROFILE_INVALID').message).toContain(`${join(dir, 'missing')} does not exist`);
    });

    it('a directory others can write that is not sticky: refused', () => {
      mkdirSync(join(dir, 'open'));
      chmodSync(join(dir, 'open'), 0o777);
      const message = expectIsolateError(() => checkForeignAuditLog(join(dir, 'open', 'a.jsonl'), fromRepository, env, HOME), 'E_PROFILE_INVALID').message;
      expect(message).toContain(`${join(dir, 'open')} can be written by other users and is not sticky`);
    });
  });

  it("a home under /tmp keeps its hidden names refused; the caller's own profile chooses freely", () => {
    expect(expectIsolateError(() => checkForeignAuditLog('/tmp/h/.bash_login', fromRepository, { ...env, HOME: '/tmp/h' }, '/tmp/h'), 'E_PROFILE_INVALID').message).toMatch(/hidden name/);
    expect(() => checkForeignAuditLog('/etc/profile.d/zz.sh', fromOwn, env, HOME)).not.toThrow();
  });
});
