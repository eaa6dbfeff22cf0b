/**
 * Sealed directories (backends/seal.ts): which directories are sealed, the
 * operations that rebuild one from its listing, where they go in the one
 * list (setup-ops.ts), how each Linux backend renders them, and the refusals.
 * Everything synthetic: nothing touches the disk.
 */
import { describe, expect, it } from 'vitest';
import { rule } from '../helpers/mount-rule.js';
import { setupArgs } from '../../src/backends/bwrap.js';
import { setupMounts } from '../../src/backends/nsjail-mounts.js';
import { renderFields } from '../../src/backends/nsjail-proto.js';
import { ociFilesystem, SEALED_DIRS } from '../../src/backends/oci-mounts.js';
import { MAX_SEALED_ENTRIES, sealCandidates, sealedParents, sealOps } from '../../src/backends/seal.js';
import { setupOps, type SetupFacts, type SetupOp } from '../../src/backends/setup-ops.js';
import { planSetup } from '../../src/backends/setup-plan.js';
import type { SealEntry, SealFact } from '../../src/backends/types.js';
import type { MountRule, Policy } from '../../src/profile/types.js';
import { expectIsolateError } from './expect-error.js';
import { testPolicy } from '../helpers/scan-policy.js';

const HOME = '/home/user';
const PROJECT = `${HOME}/project`;

/** dev's shape: the home readable, a project in it writable, secrets hidden in the home and in ~/.config. */
const DEV: MountRule[] = [
  rule('read', '/usr'),
  rule('read', HOME),
  rule('write', PROJECT),
  rule('deny', `${HOME}/.git-credentials`, 'file'),
  rule('deny', `${HOME}/.ssh`),
  rule('deny', `${HOME}/.config/gh`),
  rule('deny', `${PROJECT}/secret.txt`, 'file'),
  rule('tmpfs', '/tmp'),
];

const HOME_ENTRIES: SealEntry[] = [
  { name: '.bashrc', type: 'file' },
  { name: '.git-credentials', type: 'file' },
  { name: '.ssh', type: 'dir' },
  { name: '.config', type: 'dir' },
  { name: 'project', type: 'dir' },
  { name: 'to-credentials', type: 'symlink', target: '.git-credentials' },
  { name: 'agent.sock', type: 'other' },
  { name: 'line\nbreak', type: 'file' },
];
const CONFIG_ENTRIES: SealEntry[] = [
  { name: 'gh', type: 'dir' },
  { name: 'git', type: 'dir' },
];
const LISTINGS: SealFact[] = [
  { path: HOME, entries: HOME_ENTRIES },
  { path: `${HOME}/.config`, entries: CONFIG_ENTRIES },
];

const policy = (mounts: MountRule[] = DEV): Policy => testPolicy(mounts, PROJECT);

function facts(over: Partial<SetupFacts> = {}): SetupFacts {
  return { protect: [], kernelPaths: [], sealed: LISTINGS, ...over };
}

const show = (op: SetupOp): string => `${op.kind} ${op.path}`;
const index = (ops: readonly SetupOp[], kind: SetupOp['kind'], path: string): number => ops.findIndex((op) => op.kind === kind && op.path === path);

