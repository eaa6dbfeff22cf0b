/**
 * What stays read-only of the files with other names (hard links) the
 * protected-name search found: each file, or the package tree that holds
 * more than MAX_LINKED_IN_TREE of them; too many single files refuse the run.
 */
import { describe, expect, it } from 'vitest';
import { LINKED_WHY, MAX_LINKED_FILES, MAX_LINKED_IN_TREE, linkedFacts, packageTree, type Linked } from '../../src/host/linked-files.js';

/** A file at `rel` below the root /p, with the directories on the way as its pins. */
function file(rel: string): Linked {
  const parts = rel.split('/').slice(0, -1);
  return { path: `/p/${rel}`, pins: parts.map((_, i) => `/p/${parts.slice(0, i + 1).join('/')}`) };
}
const many = (dir: string, n: number): Linked[] => Array.from({ length: n }, (_, i) => file(`${dir}/f${String(i)}.js`));

describe('files with other names', () => {
  it('finds the package tree a file lies in: .pnpm first, then the nearest node_modules, site-packages, .git/objects', () => {
    expect(packageTree('/p/node_modules/.pnpm/a@1/node_modules/a/index.js')).toBe('/p/node_modules/.pnpm');
    expect(packageTree('/p/node_modules/a/node_modules/b/index.js')).toBe('/p/node_modules/a/node_modules');
    expect(packageTree('/p/.venv/lib/python3.12/site-packages/x/__init__.py')).toBe('/p/.venv/lib/python3.12/site-packages');
    expect(packageTree('/p/.git/objects/ab/cdef')).toBe('/p/.git/objects');
    expect(packageTree('/p/lib/a.js')).toBeUndefined();
    expect(packageTree('/p/node_modules')).toBeUndefined();
  });

  it('keeps each file read-only, with why, while a tree holds at most MAX_LINKED_IN_TREE', () => {
    const facts = linkedFacts([...many('node_modules/.pnpm/a@1/node_modules/a', MAX_LINKED_IN_TREE), file('lib/x.js')]);
    expect(facts).toHaveLength(MAX_LINKED_IN_TREE + 1);
    expect(facts.every((f) => f.state === 'file' && f.why === LINKED_WHY)).toBe(true);
    expect(facts.at(-1)).toEqual({ path: '/p/lib/x.js', state: 'file', pins: ['/p/lib'], why: LINKED_WHY });
  });

  it('keeps the tree read-only whole beyond that, pinned above it, with the ways out', () => {
    const facts = linkedFacts([...many('node_modules/.pnpm/a@1/node_modules/a', MAX_LINKED_IN_TREE + 1), file('lib/x.js')]);
    expect(facts.map((f) => [f.path, f.state])).toEqual([
      ['/p/node_modules/.pnpm', 'dir'],
      ['/p/lib/x.js', 'file'],
    ]);
    expect(facts[0]?.pins).toEqual(['/p/node_modules']);
    expect(facts[0]?.why).toContain('package-import-method=copy');
  });

  it('a tree inside one kept whole is not kept again, nor are its files', () => {
    const facts = linkedFacts([...many('node_modules/x', MAX_LINKED_IN_TREE + 1), ...many('node_modules/x/node_modules/y', MAX_LINKED_IN_TREE + 1), ...many('node_modules/z/node_modules/w', 3)]);
    expect(facts.map((f) => f.path)).toEqual(['/p/node_modules']);
  });

  it('never keeps a writable root whole: a file at its top stays a single file', () => {
    const facts = linkedFacts(Array.from({ length: MAX_LINKED_IN_TREE + 1 }, (_, i) => ({ path: `/p/node_modules/f${String(i)}`, pins: [] })));
    expect(facts.every((f) => f.state === 'file')).toBe(true);
  });

  it(`refuses more than ${String(MAX_LINKED_FILES)} single files, with the ways out`, () => {
    expect(linkedFacts(many('lib', MAX_LINKED_FILES))).toHaveLength(MAX_LINKED_FILES);
    expect(() => linkedFacts(many('lib', MAX_LINKED_FILES + 1))).toThrow(/hard links/);
    expect(() => linkedFacts(many('lib', MAX_LINKED_FILES + 1))).toThrowError(expect.objectContaining({ code: 'E_SANDBOX_SETUP', fix: expect.stringContaining('UV_LINK_MODE=copy') }));
    expect(linkedFacts([...many('lib', 10), ...many('node_modules/.pnpm/a', MAX_LINKED_FILES * 2)])).toHaveLength(11);
  });
});
