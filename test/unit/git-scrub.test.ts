/** Host facts: which git configuration files the sandbox sees without their secrets (host/git-scrub.ts). Temp dirs only. */
import { chmodSync, existsSync, linkSync, mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ProtectFact } from '../../src/backends/types.js';
import type { MountRule } from '../../src/profile/types.js';
import { readExact } from '../../src/host/git-config-reads.js';
import { gitTargets } from '../../src/host/git-repos.js';
import { gitConfigFact as factOf, gitConfigFacts as factsOf } from '../../src/host/git-scrub.js';
import { rule } from '../helpers/mount-rule.js';

/** The files shown without their secrets, from the configuration files the search reads (git-repos.ts). */
const gitConfigFacts = (rules: MountRule[], protect: ProtectFact[], env: Record<string, string>) => factsOf(rules, gitTargets(protect, env).configs, { uid: process.getuid?.() ?? -1, groups: [process.getgid?.() ?? -1] });
/** What the sandbox sees of the file read at exactly `path` (git-config-reads.ts); undefined when there is no regular file. */
const gitConfigFact = (path: string) => {
  const bytes = readExact(path);
  return bytes === null ? undefined : factOf({ path, bytes });
};

describe('gitConfigFacts', () => {
  let dir: string;
  beforeEach(() => {
    dir = realpathSync(mkdtempSync(join(tmpdir(), 'isolate-git-scrub-')));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const repo = (name: string, config: string | Buffer): string => {
    mkdirSync(join(dir, name, '.git'), { recursive: true });
    writeFileSync(join(dir, name, '.git', 'config'), config);
    return join(dir, name, '.git', 'config');
  };

  it('lists a repository\'s config with a token, as the text without it; not one without', () => {
    const withToken = repo('a', '[remote "origin"]\n\turl = https://x:tok@h/r.git\n');
    repo('b', '[core]\n\tbare = false\n');
    const facts = gitConfigFacts([rule('write', dir)], [{ path: withToken, state: 'file', pins: [] }, { path: join(dir, 'b', '.git', 'config'), state: 'file', pins: [] }], {});
    expect(facts).toEqual([{ path: withToken, text: '[remote "origin"]\n\turl = "https://h/r.git"\n' }]);
  });

  it('follows a worktree\'s .git file to its config.worktree and the common config', () => {
    const common = repo('main', '[http]\n\textraheader = secret\n');
    mkdirSync(join(dir, 'main', '.git', 'worktrees', 'wt'), { recursive: true });
    writeFileSync(join(dir, 'main', '.git', 'worktrees', 'wt', 'commondir'), '../..\n');
    writeFileSync(join(dir, 'main', '.git', 'worktrees', 'wt', 'config.worktree'), '[http]\n\textraHeader = secret\n');
    mkdirSync(join(dir, 'wt'));
    writeFileSync(join(dir, 'wt', '.git'), `gitdir: ${join(dir, 'main', '.git', 'worktrees', 'wt')}\n`);
    const facts = gitConfigFacts([rule('write', dir)], [{ path: join(dir, 'wt', '.git'), state: 'file', pins: [] }], {});
    expect(facts.map((f) => f.path).sort()).toEqual([common, join(dir, 'main', '.git', 'worktrees', 'wt', 'config.worktree')].sort());
    expect(facts.every((f) => !f.text.includes('secret'))).toBe(true);
  });

  it('lists git\'s own configuration for the user (~/.gitconfig) with a token in an insteadOf', () => {
    writeFileSync(join(dir, '.gitconfig'), '[url "https://me:tok@github.com/"]\n\tinsteadOf = https://github.com/\n');
    const facts = gitConfigFacts([rule('read', dir)], [], { HOME: dir, GIT_CONFIG_SYSTEM: join(dir, 'none') });
    expect(facts).toEqual([{ path: join(dir, '.gitconfig'), text: '[url "https://github.com/"]\n\tinsteadOf = https://github.com/\n' }]);
  });

  it('leaves out a file the sandbox cannot see', () => {
    const config = repo('a', '[http]\n\textraheader = secret\n');
    expect(gitConfigFacts([rule('write', dir), rule('deny', join(dir, 'a'))], [{ path: config, state: 'file', pins: [] }], {})).toEqual([]);
  });

  it('shows empty a file that is not UTF-8 or not parsed with certainty, and says so', () => {
    const config = repo('a', Buffer.from([0x5b, 0x63, 0x5d, 0x0a, 0x09, 0x6b, 0x20, 0x3d, 0x20, 0xff, 0x0a]));
    expect(gitConfigFact(config)).toEqual({ path: config, text: '', unparsed: true });
    writeFileSync(config, '[http\n');
    expect(gitConfigFact(config)).toEqual({ path: config, text: '', unparsed: true });
  });

  it('a repository\'s config that is a link: shown at its target\'s real path, as git reads it', () => {
    const target = join(dir, 'target');
    writeFileSync(target, '[http]\n\textraheader = secret\n');
    mkdirSync(join(dir, 'a', '.git'), { recursive: true });
    symlinkSync(target, join(dir, 'a', '.git', 'config'));
    expect(gitConfigFacts([rule('write', dir)], [{ path: join(dir, 'a', '.git', 'config'), state: 'symlink', pins: [] }], {})).toEqual([{ path: target, text: '[http]\n' }]);
  });

  it('reads no file through a final link (shown empty), and nothing that is missing or not a file', () => {
    const target = join(dir, 'target');
    writeFileSync(target, '[http]\n\textraheader = secret\n');
    mkdirSync(join(dir, 'a', '.git'), { recursive: true });
    symlinkSync(target, join(dir, 'a', '.git', 'config'));
    expect(gitConfigFact(join(dir, 'a', '.git', 'config'))).toEqual({ path: join(dir, 'a', '.git', 'config'), text: '', unparsed: true });
    expect(gitConfigFact(join(dir, 'missing'))).toBeUndefined();
    expect(gitConfigFact(dir)).toBeUndefined();
  });

  it('an include whose file cannot be found (~user/ of an unknown user) is left out of the copy; the other lines stay', () => {
    const config = repo('a', '[include]\n\tpath = ~ghost/secrets.inc\n\tpath = plain.inc\n[core]\n\tbare = false\n');
    const bytes = readExact(config) as Buffer;
    expect(factOf({ path: config, bytes, unresolved: ['~ghost/secrets.inc'] })).toEqual({ path: config, text: '[include]\n\tpath = plain.inc\n[core]\n\tbare = false\n' });
    expect(factOf({ path: config, bytes })).toBeUndefined();
  });

  it('a git built into a prefix of its own (/usr/local) reads <prefix>/etc/gitconfig: shown without its token, the git never run', () => {
    // The git on PATH: <dir>/local/bin/git, found where it is (it would leave a mark if anything ran it).
    mkdirSync(join(dir, 'local', 'bin'), { recursive: true });
    writeFileSync(join(dir, 'local', 'bin', 'git'), `#!/bin/sh\ntouch ${join(dir, 'ran')}\n`);
    chmodSync(join(dir, 'local', 'bin', 'git'), 0o755);
    mkdirSync(join(dir, 'local', 'etc'));
    writeFileSync(join(dir, 'local', 'etc', 'gitconfig'), '[http]\n\textraheader = AUTHORIZATION: basic c2VjcmV0\n');
    const facts = gitConfigFacts([rule('read', dir)], [], { PATH: `${join(dir, 'local', 'bin')}:/usr/bin:/bin`, HOME: join(dir, 'home') });
    expect(facts.filter((f) => f.path.startsWith(dir))).toEqual([{ path: join(dir, 'local', 'etc', 'gitconfig'), text: '[http]\n' }]);
    expect(existsSync(join(dir, 'ran'))).toBe(false);
  });

  it('says how many names a file with a token has (hard links); one name is not noted', () => {
    const config = repo('a', '[http]\n\textraheader = secret\n');
    const facts = () => gitConfigFacts([rule('write', dir)], [{ path: config, state: 'file', pins: [] }], {});
    expect(facts()).toEqual([{ path: config, text: '[http]\n' }]);
    linkSync(config, join(dir, 'notes.txt'));
    expect(facts()).toEqual([{ path: config, text: '[http]\n', links: 2 }]);
  });
});
