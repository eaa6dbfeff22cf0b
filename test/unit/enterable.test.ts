/**
 * The refusal of a run behind a directory the sandbox cannot enter
 * (backends/enterable.ts), on host facts made up for it: which paths count
 * for a launcher that walks host paths (bubblewrap, nsjail) and for one that
 * opens its sources itself (an OCI runtime), and what the message says.
 */
import { describe, expect, it } from 'vitest';
import { checkEnterable, type Reach } from '../../src/backends/enterable.js';
import type { ProtectFact, UnenterableFact } from '../../src/backends/types.js';
import { rule } from '../helpers/mount-rule.js';
import { testPolicy } from '../helpers/scan-policy.js';

const theirs = (path: string): UnenterableFact => ({ path, uid: 1001, mode: 0o700 });
const check = (cwd: string, blocked: UnenterableFact[], reach: Reach, options: { read?: string[]; protect?: ProtectFact[]; uid?: number } = {}) => () =>
  checkEnterable(testPolicy([rule('write', cwd), ...(options.read ?? []).map((p) => rule('read', p))], cwd), { uid: options.uid ?? 0, protect: options.protect ?? [], unenterable: blocked }, reach);

describe('checkEnterable', () => {
  it('the working directory itself: refused under every backend, naming its owner, its mode and how to run', () => {
    for (const reach of ['host-paths', 'sandbox-view'] as const) {
      expect(check('/w/p', [theirs('/w/p')], reach)).toThrow("the sandbox cannot enter /w/p (owner uid 1001, mode 0700); the command was not run");
    }
    try {
      check('/w/p', [theirs('/w/p')], 'host-paths')();
      expect.unreachable();
    } catch (e: unknown) {
      expect((e as { fix?: string }).fix).toBe("run isolate as the directory's owner (uid 1001: sudo -u '#1001' isolate ...)");
    }
  });

  it('a directory on the way the sandbox does not see: refused where the launcher walks host paths, not where the runtime opens them', () => {
    expect(check('/w/p', [theirs('/w')], 'host-paths')).toThrow('the sandbox cannot enter /w (owner uid 1001, mode 0700), on the way to /w/p');
    expect(check('/w/p', [theirs('/w')], 'sandbox-view')).not.toThrow();
    expect(check('/p', [theirs('/x')], 'host-paths', { read: ['/x/shared'] })).toThrow('on the way to /x/shared');
  });

  it('a directory shown that holds a protected path: refused under every backend; shown with nothing beneath, not', () => {
    const protect: ProtectFact[] = [{ path: '/w/x/.git', state: 'missing', pins: [] }];
    expect(check('/p', [theirs('/w/x')], 'sandbox-view', { read: ['/w'], protect })).toThrow('on the way to /w/x/.git');
    expect(check('/p', [theirs('/w/x')], 'host-paths', { read: ['/w'] })).not.toThrow();
  });

  it('a directory of one\'s own without its x bit: the fix is chmod u+x', () => {
    try {
      check('/w/p', [{ path: '/w/p', uid: 1000, mode: 0o600 }], 'host-paths', { uid: 1000 })();
      expect.unreachable();
    } catch (e: unknown) {
      expect((e as { fix?: string }).fix).toBe('chmod u+x /w/p');
    }
  });
});
