/**
 * Host facts: the files that the configuration of a repository inside a
 * writable path (or git's own configuration for this user) makes host git
 * run or read, wherever they are: the hooks directory core.hooksPath names
 * (`.githooks`, `tools/hooks`, ...) and the files include.path and
 * includeIf.*.path pull in, followed through the included files. Protected like the protected names (read-only, or blocked
 * where missing), so that a command cannot plant a hook or a setting there
 * that host git obeys later. The configuration is read, never run: no git
 * process sees these files (git-config.ts parses them).
 */
import { lstatSync, readdirSync, realpathSync } from 'node:fs';
import { basename, dirname, isAbsolute, join, resolve } from 'node:path';
import type { ProtectFact } from '../backends/types.js';
import { gitConfigPaths, type GitConfigPaths } from './git-config.js';
import { GitConfigReads, type GitConfigFile } from './git-config-reads.js';
import { GitPointers } from './git-pointers.js';
import { hostGitPlaces, systemGitConfigs, type GitPlaces } from './git-paths.js';

/** How deep includes are followed: git's own limit (config.c, MAX_INCLUDE_DEPTH). */
const MAX_INCLUDE_DEPTH = 10;

/** The hooks git runs from a hooks directory (githooks(5)); the ones to block when core.hooksPath names a writable path itself. */
export const GIT_HOOK_NAMES: readonly string[] = [
  'applypatch-msg', 'pre-applypatch', 'post-applypatch', 'pre-commit', 'pre-merge-commit', 'prepare-commit-msg',
  'commit-msg', 'post-commit', 'pre-rebase', 'post-checkout', 'post-merge', 'pre-push', 'pre-receive', 'update',
  'proc-receive', 'post-receive', 'post-update', 'reference-transaction', 'push-to-checkout', 'pre-auto-gc',
  'post-rewrite', 'sendemail-validate', 'fsmonitor-watchman', 'p4-changelist', 'p4-prepare-changelist',
  'p4-post-changelist', 'p4-pre-submit', 'post-index-change',
];

export interface GitTargets {
  /** Hooks directories (absolute). */
  hooks: string[];
  /** Included configuration files (absolute). */
  include: string[];
  /** The directories the paths of hooks and includes pass through by a `..` after a name (`sub/../inc.cfg`: `sub`). */
  anchors: string[];
  /** Every configuration file read so far into the reads given (git's own for this user, the repositories', the included ones), once each by real path. */
  configs: GitConfigFile[];
}

/**
 * The paths a configuration value names as git reads it: `~/` is the home directory, `~user/` that user's
 * (git-paths.ts), `%(prefix)/` below each prefix a git on this host has; relative to `base`. Empty when it cannot be told.
 */
function expand(value: string, base: string, home: string | undefined, places: GitPlaces): string[] {
  return startsOf(value, base, home, places).map(([start, rest]) => resolve(join(start, rest)));
}

/** Where a configuration value's path starts (absolute), and the rest of it as written, for each place it can mean. */
function startsOf(value: string, base: string, home: string | undefined, places: GitPlaces): [string, string][] {
  const tilde = /^~([^/]*)(\/.*)?$/.exec(value);
  if (tilde !== null) {
    const dir = tilde[1] === '' ? home : places.userHome(tilde[1] as string);
    return dir === undefined || !isAbsolute(dir) ? [] : [[dir, tilde[2] ?? '']];
  }
  if (value.startsWith('%(prefix)/')) return places.prefixes.map((p) => [p, value.slice('%(prefix)/'.length)]);
  if (value.startsWith('%(')) return [];
  return [[isAbsolute(value) ? '/' : base, value]];
}

/**
 * The directories a value's path leaves by a `..` after a name of its own (`sub/../inc.cfg`: `<base>/sub`). expand()
 * drops them as text does; the kernel, and so git, goes through each: one a run turns into a link leads elsewhere.
 */
function dotDotDirs(value: string, base: string, home: string | undefined, places: GitPlaces): string[] {
  return startsOf(value, base, home, places).flatMap(([start, rest]) => {
    const left: string[] = [];
    let at = start;
    let names = 0;
    for (const part of rest.split('/')) {
      if (part === '' || part === '.') continue;
      if (part === '..' && names > 0) left.push(at);
      names = part === '..' ? Math.max(0, names - 1) : names + 1;
      at = part === '..' ? dirname(at) : join(at, part);
    }
    return left;
  });
}

/** One repository: where its hooks would run (worktree candidates, its git directory), its configuration files, and the git directory its linked worktrees share. */
interface Repo {
  worktree: string;
  gitDir: string;
  configs: string[];
  commonDir: string;
}

/** `path` as git resolves the path of a git directory (as the kernel does: a `..` after a link leaves where the link led); as written when it leads nowhere. */
function realPath(path: string): string {
  try {
    return realpathSync.native(path);
  } catch {
    return resolve(path);
  }
}

