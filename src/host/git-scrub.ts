/**
 * Host facts: the git configuration files the sandbox would see with a
 * secret in them (git-credentials.ts), and what it sees instead. The files
 * are git's own for this user (`~/.gitconfig`, `~/.config/git/config`, the
 * system's) and those of the repositories the protected names show and of
 * those the sandbox sees read-only in and above the working directory
 * (git-read-only.ts) (git-repos.ts: the repository's `config`, its
 * worktrees' `config.worktree`, the common `config` a linked worktree or
 * submodule shares), and the files they include, as they were read for the
 * protected-name search (git-config-reads.ts: each once, without following a
 * symbolic link and only when it was where its path says). An include whose
 * file cannot be told (git-paths.ts) is left out of the copy: that file could
 * hold a secret isolate never read. A file with other names (hard links)
 * says how many: the copy covers one name, so the run is refused
 * (backends/git-config.ts). One that could not be read so, or
 * not parsed with certainty, is shown empty. A file with nothing to remove
 * is not listed: it is bound as it is. The values removed are never kept or
 * logged.
 */
import type { GitConfigFact } from '../backends/types.js';
import type { MountRule } from '../profile/types.js';
import { isVisible } from '../profile/mount-rules.js';
import type { GitConfigFile } from './git-config-reads.js';
import { scrubGitConfig } from './git-credentials.js';
import { sandboxMayRead } from './sandbox-reach.js';
import type { SandboxUser } from './acl.js';

/** What the sandbox sees of one file: undefined when it is shown as it is. */
export function gitConfigFact(file: GitConfigFile): GitConfigFact | undefined {
  const { path, bytes } = file;
  const text = bytes?.toString('utf8');
  // Text that is not UTF-8 would not survive a rewrite byte for byte: shown empty, as anything not parsed with certainty.
  const result = text === undefined || !Buffer.from(text).equals(bytes as Buffer) ? { kind: 'unparseable' as const } : scrubGitConfig(text, file.unresolved);
  if (result.kind === 'clean') return undefined;
  const links = file.links !== undefined && file.links > 1 ? { links: file.links } : {};
  return { path, text: result.kind === 'scrubbed' ? result.text : '', ...(result.kind === 'unparseable' ? { unparsed: true as const } : {}), ...links };
}

/**
 * Each configuration file read (git-repos.ts, gitTargets) that the sandbox can see and that holds a secret; not one
 * that a sandbox of `user` could not read itself (sandbox-reach.ts): read with root's capabilities, its copy would
 * show another user's file. That file is left as it is, and the sandbox cannot read it.
 */
export function gitConfigFacts(rules: readonly MountRule[], files: readonly GitConfigFile[], user: SandboxUser): GitConfigFact[] {
  const mayRead = (file: GitConfigFile): boolean => file.access === undefined || sandboxMayRead(file.path, file.access, user);
  return files.filter((file) => isVisible(rules, file.path) && mayRead(file)).flatMap((file) => gitConfigFact(file) ?? []);
}
