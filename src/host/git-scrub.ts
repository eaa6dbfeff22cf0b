/**
 * Host facts: the git configuration files the sandbox would see with a
 * secret in them (git-credentials.ts), and what it sees instead. The files
 * are git's own for this user (`~/.gitconfig`, `~/.config/git/config`, the
 * system's) and those of the repositories the protected names show
 * (git-repos.ts: the repository's `config`, its worktrees'
 * `config.worktree`, the common `config` a linked worktree or submodule
 * shares), and the files they include. Each is read once, without following a symbolic link and only
 * when it is where its path says; one that cannot be read so, or not parsed
 * with certainty, is shown empty. A file with nothing to remove is not
 * listed: it is bound as it is. The values removed are never kept or logged.
 */
import { closeSync, constants, fstatSync, lstatSync, openSync, readSync, realpathSync } from 'node:fs';
import { errnoCode } from '../errors.js';
import type { GitConfigFact, ProtectFact } from '../backends/types.js';
import type { MountRule } from '../profile/types.js';
import { isVisible } from '../profile/mount-rules.js';
import { gitTargets, reposOf, userConfigFiles } from './git-repos.js';
import { scrubGitConfig } from './git-credentials.js';

/** The most a configuration file may weigh to be shown (git's own are a few KiB); a larger one is shown empty. */
const MAX_BYTES = 1024 * 1024;

/**
 * The file's bytes, read through no symbolic link: null when it is not there or not a regular file (git reads no
 * configuration from it); undefined when it cannot be read whole, or is no longer at exactly `path`.
 */
function readExact(path: string): Buffer | undefined | null {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK | constants.O_NOCTTY);
  } catch (e: unknown) {
    return errnoCode(e) === 'ENOENT' ? null : undefined;
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) return null;
    // Still the file at `path` (no directory on the way swapped since the open): the same inode there now.
    const now = lstatSync(path, { throwIfNoEntry: false });
    if (st.size > MAX_BYTES || now === undefined || now.ino !== st.ino || now.dev !== st.dev) return undefined;
    const buf = Buffer.alloc(st.size);
    return buf.subarray(0, readSync(fd, buf, 0, st.size, 0));
  } catch {
    return undefined;
  } finally {
    closeSync(fd);
  }
}

/** What the sandbox sees of one file: undefined when it is shown as it is (or is not there). */
export function gitConfigFact(path: string): GitConfigFact | undefined {
  const bytes = readExact(path);
  if (bytes === null) return undefined;
  const text = bytes?.toString('utf8');
  // Text that is not UTF-8 would not survive a rewrite byte for byte: shown empty, as anything not parsed with certainty.
  const result = text === undefined || !Buffer.from(text).equals(bytes as Buffer) ? { kind: 'unparseable' as const } : scrubGitConfig(text);
  if (result.kind === 'clean') return undefined;
  return { path, text: result.kind === 'scrubbed' ? result.text : '', ...(result.kind === 'unparseable' ? { unparsed: true as const } : {}) };
}

/** The real path (the sandbox's mounts are made at real paths); undefined when it is not there. */
function realPath(path: string): string | undefined {
  try {
    return realpathSync.native(path);
  } catch {
    return undefined;
  }
}

/** Each configuration file of the repositories the facts show that the sandbox can see and that holds a secret. */
export function gitConfigFacts(rules: readonly MountRule[], protect: readonly ProtectFact[], env: Readonly<Record<string, string | undefined>>): GitConfigFact[] {
  const files = new Set([...userConfigFiles(env), ...reposOf(protect).flatMap((r) => r.configs), ...gitTargets(protect, env).include].flatMap((p) => realPath(p) ?? []));
  return [...files].filter((path) => isVisible(rules, path)).flatMap((path) => gitConfigFact(path) ?? []);
}
