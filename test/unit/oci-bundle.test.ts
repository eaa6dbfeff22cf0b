/**
 * The OCI bundle's pure rendering (oci-config.ts, oci-mounts.ts,
 * oci-export.ts): each setup operation's mount, the privileges, the limits,
 * and the refusals of what a bundle cannot hold; and the writer of the
 * output directory (cli/export-write.ts) against hostile directories.
 */
import { chmodSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ociBundle } from '../../src/backends/oci-config.js';
import { ociFilesystem } from '../../src/backends/oci-mounts.js';
import { ociExporter } from '../../src/backends/oci-export.js';
import { prepareOutDir, writeEntries } from '../../src/cli/export-write.js';
import { applyOverrides, loadMergedProfile, type ProfileOverrides } from '../../src/profile/load.js';
import type { Policy } from '../../src/profile/types.js';
import { syntheticHost, syntheticPolicy, usrBinCommand, VARS } from '../golden/synthetic.js';
import { expectIsolateError } from './expect-error.js';

const CTX = { callerCwd: VARS.CWD, env: { HOME: VARS.HOME } };

async function policyOf(name: string, overrides: ProfileOverrides = {}): Promise<Policy> {
  return syntheticPolicy(applyOverrides(await loadMergedProfile(name, CTX), overrides, CTX));
}

/** The default profile, merged once, for the refusals (overrides are applied to it there). */
const CTX_MERGED = await loadMergedProfile('default', CTX);

const bundleOf = (policy: Policy, uid = 1000) => ociBundle(policy, ['make'], { ...syntheticHost(policy, usrBinCommand('make')), uid, gid: uid });

describe('ociBundle', () => {
  it('no capability, no_new_privs, every namespace, the caller as the sandbox\'s uid 0', async () => {
    const { config } = bundleOf(await policyOf('default'));
    expect(Object.values(config.process.capabilities).every((set) => set.length === 0)).toBe(true);
    expect(config.process.noNewPrivileges).toBe(true);
    expect(config.linux.namespaces.map((n) => n.type)).toEqual(['user', 'pid', 'ipc', 'uts', 'cgroup', 'mount', 'network']);
    expect(config.linux.uidMappings).toEqual([{ containerID: 0, hostID: 1000, size: 1 }]);
    expect(config.root).toEqual({ path: 'rootfs', readonly: true });
    expect(config.linux.seccomp?.defaultAction).toBe('SCMP_ACT_ERRNO');
  });

  it('network host: no network namespace; preset none: no seccomp object', async () => {
    const { config } = bundleOf(await policyOf('dev'));
    expect(config.linux.namespaces.map((n) => n.type)).not.toContain('network');
    const none = await policyOf('default');
    const bare = bundleOf({ ...none, syscalls: { preset: 'none', deny: [], allow: [] } });
    expect(bare.config.linux.seccomp).toBeUndefined();
  });

  it('explicit limits are rlimits and cgroup resources; the memory ceiling is neither (a note says so)', async () => {
    const b = bundleOf(await policyOf('default', { limits: { memory: '512M', processes: 64, cpu: '10s' } }));
    expect(b.config.linux.resources).toEqual({ memory: { limit: 512 * 1024 ** 2, swap: 512 * 1024 ** 2 }, pids: { limit: 64 } });
    expect(b.config.process.rlimits).toEqual(
      expect.arrayContaining([
        { type: 'RLIMIT_CPU', soft: 10, hard: 11 },
        { type: 'RLIMIT_DATA', soft: 512 * 1024 ** 2, hard: 512 * 1024 ** 2 },
        { type: 'RLIMIT_NPROC', soft: 64, hard: 64 },
      ]),
    );
    const plain = bundleOf(await policyOf('default'));
    expect(plain.config.linux.resources).toBeUndefined();
    expect(plain.notes.join('\n')).toMatch(/memory ceiling 8G: not in the bundle/);
  });

  it('refuses a timeout, the filtered network and credentials (exit 125), naming the fix', async () => {
    for (const overrides of [{ limits: { timeout: '5s' } }, { allowDomain: ['example.com'] }] satisfies ProfileOverrides[]) {
      const e = expectIsolateError(() => bundleOf(syntheticPolicy(applyOverrides(CTX_MERGED, overrides, CTX))), 'E_BACKEND_UNSUPPORTED');
      expect(e.message).toMatch(/an OCI bundle cannot enforce/);
      expect(e.fix).toBeDefined();
    }
  });
});

