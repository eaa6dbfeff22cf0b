/**
 * A git checkout for the integration tests: a fake home (homeWithProject)
 * whose project is a repository with one commit and an empty subdirectory
 * `packages/foo`, given to the runner; and host git, run as the test
 * process with a fixed identity and no system configuration.
 */
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { giveTo, homeWithProject, type Project, type Runner } from './isolate.js';

export interface Checkout {
  p: Project;
  /** `packages/foo` inside the checkout. */
  sub: string;
  hostGit: (cwd: string, ...args: string[]) => SpawnSyncReturns<string>;
}

export function checkoutWithSubdirectory(runner: Runner): Checkout {
  const p = homeWithProject(runner);
  const env = { PATH: p.env['PATH'], HOME: p.home, GIT_CONFIG_NOSYSTEM: '1', GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@example.com', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@example.com' };
  const hostGit = (cwd: string, ...args: string[]): SpawnSyncReturns<string> => spawnSync('git', ['-c', 'safe.directory=*', ...args], { cwd, env, encoding: 'utf8' });
  const sub = join(p.project, 'packages', 'foo');
  mkdirSync(sub, { recursive: true });
  writeFileSync(join(p.project, 'README'), 'readme\n');
  for (const args of [['init', '-q'], ['add', 'README'], ['commit', '-q', '-m', 'first']]) {
    const r = hostGit(p.project, ...args);
    if (r.status !== 0) throw new Error(`git ${args.join(' ')}: ${r.stderr}`);
  }
  giveTo(runner, p.home);
  return { p, sub, hostGit };
}