/** The repository whose git directory is `gitDir`, checked out in `worktree`: its configuration, and that of the git directory its `commondir` names. */
function repoAt(worktree: string, gitDir: string, pointers: GitPointers): Repo {
  const common = pointers.commonDir(gitDir);
  const configs = [join(gitDir, 'config'), join(gitDir, 'config.worktree')];
  const commonDir = common === undefined ? gitDir : realPath(common);
  if (commonDir !== gitDir) configs.push(join(commonDir, 'config'));
  return { worktree, gitDir, configs, commonDir };
}

/** The repository a protected-name fact shows: a `.git` directory (a fact inside it), or a `.git` file pointing at one. */
function repoOf(fact: ProtectFact, pointers: GitPointers): Repo | undefined {
  const parent = dirname(fact.path);
  if (basename(parent) === '.git') return repoAt(dirname(parent), parent, pointers);
  if (basename(fact.path) !== '.git' || fact.state !== 'file') return undefined;
  const target = pointers.gitFile(fact.path);
  return target === undefined ? undefined : repoAt(parent, realPath(target), pointers);
}

/**
 * A bare repository a read-only walk reports by its `config` (git-read-only.ts): the directory is its git directory.
 * Only for those walks' facts, which name nothing else: a protected name's `config` elsewhere is no repository's.
 */
function bareRepoOf(fact: ProtectFact): Repo | undefined {
  const dir = dirname(fact.path);
  if (basename(fact.path) !== 'config' || basename(dir) === '.git') return undefined;
  return { worktree: dir, gitDir: dir, configs: [fact.path, join(dir, 'config.worktree')], commonDir: dir };
}

/** Every repository the facts show (each as `of` tells it), once. */
function reposOf(facts: readonly ProtectFact[], of: (fact: ProtectFact) => Repo | undefined): Repo[] {
  const repos = new Map<string, Repo>();
  for (const fact of facts) {
    const repo = of(fact);
    if (repo !== undefined && !repos.has(repo.worktree)) repos.set(repo.worktree, repo);
  }
  return [...repos.values()];
}

type Env = Readonly<Record<string, string | undefined>>;

/** git's own configuration files for this user, wherever git would read them (git-config(1), FILES): system (git-paths.ts), global, XDG. */
function userConfigFiles(env: Env, places: GitPlaces): string[] {
  const home = env['HOME'] !== undefined && isAbsolute(env['HOME']) ? env['HOME'] : undefined;
  const xdg = env['XDG_CONFIG_HOME'] !== undefined && isAbsolute(env['XDG_CONFIG_HOME']) ? env['XDG_CONFIG_HOME'] : home === undefined ? undefined : join(home, '.config');
  const files = [...systemGitConfigs(env, places.prefixes), env['GIT_CONFIG_GLOBAL'], home === undefined ? undefined : join(home, '.gitconfig'), xdg === undefined ? undefined : join(xdg, 'git/config')];
  return files.filter((f): f is string => f !== undefined && isAbsolute(f));
}

/**
 * The settings of configuration files and of every file they include (as git follows them, to its depth); includes as
 * absolute paths. An include past git's depth is read (the sandbox may see it) but not followed.
 */
function collect(files: readonly string[], home: string | undefined, reads: GitConfigReads, places: GitPlaces, dots: string[] = []): GitConfigPaths {
  const out: GitConfigPaths = { hooksPath: [], include: [], worktree: [], bare: [], helper: [] };
  const seen = new Set<string>();
  const follow = (file: string, depth: number): void => {
    if (seen.has(file)) return;
    const read = reads.read(file);
    const text = read?.bytes?.toString('utf8');
    if (depth > MAX_INCLUDE_DEPTH) return;
    seen.add(file);
    if (text === undefined) return;
    const paths = gitConfigPaths(text);
    out.hooksPath.push(...paths.hooksPath);
    out.worktree.push(...paths.worktree);
    out.bare.push(...paths.bare);
    for (const inc of paths.include) {
      const found = expand(inc, dirname(file), home, places);
      dots.push(...dotDotDirs(inc, dirname(file), home, places));
      // An include whose file cannot be told is left out of the copy the sandbox sees (git-scrub.ts).
      if (found.length === 0 && read !== undefined) reads.unresolved(read.path, inc);
      for (const path of found) {
        out.include.push(path);
        follow(path, depth + 1);
      }
    }
  };
  for (const file of files) follow(file, 0);
  return out;
}

/**
 * The hooks directories and included files of the repositories the facts
 * show, and of git's own configuration for this user (`env`): its included
 * files, and its hooks path (a relative one in each repository). With them
 * the configuration files as read, for the copies the sandbox sees
 * (git-scrub.ts): no file is read twice.
 */
