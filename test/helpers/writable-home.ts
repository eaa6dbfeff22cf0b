/**
 * The writable-home red teams' shared set-up: a temporary home as most homes
 * are (with `.config` and `.local/share`), owned by the runner, that is the
 * run's working directory; and the script that tries to plant each file.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach } from 'vitest';
import { DEFAULT_PATH, giveTo, tempDirFor, type Runner } from './isolate.js';

/** A shell script that tries to write each path (making its directories) and prints `<path>=written` or `<path>=refused`; last, the plain `notes.txt`. */
export function planter(paths: readonly string[]): string {
  return [
    'plant() { mkdir -p "$(dirname "$1")" 2>/dev/null; if echo rt > "$1" 2>/dev/null; then echo "$1=written"; else echo "$1=refused"; fi; }',
    ...paths.map((p) => `plant '${p}'`),
    'plant notes.txt',
  ].join('\n');
}

/** A fresh writable home for each test of the enclosing describe: `home()` its path, `env()` the variables of a run in it. */
export function useWritableHome(runner: Runner, backendEnv: Readonly<Record<string, string>>): { home: () => string; env: () => Record<string, string> } {
  let home = '';
  let cleanup = (): void => undefined;
  beforeEach(() => {
    ({ dir: home, cleanup } = tempDirFor(runner));
    mkdirSync(join(home, '.config'));
    mkdirSync(join(home, '.local/share'), { recursive: true });
    giveTo(runner, home);
  });
  afterEach(() => cleanup());
  return { home: () => home, env: () => ({ HOME: home, PATH: DEFAULT_PATH, XDG_STATE_HOME: join(home, '.local/state'), ...backendEnv }) };
}
