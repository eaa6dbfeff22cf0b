/**
 * A writable root at or inside a protected name: the names are matched
 * against the root's full path, the directories above it counting. A root
 * at or inside a name is kept read-only whole; a root whose path begins a
 * name (`<p>/.git`) has the rest of it (`hooks`, `config`) protected at its
 * top, before the run and by the search after it.
 */
import { existsSync, lstatSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { scanProtected, searchScope } from '../../src/host/protect-scan.js';
import { nameIndex, rootNames } from '../../src/host/protect-names.js';
import { ROOT_IN_PROTECTED_WHY } from '../../src/host/own-paths.js';
import { protectOps } from '../../src/backends/mounts.js';
import { quarantineAfterRun } from '../../src/run/after-run-scan.js';
import type { ProtectFact } from '../../src/backends/types.js';
import type { MountRule, Policy } from '../../src/profile/types.js';
import { writablePolicy } from '../helpers/scan-policy.js';

const PROTECT = ['.git/hooks', '.git/config', '.git/info', '.envrc'];
const EXISTING = ['.bashrc', '.config/autostart', '.jj/repo/config.toml'];
const TAG = 'feedbeef';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'isolate-it-rootnames-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function make(rel: string, text = 'x'): string {
  const path = join(dir, rel);
  mkdirSync(join(path, '..'), { recursive: true });
  writeFileSync(path, text);
  return path;
}

/** `root` (under the test directory) writable; the names as a profile's plain and `~/` entries give them. */
function policyAt(root: string, type: MountRule['type'] = 'dir'): Policy {
  const path = join(dir, root);
  const p = writablePolicy(path, PROTECT);
  p.filesystem.mounts[0] = { kind: 'write', path, requested: path, type };
  return { ...p, filesystem: { ...p.filesystem, protectExisting: EXISTING } };
}

const rel = (p: string): string => (p === dir ? '.' : p.slice(dir.length + 1));
const scan = (policy: Policy): { path: string; state: ProtectFact['state']; pins: string[] }[] =>
  scanProtected(policy)
    .map((f) => ({ path: rel(f.path), state: f.state, pins: f.pins.map(rel) }))
    .sort((a, b) => a.path.localeCompare(b.path));

describe('rootNames', () => {
  const index = nameIndex({ protect: PROTECT, protectExisting: EXISTING });
  it('a root at or inside a name is whole; one whose path begins names gets the rest of each; the rest nothing', () => {
    expect(rootNames(index, '/p/.git/hooks').whole).toBe(true);
    expect(rootNames(index, '/p/.git/hooks/sub').whole).toBe(true);
    expect(rootNames(index, '/home/u/.config/autostart').whole).toBe(true);
    expect(rootNames(index, '/home/u/.bashrc').whole).toBe(true);
    const git = rootNames(index, '/p/.git');
    expect(git.whole).toBe(false);
    expect(git.rules.map((r) => [r.segments.join('/'), r.block, r.above])).toEqual([
      ['hooks', true, ['.git']],
      ['config', true, ['.git']],
      ['info', true, ['.git']],
      ['commondir', false, ['.git']],
    ]);
    expect(rootNames(index, '/home/u/.jj/repo').rules.map((r) => [r.segments.join('/'), r.block])).toEqual([['config.toml', false]]);
    expect(rootNames(index, '/p/src')).toEqual({ whole: false, rules: [] });
    expect(rootNames(index, '/p/git/hooks')).toEqual({ whole: false, rules: [] });
  });
});

describe('the search before the run, for a root at or inside a protected name', () => {
  it('a root at .git: its hooks and config are protected, a missing info blocked, as in the directory above', () => {
    make('p/.git/hooks/pre-commit.sample');
    make('p/.git/config', '[core]\n');
    make('p/.git/HEAD', 'ref: refs/heads/main\n');
    const facts = scan(policyAt('p/.git'));
    expect(facts).toContainEqual({ path: 'p/.git/hooks', state: 'dir', pins: [] });
    expect(facts).toContainEqual({ path: 'p/.git/config', state: 'file', pins: [] });
    expect(facts).toContainEqual({ path: 'p/.git/info', state: 'missing', pins: [] });
  });

  it('a root at .git/hooks, or inside it, is read-only whole, with nothing made in it', () => {
    make('p/.git/hooks/sub/x');
    for (const root of ['p/.git/hooks', 'p/.git/hooks/sub']) {
      const facts = scanProtected(policyAt(root));
      expect(facts.map((f) => ({ path: rel(f.path), state: f.state, pins: f.pins, why: f.why }))).toEqual([{ path: root, state: 'dir', pins: [], why: ROOT_IN_PROTECTED_WHY }]);
    }
  });

  it('a home-only name as a root: a directory read-only whole, a file root kept read-only', () => {
    make('home/.config/autostart/old.desktop');
    make('home/.bashrc', '# mine\n');
    expect(scan(policyAt('home/.config/autostart'))).toEqual([{ path: 'home/.config/autostart', state: 'dir', pins: [] }]);
    expect(scan(policyAt('home/.bashrc', 'file'))).toEqual([{ path: 'home/.bashrc', state: 'file', pins: [] }]);
  });

  it('a root at or inside an absolute protected path (a ~/ entry in the home) is read-only whole; one beside it is searched as before', () => {
    make('home/.config/autostart/sub/old.desktop');
    make('home/.config/other/x');
    for (const root of ['home/.config/autostart', 'home/.config/autostart/sub']) {
      const policy = policyAt(root);
      const only = { ...policy, filesystem: { ...policy.filesystem, protect: [], protectExisting: [], protectPaths: [join(dir, 'home/.config/autostart')] } };
      expect(scan(only)).toEqual([{ path: root, state: 'dir', pins: [] }]);
    }
    const beside = policyAt('home/.config/other');
    expect(scan({ ...beside, filesystem: { ...beside.filesystem, protectPaths: [join(dir, 'home/.config/autostart')] } })).toEqual([
      { path: 'home/.config/other/.envrc', state: 'missing', pins: [] },
      { path: 'home/.config/other/.git', state: 'missing', pins: [] },
    ]);
  });

  it('a directory on PATH only does not make a root inside it read-only (the sandbox cannot add a name to it)', () => {
    make('tools/bin/sub/x');
    const policy = policyAt('tools/bin/sub');
    const bin = join(dir, 'tools/bin');
    const onPath = { ...policy, filesystem: { ...policy.filesystem, protectPaths: [bin], protectWhy: [{ path: bin, why: 'on your PATH' }] } };
    expect(scan(onPath)).toEqual([
      { path: 'tools/bin/sub/.envrc', state: 'missing', pins: [] },
      { path: 'tools/bin/sub/.git', state: 'missing', pins: [] },
    ]);
  });
});

