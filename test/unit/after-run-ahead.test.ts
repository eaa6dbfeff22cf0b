/**
 * The search after a run with the stamps of a large tree looked up ahead by
 * a worker thread (host/scan-ahead.ts), made to start at 64 directories and
 * to finish before the search begins: nothing moved in an unchanged tree,
 * and the names created deep in the tree during the run found and moved
 * aside. The worker runs the built code (dist/host/scan-ahead-worker.js):
 * `npm run build` first.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { scanProtected, searchScope } from '../../src/host/protect-scan.js';
import { seenBy } from '../../src/host/scan-seen.js';
import { quarantineAfterRun } from '../../src/run/after-run-scan.js';
import { writablePolicy } from '../helpers/scan-policy.js';
import { skewedClock } from '../helpers/scan-cache.js';
import { generateTree } from '../bench/tree.mjs';

const PROTECT = ['.git/hooks', '.git/config', '.envrc'];
const DIRS = 600;
const WORKER = fileURLToPath(new URL('../../dist/host/scan-ahead-worker.js', import.meta.url));
const built = existsSync(WORKER);
if (!built) console.warn(`after-run-ahead: skipped, ${WORKER} is not built (run npm run build first)`);

let base: string;
let root: string;
const skew = { ms: 10_000 };
const clock = skewedClock(skew);

beforeEach(() => {
  base = mkdtempSync(join(tmpdir(), 'isolate-after-ahead-'));
  root = join(base, 'project');
  generateTree(root, DIRS, { fanout: 5, files: 1 });
});
afterEach(() => rmSync(base, { recursive: true, force: true }));

/** The search before a run, `run`, then the search after it with the worker's stamps: what it moved aside (relative paths), and how many stamps it took from the worker. */
function after(run: () => void): { moved: string[]; taken: number } {
  const policy = writablePolicy(root, PROTECT);
  const facts = scanProtected(policy, { clock });
  run();
  let taken = 0;
  const now = clock();
  const ahead = { after: 64, ignoreLoad: true, waitMs: 5000, onEnd: (n: number) => (taken = n) };
  const moved = quarantineAfterRun({ scope: searchScope(policy), before: facts, seen: seenBy(facts), tag: 'feedbeef', since: now, now, ahead });
  return { moved: moved.map((q) => q.path.slice(root.length + 1)).sort(), taken };
}

describe.skipIf(!built)('the search after a run with stamps looked up ahead', () => {
  it('takes the stamps of an unchanged tree from the worker and moves nothing', () => {
    const r = after(() => undefined);
    expect(r.moved).toEqual([]);
    expect(r.taken).toBeGreaterThan(DIRS / 2);
  });

  it('finds the names the run created deep in the tree, in directories whose stamps the worker looked up', () => {
    const created = (): void => {
      writeFileSync(join(root, 'd0/d1/d2/.envrc'), 'x');
      mkdirSync(join(root, 'd4/d4/d0/new/.git'), { recursive: true });
      writeFileSync(join(root, 'd4/d4/d0/new/.git/config'), 'x');
      writeFileSync(join(root, 'd3/d2/d1/.envrc'), 'x');
    };
    const r = after(created);
    expect(r.taken).toBeGreaterThan(DIRS / 2);
    expect(r.moved).toEqual(['d0/d1/d2/.envrc', 'd3/d2/d1/.envrc', 'd4/d4/d0/new/.git/config']);
  });
});
