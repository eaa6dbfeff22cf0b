/**
 * The protected-name search with its cache, on a generated tree of a few
 * thousand directories: an unchanged tree is not listed again, and every
 * way the tree can change between two searches (a name created deep down, a
 * new repository, a subtree moved in, a directory made again, permissions
 * changed, the clock set back) gives exactly what a search without the
 * cache finds.
 */
import { chmodSync, linkSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { scanProtected } from '../../src/host/protect-scan.js';
import { scanClock } from '../../src/host/scan-cache-file.js';
import type { ScanClock } from '../../src/host/scan-cache.js';
import type { ProtectFact } from '../../src/backends/types.js';
import { writablePolicy } from '../helpers/scan-policy.js';
import { cacheFiles, forgeCache, skewedClock } from '../helpers/scan-cache.js';
import { nameIndex } from '../../src/host/protect-names.js';
import { generateTree } from '../bench/tree.mjs';

vi.mock('node:fs', async (importOriginal) => {
  const fs = await importOriginal<typeof import('node:fs')>();
  return { ...fs, readdirSync: vi.fn(fs.readdirSync) };
});

const PROTECT = ['.git/hooks', '.git/config', '.github/hooks', '.envrc', '.vscode', '.claude', '.npmrc'];
const DIRS = 3000;
const sleep = (ms: number): void => void Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);

let base: string;
let root: string;
let cacheDir: string;
/** The search's clock runs this far ahead, as if the tree had been made that long ago; steps back when lowered. */
const skew = { ms: 0 };
const clock = skewedClock(skew);

beforeAll(() => {
  base = mkdtempSync(join(tmpdir(), 'isolate-scan-cache-'));
  root = join(base, 'project');
  generateTree(root, DIRS, { fanout: 6, files: 1 });
});
afterAll(() => rmSync(base, { recursive: true, force: true }));
beforeEach(() => {
  cacheDir = join(base, `cache-${Math.random().toString(36).slice(2)}`);
  skew.ms = 10_000;
});

const sorted = (facts: ProtectFact[]): ProtectFact[] => [...facts].sort((a, b) => a.path.localeCompare(b.path));
const listed = (): number => vi.mocked(readdirSync).mock.calls.filter(([p]) => String(p).startsWith(root)).length;

/** Search with the cache; check it finds what a search without it finds; how many directories it listed. */
function search(protect = PROTECT): { facts: ProtectFact[]; listed: number } {
  vi.mocked(readdirSync).mockClear();
  const facts = sorted(scanProtected(writablePolicy(root, protect), { cacheDir, clock }));
  const count = listed();
  expect(facts).toEqual(sorted(scanProtected(writablePolicy(root, protect))));
  // What the tree does next happens at least one timestamp tick later, as between two runs.
  sleep(15);
  return { facts, listed: count };
}
const has = (facts: ProtectFact[], rel: string, state: ProtectFact['state']): boolean => facts.some((f) => f.path === join(root, rel) && f.state === state);
const deep = 'd0/d1/d2/d3';

