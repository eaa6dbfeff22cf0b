/**
 * host/sealed.ts: the listing of each directory the sandbox seals, read from
 * a real directory: one entry per name with its type, links with their
 * targets, and a refusal for what cannot be named.
 */
import { chmodSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { rule } from '../helpers/mount-rule.js';
import { keptUnsealed, sealedListings } from '../../src/host/sealed.js';
import type { MountRule, Policy } from '../../src/profile/types.js';
import { expectIsolateError } from './expect-error.js';

function policy(mounts: MountRule[]): Policy {
  return {
    profile: { name: 'test', sources: ['test'], description: 'test' },
    filesystem: { mounts, protect: [], skipped: [] },
    network: { mode: 'none', allow: [], deny: [] },
    environment: { pass: [], set: {}, secrets: [] },
    process: { cwd: '/', hostname: 'isolate' },
    limits: { killAfterMs: 2000, enforce: 'rlimit' },
    syscalls: { preset: 'default', deny: [], allow: [] },
    commands: { allow: [], deny: [] },
    audit: { enabled: false, log: undefined, required: false },
  };
}

describe('keptUnsealed: a directory left a view of the host, its hidden paths watched instead', () => {
  it('/etc (root\'s, writable by no one else): for an ordinary user, and for root when it is outside root\'s home', () => {
    expect(keptUnsealed('/etc', 1000, '/home/u')).toMatch(/only root can add, remove or rename/);
    expect(keptUnsealed('/etc', 0, '/root')).toMatch(/a system directory only root changes, outside your home/);
  });

  it('root\'s own home is sealed for root, and so is everything when root\'s home is unknown', () => {
    expect(keptUnsealed('/etc', 0, '/')).toBeUndefined();
    expect(keptUnsealed('/etc', 0, undefined)).toBeUndefined();
  });

  it('not a directory others can write, nor one of an ordinary user', () => {
    const dir = mkdtempSync(join(tmpdir(), 'isolate-unit-sealed-'));
    try {
      chmodSync(dir, 0o777);
      expect(keptUnsealed(dir, 1000, '/home/u')).toBeUndefined();
      chmodSync(dir, 0o775);
      expect(keptUnsealed(dir, 1000, '/home/u')).toBeUndefined();
      chmodSync(dir, 0o755);
      // Owned by whoever runs the test: root's only when that is root.
      expect(keptUnsealed(dir, 1000, '/home/u') === undefined).toBe(process.getuid?.() !== 0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('sealedListings', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'isolate-unit-sealed-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const hiding = (name: string): Policy => policy([rule('read', dir), rule('deny', join(dir, name), 'file')]);

  it('lists each entry of a sealed directory once, with its type; links with their targets; nothing for a directory that is not sealed', () => {
    writeFileSync(join(dir, 'secret'), 'x');
    writeFileSync(join(dir, 'it\'s a\nname'), 'x');
    mkdirSync(join(dir, 'sub'));
    symlinkSync('secret', join(dir, 'to-secret'));
    symlinkSync('/nowhere/at/all', join(dir, 'dangling'));
    const [listing, ...more] = sealedListings(hiding('secret'), dir);
    expect(more).toEqual([]);
    expect(listing?.path).toBe(dir);
    expect([...(listing?.entries ?? [])].sort((a, b) => (a.name < b.name ? -1 : 1))).toEqual([
      { name: 'dangling', type: 'symlink', target: '/nowhere/at/all' },
      { name: 'it\'s a\nname', type: 'file' },
      { name: 'secret', type: 'file' },
      { name: 'sub', type: 'dir' },
      { name: 'to-secret', type: 'symlink', target: 'secret' },
    ]);
    expect(sealedListings(policy([rule('write', dir), rule('deny', join(dir, 'secret'), 'file')]), dir)).toEqual([]);
  });

  it('a name or a link target that is not UTF-8 is refused (exit 125), naming it escaped', () => {
    writeFileSync(join(dir, 'secret'), 'x');
    writeFileSync(Buffer.concat([Buffer.from(`${dir}/bad-`), Buffer.from([0xff, 0x0a])]), 'x');
    const err = expectIsolateError(() => sealedListings(hiding('secret'), dir), 'E_PATH_INVALID');
    expect(err.message).toContain(`${dir}/bad-\\xff\\x0a`);
    expect(err.exitCode).toBe(125);
    rmSync(Buffer.concat([Buffer.from(`${dir}/bad-`), Buffer.from([0xff, 0x0a])]));
    symlinkSync(Buffer.from([0x61, 0xfe]), join(dir, 'link'));
    expect(expectIsolateError(() => sealedListings(hiding('secret'), dir), 'E_PATH_INVALID').message).toContain(`${dir}/link: a symbolic link whose target (a\\xfe) is not UTF-8`);
  });

  it('lists the nearest directory above a hidden path that does not exist yet, when it is read-only in the sandbox', () => {
    mkdirSync(join(dir, 'cargo'));
    writeFileSync(join(dir, 'cargo', 'env'), 'x');
    symlinkSync(join(dir, 'cargo'), join(dir, 'linked'));
    const missing = (paths: string[], mounts: MountRule[] = [rule('read', dir)]): Policy => {
      const p = policy(mounts);
      p.filesystem.skipped = paths.map((path) => ({ path, reason: 'deny: does not exist, nothing to hide' }));
      return p;
    };
    expect(sealedListings(missing([join(dir, 'cargo', 'credentials.toml'), join(dir, 'cargo', 'a', 'b')]), dir)).toEqual([{ path: join(dir, 'cargo'), entries: [{ name: 'env', type: 'file' }], absent: true }]);
    // Through a link (the seal mounts on the path as named), in a writable directory, or skipped for another reason: none.
    expect(sealedListings(missing([join(dir, 'linked', 'credentials.toml')]), dir)).toEqual([]);
    expect(sealedListings(missing([join(dir, 'cargo', 'credentials.toml')], [rule('write', dir)]), dir)).toEqual([]);
    const optional = policy([rule('read', dir)]);
    optional.filesystem.skipped = [{ path: join(dir, 'cargo', 'x'), reason: 'read: optional and does not exist' }];
    expect(sealedListings(optional, dir)).toEqual([]);
  });

  it('many missing paths at once (their ancestors looked at once): the same directories as one by one, whatever their order', () => {
    mkdirSync(join(dir, 'cargo'));
    writeFileSync(join(dir, 'cargo', 'env'), 'x');
    symlinkSync(join(dir, 'cargo'), join(dir, 'linked'));
    mkdirSync(join(dir, 'gh'));
    const missing = (paths: string[]): Policy => {
      const p = policy([rule('read', dir)]);
      p.filesystem.skipped = paths.map((path) => ({ path, reason: 'deny: does not exist, nothing to hide' }));
      return p;
    };
    const paths = [
      join(dir, 'linked', 'a', 'credentials.toml'), // through a link: none, and its ancestors say nothing of cargo's
      join(dir, 'cargo', 'a', 'b'),
      join(dir, 'cargo', 'a', 'c'), // cargo/a already walked
      join(dir, 'cargo', 'env', 'x'), // above it a file: none
      join(dir, 'linked', 'b'),
      join(dir, 'gh', 'hosts.yml'),
    ];
    const oneByOne = paths.flatMap((path) => sealedListings(missing([path]), dir)).map((f) => f.path);
    expect(new Set(oneByOne)).toEqual(new Set([join(dir, 'cargo'), join(dir, 'gh')]));
    for (const order of [paths, [...paths].reverse()]) {
      expect(sealedListings(missing(order), dir).map((f) => f.path).sort()).toEqual([join(dir, 'cargo'), join(dir, 'gh')].sort());
    }
  });

  it('a directory that cannot be listed is refused (exit 125), not left unsealed', () => {
    const gone = join(dir, 'gone');
    const err = expectIsolateError(() => sealedListings(policy([rule('read', gone), rule('deny', join(gone, 'secret'), 'file')]), dir), 'E_SANDBOX_SETUP');
    expect(err.message).toContain(`cannot list ${gone} (ENOENT)`);
    expect(err.exitCode).toBe(125);
  });
});