describe('sealedParents: the read-only parents of hidden paths', () => {
  it('a hidden path in a readable directory seals it; in a writable, hidden or unseen one it does not', () => {
    expect(sealedParents(DEV)).toEqual([HOME, `${HOME}/.config`]);
    // The project is writable: the command must be able to create files beside the secret.
    expect(sealedParents([rule('write', PROJECT), rule('deny', `${PROJECT}/secret.txt`, 'file')])).toEqual([]);
    // Not visible at all (no rule above it), or in a tmpfs or hidden directory: nothing shows it.
    expect(sealedParents([rule('deny', '/srv/secret')])).toEqual([]);
    expect(sealedParents([rule('tmpfs', HOME), rule('deny', `${HOME}/.ssh`)])).toEqual([]);
    expect(sealedParents([rule('read', '/srv'), rule('deny', '/srv/a'), rule('deny', '/srv/a/b')])).toEqual(['/srv']);
  });

  it('never `/`, nor a directory holding or inside the sandbox\'s own mounts (/proc, /dev, /sys, the proxy\'s socket directory)', () => {
    expect(sealedParents([rule('read', '/'), rule('deny', '/srv')])).toEqual([]);
    expect(sealedParents([rule('read', '/run'), rule('deny', '/run/secrets')])).toEqual([]);
    expect(sealedParents([rule('read', '/sys'), rule('deny', '/sys/firmware/x', 'file')])).toEqual([]);
    expect(sealedParents([rule('read', '/srv'), rule('deny', '/srv/secret', 'file')])).toEqual(['/srv']);
    const ops = setupOps(policy([rule('read', '/'), rule('deny', '/srv')]), facts({ sealed: [] }));
    expect(ops.some((op) => op.kind === 'seal')).toBe(false);
    expect(planSetup(policy([rule('read', '/'), rule('deny', '/srv')]), facts({ sealed: [] }), 6).watchHidden).toEqual(['/srv']);
  });

  it('a deny that loses to another rule at its path seals nothing', () => {
    expect(sealedParents([rule('read', '/srv'), rule('deny', '/srv/x'), rule('deny', '/srv/x')])).toEqual(['/srv']);
    expect(sealedParents([rule('read', '/srv'), rule('read', '/srv/x'), rule('write', '/srv/x')])).toEqual([]);
  });
});

describe('sealCandidates: also the nearest directory above a hidden path that does not exist yet', () => {
  const absent = (path: string): SealFact => ({ path, entries: [], absent: true });
  it('sealed where the sandbox sees it read-only; not where it may write, sees nothing, or may not seal', () => {
    expect(sealCandidates(DEV, [absent(`${HOME}/.cargo`)])).toEqual([HOME, `${HOME}/.cargo`, `${HOME}/.config`]);
    expect(sealCandidates(DEV, [absent(PROJECT)])).toEqual([HOME, `${HOME}/.config`]);
    expect(sealCandidates(DEV, [absent('/srv')])).toEqual([HOME, `${HOME}/.config`]);
    expect(sealCandidates([rule('read', '/')], [absent('/')])).toEqual([]);
    expect(sealCandidates(DEV, [{ path: `${HOME}/.cargo`, entries: [] }]), 'listed for no absent path').toEqual([HOME, `${HOME}/.config`]);
  });

  it('its entries as listed, bound read-only: what the host makes there during the run is not among them', () => {
    const listings: SealFact[] = [{ path: HOME, entries: [...HOME_ENTRIES, { name: '.cargo', type: 'dir' }] }, ...LISTINGS.slice(1), { path: `${HOME}/.cargo`, entries: [{ name: 'env', type: 'file' }], absent: true }];
    const ops = sealOps(DEV, listings, new Set([`${HOME}/.git-credentials`, `${HOME}/.ssh`, `${HOME}/.config/gh`, PROJECT]), 0);
    expect(ops.filter((op) => op.path.startsWith(`${HOME}/.cargo`))).toEqual([
      { kind: 'seal', path: `${HOME}/.cargo` },
      { kind: 'seal-bind', path: `${HOME}/.cargo/env`, type: 'file', slot: 3 },
    ]);
    expect(ops.some((op) => op.kind === 'seal-bind' && op.path === `${HOME}/.cargo`), 'the home binds no view of .cargo over the seal').toBe(false);
  });
});

