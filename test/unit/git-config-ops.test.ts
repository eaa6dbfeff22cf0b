/**
 * A git configuration file with a credential in it (HostFacts.gitConfigs)
 * as the setup list shows it: instead of the protected file's read-only
 * bind, its text without the credential, bound read-only at its path (bwrap:
 * from a pipe; an OCI bundle: from a file of the bundle); the directories
 * above it still pinned; refused by the backends that cannot do that.
 * Synthetic: nothing touches the disk.
 */
import { describe, expect, it } from 'vitest';
import { rule } from '../helpers/mount-rule.js';
import { setupArgs } from '../../src/backends/bwrap.js';
import { setupMounts } from '../../src/backends/nsjail-mounts.js';
import { ociFilesystem } from '../../src/backends/oci-mounts.js';
import { setupOps, type SetupFacts } from '../../src/backends/setup-ops.js';
import { describeSetup, pathFdsOf, uncoverableGitConfigs } from '../../src/backends/setup-plan.js';
import type { Policy } from '../../src/profile/types.js';
import { SYNTHETIC_KERNEL_PATHS } from '../golden/synthetic.js';
import { expectIsolateError } from './expect-error.js';

const PROJECT = '/home/user/project';
const CONFIG = `${PROJECT}/.git/config`;
const SUB = `${PROJECT}/.git/modules/lib/config`;

function policy(): Policy {
  return {
    profile: { name: 'test', sources: ['test'], description: 'test' },
    filesystem: { mounts: [rule('read', '/usr'), rule('tmpfs', '/tmp'), rule('write', PROJECT), rule('deny', `${PROJECT}/secret`)], protect: ['.git/config', '.git/modules'], skipped: [] },
    network: { mode: 'none', allow: [], deny: [] },
    environment: { pass: [], set: {}, secrets: [] },
    process: { cwd: PROJECT, hostname: 'isolate' },
    limits: { killAfterMs: 2000, enforce: 'rlimit' },
    syscalls: { preset: 'default', deny: [], allow: [] },
    commands: { allow: [], deny: [] },
    audit: { enabled: false, log: undefined, required: false },
  };
}

const FACTS: SetupFacts = {
  kernelPaths: SYNTHETIC_KERNEL_PATHS,
  protect: [
    { path: CONFIG, state: 'file', pins: [`${PROJECT}/.git`] },
    { path: `${PROJECT}/.git/modules`, state: 'dir', pins: [`${PROJECT}/.git`] },
  ],
  gitConfigs: [
    { path: CONFIG, text: '[core]\n\tbare = false\n' },
    { path: SUB, text: '', unparsed: true },
    { path: `${PROJECT}/secret/config`, text: '' },
  ],
};

