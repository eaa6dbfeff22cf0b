/**
 * Where tests of what a sandbox plants for host programs run: a temp
 * directory owned by the runner with `project/` in it, the environment the
 * runs get (an audit log of the test's own, beside the project), and the
 * marker file a planted command would create on the host.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach } from 'vitest';
import { giveTo, tempDirFor, DEFAULT_PATH, type Runner } from './isolate.js';

export interface PlantSite {
  dir: string;
  project: string;
  env: Record<string, string>;
  marker: string;
}

/** A site made before each test and removed after it (also trees too deep or unreadable for fs.rmSync); its fields are the current test's. */
export function plantSite(runner: Runner, backendEnv: Record<string, string>): PlantSite {
  const site: PlantSite = { dir: '', project: '', env: {}, marker: '' };
  let cleanup = (): void => undefined;
  beforeEach(() => {
    const made = tempDirFor(runner);
    cleanup = made.cleanup;
    Object.assign(site, {
      dir: made.dir,
      project: join(made.dir, 'project'),
      env: { HOME: join(made.dir, 'home'), PATH: DEFAULT_PATH, XDG_STATE_HOME: join(made.dir, 'state'), ...backendEnv },
      marker: join(made.dir, 'PWNED'),
    });
    mkdirSync(site.project);
    giveTo(runner, site.dir);
  });
  afterEach(() => {
    cleanup(); // removeTestTree: also what a run left unlistable
  });
  return site;
}
