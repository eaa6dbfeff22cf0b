/**
 * Whether a search's tree differs from the cached one, which decides whether
 * the cache is written again: every difference a later search would use
 * counts, and only those.
 */
import { describe, expect, it } from 'vitest';
import { TreeBuilder } from '../../src/host/scan-tree-builder.js';
import type { ScanTree } from '../../src/host/scan-tree.js';
import { buildTree, nodesOf, type TreeNode } from '../helpers/scan-cache.js';

const stamp = (ino: number, ctimeMs = 1000) => ({ dev: 1, ino, ctimeMs, mtimeMs: ctimeMs, size: 4096, nlink: 2 });
const leaf = (name: string, ino: number, reusable = true): TreeNode => ({ name, stamp: stamp(ino), reusable, hits: [], children: [] });
const project = (): TreeNode => ({
  name: '',
  stamp: stamp(1),
  reusable: false,
  hits: [{ name: '.git', kind: 'dir' }],
  children: [{ ...leaf('a', 2), hits: [{ name: '.envrc', kind: 'file' }], children: [leaf('x', 4)] }, leaf('b', 3)],
});

/** Build `next` against the cached `old`, fresh record by fresh record (as a search that listed every directory). */
function rebuild(old: ScanTree, next: TreeNode): { tree: ScanTree; changed: boolean } {
  const b = new TreeBuilder(old);
  const add = (n: TreeNode): void => {
    const i = b.open(n.name, n.stamp, n.reusable, n.hits);
    n.children.forEach(add);
    b.close(i);
  };
  add(next);
  return b.finish();
}

const edit = (f: (t: TreeNode) => void): TreeNode => {
  const t = project();
  f(t);
  return t;
};
const a = (t: TreeNode): TreeNode => t.children[0] as TreeNode;

describe('a search\'s tree against the cached one', () => {
  it('is the same when nothing changed, built afresh or copied', () => {
    const old = buildTree(project());
    expect(rebuild(old, project()).changed).toBe(false);
    const b = new TreeBuilder(old);
    const copy = (j: number): void => {
      const i = b.openCopy(j);
      for (let k = j + 1; k < old.end(j); k = old.end(k)) copy(k);
      b.close(i);
    };
    copy(0);
    const { tree, changed } = b.finish();
    expect(changed).toBe(false);
    expect(nodesOf(tree)).toEqual(project());
  });

  it('is the same when only a listing that is not reusable has a new stamp or hits (the top, as placeholders come and go)', () => {
    const old = buildTree(project());
    expect(rebuild(old, edit((t) => ((t.stamp = stamp(1, 5000)), (t.hits = [])))).changed).toBe(false);
  });

  it('differs when a reusable listing\'s stamp, hits or name changed, a listing became reusable, or a directory came or went', () => {
    const old = buildTree(project());
    const changes: [string, TreeNode][] = [
      ['stamp', edit((t) => (a(t).stamp = stamp(2, 5000)))],
      ['hit removed', edit((t) => (a(t).hits = []))],
      ['hit kind', edit((t) => (a(t).hits = [{ name: '.envrc', kind: 'symlink' }]))],
      ['name', edit((t) => (a(t).name = 'c'))],
      ['became reusable', edit((t) => (t.reusable = true))],
      ['no longer reusable', edit((t) => (a(t).reusable = false))],
      ['directory added', edit((t) => t.children.push(leaf('z', 9)))],
      ['directory gone', edit((t) => a(t).children.pop())],
      ['directory moved', edit((t) => (t.children[1] as TreeNode).children.push(a(t).children.pop() as TreeNode))],
    ];
    for (const [what, next] of changes) expect(rebuild(old, next).changed, what).toBe(true);
  });
});