export function gitTargets(facts: readonly ProtectFact[], env: Env, reads: GitConfigReads = new GitConfigReads(), places: GitPlaces = hostGitPlaces(env), pointers: GitPointers = new GitPointers(), gitDirs: readonly string[] = []): GitTargets {
  const home = env['HOME'];
  const dots: string[] = [];
  const user = collect(userConfigFiles(env, places), home, reads, places, dots);
  const fixed = user.hooksPath.filter((h) => isAbsolute(h) || h.startsWith('~') || h.startsWith('%('));
  const hooks = fixed.flatMap((h) => expand(h, '/', home, places));
  dots.push(...fixed.flatMap((h) => dotDotDirs(h, '/', home, places)));
  const include = [...user.include];
  const repos = reposOf(facts, (f) => repoOf(f, pointers));
  // The git directories with other names (git-dirs.ts) that no `.git` shows: a bare repository, its own worktree.
  const known = new Set(repos.flatMap((r) => [r.gitDir, r.commonDir]));
  for (const dir of gitDirs) if (!known.has(dir)) repos.push(repoAt(dir, dir, pointers));
  for (const repo of repos) {
    const own = collect(repo.configs, home, reads, places, dots);
    include.push(...own.include);
    // A relative hooks path starts where hooks run: the worktree (or core.worktree), or the git directory of a bare repository.
    const bare = own.bare.some((v) => /^(true|yes|on|1)$/i.test(v)) ? [repo.gitDir] : [];
    const bases = [repo.worktree, ...bare, ...own.worktree.flatMap((w) => expand(w, repo.gitDir, home, places))];
    for (const h of [...own.hooksPath, ...user.hooksPath]) {
      hooks.push(...bases.flatMap((b) => expand(h, b, home, places)));
      dots.push(...bases.flatMap((b) => dotDotDirs(h, b, home, places)));
    }
    // The other worktrees' own settings: read for their copies (and what they include), not for hooks run here.
    include.push(...collect(worktreeConfigs(repo.commonDir), home, reads, places, dots).include);
  }
  return { hooks: [...new Set(hooks)], include: [...new Set(include)], anchors: [...new Set(dots)].sort(), configs: reads.files() };
}

/**
 * The configuration files of more repositories (those the sandbox sees read-only, bare ones too: git-read-only.ts), and the files
 * they include, read into `reads` for the copies the sandbox sees without their secrets: a file read already is not
 * read again.
 */
export function readRepoConfigs(facts: readonly ProtectFact[], env: Env, reads: GitConfigReads, places: GitPlaces = hostGitPlaces(env)): void {
  const pointers = new GitPointers();
  for (const repo of reposOf(facts, (f) => repoOf(f, pointers) ?? bareRepoOf(f))) collect([...repo.configs, ...moduleConfigs(repo.gitDir), ...worktreeConfigs(repo.commonDir)], env['HOME'], reads, places);
}

/**
 * The settings of each linked worktree a git directory keeps (`worktrees/<name>/config.worktree`, written by `git
 * config --worktree` with extensions.worktreeConfig): git run in that worktree reads them, and a remote's token set
 * there is sent from it. Kept there while the worktree is elsewhere, or gone and not pruned.
 */
export function worktreeConfigs(commonDir: string): string[] {
  const dir = join(commonDir, 'worktrees');
  let entries;
  try {
    // Looked at before it is listed: most repositories have none, and listing costs more than a stat each run.
    if (lstatSync(dir, { throwIfNoEntry: false })?.isDirectory() !== true) return [];
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return []; // none, or not for the sandbox to list either
  }
  return entries.filter((e) => e.isDirectory()).slice(0, MAX_MODULES).map((e) => join(dir, e.name, 'config.worktree'));
}

/** The most submodule git directories looked at in one repository. */
const MAX_MODULES = 1000;
/** How deep `modules/` is looked into: a submodule's name may hold `/`, and submodules have their own. */
const MAX_MODULE_DEPTH = 16;

/**
 * The configuration of each submodule a git directory keeps under `modules/` (`modules/<name>/config`, and theirs
 * in turn), whether or not the submodule is checked out: a token there is sent by git run in the submodule.
 */
export function moduleConfigs(gitDir: string): string[] {
  const out: string[] = [];
  const walk = (dir: string, depth: number): void => {
    let entries;
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch {
      return; // none, or not for the sandbox to list either
    }
    if (entries.some((e) => e.name === 'config' && e.isFile())) {
      out.push(join(dir, 'config'));
      if (depth < MAX_MODULE_DEPTH) walk(join(dir, 'modules'), depth + 1);
      return;
    }
    for (const e of entries) if (e.isDirectory() && out.length < MAX_MODULES && depth < MAX_MODULE_DEPTH) walk(join(dir, e.name), depth + 1);
  };
  walk(join(gitDir, 'modules'), 0);
  return out;
}
