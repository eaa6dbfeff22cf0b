/**
 * The scan cache's bytes: what is written is read back exactly, and a file
 * cut short or changed anywhere is refused (the caller then ignores it).
 */
import { describe, expect, it } from 'vitest';
import { decodeScanCache, encodeScanCache, type CacheHeader } from '../../src/host/scan-cache-codec.js';
import { buildTree, nodesOf, type TreeNode } from '../helpers/scan-cache.js';

const stamp = (ino: number) => ({ dev: 2049, ino, ctimeMs: 1_760_000_000_000.125, mtimeMs: 1_760_000_000_000.5, size: 4096, nlink: 2 });
const tree: TreeNode = {
  name: '',
  stamp: stamp(1),
  reusable: true,
  hits: [{ name: '.git', kind: 'dir' }, { name: '.envrc', kind: 'file' }],
  linked: ['.envrc', 'index.js'],
  children: [
    { name: 'päckage', stamp: stamp(2), reusable: false, hits: [{ name: '.npmrc', kind: 'symlink' }], linked: ['lïb.js'], children: [] },
    { name: 'src', stamp: stamp(3), reusable: true, hits: [], children: [{ name: 'x', stamp: stamp(4), reusable: true, hits: [{ name: '.claude', kind: 'other' }], children: [] }] },
  ],
};
const header: CacheHeader = { root: '/work/project', names: ['.envrc', '.git'], clock: { bootId: 'b', wallMs: 1_760_000_003_000, offsetMs: 1_759_990_000_000.25 } };

describe('scan cache codec', () => {
  it('reads back what it wrote', () => {
    const back = decodeScanCache(encodeScanCache(header, buildTree(tree)));
    expect(back.header).toEqual(header);
    expect(nodesOf(back.tree)).toEqual(tree);
  });

  it('keeps a listing\'s files with other names apart from its protected names', () => {
    const back = decodeScanCache(encodeScanCache(header, buildTree(tree))).tree;
    expect(back.hits(0)).toEqual(tree.hits);
    expect(back.linked(0)).toEqual(['.envrc', 'index.js']);
    expect(back.linked(1)).toEqual(['lïb.js']);
    expect(back.linked(2)).toEqual([]);
  });

  it('ignores a cache of the version before files with other names were kept (its listings lack them)', () => {
    const buf = encodeScanCache(header, buildTree(tree));
    const magic = buf.toString('latin1', 0, buf.indexOf(10) + 1);
    expect(magic).toMatch(/^isolate-scan-cache 4 /);
    const older = Buffer.from(buf);
    older.write('3', magic.indexOf('4'), 'latin1');
    expect(() => decodeScanCache(older)).toThrow();
  });

  it('refuses the file cut short at any length, or with bytes added', () => {
    const buf = encodeScanCache(header, buildTree(tree));
    for (let len = 0; len < buf.length; len++) expect(() => decodeScanCache(buf.subarray(0, len)), `length ${len}`).toThrow();
    expect(() => decodeScanCache(Buffer.concat([buf, Buffer.from([0])]))).toThrow();
  });

  it('refuses the file with any one byte changed', () => {
    const buf = encodeScanCache(header, buildTree(tree));
    for (let at = 0; at < buf.length; at++) {
      const bad = Buffer.from(buf);
      bad[at] = (bad[at] as number) ^ 0x01;
      expect(() => decodeScanCache(bad), `byte ${at}`).toThrow();
    }
  });

  it('refuses bytes that are not a cache at all', () => {
    expect(() => decodeScanCache(Buffer.alloc(0))).toThrow();
    expect(() => decodeScanCache(Buffer.from('{"root":"/"}'))).toThrow();
    expect(() => decodeScanCache(Buffer.alloc(4096, 0xff))).toThrow();
  });
});