describe('sealOps: a directory rebuilt from its listing', () => {
  it('the tmpfs, then each entry: bound read-only, a link made again; hidden entries, paths with operations of their own and sealed subdirectories left to those', () => {
    const own = new Set([`${HOME}/.git-credentials`, `${HOME}/.ssh`, `${HOME}/.config/gh`, PROJECT]);
    // Each bound entry takes the next descriptor slot, after those of the protected names (here 3 of them).
    expect(sealOps(DEV, LISTINGS, own, 3)).toEqual([
      { kind: 'seal', path: HOME },
      { kind: 'seal-bind', path: `${HOME}/.bashrc`, type: 'file', slot: 3 },
      { kind: 'symlink', path: `${HOME}/to-credentials`, target: '.git-credentials' },
      { kind: 'seal-bind', path: `${HOME}/agent.sock`, type: 'other', slot: 4 },
      { kind: 'seal-bind', path: `${HOME}/line\nbreak`, type: 'file', slot: 5 },
      { kind: 'seal', path: `${HOME}/.config` },
      { kind: 'seal-bind', path: `${HOME}/.config/git`, type: 'dir', slot: 6 },
    ]);
  });

  it('more entries to bind than MAX_SEALED_ENTRIES is refused (exit 125) with the ways to seal less, never bound by path', () => {
    const many = (n: number): SealFact[] => [{ path: HOME, entries: Array.from({ length: n }, (_, i) => ({ name: `f${i}`, type: 'file' as const })) }, { path: `${HOME}/.config`, entries: [] }];
    expect(sealOps(DEV, many(MAX_SEALED_ENTRIES), new Set(), 0).filter((op) => op.kind === 'seal-bind')).toHaveLength(MAX_SEALED_ENTRIES);
    const e = expectIsolateError(() => sealOps(DEV, many(MAX_SEALED_ENTRIES + 1), new Set(), 0), 'E_SANDBOX_SETUP');
    expect(e.exitCode).toBe(125);
    expect(e.message).toContain(`${MAX_SEALED_ENTRIES + 1} entries`);
    expect(e.fix).toMatch(/subdirectory/);
  });

  it('a name no directory can hold is refused, not mounted elsewhere', () => {
    for (const name of ['..', '.', '', 'a/b', 'nul\0byte']) {
      const listings = [{ path: HOME, entries: [{ name, type: 'file' as const }] }, { path: `${HOME}/.config`, entries: [] }];
      const err = expectIsolateError(() => sealOps(DEV, listings, new Set(), 0), 'E_PATH_INVALID');
      expect(err.exitCode).toBe(125);
    }
  });

  it('a sealed directory without a listing is refused (exit 125), and a run\'s plan without listings too; an export seals nothing', () => {
    expectIsolateError(() => sealOps(DEV, [{ path: HOME, entries: [] }], new Set(), 0), 'E_SANDBOX_SETUP');
    const { sealed: _none, ...unlisted } = facts();
    expect(expectIsolateError(() => planSetup(policy(), unlisted, 6), 'E_SANDBOX_SETUP').exitCode).toBe(125);
    const exported = setupOps(policy(), unlisted);
    expect(exported.some((op) => op.kind === 'seal' || op.kind === 'seal-bind')).toBe(false);
    expect(exported.map(show)).toContain(`bind ${HOME}`);
  });
});

