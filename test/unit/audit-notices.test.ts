/**
 * A profile that keeps runs out of the caller's audit log (audit.enabled:
 * false, audit.log elsewhere) is said on every run, unless the setting comes
 * from one of the caller's own profiles (isolate's configuration directory),
 * a built-in one, or the caller chose for this run.
 */
import { describe, expect, it } from 'vitest';
import { auditNotices } from '../../src/profile/trust.js';
import type { MergedProfile } from '../../src/profile/types.js';

const ENV = { HOME: '/synthetic-only/home' };
const OWN = '/synthetic-only/home/.config/isolate/profiles/quiet.yaml';
const REPO = '/synthetic-only/repo/isolate.yaml';

function profile(audit: Partial<MergedProfile['audit']>, origins: MergedProfile['origins']): Pick<MergedProfile, 'audit' | 'origins'> {
  return { audit: { enabled: true, log: undefined, required: false, ...audit }, origins };
}

describe('auditNotices', () => {
  it('audit.enabled: false from a profile outside the caller\'s own: one warning naming the file and where the caller\'s profiles are', () => {
    const notes = auditNotices(profile({ enabled: false }, { 'audit.enabled': `${REPO}: audit.enabled` }), undefined, ENV);
    expect(notes).toHaveLength(1);
    expect(notes[0]).toContain('the audit log is off');
    expect(notes[0]).toContain(REPO);
    expect(notes[0]).toContain('/synthetic-only/home/.config/isolate');
  });

  it('audit.log from a profile outside the caller\'s own: one warning naming the log', () => {
    const notes = auditNotices(profile({ log: '/tmp/elsewhere.jsonl' }, { 'audit.log': `${REPO}: audit.log` }), undefined, ENV);
    expect(notes).toEqual([expect.stringContaining('runs are recorded in /tmp/elsewhere.jsonl, not in your audit log')]);
  });

  it('none for the caller\'s own profiles (XDG_CONFIG_HOME too), built-in ones, and the caller\'s choice for this run', () => {
    const off = (file: string) => profile({ enabled: false }, { 'audit.enabled': `${file}: audit.enabled` });
    expect(auditNotices(off(OWN), undefined, ENV)).toEqual([]);
    expect(auditNotices(off('/synthetic-only/cfg/isolate/profiles/q.yaml'), undefined, { ...ENV, XDG_CONFIG_HOME: '/synthetic-only/cfg' })).toEqual([]);
    expect(auditNotices(off('builtin:default'), undefined, ENV)).toEqual([]);
    // --no-audit: the caller's own choice; recording forced on by the API: nothing is kept out.
    expect(auditNotices(off(REPO), { enabled: false }, ENV)).toEqual([]);
    expect(auditNotices(off(REPO), { enabled: true }, ENV)).toEqual([]);
    // --audit-log: the caller chose where.
    expect(auditNotices(profile({ log: '/tmp/x.jsonl' }, { 'audit.log': `${REPO}: audit.log` }), { log: '/tmp/mine.jsonl' }, ENV)).toEqual([]);
    // A file that only looks like it is in the directory is not.
    expect(auditNotices(off('/synthetic-only/home/.config/isolate-not/q.yaml'), undefined, ENV)).toHaveLength(1);
  });

  it('the last profile to set it decides: a repository profile turning off what the caller\'s own left on is said', () => {
    const p = profile({ enabled: false }, { 'audit.enabled': `${REPO}: audit.enabled`, 'audit.log': `${OWN}: audit.log` });
    expect(auditNotices(p, undefined, ENV)).toHaveLength(1);
  });
});
