/**
 * What a profile file the sandbox could have written may not choose
 * (profile/planted-profile.ts): a secret passed by name, the host's network,
 * a rule into a CI job's secret directory; the same from a profile outside
 * those paths, from a flag or a built-in profile, stands.
 */
import { describe, expect, it } from 'vitest';
import { checkPlantedProfile, originFile } from '../../src/profile/planted-profile.js';
import type { MountRule } from '../../src/profile/types.js';
import { expectIsolateError } from './expect-error.js';

const PLANTED = '/w/repo/ci.yaml';
const OWN = '/home/u/.config/isolate/profiles/ci.yaml';
const written = (path: string): boolean => path.startsWith('/w/repo/');

function check(over: { pass?: Record<string, string>; mode?: 'host' | 'none'; modeFrom?: string; rules?: { rule: MountRule; from: string }[]; env?: Record<string, string> }): void {
  checkPlantedProfile({
    profile: { passOrigins: over.pass ?? {}, origins: over.modeFrom === undefined ? {} : { 'network.mode': over.modeFrom }, network: { mode: over.mode ?? 'none', allow: [], deny: [] }, environment: { pass: [], set: {}, secrets: [] } },
    rules: over.rules ?? [],
    secretDirs: ['/w/_temp'],
    callerEnv: over.env ?? {},
    written,
  });
}

describe('a profile file the sandbox could have written', () => {
  it('names the file of a key, never a flag or a built-in profile', () => {
    expect(originFile(`${PLANTED}: network.mode`)).toBe(PLANTED);
    expect(originFile(`${PLANTED}: credentials[0]`)).toBe(PLANTED);
    expect(originFile('--net')).toBeUndefined();
    expect(originFile('builtin:default: network.mode')).toBeUndefined();
    expect(originFile(undefined)).toBeUndefined();
  });

  it('may not pass a secret by name: a secret-looking name, or a value holding a token or a password', () => {
    expect(expectIsolateError(() => check({ pass: { GITHUB_TOKEN: `${PLANTED}: environment.pass` } }), 'E_PROFILE_INVALID').message).toContain(`${PLANTED}: environment.pass: GITHUB_TOKEN`);
    expectIsolateError(() => check({ pass: { DEPLOY: `${PLANTED}: environment.pass` }, env: { DEPLOY: `ghp_${'a1'.repeat(18)}` } }), 'E_PROFILE_INVALID');
    expectIsolateError(() => check({ pass: { DB: `${PLANTED}: environment.pass` }, env: { DB: 'postgres://app:pw@db/app' } }), 'E_PROFILE_INVALID');
    check({ pass: { LANG: `${PLANTED}: environment.pass` }, env: { LANG: 'C.UTF-8' } });
    check({ pass: { GITHUB_TOKEN: `${OWN}: environment.pass`, NPM_TOKEN: '--env' } });
  });

  it('may not choose the host network', () => {
    expectIsolateError(() => check({ mode: 'host', modeFrom: `${PLANTED}: network.mode` }), 'E_PROFILE_INVALID');
    check({ mode: 'host', modeFrom: '--net' });
    check({ mode: 'host', modeFrom: `${OWN}: network.mode` });
    check({ mode: 'none', modeFrom: `${PLANTED}: network.mode` });
  });

  it('may not open a CI job\'s secret directory, at or inside it', () => {
    const rule = (path: string): MountRule => ({ kind: 'write', path, requested: path, type: 'dir' });
    for (const path of ['/w/_temp', '/w/_temp/_runner_file_commands']) {
      const err = expectIsolateError(() => check({ rules: [{ rule: rule(path), from: `${PLANTED}: filesystem.write[0]` }] }), 'E_PROFILE_INVALID');
      expect(err.message).toContain(`filesystem.write[0]: ${path} opens a CI job's secret directory /w/_temp`);
    }
    check({ rules: [{ rule: rule('/w/_temp2'), from: `${PLANTED}: filesystem.write[0]` }] });
    check({ rules: [{ rule: rule('/w/_temp'), from: '--allow-write' }] });
  });
});