describe('the protected-name search with its cache', () => {
  it('lists an unchanged tree once: the next search lists nothing and finds the same', () => {
    const first = search();
    expect(first.listed).toBeGreaterThan(DIRS / 2);
    const again = search();
    expect(again.listed).toBe(1); // the top of the root, listed every time
    expect(again.facts).toEqual(first.facts);
  });

  it('does not write the cache again when only the top of the root changed, as placeholders do with every run', () => {
    search();
    const [file] = cacheFiles(cacheDir);
    const bytes = readFileSync(file as string);
    writeFileSync(join(root, '.envrc'), '');
    rmSync(join(root, '.envrc'));
    skew.ms += 5_000; // the next run comes after the settling time
    search();
    expect(readFileSync(file as string).equals(bytes)).toBe(true);
  });

  it('finds names created deep in the tree since the last search, listing only the directories that changed', () => {
    search();
    writeFileSync(join(root, deep, '.envrc'), 'x');
    mkdirSync(join(root, 'd1/d0/d5/.git/hooks'), { recursive: true });
    mkdirSync(join(root, 'd2/d3/d4/.vscode'));
    symlinkSync('/etc/hostname', join(root, 'd3/d3/.npmrc'));
    const after = search();
    expect(after.listed).toBe(5); // the four changed, and the top of the root
    expect(has(after.facts, `${deep}/.envrc`, 'file')).toBe(true);
    expect(has(after.facts, 'd1/d0/d5/.git/hooks', 'dir')).toBe(true);
    expect(has(after.facts, 'd1/d0/d5/.git/config', 'missing')).toBe(true); // blocked: its parent exists
    expect(has(after.facts, 'd2/d3/d4/.vscode', 'dir')).toBe(true);
    expect(has(after.facts, 'd3/d3/.npmrc', 'symlink')).toBe(true);
  });

  it('finds a name inside a subtree moved in from outside the root, whose directories keep their own stamps', () => {
    const outside = join(base, `outside-${Math.random().toString(36).slice(2)}`);
    mkdirSync(join(outside, 'x/y/z'), { recursive: true });
    writeFileSync(join(outside, 'x/y/z/.envrc'), 'x');
    search();
    renameSync(join(outside, 'x'), join(root, deep, 'x'));
    expect(has(search().facts, `${deep}/x/y/z/.envrc`, 'file')).toBe(true);
  });

  it('finds a name in a directory moved out, changed and moved back, and in one removed and made again under the same name', () => {
    search();
    renameSync(join(root, 'd4/d1'), join(base, 'away'));
    writeFileSync(join(base, 'away/d0/.envrc'), 'x');
    renameSync(join(base, 'away'), join(root, 'd4/d1'));
    rmSync(join(root, 'd5/d2/d1'), { recursive: true });
    mkdirSync(join(root, 'd5/d2/d1'));
    writeFileSync(join(root, 'd5/d2/d1/.claude'), 'x');
    const after = search();
    expect(has(after.facts, 'd4/d1/d0/.envrc', 'file')).toBe(true);
    expect(has(after.facts, 'd5/d2/d1/.claude', 'file')).toBe(true);
  });

  it('follows a directory the sandbox could not enter becoming enterable (its own stamp changes, not its parent\'s)', () => {
    writeFileSync(join(root, 'd0/d4/d4/.envrc'), 'x');
    chmodSync(join(root, 'd0/d4'), 0o600);
    try {
      expect(has(search().facts, 'd0/d4/d4/.envrc', 'file')).toBe(false);
      chmodSync(join(root, 'd0/d4'), 0o755);
      expect(has(search().facts, 'd0/d4/d4/.envrc', 'file')).toBe(true);
    } finally {
      chmodSync(join(root, 'd0/d4'), 0o755);
      rmSync(join(root, 'd0/d4/d4/.envrc'));
    }
  });

  it('below node_modules protects the names of version control only, with or without the cache', () => {
    mkdirSync(join(root, 'd1/node_modules/pkg/.vscode'), { recursive: true });
    mkdirSync(join(root, 'd1/node_modules/pkg/.github'), { recursive: true });
    mkdirSync(join(root, 'd1/node_modules/dep/.git/hooks'), { recursive: true });
    writeFileSync(join(root, 'd1/node_modules/pkg/.npmrc'), 'x');
    writeFileSync(join(root, 'd1/node_modules/dep/.git/config'), 'x');
    const below = (facts: ProtectFact[]): string[] => facts.filter((f) => f.path.includes('node_modules')).map((f) => f.path.slice(root.length + 1));
    const expected = ['d1/node_modules/dep/.git/config', 'd1/node_modules/dep/.git/hooks'];
    expect(below(search().facts).sort()).toEqual(expected);
    expect(below(search().facts).sort()).toEqual(expected);
  });

  it('finds files with other names (hard links) as a search without the cache does, and from the listings it reuses', () => {
    const store = join(base, 'store');
    mkdirSync(store, { recursive: true });
    writeFileSync(join(store, 'a.js'), 'x');
    linkSync(join(store, 'a.js'), join(root, deep, 'linked.js'));
    skew.ms += 10_000; // the directory changed settles
    const first = search();
    expect(first.facts.filter((f) => f.why !== undefined).map((f) => [f.path, f.state])).toEqual([[join(root, deep, 'linked.js'), 'file']]);
    const again = search();
    expect(again.listed).toBe(1);
    expect(has(again.facts, `${deep}/linked.js`, 'file')).toBe(true);
    rmSync(join(root, deep, 'linked.js'));
    skew.ms += 10_000;
    expect(search().facts.some((f) => f.why !== undefined)).toBe(false);
  });

  it("finds the objects a repository's .git/objects shares (a local git clone), from a fresh listing and from a reused one, and nothing else in .git", () => {
    const store = join(base, 'store3');
    mkdirSync(store, { recursive: true });
    const git = join(root, deep, 'repo/.git');
    for (const dir of ['objects/ab', 'objects/pack', 'refs']) mkdirSync(join(git, dir), { recursive: true });
    for (const [name, at] of [['o', 'objects/ab/cdef'], ['p', 'objects/pack/pack-1.pack'], ['r', 'refs/linked']] as const) {
      writeFileSync(join(store, name), 'x');
      linkSync(join(store, name), join(git, at));
    }
    skew.ms += 10_000;
    const linked = (facts: ProtectFact[]): string[][] => facts.filter((f) => f.why !== undefined).map((f) => [f.path.slice(git.length + 1), f.state, String(f.pins.includes(join(git, 'objects')))]);
    const expected = [['objects/ab/cdef', 'file', 'true'], ['objects/pack/pack-1.pack', 'file', 'true']];
    expect(linked(search().facts).sort()).toEqual(expected);
    const again = search();
    expect(again.listed).toBe(1 + 3); // the root's top, and the object store (objects, ab, pack): listed on every search
    expect(linked(again.facts).sort()).toEqual(expected);
    rmSync(join(root, deep, 'repo'), { recursive: true });
    skew.ms += 10_000;
  });

  it('sees a link made from elsewhere to a file of a directory unchanged since the last search once that directory changes (the documented limit)', () => {
    const store = join(base, 'store2');
    mkdirSync(store, { recursive: true });
    const file = join(root, 'd1/d1', 'plain.js');
    writeFileSync(file, 'x');
    skew.ms += 10_000;
    search();
    linkSync(file, join(store, 'plain.js')); // link(2) changes the file's ctime, not its directory's
    const cached = scanProtected(writablePolicy(root, PROTECT), { cacheDir, clock });
    expect(has(cached, 'd1/d1/plain.js', 'file')).toBe(false);
    writeFileSync(join(root, 'd1/d1', 'other.js'), '');
    sleep(15);
    expect(has(scanProtected(writablePolicy(root, PROTECT), { cacheDir, clock }), 'd1/d1/plain.js', 'file')).toBe(true);
    rmSync(file);
    rmSync(join(root, 'd1/d1', 'other.js'));
  });

  it('does not reuse the listing of a directory changed within the settling time before the search', () => {
    const fresh = join(root, 'd2/d2/fresh');
    mkdirSync(fresh);
    // The search begins 1 ms after the directory changed: its next change could share that timestamp tick.
    skew.ms = lstatSync(fresh).ctimeMs + 1 - Date.now();
    search();
    const again = vi.mocked(readdirSync).mock.calls.length;
    vi.mocked(readdirSync).mockClear();
    scanProtected(writablePolicy(root, PROTECT), { cacheDir, clock });
    const relisted = vi.mocked(readdirSync).mock.calls.map(([p]) => String(p));
    expect(relisted).toContain(fresh);
    expect(relisted).toContain(join(root, 'd2/d2'));
    expect(again).toBeGreaterThan(0);
    rmSync(fresh, { recursive: true });
  });

  it('uses no cache after the wall clock was set back, nor from another boot', () => {
    search();
    skew.ms -= 60_000;
    expect(search().listed).toBeGreaterThan(DIRS / 2);
    const boot = scanClock() as ScanClock;
    vi.mocked(readdirSync).mockClear();
    scanProtected(writablePolicy(root, PROTECT), { cacheDir, clock: () => ({ ...boot, bootId: 'another boot' }) });
    expect(listed()).toBeGreaterThan(DIRS / 2);
  });

  it('keeps one cache per set of names: another profile\'s names are not taken from it', () => {
    search();
    writeFileSync(join(root, deep, '.pypirc'), 'x');
    const other = search([...PROTECT, '.pypirc']);
    expect(other.listed).toBeGreaterThan(DIRS / 2);
    expect(has(other.facts, `${deep}/.pypirc`, 'file')).toBe(true);
    rmSync(join(root, deep, '.pypirc'));
  });
});

describe('a cache that lies', () => {
  it('is believed when it is the user\'s own private file (the control), and ignored when others could have written it', () => {
    search();
    writeFileSync(join(root, deep, '.mcp.json'), 'x');
    const protect = [...PROTECT, '.mcp.json'];
    search(protect);
    const names = nameIndex({ protect }).keys;
    const lie = forgeCache(cacheDir, root, names, '.mcp.json');
    const believed = scanProtected(writablePolicy(root, protect), { cacheDir, clock });
    expect(has(believed, `${deep}/.mcp.json`, 'file')).toBe(false);
    forgeCache(cacheDir, root, names, '.mcp.json', 0o620);
    expect(has(scanProtected(writablePolicy(root, protect), { cacheDir, clock }), `${deep}/.mcp.json`, 'file')).toBe(true);
    writeFileSync(lie, 'not a cache');
    expect(has(scanProtected(writablePolicy(root, protect), { cacheDir, clock }), `${deep}/.mcp.json`, 'file')).toBe(true);
    rmSync(join(root, deep, '.mcp.json'));
  });
});
