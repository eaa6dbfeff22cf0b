/**
 * Unit tests run from the TypeScript sources, without a build: the built-in
 * profiles come from profiles/*.yaml, validated by the build's own compiler
 * (compileBuiltinFile), instead of dist/builtin-profiles.json.
 */
import { vi } from 'vitest';

vi.mock('../../src/profile/builtin.js', async (importOriginal) => {
  const original = await importOriginal<typeof import('../../src/profile/builtin.js')>();
  // generate.ts imports builtin.ts, which is what is being mocked: read its compiler without going through the mock.
  const { compileBuiltinFile } = await vi.importActual<typeof import('../../src/profile/generate.js')>('../../src/profile/generate.js');
  const docs = new Map<string, ReturnType<typeof compileBuiltinFile>>();
  return {
    ...original,
    // Compiled on first use: generate.ts may itself be loading when this mock is made.
    loadBuiltin: (name: (typeof original.BUILTIN_NAMES)[number]) => {
      let doc = docs.get(name);
      if (doc === undefined) docs.set(name, (doc = compileBuiltinFile(original.builtinSourcePath(name))));
      return doc;
    },
  };
});
