/**
 * A generated project per backend case (test/bench/tree.mjs), owned by the
 * case's runner and older than the protected-name search's settling time
 * (src/host/scan-cache.ts) when the tests start: a project between two
 * commands, whose listings the search may reuse. Made once before the
 * file's tests, removed after them.
 */
import { join } from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { giveTo, tempDirFor } from './isolate.js';
import type { BackendCase } from './backends.js';
import { generateTree } from '../bench/tree.mjs';
import { SETTLE_MS } from '../../src/host/scan-cache.js';

export interface SettledTree {
  /** The temp directory holding the project (a HOME for the runs). */
  base: string;
  project: string;
}

const sleep = (ms: number): void => void Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);

/** The tree of a case, by its label, once the file's tests run. */
export function settledTrees(cases: readonly BackendCase[], dirs: number): (label: string) => SettledTree {
  const trees = new Map<string, SettledTree & { cleanup: () => void }>();
  beforeAll(() => {
    for (const { label, runner } of cases) {
      const { dir: base, cleanup } = tempDirFor(runner);
      const project = join(base, 'project');
      generateTree(project, dirs, { fanout: 6, files: 1 });
      giveTo(runner, base);
      trees.set(label, { base, project, cleanup });
    }
    sleep(SETTLE_MS + 300);
  });
  afterAll(() => {
    for (const t of trees.values()) t.cleanup();
  });
  return (label) => trees.get(label) as SettledTree;
}
