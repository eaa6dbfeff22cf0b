/**
 * The git configuration reader (host/git-config.ts) against git itself: for
 * each file, the values it finds are every value `git config --get-all`
 * finds, so no spelling of core.hooksPath or include.path gets past it.
 * Only git reads these test files here; isolate never runs git on them.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { gitConfigPaths } from '../../src/host/git-config.js';

const dir = mkdtempSync(join(tmpdir(), 'isolate-it-gitconfig-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** What git itself reads for `key` in `text` (every value, in order). */
function gitGetAll(text: string, key: string): string[] {
  const file = join(dir, 'config');
  writeFileSync(file, text);
  const r = spawnSync('git', ['config', '--file', file, '--includes', '--null', '--get-all', key], { encoding: 'utf8', env: { PATH: process.env['PATH'], HOME: dir, GIT_CONFIG_NOSYSTEM: '1' } });
  expect(r.status === 0 || r.status === 1, r.stderr).toBe(true);
  return r.stdout.split('\0').filter((v) => v !== '');
}

const CASES: Record<string, string> = {
  plain: '[core]\n\thooksPath = tools/hooks\n',
  caseInsensitive: '[CORE]\n\tHOOKSPATH = H1\n[Core]\nhookspath=H2\n',
  quoted: '[core]\n\thooksPath = "with space/h" ; comment\n',
  escapes: '[core]\n\thooksPath = a\\"b\\\\c\\td\n',
  inlineComment: '[core]\n\thooksPath = hooks # not part of it\n',
  continuation: '[core]\n\thooksPath = to\\\nols/ho\\\n  oks\n',
  quotedContinuation: '[core]\n\thooksPath = "a \\\nb"\n',
  headerSameLine: '[core] hooksPath = same-line\n',
  innerSpaces: '[core]\n\thooksPath =   a   b   \n',
  crlf: '[core]\r\n\thooksPath = crlf\r\n',
  twoSections: '[core]\n\tbare = false\n[user]\n\tname = x\n[core]\n\thooksPath = second\n',
  subsectionNotCore: '[core "x"]\n\thooksPath = no\n[core]\nhooksPath = yes\n',
  commentLines: '# [core]\n; hooksPath = no\n[core]\n\t# hooksPath = no\n\thooksPath = yes\n',
  semicolonQuoted: '[core]\n\thooksPath = "a;b#c"\n',
};

describe('gitConfigPaths reads core.hooksPath as git does', () => {
  it.each(Object.entries(CASES))('%s', (_name, text) => {
    expect(gitConfigPaths(text).hooksPath).toEqual(gitGetAll(text, 'core.hooksPath'));
  });
});

describe('gitConfigPaths reads include.path and includeIf.*.path', () => {
  it('every include, whatever its condition, as written', () => {
    const text = [
      '[include]',
      '\tpath = a.cfg',
      '[includeIf "gitdir:~/work/"]',
      '\tpath = ../b.cfg',
      '[IncludeIf "onbranch:main"]',
      '\tPath = "c d.cfg"',
      '[include]path=e.cfg',
      '[includeIf "hasconfig:remote.*.url:https://x/**"]',
      '  path = ~/f.cfg',
    ].join('\n');
    expect(gitConfigPaths(text).include).toEqual(['a.cfg', '../b.cfg', 'c d.cfg', 'e.cfg', '~/f.cfg']);
    expect(gitGetAll(text, 'include.path')).toEqual(['a.cfg', 'e.cfg']); // git's own view of the unconditional ones
  });

  it('core.worktree, and nothing from a name without a value', () => {
    const parsed = gitConfigPaths('[core]\n\tworktree = ../tree\n\thooksPath\n[include]\n\tpath\n');
    expect(parsed).toEqual({ hooksPath: [], include: [], worktree: ['../tree'], bare: [], helper: [] });
  });
});