describe('ociFilesystem', () => {
  it('each operation in order: hidden files unopenable, hidden directories read-only after their mounts, placeholders covered', () => {
    const fs = ociFilesystem([
      { kind: 'proc', path: '/proc' },
      { kind: 'bind', path: '/usr', readOnly: true, dir: true, exists: false },
      { kind: 'hide', path: '/home/user', dir: true },
      { kind: 'bind', path: '/home/user/project', readOnly: false, dir: true, exists: false },
      { kind: 'hide', path: '/etc/shadow', dir: false },
      { kind: 'placeholder', path: '/home/user/project/.npmrc', slot: 0 },
      { kind: 'symlink', path: '/bin', target: '/usr/bin' },
      { kind: 'kernel-mask', path: '/proc/kcore', dir: false },
      { kind: 'kernel-read-only', path: '/proc/sys', dir: true },
      { kind: 'read-only', path: '/home/user' },
      { kind: 'read-only', path: '/' },
    ]);
    expect(fs.mounts.map((m) => [m.destination, m.type, m.source, m.options.join(',')])).toEqual([
      ['/proc', 'proc', 'proc', 'nosuid,noexec,nodev'],
      ['/usr', 'bind', '/usr', 'rbind,nosuid,nodev,ro'],
      ['/home/user', 'tmpfs', 'tmpfs', 'nosuid,nodev,mode=0555'],
      ['/home/user/project', 'bind', '/home/user/project', 'rbind,nosuid,nodev,rw'],
      ['/etc/shadow', 'bind', '/dev/null', 'rbind,nosuid,nodev,ro'],
      ['/home/user/project/.npmrc', 'bind', '/dev/null', 'rbind,nosuid,nodev,ro'],
    ]);
    expect(fs.readonlyPaths).toEqual(['/proc/sys', '/home/user']);
    expect(fs.maskedPaths).toEqual(['/proc/kcore']);
    expect(fs.rootReadOnly).toBe(true);
    expect(fs.links).toEqual([{ path: '/bin', target: '/usr/bin' }]);
  });
});

describe('the export writer', () => {
  const dirs: string[] = [];
  const temp = (): string => {
    const d = mkdtempSync(join(tmpdir(), 'isolate-unit-export-'));
    dirs.push(d);
    return d;
  };
  afterEach(() => {
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });
  const uid = process.getuid?.() ?? 0;

  it('creates a private directory and the bundle in it, symlinks unfollowed', async () => {
    const out = join(temp(), 'bundle');
    const policy = await policyOf('default');
    const e = ociExporter.render(policy, ['make'], { ...syntheticHost(policy, usrBinCommand('make')), mountPoints: [] });
    prepareOutDir(out, uid);
    writeEntries(out, e.entries);
    expect(lstatSync(out).mode & 0o777).toBe(0o700);
    expect(lstatSync(join(out, 'config.json')).mode & 0o777).toBe(0o600);
    expect(JSON.parse(readFileSync(join(out, 'config.json'), 'utf8'))).toHaveProperty('ociVersion', '1.0.2');
    expect(lstatSync(join(out, 'rootfs', 'bin')).isSymbolicLink()).toBe(true);
  });

  it('refuses a symlink, a file, a non-empty directory and one others may write', () => {
    const base = temp();
    const target = join(base, 'target');
    mkdirSync(target);
    symlinkSync(target, join(base, 'link'));
    writeFileSync(join(base, 'file'), '');
    mkdirSync(join(base, 'full'));
    writeFileSync(join(base, 'full', 'x'), '');
    mkdirSync(join(base, 'open'));
    chmodSync(join(base, 'open'), 0o777);
    for (const name of ['link', 'file', 'full', 'open']) expectIsolateError(() => prepareOutDir(join(base, name), uid), 'E_IO');
    expect(readdirSync(target)).toEqual([]);
  });

  it('an entry that would leave the directory is a bug, refused before anything is written', () => {
    const out = join(temp(), 'bundle');
    prepareOutDir(out, uid);
    for (const path of ['../x', '/etc/x', 'a/../../x', 'a//b', './x']) expectIsolateError(() => writeEntries(out, [{ kind: 'file', path, content: '' }]), 'E_INTERNAL');
    expect(readdirSync(out)).toEqual([]);
  });
});
