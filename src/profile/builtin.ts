/**
 * Built-in profiles. The YAML sources in profiles/ are validated and turned
 * into dist/builtin-profiles.json at build time, so `isolate run` never
 * parses YAML or loads zod for a built-in profile.
 */
import { readFileSync } from 'node:fs';
import type { ProfileDoc } from './types.js';

export const BUILTIN_NAMES = ['default', 'strict', 'dev'] as const;
export type BuiltinName = (typeof BUILTIN_NAMES)[number];

let cache: Record<string, ProfileDoc> | undefined;

export function isBuiltinName(name: string): name is BuiltinName {
  return (BUILTIN_NAMES as readonly string[]).includes(name);
}

/** Where the package's files live (dist/ and profiles/ sit beside each other). */
export function packageRoot(): URL {
  // this file is dist/profile/builtin.js once built
  return new URL('../../', import.meta.url);
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
