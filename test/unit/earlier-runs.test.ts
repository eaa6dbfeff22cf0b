import { describe, expect, it } from 'vitest';
import { earlierRunWrote } from '../../src/profile/earlier-runs.js';

/** A disk of directories and files by path; anything else is missing. */
const disk = (paths: readonly string[]) => (path: string): 'dir' | undefined => (paths.includes(path) ? 'dir' : undefined);

describe('what an earlier run could have written', () => {
  it('the working directory, and the repository it is in, whatever this run makes writable', () => {
    const wrote = earlierRunWrote(['/h/repo/sub'], [], '/h', disk(['/h/repo/.git']));
    expect(wrote('/h/repo/ci.yaml')).toBe(true);
    expect(wrote('/h/repo/sub/ci.yaml')).toBe(true);
    expect(wrote('/h/other/ci.yaml')).toBe(false);
  });

  it('without a repository, the working directory only', () => {
    const wrote = earlierRunWrote(['/srv/job/sub'], [], '/h', disk([]));
    expect(wrote('/srv/job/sub/x.yaml')).toBe(true);
    expect(wrote('/srv/job/x.yaml')).toBe(false);
  });

  it('a repository at or above the home directory (dotfiles) does not make the whole home one: the working directory only', () => {
    const wrote = earlierRunWrote(['/h/work/proj'], [], '/h', disk(['/h/.git', '/.git']));
    expect(wrote('/h/work/proj/ci.yaml')).toBe(true);
    expect(wrote('/h/profiles/ci.yaml')).toBe(false);
  });

  it("isolate's own directories, hidden from every sandbox, were written by no run", () => {
    const wrote = earlierRunWrote(['/h'], ['/h/.config/isolate'], '/h', disk([]));
    expect(wrote('/h/.config/isolate/profiles/ci.yaml')).toBe(false);
    expect(wrote('/h/ci.yaml')).toBe(true);
  });
});

describe('what an earlier run could have written, where a directory cannot be searched', () => {
  it('a directory stat cannot look into is taken to hold no repository: the working directory stays one', () => {
    const denied = (path: string): 'dir' | undefined => {
      if (path === '/h/p/.git') throw Object.assign(new Error('EACCES'), { code: 'EACCES' });
      return undefined;
    };
    expect(earlierRunWrote(['/h/p'], [], '/h', denied)('/h/p/x')).toBe(true);
  });
});
