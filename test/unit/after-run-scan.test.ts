/**
 * The search after a run (run/after-run-scan.ts) on real trees, judged by
 * what is left where host programs would look: what the run created is
 * moved aside and reported; what was there before, what is empty, and
 * what the sandbox could never have entered stays; nothing stops it (a
 * tree deeper than PATH_MAX, deeper than the directories it holds open, a
 * name that is not UTF-8). The unprivileged cases (directories it cannot
 * read) run in test/integration/redteam-quarantine.test.ts and
 * after-run.test.ts.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { quarantineAfterRun, type AfterRun } from '../../src/run/after-run-scan.js';
import { searchScope } from '../../src/host/protect-scan.js';
import type { ProtectFact } from '../../src/backends/types.js';
import { writablePolicy } from '../helpers/scan-policy.js';

const PROTECT = ['.git/hooks', '.git/config', '.envrc'];
const TAG = 'feedbeef';
const asRoot = process.getuid?.() === 0;
let root: string;
beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'isolate-it-afterrun-'));
});
afterEach(() => {
  spawnSync('chmod', ['-R', 'u+rwx', root]);
  spawnSync('rm', ['-rf', root]);
});

function make(rel: string, text = 'x'): string {
  const path = join(root, rel);
  mkdirSync(join(path, '..'), { recursive: true });
  writeFileSync(path, text);
  return path;
}

const now = { bootId: 'b', wallMs: Date.now(), offsetMs: 0 };
function search(over: Partial<AfterRun> = {}): { path: string; movedTo: string | null; reason?: string; error?: string }[] {
  return quarantineAfterRun({ scope: searchScope(writablePolicy(root, PROTECT)), before: [], tag: TAG, since: now, now, ...over });
}
const rel = (p: string | null): string | null => (p === null ? null : p.slice(root.length + 1));

describe('quarantineAfterRun', () => {
  it('moves aside what the run created: a repository\'s config and hooks, an .envrc, a .git file and a .git link', () => {
    make('app/.git/config', '[core]\n\tfsmonitor = x\n');
    make('app/.git/hooks/pre-commit');
    make('a/b/.envrc');
    make('wt/.git', 'gitdir: ../elsewhere\n');
    mkdirSync(join(root, 'ln'));
    symlinkSync('../app/.git', join(root, 'ln/.git'));
    const moved = search().map((q) => [rel(q.path), rel(q.movedTo)]);
    expect(moved.sort()).toEqual(
      [
        ['a/b/.envrc', `a/b/.envrc.isolate-quarantined-${TAG}`],
        ['app/.git/config', `app/.git/config.isolate-quarantined-${TAG}`],
        ['app/.git/hooks', `app/.git/hooks.isolate-quarantined-${TAG}`],
        ['ln/.git', `ln/.git.isolate-quarantined-${TAG}`],
        ['wt/.git', `wt/.git.isolate-quarantined-${TAG}`],
      ].sort(),
    );
    expect(existsSync(join(root, 'app/.git/config'))).toBe(false);
    expect(lstatSync(join(root, `ln/.git.isolate-quarantined-${TAG}`)).isSymbolicLink()).toBe(true);
  });

  it('leaves what existed before the run, empty names, and a directory protected as a whole', () => {
    make('old/.git/config');
    make('x/.envrc', '');
    make('.claude/sub/.envrc');
    const before: ProtectFact[] = [
      { path: join(root, 'old/.git/config'), state: 'file', pins: [] },
      { path: join(root, '.claude'), state: 'dir', pins: [] },
    ];
    expect(quarantineAfterRun({ scope: searchScope(writablePolicy(root, [...PROTECT, '.claude'])), before, tag: TAG, since: now, now })).toEqual([]);
    expect(existsSync(join(root, 'old/.git/config'))).toBe(true);
  });

  it('finds a name deeper than PATH_MAX, and one under a name that is not UTF-8', () => {
    // 40 levels of 200 characters, made one relative step at a time (no path that long can be named whole).
    const script = `const fs = require('fs'); for (let i = 0; i < 40; i++) { fs.mkdirSync('${'d'.repeat(200)}'); process.chdir('${'d'.repeat(200)}'); }
      fs.mkdirSync('.git/hooks', { recursive: true }); fs.writeFileSync('.git/config', 'x'); fs.writeFileSync('.git/hooks/pre-commit', 'x'); fs.writeFileSync('.envrc', 'x');`;
    const r = spawnSync(process.execPath, ['-e', script], { cwd: root });
    expect(r.status, r.stderr.toString()).toBe(0);
    const odd = Buffer.concat([Buffer.from(`${root}/`), Buffer.from([0xff, 0xfe])]);
    mkdirSync(odd);
    writeFileSync(Buffer.concat([odd, Buffer.from('/.envrc')]), 'x');
    const moved = search();
    expect(moved.filter((q) => q.path.length > 4096 && q.movedTo !== null).map((q) => q.path.split('/').pop()).sort()).toEqual(['.envrc', 'config', 'hooks']);
    expect(moved.find((q) => q.path.endsWith('\uFFFD\uFFFD/.envrc'))?.movedTo).toMatch(/\.envrc\.isolate-quarantined-/);
    expect(readdirSync(odd)).toEqual([`.envrc.isolate-quarantined-${TAG}`]);
  });

  it('moves aside whole a subtree deeper than it holds open, and says so', () => {
    mkdirSync(join(root, 'a/b/c/d/e'), { recursive: true });
    make('a/b/c/d/e/.envrc');
    const moved = search({ maxDepth: 3 });
    expect(moved.map((q) => [rel(q.path), q.reason])).toEqual([['a/b/c', 'more than 3 directories deep: moved aside whole, not searched']]);
    expect(existsSync(join(root, `a/b/c.isolate-quarantined-${TAG}/d/e/.envrc`))).toBe(true);
  });

  it.runIf(asRoot)('looks inside a directory the run made unenterable; not inside one the sandbox could never enter', () => {
    make('mine/.git/config');
    chmodSync(join(root, 'mine'), 0o000); // its owner (the sandbox's user) could have done this during the run
    make('theirs/.git/config');
    chownSync(join(root, 'theirs'), 65_534, 65_534);
    chmodSync(join(root, 'theirs'), 0o700);
    expect(search().map((q) => rel(q.path))).toEqual(['mine/.git/config']);
    // Unchanged since before the run (its change time older than the run's start): not entered either.
    make('old/.git/config');
    chmodSync(join(root, 'old'), 0o000);
    const later = { ...now, wallMs: Date.now() + 60_000 };
    expect(search({ since: later, now: later })).toEqual([]);
    // A clock that went back since the run began proves nothing: looked at.
    expect(search({ since: later, now }).map((q) => rel(q.path))).toEqual(['old/.git/config']);
  });
});
