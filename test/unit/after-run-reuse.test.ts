/**
 * The search after a run with the listings of the search before it
 * (run/after-run-scan.ts, host/scan-seen.ts), on a generated tree: an
 * unchanged tree is not listed again, a changed directory is, and no
 * listing stands where the change time cannot prove it current (a change in
 * the clock tick of the listing, a name that is not UTF-8, a clock set back,
 * other names).
 */
import { lstatSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { scanProtected, searchScope } from '../../src/host/protect-scan.js';
import { STAMP_FIELDS } from '../../src/host/scan-cache.js';
import { seenBy, type SeenTrees } from '../../src/host/scan-seen.js';
import type { ScanTree } from '../../src/host/scan-tree.js';
import { quarantineAfterRun } from '../../src/run/after-run-scan.js';
import type { ProtectFact } from '../../src/backends/types.js';
import { writablePolicy } from '../helpers/scan-policy.js';
import { recordAt, skewedClock } from '../helpers/scan-cache.js';
import { generateTree } from '../bench/tree.mjs';

vi.mock('node:fs', async (importOriginal) => {
  const fs = await importOriginal<typeof import('node:fs')>();
  return { ...fs, readdirSync: vi.fn(fs.readdirSync) };
});

const PROTECT = ['.git/hooks', '.git/config', '.envrc'];
const DIRS = 400;
const TAG = 'feedbeef';
/** The top's git directory, listed after every run for the links placed in it (run/git-links.ts; .git/hooks, read-only during the run, is not). */
const GIT_DIRS = 1;

let base: string;
let root: string;
/** The clock runs this far ahead, as if the tree had been made that long ago (0: made just now). */
const skew = { ms: 0 };
const clock = skewedClock(skew);

beforeEach(() => {
  base = mkdtempSync(join(tmpdir(), 'isolate-after-reuse-'));
  root = join(base, 'project');
  generateTree(root, DIRS, { fanout: 5, files: 1 });
  skew.ms = 10_000;
});
afterEach(() => rmSync(base, { recursive: true, force: true }));

/** The search before the run: its facts and what it saw. */
function before(protect = PROTECT): { facts: ProtectFact[]; seen: SeenTrees } {
  const facts = scanProtected(writablePolicy(root, protect), { clock });
  const seen = seenBy(facts);
  expect(seen, 'the search before the run kept nothing').toBeDefined();
  return { facts, seen: seen as SeenTrees };
}

/** The search after the run: what it moved aside (relative paths), and how many directories it listed. */
function after(b: { facts: ProtectFact[]; seen: SeenTrees | undefined }, now = clock()): { moved: string[]; listed: number } {
  vi.mocked(readdirSync).mockClear();
  const moved = quarantineAfterRun({ scope: searchScope(writablePolicy(root, PROTECT)), before: b.facts, seen: b.seen, tag: TAG, since: now, now });
  return { moved: moved.map((q) => q.path.slice(root.length + 1)).sort(), listed: vi.mocked(readdirSync).mock.calls.length };
}

describe('the search after a run, from the listings before it', () => {
  it('lists no directory but the top of a tree the command did not change (and every one without those listings)', () => {
    const b = before();
    expect(after(b)).toEqual({ moved: [], listed: 1 + GIT_DIRS }); // the top of the root, which the run's placeholders change every time
    expect(after({ ...b, seen: undefined }).listed).toBe(DIRS + 1 + GIT_DIRS);
  });

  it('lists again the directories the command changed, and finds what it created deep there', () => {
    const b = before();
    writeFileSync(join(root, 'd0/d1/d2/.envrc'), 'x');
    mkdirSync(join(root, 'd3/d4/new/.git'), { recursive: true });
    writeFileSync(join(root, 'd3/d4/new/.git/config'), 'x');
    const r = after(b);
    expect(r.moved).toEqual(['d0/d1/d2/.envrc', 'd3/d4/new/.git/config']);
    expect(r.listed).toBe(4 + GIT_DIRS + 1); // the top, d0/d1/d2, d3/d4, d3/d4/new, and the two git directories
  });

  it('never takes a listing made in the clock tick of the directory\'s last change, even where the tick hides a later change', () => {
    // The listing is recorded with the directory as it is now; then a name is created, and the record is given the
    // directory's new stamp, as a filesystem whose timestamps had not moved on since the listing would have left it.
    const plantHidden = (b: { seen: SeenTrees }): void => {
      writeFileSync(join(root, 'd1/d2/.envrc'), 'x');
      const tree = b.seen.trees.get(root) as ScanTree;
      const st = lstatSync(join(root, 'd1/d2'));
      tree.a.stamps.set(STAMP_FIELDS.map((f) => st[f]), (recordAt(tree, 'd1/d2') as number) * STAMP_FIELDS.length);
    };
    skew.ms = 0; // the tree was just made: the search before the run runs in the tick of its last change
    // d1/d2 changed just now, however long making the tree took on a loaded machine.
    writeFileSync(join(root, 'd1/d2/just-now'), '');
    rmSync(join(root, 'd1/d2/just-now'));
    const recent = before();
    plantHidden(recent);
    expect(after(recent).moved).toEqual(['d1/d2/.envrc']);

    // Control: the same listing recorded as settled would stand, and the name be missed; the settling rule is what finds it.
    rmSync(join(root, `d1/d2/.envrc.isolate-quarantined-${TAG}`)); // moved aside above
    skew.ms = 10_000;
    const settled = before();
    plantHidden(settled);
    expect(after(settled).moved).toEqual([]);
  });

  it('searches a directory whose name is not UTF-8 that the command made (the search before a run refuses one already there)', () => {
    const odd = Buffer.concat([Buffer.from(`${root}/d0/`), Buffer.from([0xff, 0xfe])]);
    const b = before();
    mkdirSync(odd);
    writeFileSync(Buffer.concat([odd, Buffer.from('/.envrc')]), 'x');
    expect(after(b).moved).toEqual(['d0/\uFFFD\uFFFD/.envrc']);
    expect(() => before()).toThrow(`${root}/d0/\\xff\\xfe: a directory whose name is not UTF-8`);
  });

  it('lists every directory again when the clock went back since the search before the run, or the names differ', () => {
    const b = before();
    skew.ms = 5_000;
    expect(after(b).listed).toBe(DIRS + 1 + GIT_DIRS);
    skew.ms = 10_000;
    expect(after({ facts: b.facts, seen: before([...PROTECT, '.npmrc']).seen }).listed).toBe(DIRS + 1 + GIT_DIRS);
  });
});
