/**
 * The one list of setup operations every backend renders (setup-ops.ts),
 * and what it asks of run/ (setup-plan.ts): its order, each kind, the
 * descriptor slots, and the refusals. Everything synthetic: nothing touches
 * the disk.
 */
import { describe, expect, it } from 'vitest';
import { rule } from '../helpers/mount-rule.js';
import { setupArgs } from '../../src/backends/bwrap.js';
import { setupMounts } from '../../src/backends/nsjail-mounts.js';
import { renderFields } from '../../src/backends/nsjail-proto.js';
import { ociFilesystem } from '../../src/backends/oci-mounts.js';
import { setupOps, type SetupFacts, type SetupOp } from '../../src/backends/setup-ops.js';
import { describeSetup, pathFdsOf, placeholderCleanup, protectedNames, skippedNotes } from '../../src/backends/setup-plan.js';
import { MISSING_DENY_REASON } from '../../src/profile/mount-rules.js';
import type { Limits, MountRule, Policy } from '../../src/profile/types.js';
import { SYNTHETIC_KERNEL_PATHS } from '../golden/synthetic.js';
import { expectIsolateError } from './expect-error.js';

const HOME = '/home/user';
const PROJECT = '/home/user/project';

const MOUNTS: MountRule[] = [
  rule('tmpfs', '/tmp'),
  rule('tmpfs', HOME),
  rule('read', '/usr'),
  rule('read', '/usr/bin', 'dir', '/bin'),
  rule('read', '/etc'),
  rule('deny', '/etc/ssh'),
  rule('deny', '/etc/shadow', 'file'),
  rule('deny', '/opt/secret'),
  rule('write', PROJECT),
  rule('read', `${PROJECT}/vendor`),
  rule('write', `${PROJECT}/vendor/out`),
];

function policy(mounts: MountRule[] = MOUNTS, over: { network?: Policy['network']['mode']; limits?: Partial<Limits> } = {}): Policy {
  return {
    profile: { name: 'test', sources: ['test'], description: 'test' },
    filesystem: { mounts, protect: ['.git/hooks', '.bashrc'], skipped: [] },
    network: { mode: over.network ?? 'none', allow: [], deny: [] },
    environment: { pass: [], set: {}, secrets: [] },
    process: { cwd: PROJECT, hostname: 'isolate' },
    limits: { killAfterMs: 2000, enforce: 'rlimit', ...over.limits },
    syscalls: { preset: 'default', deny: [], allow: [] },
    commands: { allow: [], deny: [] },
    audit: { enabled: false, log: undefined, required: false },
  };
}

const PROTECT: SetupFacts['protect'] = [
  { path: `${PROJECT}/.git/hooks`, state: 'dir', pins: [`${PROJECT}/.git`] },
  { path: `${PROJECT}/.bashrc`, state: 'missing', pins: [] },
  { path: `${PROJECT}/vendor/out/.git/hooks`, state: 'file', pins: [`${PROJECT}/vendor`, `${PROJECT}/vendor/out`, `${PROJECT}/vendor/out/.git`] },
];

function facts(over: Partial<SetupFacts> = {}): SetupFacts {
  return { protect: PROTECT, kernelPaths: SYNTHETIC_KERNEL_PATHS, ...over };
}

const show = (op: SetupOp): string => `${op.kind} ${op.path}`;

