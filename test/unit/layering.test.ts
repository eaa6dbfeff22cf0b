/**
 * The layering DESIGN.md promises, checked: backends/ turns a policy and
 * host facts into a plan without touching the machine. No module it loads,
 * directly or through what it imports, reads the disk, starts a process or
 * opens a socket, and none comes from the layers around it (host facts,
 * run/, network/, audit/, the CLI, the API). The linter's import rules
 * (eslint.config.js) check each file's own imports; this follows them
 * through what backends/ may use of other folders: profile/, for one, may
 * read the disk (it loads profile files), the modules backends/ takes from
 * it may not.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const SRC = fileURLToPath(new URL('../../src/', import.meta.url));
const IO_MODULES = /^(node:)?(fs|fs\/promises|child_process|net|dgram|dns|http|https|http2|tls|worker_threads|cluster)$/;
const OUTER_LAYERS = ['host/', 'run/', 'network/', 'audit/', 'cli/', 'doctor/', 'selftest/', 'index.ts'];

/** The modules a file loads when it runs: `import type` and `export type` are erased by TypeScript. */
export function runtimeImports(text: string): string[] {
  const out: string[] = [];
  for (const m of text.matchAll(/^\s*(import|export)\s+(type\s+)?([^'";]*?)\s*from\s*'([^']+)'/gm)) {
    if (m[2] === undefined && m[4] !== undefined) out.push(m[4]);
  }
  for (const m of text.matchAll(/^\s*import\s+'([^']+)'/gm)) if (m[1] !== undefined) out.push(m[1]);
  for (const m of text.matchAll(/import\(\s*'([^']+)'\s*\)/g)) if (m[1] !== undefined) out.push(m[1]);
  return out;
}

/** Every module `file` loads, with the chain that led there. */
function closure(file: string): Map<string, string[]> {
  const seen = new Map<string, string[]>([[file, [file]]]);
  const queue = [file];
  while (queue.length > 0) {
    const current = queue.shift() as string;
    const chain = seen.get(current) ?? [];
    for (const spec of runtimeImports(readFileSync(current, 'utf8'))) {
      const target = spec.startsWith('.') ? resolve(dirname(current), spec.replace(/\.js$/, '.ts')) : spec;
      if (seen.has(target)) continue;
      seen.set(target, [...chain, target]);
      if (spec.startsWith('.')) queue.push(target);
    }
  }
  return seen;
}

const BACKENDS = readdirSync(join(SRC, 'backends'))
  .filter((f) => f.endsWith('.ts'))
  .map((f) => join(SRC, 'backends', f));

describe('backends/ is pure', () => {
  it.each(BACKENDS.map((f) => [relative(SRC, f), f]))('%s loads no I/O module and nothing of the outer layers', (_name, file) => {
    const bad: string[] = [];
    for (const [module, chain] of closure(file)) {
      const rel = module.startsWith('/') ? relative(SRC, module) : module;
      if (IO_MODULES.test(module) || OUTER_LAYERS.some((layer) => rel === layer || rel.startsWith(layer))) bad.push(chain.map((m) => (m.startsWith('/') ? relative(SRC, m) : m)).join(' -> '));
    }
    expect(bad).toEqual([]);
  });

  it('the check sees what it must: type-only imports are erased, the others are not', () => {
    const text = [
      "import type { A } from './a.js';",
      "import { b, type C } from './b.js';",
      "export { d } from './d.js';",
      "export type { E } from './e.js';",
      "import { readFileSync } from 'node:fs';",
      "const m = await import('./f.js');",
    ].join('\n');
    expect(runtimeImports(text)).toEqual(['./b.js', './d.js', 'node:fs', './f.js']);
    // And it finds a real one: host/facts.ts reads the disk.
    expect([...closure(join(SRC, 'host', 'facts.ts')).keys()]).toContain('node:fs');
  });
});
