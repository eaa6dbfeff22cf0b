/**
 * A rule named through a symbolic link the command can replace. Every run
 * resolves its rules' paths anew, so a link inside a path the sandbox can
 * write (`.env -> .env.local`, `config -> deploy/config`) is one the command
 * of this run can point elsewhere for the next: the rule that hid
 * `.env.local` would then hide nothing, and a readable or writable path
 * would open whatever the command chose. Such a rule is refused, as a
 * profile file reached through such a link is (resolve.ts).
 */
import { dirname } from 'node:path';
import { IsolateError } from '../errors.js';
import { isWithin, isWritable } from './mount-rules.js';
import { linksOnTheWay, type LinkLookup } from './links.js';
import type { MountRule } from './types.js';

/** A rule of the policy and where it comes from (`filesystem.deny[2]`, `--deny[0]`). */
export interface SourcedRule {
  rule: MountRule;
  from: string;
}

/** Throw when a rule's path, as written, goes through a symbolic link that lies inside a path the sandbox can write. */
export function checkRuleLinks(rules: readonly SourcedRule[], mounts: readonly MountRule[], disk: LinkLookup): void {
  for (const { rule, from } of rules) {
    if (rule.requested === rule.path) continue; // no link on the way
    const link = linksOnTheWay(rule.requested, disk).find((path) => isWritable(mounts, path));
    if (link === undefined) continue;
    throw new IsolateError('E_PATH_INVALID', `${from}: ${rule.requested} is reached through the symbolic link ${link}, inside a path the sandbox can write: the command could point it elsewhere, and the next run would apply this rule there instead of to ${rule.path}`, {
      fix: ruleLinkFix(rule, from, link),
    });
  }
}

/** What the user can do: a built-in profile's rule cannot be renamed, so its fix is the link or where isolate runs. */
function ruleLinkFix(rule: MountRule, from: string, link: string): string {
  const replace = `replace the link ${link} with what it points to`;
  if (from.startsWith('builtin:')) return `${replace} (move ${rule.path} there), or run isolate from a directory that does not hold ${dirname(link)} (a project rather than your home), so that no writable path holds the link`;
  return `name the path without the link (${rule.path}), ${replace}, or keep ${dirname(link)} out of the paths the profile makes writable`;
}

/**
 * A readable or writable path named in the working directory (`${CWD}/docs/logo.png`, `--allow-write dist`) that a
 * symbolic link on the way takes out of it. The link came with the project, not from the user: one that the
 * command cannot repoint (a read-only project, as under strict) still makes a rule that reads like a file of the
 * project show or open another (`docs/logo.png -> ../../.ssh/id_ed25519`, `dist -> ~/.config/autostart`), a path
 * a built-in profile hides among them. Refused, naming the link and where it leads: the profile names that path
 * itself if it is meant. Hidden paths and private directories are not checked: through a link they hide more.
 */
export function checkRulesLeavingCwd(rules: readonly SourcedRule[], cwd: string, disk: LinkLookup): void {
  let realCwd = cwd;
  try {
    realCwd = disk.realpath(cwd);
  } catch {
    // A working directory that cannot be resolved is refused where it is resolved (resolveCwd).
  }
  for (const { rule, from } of rules) {
    if ((rule.kind !== 'read' && rule.kind !== 'write') || rule.requested === rule.path) continue;
    if (!isWithin(rule.requested, cwd) || isWithin(rule.path, realCwd)) continue;
    const link = linksOnTheWay(rule.requested, disk).find((path) => isWithin(path, cwd)) ?? rule.requested;
    const what = rule.kind === 'read' ? 'readable' : 'writable';
    throw new IsolateError('E_PATH_INVALID', `${from}: ${rule.requested} is in the working directory, but reached through the symbolic link ${link} it is ${rule.path}, outside it, which the rule would make ${what}`, {
      fix: `if ${rule.path} is meant, name it itself so that a reader of the rule sees it; else remove the rule, or replace the link ${link} with what it should hold`,
    });
  }
}