describe('setupOps: one ordered list', () => {
  it('the sandbox\'s own /proc and /dev first; the kernel guard after the profile; read-only after that; the socket directory, then the root read-only last', () => {
    const ops = setupOps(policy(MOUNTS, { network: 'filtered' }), facts({ network: { socat: '/usr/bin/socat', shell: '/bin/sh', socketDir: '/run/user/1000/isolate-net-x' } }));
    expect(ops.slice(0, 2).map(show)).toEqual(['proc /proc', 'dev /dev']);
    const kinds = ops.map((op) => op.kind);
    const lastProfile = Math.max(...['tmpfs', 'bind', 'pin', 'protect', 'placeholder', 'hide', 'symlink'].map((k) => kinds.lastIndexOf(k as SetupOp['kind'])));
    expect(kinds.indexOf('kernel-read-only')).toBeGreaterThan(lastProfile);
    expect(kinds.indexOf('read-only')).toBeGreaterThan(kinds.lastIndexOf('kernel-mask'));
    // /sys is not visible here, so nothing under it is masked.
    expect(ops.filter((op) => op.kind === 'read-only').map((op) => op.path)).toEqual(['/etc/ssh', '/proc/acpi', '/dev', '/']);
    expect(ops.at(-2)).toEqual({ kind: 'socket-dir', path: '/run/isolate', source: '/run/user/1000/isolate-net-x' });
    // The root is a tmpfs of the backend's own, without the tmpfs ceiling: nothing may be written there once it is built.
    expect(ops.at(-1)).toEqual({ kind: 'read-only', path: '/' });
  });

  it('the profile\'s paths shallower first; at one depth tmpfs, binds and pins, protected names, hidden paths, symlinks', () => {
    const ops = setupOps(policy(), facts({ kernelPaths: [] }));
    expect(ops.slice(2, ops.findIndex((op) => op.kind === 'read-only')).map(show)).toEqual([
      'tmpfs /tmp',
      'bind /etc',
      'bind /usr',
      'symlink /bin',
      'tmpfs /home/user',
      'hide /etc/shadow',
      'hide /etc/ssh',
      'bind /home/user/project',
      'bind /home/user/project/vendor',
      'pin /home/user/project/.git',
      'placeholder /home/user/project/.bashrc',
      'bind /home/user/project/vendor/out',
      'protect /home/user/project/.git/hooks',
      'pin /home/user/project/vendor/out/.git',
      'protect /home/user/project/vendor/out/.git/hooks',
    ]);
  });

  it('a bind only where no parent shows the path the same way; a target seen through a parent bind exists already', () => {
    const ops = setupOps(policy([rule('read', '/usr'), rule('read', '/usr/lib'), rule('write', '/usr/lib/cache'), rule('tmpfs', HOME), rule('read', `${HOME}/.gitconfig`, 'file')]), facts({ protect: [], kernelPaths: [] }));
    const binds = ops.filter((op) => op.kind === 'bind');
    expect(binds).toEqual([
      { kind: 'bind', path: '/usr', readOnly: true, dir: true, exists: false },
      { kind: 'bind', path: `${HOME}/.gitconfig`, readOnly: true, dir: false, exists: false },
      { kind: 'bind', path: '/usr/lib/cache', readOnly: false, dir: true, exists: true },
    ]);
  });

  it('a deny rule hides only what something shows; the summary notes the rest', () => {
    const pol = policy();
    const ops = setupOps(pol, facts());
    expect(ops.filter((op) => op.kind === 'hide')).toEqual([
      { kind: 'hide', path: '/etc/shadow', dir: false },
      { kind: 'hide', path: '/etc/ssh', dir: true },
    ]);
    expect(describeSetup(pol, ops).notes).toEqual(['/opt/secret: not visible anyway, nothing to hide']);
  });

  it('tmpfs paths and /dev/shm get the profile\'s tmpfs size (or its ceiling)', () => {
    const sized = setupOps(policy(MOUNTS, { limits: { tmpfsBytes: 1 << 20 } }), facts());
    expect(sized.filter((op) => op.kind === 'tmpfs' || op.kind === 'dev')).toEqual([
      { kind: 'dev', path: '/dev', shmSize: 1 << 20 },
      { kind: 'tmpfs', path: '/tmp', size: 1 << 20 },
      { kind: 'tmpfs', path: HOME, size: 1 << 20 },
    ]);
    const ceiling = setupOps(policy(MOUNTS, { limits: { ceilings: { tmpfsBytes: 4096 } } }), facts());
    expect(ceiling[1]).toEqual({ kind: 'dev', path: '/dev', shmSize: 4096 });
    expect(setupOps(policy(), facts())[1]).toEqual({ kind: 'dev', path: '/dev' });
  });

  it('host mounts beneath a read-only path are made read-only (not one with a bind of its own, not one out of reach)', () => {
    const ops = setupOps(policy(), facts({ mountPoints: ['/', '/usr', '/usr/lib/modules', '/etc/hosts', `${PROJECT}/cache`, '/srv/data'] }));
    expect(ops.filter((op) => op.kind === 'submount').map((op) => op.path)).toEqual(['/etc/hosts', '/usr/lib/modules']);
  });
});

