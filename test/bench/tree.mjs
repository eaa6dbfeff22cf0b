// A generated project tree for the protected-name search: `dirs` directories
// (breadth first, `fanout` per directory, `files` empty files in each), with
// a git repository at the top as real projects have. Used by the benchmark
// (10k to 200k directories) and by the tests (a few thousand).
import { closeSync, mkdirSync, openSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** Create the tree under `root` (created if missing); returns the directories made, parents first. */
export function generateTree(root, dirs, { fanout = 8, files = 3 } = {}) {
  mkdirSync(join(root, '.git', 'hooks'), { recursive: true });
  writeFileSync(join(root, '.git', 'config'), '[core]\n');
  const made = [];
  const queue = [root];
  for (let next = 0; made.length < dirs; next++) {
    const parent = queue[next];
    for (let i = 0; i < fanout && made.length < dirs; i++) {
      const dir = join(parent, `d${i}`);
      mkdirSync(dir);
      for (let f = 0; f < files; f++) closeSync(openSync(join(dir, `f${f}.ts`), 'w'));
      queue.push(dir);
      made.push(dir);
    }
  }
  return made;
}