describe('setupOps with sealed directories', () => {
  const ops = setupOps(policy(), facts());

  it('the seal takes the place of the directory\'s bind; a path is mounted before anything inside it', () => {
    expect(index(ops, 'bind', HOME)).toBe(-1);
    const home = index(ops, 'seal', HOME);
    const config = index(ops, 'seal', `${HOME}/.config`);
    expect(home).toBeGreaterThan(index(ops, 'dev', '/dev'));
    for (const [kind, path] of [
      ['seal-bind', `${HOME}/.bashrc`],
      ['symlink', `${HOME}/to-credentials`],
      ['hide', `${HOME}/.git-credentials`],
      ['hide', `${HOME}/.ssh`],
      ['bind', PROJECT],
    ] as const) {
      expect(index(ops, kind, path), path).toBeGreaterThan(home);
    }
    expect(config).toBeGreaterThan(home);
    expect(index(ops, 'seal-bind', `${HOME}/.config/git`)).toBeGreaterThan(config);
    expect(index(ops, 'hide', `${HOME}/.config/gh`)).toBeGreaterThan(config);
    // The project's own rule still applies on top: a hidden file in it (a writable parent: not sealed) after it.
    expect(index(ops, 'hide', `${PROJECT}/secret.txt`)).toBeGreaterThan(index(ops, 'bind', PROJECT));
  });

  it('nothing binds a hidden entry or the link beside it; the project\'s bind makes its mount point in the tmpfs', () => {
    const bound = ops.flatMap((op) => (op.kind === 'seal-bind' ? [op.path] : []));
    expect(bound).not.toContain(`${HOME}/.git-credentials`);
    expect(bound).not.toContain(`${HOME}/.ssh`);
    expect(bound).not.toContain(`${HOME}/to-credentials`);
    expect(bound).not.toContain(PROJECT);
    expect(ops.find((op) => op.kind === 'bind' && op.path === PROJECT)).toEqual({ kind: 'bind', path: PROJECT, readOnly: false, dir: true, exists: false, slot: expect.any(Number) });
  });

  it('each sealed directory is made read-only after every mount, itself only', () => {
    const first = ops.findIndex((op) => op.kind === 'read-only');
    expect(ops.slice(first).every((op) => op.kind === 'read-only')).toBe(true);
    expect(ops.slice(first).map((op) => op.path)).toEqual([HOME, `${HOME}/.config`, `${HOME}/.ssh`, `${HOME}/.config/gh`, '/dev', '/']);
  });

  it('a host mount at a sealed directory is replaced by the seal; one at an entry is bound read-only after the entry', () => {
    const withMounts = setupOps(policy(), facts({ mountPoints: [HOME, `${HOME}/.bashrc`] }));
    expect(index(withMounts, 'submount', HOME)).toBe(-1);
    expect(index(withMounts, 'submount', `${HOME}/.bashrc`)).toBeGreaterThan(index(withMounts, 'seal-bind', `${HOME}/.bashrc`));
  });

  it('a hidden path outside the sealed directories is watched during the run; one inside them is not', () => {
    expect(planSetup(policy(), facts(), 6).watchHidden).toEqual([HOME, `${PROJECT}/secret.txt`]);
    const keep = 'only root can add, remove or rename its entries, and the run is not root\'s';
    const kept = planSetup(policy(), facts({ sealed: [{ path: HOME, entries: [], keep }, LISTINGS[1] as SealFact] }), 6).watchHidden;
    expect(kept).toContain(`${HOME}/.git-credentials`);
    expect(kept).toContain(`${HOME}/.config`);
    expect(kept).not.toContain(`${HOME}/.config/gh`);
  });

  it('run/ opens each bound entry after the protected names, with the type it was listed as; none is a placeholder or watched', () => {
    const plan = planSetup(policy(), facts(), 6);
    const sealed = plan.pathFds.filter((e) => e.seal !== undefined);
    expect(sealed.map((e) => [e.path, e.seal, e.readOnly])).toEqual([
      [`${HOME}/.bashrc`, 'file', true],
      [`${HOME}/agent.sock`, 'other', true],
      [`${HOME}/line\nbreak`, 'file', true],
      [`${HOME}/.config/git`, 'dir', true],
    ]);
    expect(plan.pathFds.map((e) => e.fd)).toEqual(plan.pathFds.map((_, i) => 6 + i));
    expect(sealed.some((e) => e.create === true)).toBe(false);
    expect(plan.cleanup).toEqual([]);
    expect(plan.watchHidden.filter((p) => sealed.some((e) => e.path === p))).toEqual([]);
  });

  it('the summary says which directories are sealed and what that means', () => {
    const plan = planSetup(policy(), facts(), 6);
    expect(plan.summary.notes.filter((n) => n.includes('sealed'))).toEqual([
      `${HOME}: sealed, as it held a hidden path: its entries as listed at the start, each read-only (one the host replaces or adds during the run is not seen; one a host program removes or replaces with a link or another type between the listing and the start is shown empty)`,
      `${HOME}/.config: sealed, as it held a hidden path: its entries as listed at the start, each read-only (one the host replaces or adds during the run is not seen; one a host program removes or replaces with a link or another type between the listing and the start is shown empty)`,
    ]);
    expect(plan.summary.readable).toContain(HOME);
    expect(plan.summary.hidden).toContain(`${HOME}/.git-credentials`);
  });
});

describe('a directory the host facts keep (only root changes it, and the run is not root\'s)', () => {
  const keep = 'only root can add, remove or rename its entries, and the run is not root\'s';
  const kept: SealFact[] = [{ path: HOME, entries: [], keep }, LISTINGS[1] as SealFact];

  it('stays the bind of the host\'s directory, its hidden paths hidden on it; the others are still sealed', () => {
    const ops = setupOps(policy(), facts({ sealed: kept }));
    expect(index(ops, 'seal', HOME)).toBe(-1);
    expect(ops.some((op) => op.kind === 'seal-bind' && op.path.startsWith(`${HOME}/.`) && !op.path.startsWith(`${HOME}/.config/`))).toBe(false);
    expect(index(ops, 'bind', HOME)).toBeGreaterThan(-1);
    expect(index(ops, 'hide', `${HOME}/.git-credentials`)).toBeGreaterThan(index(ops, 'bind', HOME));
    expect(index(ops, 'seal', `${HOME}/.config`)).toBeGreaterThan(index(ops, 'bind', HOME));
    expect(ops.find((op) => op.kind === 'bind' && op.path === PROJECT)).toMatchObject({ exists: true });
  });

  it('the summary says why it is not sealed', () => {
    const notes = planSetup(policy(), facts({ sealed: kept }), 6).summary.notes;
    expect(notes).toContain(`${HOME}: not sealed (${keep}): its hidden paths are watched during the run, and one a program replaces stops the sandbox`);
  });
});