describe('protected names: descriptor slots, run/\'s part, refusals', () => {
  const ops = setupOps(policy(), facts());

  it('each pin, protected name and placeholder has a slot, in the order the names were found', () => {
    expect(pathFdsOf(ops, 6)).toEqual([
      { fd: 6, path: `${PROJECT}/.git`, readOnly: false },
      { fd: 7, path: `${PROJECT}/.git/hooks`, readOnly: true },
      { fd: 8, path: `${PROJECT}/.bashrc`, readOnly: true, create: true },
      // vendor is read-only and vendor/out has a bind of its own: neither can be renamed, so neither is pinned.
      { fd: 9, path: `${PROJECT}/vendor/out/.git`, readOnly: false },
      { fd: 10, path: `${PROJECT}/vendor/out/.git/hooks`, readOnly: true },
    ]);
    expect(placeholderCleanup(ops)).toEqual([{ removeIfPlaceholder: `${PROJECT}/.bashrc` }]);
    expect(protectedNames(ops)).toEqual([`${PROJECT}/.git/hooks`, `${PROJECT}/.bashrc`, `${PROJECT}/vendor/out/.git/hooks`]);
    const summary = describeSetup(policy(), ops);
    expect(summary.protected).toEqual([`${PROJECT}/.git/hooks`, `${PROJECT}/vendor/out/.git/hooks`]);
    expect(summary.placeholders).toEqual([`${PROJECT}/.bashrc`]);
  });

  it('a missing .git gets an empty directory as its placeholder (git then looks above), every other name an empty file; each backend mounts it as one', () => {
    const missing: SetupFacts['protect'] = [
      { path: `${PROJECT}/.git`, state: 'missing', pins: [] },
      { path: `${PROJECT}/.bashrc`, state: 'missing', pins: [] },
    ];
    const run = setupOps(policy(), facts({ protect: missing }));
    expect(run.filter((op) => op.kind === 'placeholder')).toEqual([
      { kind: 'placeholder', path: `${PROJECT}/.git`, dir: true, slot: 0 },
      { kind: 'placeholder', path: `${PROJECT}/.bashrc`, slot: 1 },
    ]);
    expect(pathFdsOf(run, 6)).toEqual([
      { fd: 6, path: `${PROJECT}/.git`, readOnly: true, create: true, dir: true },
      { fd: 7, path: `${PROJECT}/.bashrc`, readOnly: true, create: true },
    ]);
    expect(placeholderCleanup(run)).toEqual([{ removeIfPlaceholder: `${PROJECT}/.git` }, { removeIfPlaceholder: `${PROJECT}/.bashrc` }]);
    expect(describeSetup(policy(), run).notes.filter((n) => n.startsWith(`${PROJECT}/.git:`))).toHaveLength(1);
    // An export (no placeholder made by isolate): an empty read-only directory for .git, /dev/null for a file.
    const exported = ociFilesystem(run).mounts.filter((m) => m.destination.startsWith(`${PROJECT}/.`));
    expect(exported).toEqual([
      { destination: `${PROJECT}/.git`, type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'nodev', 'ro', 'mode=0555'] },
      { destination: `${PROJECT}/.bashrc`, type: 'bind', source: '/dev/null', options: ['rbind', 'nosuid', 'nodev', 'ro'] },
    ]);
    // A hidden path that does not exist inside it: the hiding covers a file, so the placeholder stays one.
    const hidden = setupOps({ ...policy(), filesystem: { ...policy().filesystem, skipped: [{ path: `${PROJECT}/.git/secret`, reason: MISSING_DENY_REASON }] } }, facts({ protect: missing }));
    expect(hidden.filter((op) => op.kind === 'placeholder' && op.dir === true)).toEqual([]);
  });

  it('for a run, each bind of a host path but / has a descriptor after the others; bwrap binds from it; an export opens none', () => {
    // No hidden path: nothing sealed (which binds its entries from descriptors of its own).
    const run = setupOps(policy([rule('read', '/'), ...MOUNTS.filter((r) => r.kind !== 'deny')]), facts({ sealed: [] }));
    const binds = pathFdsOf(run, 7).filter((e) => e.bind === true);
    // /usr and /etc are seen through the root's bind; the slots follow the 5 of the pins, protected names and placeholders (bwrap's first is 7).
    expect(binds).toEqual([
      { fd: 12, path: PROJECT, readOnly: false, bind: true },
      { fd: 13, path: `${PROJECT}/vendor`, readOnly: true, bind: true },
      { fd: 14, path: `${PROJECT}/vendor/out`, readOnly: false, bind: true },
    ]);
    const args = setupArgs(run);
    expect(args.join(' ')).toContain(`--bind-fd 12 ${PROJECT} `);
    expect(args.join(' ')).toContain(`--ro-bind-fd 13 ${PROJECT}/vendor `);
    // Nothing can swap the root for a link: bound by its path.
    expect(args.join(' ')).toContain('--ro-bind / /');
    expect(pathFdsOf(ops, 6).some((e) => e.bind === true)).toBe(false);
    expect(setupArgs(ops).join(' ')).toContain(`--bind ${PROJECT} ${PROJECT}`);
  });

  it('a path a rule hides inside a writable one (isolate\'s own directory) is not bound again, but its writable parents are pinned', () => {
    const state = `${PROJECT}/.state/isolate`;
    const hidden = setupOps(policy([...MOUNTS, rule('deny', state)]), facts({ protect: [{ path: state, state: 'dir', pins: [`${PROJECT}/.state`] }] }));
    expect(pathFdsOf(hidden, 6)).toEqual([{ fd: 6, path: `${PROJECT}/.state`, readOnly: false }]);
    expect(hidden.filter((op) => op.path.startsWith(`${PROJECT}/.state`)).map(show)).toEqual([`pin ${PROJECT}/.state`, `hide ${state}`, `read-only ${state}`]);
    // A symbolic link there is the rule's business (resolve.ts follows it), not a protected name's.
    expect(() => setupOps(policy([...MOUNTS, rule('deny', state)]), facts({ protect: [{ path: state, state: 'symlink', pins: [] }] }))).not.toThrow();
  });

  it('a path the profile hides inside a writable one: its writable parents are pinned; a link on the way (swapped in since the profile was resolved) is refused', () => {
    const secret = `${PROJECT}/config/deep/secret.txt`;
    const mounts = [...MOUNTS, rule('deny', secret, 'file')];
    const ops = setupOps(policy(mounts), facts({ protect: [{ path: secret, state: 'file', pins: [`${PROJECT}/config`, `${PROJECT}/config/deep`] }] }));
    expect(ops.filter((op) => op.path.startsWith(`${PROJECT}/config`)).map(show)).toEqual([`pin ${PROJECT}/config`, `pin ${PROJECT}/config/deep`, `hide ${secret}`]);
    expectIsolateError(() => setupOps(policy(mounts), facts({ protect: [{ path: `${PROJECT}/config`, state: 'symlink', pins: [] }] })), 'E_PROTECT_SYMLINK');
  });

  it('a hidden path that does not exist inside a writable one: a placeholder where it, or a directory on its way, would be made, hidden as well', () => {
    const env = `${PROJECT}/.env`;
    const deep = `${PROJECT}/secrets/key`;
    const pol = policy();
    const skipped = [env, deep].map((path) => ({ path, reason: MISSING_DENY_REASON }));
    const withMissing = { ...pol, filesystem: { ...pol.filesystem, skipped } };
    const found = [
      { path: env, state: 'missing' as const, pins: [] },
      { path: `${PROJECT}/secrets`, state: 'missing' as const, pins: [] },
      { path: `${PROJECT}/.bashrc`, state: 'missing' as const, pins: [] },
    ];
    const ops = setupOps(withMissing, facts({ protect: found }));
    const at = (path: string) => ops.filter((op) => op.path === path).map(show);
    expect(at(env)).toEqual([`placeholder ${env}`, `hide ${env}`]);
    expect(at(`${PROJECT}/secrets`)).toEqual([`placeholder ${PROJECT}/secrets`, `hide ${PROJECT}/secrets`]);
    // A protected name's placeholder is not hidden: it is read-only and empty, as the host made it.
    expect(at(`${PROJECT}/.bashrc`)).toEqual([`placeholder ${PROJECT}/.bashrc`]);
    expect(pathFdsOf(ops, 6).filter((e) => e.hidden === true).map((e) => e.path)).toEqual([env, `${PROJECT}/secrets`]);
    expect(skippedNotes(skipped, ops)).toEqual([`${deep}: hidden, and does not exist: the placeholder ${PROJECT}/secrets keeps it from being made during the run`]);
  });

  it('a directory protected as a whole is not also pinned writable for a name beneath it', () => {
    const git = `${PROJECT}/.git`;
    const whole = setupOps(policy(), facts({ protect: [{ path: `${git}/hooks`, state: 'dir', pins: [git] }, { path: git, state: 'dir', pins: [] }] }));
    expect(pathFdsOf(whole, 6)).toEqual([
      { fd: 6, path: `${git}/hooks`, readOnly: true },
      { fd: 7, path: git, readOnly: true },
    ]);
  });

  it('names outside writable paths are left alone; a protected symbolic link is refused', () => {
    const readOnly = setupOps(policy(MOUNTS.map((r) => (r.kind === 'write' ? { ...r, kind: 'read' as const } : r))), facts());
    expect(pathFdsOf(readOnly, 6)).toEqual([]);
    expectIsolateError(() => setupOps(policy(), facts({ protect: [{ path: `${PROJECT}/.bashrc`, state: 'symlink', pins: [] }] })), 'E_PROTECT_SYMLINK');
  });
});

