/**
 * The protected-name search on a real directory tree: which names are
 * protected where, and which missing ones are blocked for the run.
 */
import { chmodSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MAX_SCAN_DEPTH, MAX_SCAN_PATH_BYTES, scanProtected } from '../../src/host/protect-scan.js';
import type { ProtectFact } from '../../src/backends/types.js';
import { writablePolicy } from '../helpers/scan-policy.js';

let root: string;
beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'isolate-it-scan-'));
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

/** Make `rel` (a directory when it ends in /, else a file) under the root. */
function make(...rels: string[]): void {
  for (const rel of rels) {
    const path = join(root, rel);
    if (rel.endsWith('/')) mkdirSync(path, { recursive: true });
    else {
      mkdirSync(join(path, '..'), { recursive: true });
      writeFileSync(path, 'x');
    }
  }
}

/** The facts with paths relative to the root, sorted. */
function scan(protect: string[]): { path: string; state: ProtectFact['state']; pins: string[] }[] {
  const rel = (p: string): string => p.slice(root.length + 1);
  return scanProtected(writablePolicy(root, protect))
    .map((f) => ({ path: rel(f.path), state: f.state, pins: f.pins.map(rel) }))
    .sort((a, b) => a.path.localeCompare(b.path));
}

describe('scanProtected', () => {
  it('pins the directories above a path the profile hides inside the root, and refuses a link on the way', () => {
    make('config/secret.txt', 'a/b/vault/key', 'other/');
    const policy = writablePolicy(root, []);
    const hide = (path: string, type: 'file' | 'dir') => ({ kind: 'deny' as const, path: join(root, path), requested: join(root, path), type });
    policy.filesystem.mounts.push(hide('config/secret.txt', 'file'), hide('a/b/vault', 'dir'));
    const rel = (p: string): string => p.slice(root.length + 1);
    const facts = scanProtected(policy).filter((f) => f.path.startsWith(root));
    expect(facts.map((f) => ({ path: rel(f.path), state: f.state, pins: f.pins.map(rel) }))).toEqual([
      { path: 'config/secret.txt', state: 'file', pins: ['config'] },
      { path: 'a/b/vault', state: 'dir', pins: ['a', 'a/b'] },
    ]);
    rmSync(join(root, 'config'), { recursive: true });
    symlinkSync(join(root, 'other'), join(root, 'config'));
    expect(scanProtected(policy).filter((f) => f.path.startsWith(root)).map((f) => [rel(f.path), f.state])).toContainEqual(['config', 'symlink']);
  });

  it('blocks a missing single name at the top of the root only, and protects an existing one at any depth', () => {
    make('sub/deeper/.mcp.json', 'other/');
    expect(scan(['.mcp.json'])).toEqual([
      { path: '.mcp.json', state: 'missing', pins: [] },
      { path: 'sub/deeper/.mcp.json', state: 'file', pins: ['sub', 'sub/deeper'] },
    ]);
  });

  it('protects a whole directory as one name, and does not look inside it', () => {
    make('.claude/settings.json', '.claude/skills/.mcp.json', 'pkg/.claude/commands/x.md');
    expect(scan(['.claude', '.mcp.json'])).toEqual([
      { path: '.claude', state: 'dir', pins: [] },
      { path: '.mcp.json', state: 'missing', pins: [] },
      { path: 'pkg/.claude', state: 'dir', pins: ['pkg'] },
    ]);
  });

  it('blocks the first missing directory of a nested name at the top of the root', () => {
    make('.local/');
    expect(scan(['.github/hooks', '.github/agents', '.local/share/applications'])).toEqual([
      { path: '.github', state: 'missing', pins: [] },
      { path: '.local/share', state: 'missing', pins: ['.local'] },
    ]);
  });

  it('blocks a missing nested name where its parent exists, at any depth, but not its missing parents below the top', () => {
    make('.github/workflows/ci.yml', 'pkg/.github/', 'lib/src/');
    expect(scan(['.github/hooks'])).toEqual([
      { path: '.github/hooks', state: 'missing', pins: ['.github'] },
      { path: 'pkg/.github/hooks', state: 'missing', pins: ['pkg', 'pkg/.github'] },
    ]);
  });

  it('keeps the rule for a repository: no .git can be created at the top, and a .git file is protected', () => {
    make('wt/.git');
    expect(scan(['.git/hooks', '.git/config'])).toEqual([
      { path: '.git', state: 'missing', pins: [] },
      { path: 'wt/.git', state: 'file', pins: ['wt'] },
    ]);
  });

  it('keeps read-only as a whole an empty .git nothing can be made in (a run\'s placeholder beside this one), and blocks nothing beneath it', () => {
    make('sub/.git/', 'repo/.git/');
    chmodSync(join(root, 'sub', '.git'), 0o555);
    expect(scan(['.git/hooks', '.git/config'])).toEqual([
      { path: '.git', state: 'missing', pins: [] },
      { path: 'repo/.git/config', state: 'missing', pins: ['repo', 'repo/.git'] },
      { path: 'repo/.git/hooks', state: 'missing', pins: ['repo', 'repo/.git'] },
      { path: 'sub/.git', state: 'dir', pins: ['sub'] },
    ]);
  });

  it('keeps read-only as a whole a directory too deep, or with too long a path, to search', () => {
    make(`${Array.from({ length: MAX_SCAN_DEPTH + 5 }, () => 'd').join('/')}/.mcp.json`);
    const long = Array.from({ length: 12 }, (_, i) => `${i}${'x'.repeat(199)}`);
    make(`${long.join('/')}/.mcp.json`);
    const facts = scan(['.mcp.json']).filter((f) => f.state !== 'missing');
    const deep = Array.from({ length: MAX_SCAN_DEPTH + 1 }, () => 'd').join('/');
    const cut = long.findIndex((_, i) => Buffer.byteLength(join(root, ...long.slice(0, i + 1))) > MAX_SCAN_PATH_BYTES);
    expect(facts.map((f) => [f.path, f.state, f.pins.length])).toEqual([
      [long.slice(0, cut + 1).join('/'), 'dir', cut],
      [deep, 'dir', MAX_SCAN_DEPTH],
    ].sort((a, b) => String(a[0]).localeCompare(String(b[0]))));
  });

  it('does not look beneath a symbolic link on the way, and reports it as the protected name it stands for (refused by protectOps)', () => {
    make('real/git/', 'pkg/');
    symlinkSync(join(root, 'real'), join(root, '.config'));
    symlinkSync(join(root, 'real', 'gitconfig'), join(root, '.gitconfig'));
    symlinkSync(join(root, 'real'), join(root, 'pkg', '.git'));
    expect(scan(['.config/git', '.gitconfig', '.git/hooks'])).toEqual([
      { path: '.config', state: 'symlink', pins: [] },
      { path: '.git', state: 'missing', pins: [] },
      { path: '.gitconfig', state: 'symlink', pins: [] },
      { path: 'pkg/.git', state: 'symlink', pins: ['pkg'] },
    ]);
  });

  it('protects a pointer file on the way as the name it stands for (a second jj workspace\'s .jj/repo names its repository), and no other file', () => {
    make('.jj/repo', 'ws/.jj/repo/', 'ws/.jj/repo/config.toml', 'linux/.config');
    expect(scan(['.jj/repo/config.toml', '.config/git'])).toEqual([
      { path: '.config', state: 'missing', pins: [] },
      { path: '.jj/repo', state: 'file', pins: ['.jj'] },
      { path: 'ws/.jj/repo/config.toml', state: 'file', pins: ['ws', 'ws/.jj', 'ws/.jj/repo'] },
    ]);
  });
});
