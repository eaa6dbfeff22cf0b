/**
 * Host facts: the files git's `store` credential helper keeps tokens in, as
 * the configuration files read for the run name them (`helper = store
 * --file ~/.ci-creds`, `!git credential-store --file ...`, or `store`
 * alone: `~/.git-credentials` and `$XDG_CONFIG_HOME/git/credentials`).
 * Such a file holds each token in the clear, in a URL; the sandbox never
 * sees it (backends/setup-ops.ts hides it wherever the profile would show
 * it). The helper runs through the shell, so its path is read as the shell
 * would: quotes removed, `~/` and `$HOME/` the home directory, a relative
 * path from where git runs the helper: the top of the repository (the
 * working directory's, or the one whose `.git/config` names it), or the
 * working directory outside one. A path through any other variable cannot
 * be told, and is not followed.
 */
import { existsSync, realpathSync, statSync } from 'node:fs';
import { basename, dirname, isAbsolute, join, resolve } from 'node:path';
import { gitConfigPaths } from './git-config.js';
import type { GitConfigFile } from './git-config-reads.js';

type Env = Readonly<Record<string, string | undefined>>;

/** Where a helper's paths lead: the home directory, the directories a relative one may start from, $XDG_CONFIG_HOME. */
export interface StoreWhere {
  home: string | undefined;
  bases: readonly string[];
  xdg: string | undefined;
}

/** The words of a shell command line, with single and double quotes removed (no expansion). */
function words(line: string): string[] {
  const out: string[] = [];
  for (const m of line.matchAll(/(?:'[^']*'|"(?:[^"\\]|\\.)*"|[^\s'"]+)+/g)) {
    out.push(m[0].replace(/'([^']*)'|"((?:[^"\\]|\\.)*)"/g, (_w, single?: string, double?: string) => single ?? (double ?? '').replace(/\\(.)/g, '$1')));
  }
  return out;
}

/** The arguments of a helper that is git's credential-store (`store`, `git credential-store`, `git-credential-store`); undefined for another. */
function storeArgs(helper: string): string[] | undefined {
  const shell = helper.trimStart().startsWith('!');
  const w = words(shell ? helper.trimStart().slice(1) : helper);
  if (!shell && w[0] === 'store') return w.slice(1);
  if (w[0] !== undefined && basename(w[0]) === 'git' && w[1] === 'credential-store') return w.slice(2);
  if (w[0] !== undefined && basename(w[0]) === 'git-credential-store' && (shell || isAbsolute(w[0]))) return w.slice(1);
  return undefined;
}

/** The paths the shell may give the helper for `path`; none when a variable other than HOME is in it. */
function shellPaths(path: string, where: StoreWhere): string[] {
  const home = /^(~|\$HOME|\$\{HOME\})(\/.*)?$/.exec(path);
  if (home !== null) return where.home === undefined ? [] : [join(where.home, home[2] ?? '')];
  if (path.includes('$') || path.startsWith('~')) return [];
  return where.bases.map((base) => resolve(base, path));
}

/** The files one credential helper keeps tokens in (`--file`, any abbreviation git accepts; git's own without one). */
export function storeFilesOf(helper: string, where: StoreWhere): string[] {
  const args = storeArgs(helper);
  if (args === undefined) return [];
  const named: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const m = /^--f(?:i(?:le?)?)?(?:=(.*))?$/.exec(args[i] as string);
    if (m === null) continue;
    const value = m[1] ?? args[++i];
    if (value !== undefined) named.push(value);
  }
  if (named.length > 0) return named.flatMap((p) => shellPaths(p, where));
  if (where.home === undefined) return [];
  return [join(where.home, '.git-credentials'), join(where.xdg ?? join(where.home, '.config'), 'git', 'credentials')];
}

/** The real path of a regular file at `path`; undefined for anything else. */
function regularFile(path: string): string | undefined {
  try {
    const real = realpathSync.native(path);
    return statSync(real).isFile() ? real : undefined;
  } catch {
    return undefined;
  }
}

/** The top of the repository `dir` is in (the nearest directory above it with a `.git`); undefined outside one. */
function repoTop(dir: string): string | undefined {
  for (let d = dir; ; d = dirname(d)) {
    if (existsSync(join(d, '.git'))) return d;
    if (d === dirname(d)) return undefined;
  }
}

/** The credential store files the helpers of the configuration files read name, that exist: at their real paths, once each. */
export function credentialStoreFiles(files: readonly GitConfigFile[], env: Env, cwd: string): string[] {
  const abs = (v: string | undefined): string | undefined => (v !== undefined && isAbsolute(v) ? v : undefined);
  const top = repoTop(cwd);
  const found = files.flatMap((f) => {
    if (f.bytes === undefined) return [];
    // A repository's own configuration: git runs its helpers at the top of that repository.
    const own = /^(.*)\/\.git\/config$/.exec(f.path)?.[1];
    const bases = [...new Set([cwd, ...(top === undefined ? [] : [top]), ...(own === undefined ? [] : [own])])];
    const where: StoreWhere = { home: abs(env['HOME']), bases, xdg: abs(env['XDG_CONFIG_HOME']) };
    return gitConfigPaths(f.bytes.toString('utf8')).helper.flatMap((h) => storeFilesOf(h, where));
  });
  return [...new Set(found.flatMap((p) => regularFile(p) ?? []))];
}