describe('every backend renders every operation', () => {
  const ops = setupOps(policy(MOUNTS, { network: 'filtered' }), facts({ mountPoints: ['/etc/hosts'], network: { socat: undefined, shell: undefined, socketDir: '/run/user/1000/n' } }));

  it('the list has every kind', () => {
    const kinds = new Set(ops.map((op) => op.kind));
    for (const kind of ['proc', 'dev', 'tmpfs', 'bind', 'submount', 'pin', 'protect', 'placeholder', 'hide', 'symlink', 'kernel-read-only', 'kernel-mask', 'read-only', 'socket-dir'] as const) {
      expect(kinds.has(kind), kind).toBe(true);
    }
  });

  it('bwrap: an argument for each, but for the mounts beneath a read-only bind (its --ro-bind makes them read-only itself)', () => {
    for (const op of ops) {
      const args = setupArgs([op]);
      if (op.kind === 'submount') expect(args).toEqual([]);
      else expect(args, show(op)).toContain(op.path);
    }
  });

  it('nsjail: a mount for each, but for read-only, which is the rw flag of the mount it names (its own root is read-only already)', () => {
    for (const op of ops) {
      const lines = renderFields(setupMounts([op]), '');
      if (op.kind === 'read-only') expect(lines).toEqual([]);
      else expect(lines.join('\n'), show(op)).toContain(`dst: "${op.path}"`);
    }
    const all = renderFields(setupMounts(ops), '');
    expect(all.filter((l) => l.includes('dst: "/"'))).toEqual([]);
    for (const path of ops.filter((op) => op.kind === 'read-only' && op.path !== '/').map((op) => op.path)) {
      expect(all.find((l) => l.includes(`dst: "${path}" fstype: "tmpfs"`)), path).toContain('rw: false');
    }
  });
});
