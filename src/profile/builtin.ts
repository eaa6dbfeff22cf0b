/**
 * Built-in profiles. The YAML sources in profiles/ are validated and turned
 * into dist/builtin-profiles.json at build time, so `isolate run` never
 * parses YAML or loads zod for a built-in profile.
 */
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import type { ProfileDoc } from './types.js';

export const BUILTIN_NAMES = ['default', 'strict', 'dev'] as const;
export type BuiltinName = (typeof BUILTIN_NAMES)[number];

let cache: Record<string, ProfileDoc> | undefined;
let root: URL | undefined;

export function isBuiltinName(name: string): name is BuiltinName {
  return (BUILTIN_NAMES as readonly string[]).includes(name);
}

/**
 * Where the package's files live (package.json, dist/ and profiles/ sit
 * beside each other): the one place isolate finds its own files. Code run
 * from a start-up snapshot has no module URL of its own (the snapshot was
 * built elsewhere): its entry names the package with usePackageRoot.
 */
export function packageRoot(): URL {
  // once built, this file is dist/profile/builtin.js, or part of a bundle in dist/bundle/
  root ??= new URL('../../', import.meta.url);
  return root;
}

/** The package is in `dir` (an absolute path): for the start-up snapshot's entry (bin/isolate.js). */
export function usePackageRoot(dir: string): void {
  root = pathToFileURL(dir.endsWith('/') ? dir : `${dir}/`);
}

export function builtinSourcePath(name: BuiltinName): string {
  return new URL(`profiles/${name}.yaml`, packageRoot()).pathname;
}

export function loadBuiltin(name: BuiltinName): ProfileDoc {
  if (cache === undefined) {
    const file = new URL('dist/builtin-profiles.json', packageRoot());
    cache = JSON.parse(readFileSync(file, 'utf8')) as Record<string, ProfileDoc>;
  }
  const doc = cache[name];
  if (doc === undefined) throw new Error(`built-in profile ${name} missing from the build`);
  return doc;
}
