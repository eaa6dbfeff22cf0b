/**
 * Host facts: the files git's `store` credential helper keeps tokens in, as
 * the configuration files read for the run name them (`helper = store
 * --file ~/.ci-creds`, `!git credential-store --file ...`, or `store`
 * alone: `~/.git-credentials` and `$XDG_CONFIG_HOME/git/credentials`).
 * Such a file holds each token in the clear, in a URL; the sandbox never
 * sees it (backends/setup-ops.ts hides it wherever the profile would show
 * it). The helper runs through the shell, so its path is read as the shell
 * would: quotes removed, `~/` and `$HOME/` the home directory, a relative
 * path from the working directory (where git runs in the sandbox). A path
 * through any other variable cannot be told, and is not followed.
 */
import { realpathSync, statSync } from 'node:fs';
import { basename, isAbsolute, join, resolve } from 'node:path';
import { gitConfigPaths } from './git-config.js';
import type { GitConfigFile } from './git-config-reads.js';

type Env = Readonly<Record<string, string | undefined>>;

/** Where a helper's relative paths lead: the home directory, the working directory, $XDG_CONFIG_HOME. */
export interface StoreWhere {
  home: string | undefined;
  cwd: string;
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

/** A path as the shell gives it to the helper; undefined when a variable other than HOME is in it. */
function shellPath(path: string, where: StoreWhere): string | undefined {
  const home = /^(~|\$HOME|\$\{HOME\})(\/.*)?$/.exec(path);
  if (home !== null) return where.home === undefined ? undefined : join(where.home, home[2] ?? '');
  if (path.includes('$') || path.startsWith('~')) return undefined;
  return resolve(where.cwd, path);
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
  if (named.length > 0) return named.flatMap((p) => shellPath(p, where) ?? []);
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

/** The credential store files the helpers of the configuration files read name, that exist: at their real paths, once each. */
export function credentialStoreFiles(files: readonly GitConfigFile[], env: Env, cwd: string): string[] {
  const abs = (v: string | undefined): string | undefined => (v !== undefined && isAbsolute(v) ? v : undefined);
  const where: StoreWhere = { home: abs(env['HOME']), cwd, xdg: abs(env['XDG_CONFIG_HOME']) };
  const helpers = files.flatMap((f) => (f.bytes === undefined ? [] : gitConfigPaths(f.bytes.toString('utf8')).helper));
  return [...new Set(helpers.flatMap((h) => storeFilesOf(h, where)).flatMap((p) => regularFile(p) ?? []))];
}
