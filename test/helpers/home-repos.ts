/** A temp home directory with a project in `src/project`, and repositories made in it by path (the home-walk tests). */
import { mkdirSync, mkdtempSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface HomeRepos {
  home: string;
  /** The working directory: `<home>/src/project`, itself a repository. */
  cwd: string;
  /** Make a repository (`.git` directory) at `<home>/<parts...>`; returns its config's path. */
  repo: (...parts: string[]) => string;
  cleanup: () => void;
}

export function homeRepos(prefix: string): HomeRepos {
  const home = realpathSync(mkdtempSync(join(tmpdir(), prefix)));
  const repo = (...parts: string[]): string => {
    mkdirSync(join(home, ...parts, '.git'), { recursive: true });
    return join(home, ...parts, '.git', 'config');
  };
  repo('src', 'project');
  return { home, cwd: join(home, 'src', 'project'), repo, cleanup: () => rmSync(home, { recursive: true, force: true }) };
}
