/**
 * isolate's own code: what the next `isolate` runs on the host, outside any
 * sandbox. A project that installs isolate (node_modules/isolate-sandbox),
 * or a checkout of isolate used as the project, holds it inside a path the
 * sandbox can write, and a command that rewrote bin/isolate.js, the bundle,
 * the manifest or a dependency the bundle loads would run on the host the
 * next time. These paths are protected like isolate's own directories
 * (read-only where a writable path holds them, the directories above them
 * pinned), so the rest of the project stays writable.
 */
import { realpathSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { packageRoot } from './builtin.js';

/** The parts of the package that hold code it runs or the manifest that says how (package.json's imports and exports). */
const CODE_PARTS = ['bin', 'dist', 'package.json', 'node_modules'];

/** The dependencies the plain bundle loads from node_modules (package.json's build script: esbuild's --external). */
const EXTERNAL_DEPENDENCIES = ['yaml', 'zod'];

function realOrSelf(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    return path;
  }
}

/**
 * The directory of the installed package `name` as Node's ESM resolver finds it for the bundle in `root` (dist/bundle/
 * imports it): the first node_modules/<name> directory on the way up, by its real path. (The directories below `root`
 * that it looks in first are inside dist/, protected as a whole.) A walk of a few stat calls; Node's CommonJS resolver
 * (createRequire().resolve) took 5-6 ms of every run to load and compile.
 */
function dependencyDir(root: string, name: string): string | undefined {
  for (let dir = root; ; dir = dirname(dir)) {
    const candidate = join(dir, 'node_modules', name);
    if (isDirectory(candidate)) return realOrSelf(candidate);
    if (dirname(dir) === dir) return undefined;
  }
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path, { throwIfNoEntry: false })?.isDirectory() === true;
  } catch {
    return false;
  }
}

let known: readonly string[] | undefined;

/**
 * The absolute paths of isolate's own code, and the Node that runs it. Worked out once per process (a module
 * resolution and a few realpaths): where this process's code came from does not change while it runs, and a long-lived
 * process (isolate mcp, the API) would otherwise repeat them for every run.
 */
export function ownCodePaths(): readonly string[] {
  known ??= findOwnCodePaths();
  return known;
}

function findOwnCodePaths(): string[] {
  const root = realOrSelf(dirname(fileURLToPath(new URL('package.json', packageRoot()))));
  const deps = EXTERNAL_DEPENDENCIES.map((name) => dependencyDir(root, name)).filter((d): d is string => d !== undefined);
  return [...new Set([...CODE_PARTS.map((part) => join(root, part)), ...deps, realOrSelf(process.execPath)])];
}