describe('protectOps: a root kept read-only whole', () => {
  it('gets no writable pin inside it for a name beneath (the pin would bind it writable again)', () => {
    const root = '/p/.git/hooks';
    const rules: MountRule[] = [{ kind: 'write', path: root, requested: root, type: 'dir' }];
    const facts: ProtectFact[] = [
      { path: root, state: 'dir', pins: [] },
      { path: `${root}/a/b/.envrc`, state: 'file', pins: [`${root}/a`, `${root}/a/b`] },
    ];
    const ops = protectOps(rules, facts, new Set());
    expect(ops.filter((op) => op.kind === 'pin')).toEqual([]);
    expect(ops.find((op) => op.path === root)).toMatchObject({ kind: 'protect', dir: true });
  });
});

describe('the search after the run, for a root at or inside a protected name', () => {
  const now = { bootId: 'b', wallMs: Date.now(), offsetMs: 0 };
  const after = (policy: Policy, before: ProtectFact[] = []) => quarantineAfterRun({ scope: searchScope(policy), before, tag: TAG, since: now, now }).map((q) => [rel(q.path), q.movedTo === null ? null : rel(q.movedTo), q.error]);

  it('a root at .git: hooks the run made there are moved aside', () => {
    make('p/.git/HEAD', 'ref: refs/heads/main\n');
    make('p/.git/hooks/pre-commit', '#!/bin/sh\ntouch /tmp/x\n');
    expect(after(policyAt('p/.git'))).toEqual([['p/.git/hooks', `p/.git/hooks.isolate-quarantined-${TAG}`, undefined]]);
  });

  it('a root whose path begins a name protected where it exists: one the run made is moved aside', () => {
    make('home/.jj/repo/config.toml', '[ui]\npager = "touch /tmp/x"\n');
    expect(after(policyAt('home/.jj/repo'))).toEqual([['home/.jj/repo/config.toml', `home/.jj/repo/config.toml.isolate-quarantined-${TAG}`, undefined]]);
  });

  it('a root at a git directory or inside one: a link the run placed among git\'s files in it is moved aside; one outside the root is not the run\'s', () => {
    make('p/.git/HEAD', 'ref: refs/heads/main\n');
    make('p/.git/logs/refs/heads/main');
    symlinkSync(join(dir, 'home/.bashrc'), join(dir, 'p/.git/COMMIT_EDITMSG'));
    symlinkSync(join(dir, 'home/.bashrc'), join(dir, 'p/.git/logs/refs/heads/feature'));
    expect(after(policyAt('p/.git/logs'))).toEqual([['p/.git/logs/refs/heads/feature', `p/.git/logs/refs/heads/feature.isolate-quarantined-${TAG}`, undefined]]);
    expect(lstatSync(join(dir, 'p/.git/COMMIT_EDITMSG')).isSymbolicLink()).toBe(true);
    rmSync(join(dir, `p/.git/logs/refs/heads/feature.isolate-quarantined-${TAG}`)); // (made at this test's "run" too)
    expect(after(policyAt('p/.git'))).toEqual([['p/.git/COMMIT_EDITMSG', `p/.git/COMMIT_EDITMSG.isolate-quarantined-${TAG}`, undefined]]);
  });

  it('a root read-only whole is not searched; a file root is no error', () => {
    make('p/.git/hooks/pre-commit');
    expect(after(policyAt('p/.git/hooks'))).toEqual([]);
    expect(existsSync(join(dir, 'p/.git/hooks/pre-commit'))).toBe(true);
    make('notes.txt', 'notes\n');
    expect(after(policyAt('notes.txt', 'file'))).toEqual([]);
  });
});
