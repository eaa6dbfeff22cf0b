/**
 * zod is imported as a namespace (`import * as z from 'zod'`, or from
 * 'zod/mini'). Its package
 * entry re-exports everything as one object `z`, locales of 47 languages
 * included; a module that imports that object makes esbuild keep all of it
 * in the start-up snapshot's bundle (210 KB of source, 0.4 MB of blob, about
 * 1 MiB of every run's memory; docs/performance.md). A namespace import lets
 * it keep only what isolate calls.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const SRC = fileURLToPath(new URL('../../src/', import.meta.url));

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? sources(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : []));
}

describe('zod imports', () => {
  it('name no binding of zod but its namespace', () => {
    const imports = (f: string): string[] => [...readFileSync(f, 'utf8').matchAll(/^\s*import\s+([^;]*?)\s+from\s*'zod(?:\/mini)?'/gm)].map((m) => m[1] ?? '');
    const bad = sources(SRC).filter((f) => imports(f).some((what) => !/^(type\s+)?\*\s+as\s+\w+$/.test(what)));
    expect(bad.map((f) => relative(SRC, f))).toEqual([]);
  });
});