describe('git configuration shown without its credentials', () => {
  const ops = setupOps(policy(), FACTS);

  it('takes the place of the protected file\'s bind, keeps the pin above it, and shows nothing of a hidden path', () => {
    const shown = ops.filter((op) => op.kind === 'git-config');
    expect(shown.map((op) => [op.path, op.index])).toEqual([[CONFIG, 0], [SUB, 1]]);
    expect(ops.some((op) => op.kind === 'protect' && op.path === CONFIG)).toBe(false);
    expect(ops.some((op) => op.kind === 'pin' && op.path === `${PROJECT}/.git`)).toBe(true);
    // The submodule's file is inside a protected directory: mounted after (over) that directory's read-only bind.
    expect(ops.findIndex((op) => op.kind === 'git-config' && op.path === SUB)).toBeGreaterThan(ops.findIndex((op) => op.kind === 'protect' && op.path === `${PROJECT}/.git/modules`));
    expect(pathFdsOf(ops, 6).map((e) => e.path)).toEqual([`${PROJECT}/.git`, `${PROJECT}/.git/modules`]);
  });

  it('shows nothing of a file a run by root hides as root-only, or inside such a directory', () => {
    const hidden = setupOps(policy(), { ...FACTS, rootOnly: [{ path: `${PROJECT}/.git/modules`, dir: true }] });
    expect(hidden.filter((op) => op.kind === 'git-config').map((op) => op.path)).toEqual([CONFIG]);
  });

  it('bwrap binds the text from its own descriptor, read-only; never the host\'s file', () => {
    const args = setupArgs(ops, undefined, 20).join(' ');
    expect(args).toContain(`--perms 0444 --ro-bind-data 20 ${CONFIG}`);
    expect(args).toContain(`--perms 0444 --ro-bind-data 21 ${SUB}`);
    expect(args).not.toContain(`--ro-bind-fd 7 ${CONFIG}`);
    expectIsolateError(() => setupArgs(ops), 'E_INTERNAL');
  });

  it('an OCI bundle binds a file of its own, written with the bundle', () => {
    const fs = ociFilesystem(ops, 'self', '/run/isolate/bundle-1');
    expect(fs.mounts.find((m) => m.destination === CONFIG)).toEqual({ destination: CONFIG, type: 'bind', source: '/run/isolate/bundle-1/git-configs/0', options: ['rbind', 'nosuid', 'nodev', 'ro'] });
    expect(fs.files).toEqual([{ path: 'git-configs/0', data: '[core]\n\tbare = false\n' }, { path: 'git-configs/1', data: '' }]);
  });

  it('is watched during the run: as a protected name in a writable path, as a hidden path elsewhere', () => {
    const rules = [...policy().filesystem.mounts, rule('read', '/home/user/.gitconfig', 'file')];
    const home = setupOps({ ...policy(), filesystem: { ...policy().filesystem, mounts: rules } }, { ...FACTS, gitConfigs: [...(FACTS.gitConfigs ?? []), { path: '/home/user/.gitconfig', text: '' }] });
    expect(uncoverableGitConfigs(rules, home)).toEqual({ protected: [CONFIG, SUB], hidden: ['/home/user/.gitconfig'] });
  });

  it('nsjail refuses, naming the file and the backends that can', () => {
    expectIsolateError(() => setupMounts(ops), 'E_BACKEND_UNSUPPORTED');
  });

  it('explain lists it as protected, and says it is shown without its credentials (or empty)', () => {
    const summary = describeSetup(policy(), ops);
    expect(summary.protected).toContain(CONFIG);
    expect(summary.notes.some((n) => n.startsWith(`${CONFIG}: git configuration with a credential in it: shown without it`))).toBe(true);
    expect(summary.notes.some((n) => n.startsWith(`${SUB}: git configuration isolate could not read with certainty`))).toBe(true);
  });

  it('refuses on every backend a file with other names (hard links): the copy covers one name, the sandbox could read another', () => {
    const linked: SetupFacts = { ...FACTS, gitConfigs: [{ path: CONFIG, text: '[core]\n', links: 2 }] };
    expectIsolateError(() => setupOps(policy(), linked), 'E_PATH_INVALID');
    // One the sandbox cannot see at all needs no copy, and is no reason to refuse.
    expect(() => setupOps(policy(), { ...FACTS, gitConfigs: [{ path: `${PROJECT}/secret/config`, text: '', links: 3 }] })).not.toThrow();
  });

  it('hides a credential store a credential helper names wherever the sandbox would see it; not one the profile hides already', () => {
    const store = `${PROJECT}/.git-credentials`;
    const hidden = setupOps(policy(), { ...FACTS, gitCredentialStores: [store, `${PROJECT}/secret/creds`, '/elsewhere/creds'] });
    expect(hidden.filter((op) => op.kind === 'hide').map((op) => op.path)).toContain(store);
    expect(hidden.some((op) => op.kind === 'hide' && (op.path === `${PROJECT}/secret/creds` || op.path === '/elsewhere/creds'))).toBe(false);
    // nsjail hides it too (/dev/null over it): a store needs no copy.
    expect(JSON.stringify(setupMounts(setupOps(policy(), { ...FACTS, gitConfigs: [], gitCredentialStores: [store] })))).toContain(store);
  });
});
