/**
 * A search over a large tree turns V8's optimizing compiler back on in a CLI
 * run that started without it (src/tiering.ts): a search is synchronous, so
 * the timer that does it for long runs cannot fire while one walks.
 */
import { describe, expect, it, vi } from 'vitest';

const allowOptimizer = vi.fn();
vi.mock('../../src/tiering.js', () => ({ allowOptimizer }));
const { TreeBuilder } = await import('../../src/host/scan-tree-builder.js');

const stamp = (ino: number) => ({ dev: 1, ino, ctimeMs: 1000, mtimeMs: 1000, size: 4096, nlink: 2 });

/** A flat tree of `dirs` directories under one top. */
function walk(dirs: number): void {
  const b = new TreeBuilder(undefined);
  const top = b.open('', stamp(1), false, []);
  for (let i = 0; i < dirs; i++) b.close(b.open(`d${i}`, stamp(i + 2), true, []));
  b.close(top);
  b.finish();
}

describe('a search over a large tree', () => {
  it('leaves the optimizer alone in a small project', () => {
    allowOptimizer.mockClear();
    walk(500);
    expect(allowOptimizer).not.toHaveBeenCalled();
  });

  it('turns the optimizer on once the tree passes a few thousand directories', () => {
    allowOptimizer.mockClear();
    walk(5000);
    expect(allowOptimizer).toHaveBeenCalledTimes(1);
  });
});