describe('the Linux backends render a sealed directory', () => {
  const ops = setupOps(policy(), facts());

  it('bwrap: a tmpfs (0755), entries bound from their descriptors (never by path, which would follow a link), links made, remounted read-only', () => {
    const args = setupArgs(ops).join(' ');
    expect(args).toContain(`--perms 0755 --tmpfs ${HOME} `);
    expect(args).toContain(`--ro-bind-fd 7 ${HOME}/.bashrc`);
    expect(args).toContain(`--ro-bind-fd 9 ${HOME}/line\nbreak`);
    expect(args).not.toContain('--ro-bind-try');
    expect(args).toContain(`--symlink .git-credentials ${HOME}/to-credentials`);
    expect(args).toContain(`--ro-bind /dev/null ${HOME}/.git-credentials`);
    expect(args).toContain(`--remount-ro ${HOME} `);
    expect(args).not.toContain(`--ro-bind ${HOME} ${HOME}`);
  });

  it('nsjail: a tmpfs made read-only at the end, entry binds by path (checked by run/ before the start: Plan.checkPathFds), every mount point in it created as what it is', () => {
    const lines = renderFields(setupMounts(ops), '');
    expect(lines).toContain(`mount { dst: "${HOME}" fstype: "tmpfs" rw: false is_dir: true options: "mode=0755" nosuid: true nodev: true }`);
    expect(lines).toContain(`mount { src: "${HOME}/.bashrc" dst: "${HOME}/.bashrc" is_bind: true rw: false is_dir: false nosuid: true nodev: true }`);
    expect(lines).toContain(`mount { src: "${HOME}/line\\nbreak" dst: "${HOME}/line\\nbreak" is_bind: true rw: false is_dir: false nosuid: true nodev: true }`);
    expect(lines).toContain(`mount { src: "${HOME}/.config/git" dst: "${HOME}/.config/git" is_bind: true rw: false is_dir: true nosuid: true nodev: true }`);
    // The hidden file's mount point is a new empty file in the tmpfs (is_dir: false), not a directory nsjail would make.
    expect(lines).toContain(`mount { src: "/dev/null" dst: "${HOME}/.git-credentials" is_bind: true rw: false is_dir: false nosuid: true nodev: true }`);
    expect(lines).toContain(`mount { src: "${PROJECT}" dst: "${PROJECT}" is_bind: true rw: true is_dir: true nosuid: true nodev: true }`);
    expect(lines).toContain(`mount { src: ".git-credentials" dst: "${HOME}/to-credentials" is_symlink: true }`);
  });

  it('OCI: a directory of the run\'s bundle with the links in it, bound at the path, read-only after the mounts; no link in rootfs', () => {
    const fs = ociFilesystem(ops, 'self', '/run/bundle');
    expect(fs.sealed).toEqual([
      { dir: `${SEALED_DIRS}/0`, links: [{ path: `${SEALED_DIRS}/0/to-credentials`, target: '.git-credentials' }] },
      { dir: `${SEALED_DIRS}/1`, links: [] },
    ]);
    expect(fs.mounts.find((m) => m.destination === HOME)).toEqual({ destination: HOME, type: 'bind', source: `/run/bundle/${SEALED_DIRS}/0`, options: ['rbind', 'nosuid', 'nodev', 'rw'] });
    expect(fs.mounts.find((m) => m.destination === `${HOME}/.bashrc`)?.options).toContain('ro');
    expect(fs.readonlyPaths).toEqual(expect.arrayContaining([HOME, `${HOME}/.config`]));
    expect(fs.links).toEqual([]);
    expect(() => ociFilesystem(ops)).toThrow(/sealed/);
  });
});
