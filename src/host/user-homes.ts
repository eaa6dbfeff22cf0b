/**
 * Host facts: a user's home, for git's `~user/` (git-paths.ts), as git's
 * getpwnam finds it: /etc/passwd, then the system's directories (getent) for
 * a user of a directory service (LDAP, SSSD).
 *
 * A directory service can be slow or down, and a repository a command made
 * can name many users: the look-ups of one search share one time budget
 * (HomeSearch), and a name asked once the budget is spent is one whose home
 * cannot be told (its include is left out of the copy, as any such). The
 * directory service's answers are kept for the life of the process (the MCP
 * server runs many searches); a look-up that got no answer in time is asked
 * again by the next search.
 */
import { readFileSync } from 'node:fs';
import { isAbsolute } from 'node:path';
import { captureSync } from '../process.js';
import { findSystemProgram } from './system-programs.js';

/**
 * Asks the system's directories for a user's home, waiting at most `timeoutMs`: the home as they have it, null when
 * they have no such user, undefined when no answer came (timed out, or the service failed).
 */
export type DirectoryLookup = (name: string, timeoutMs: number) => string | null | undefined;

/** The longest one look-up waits, whatever is left of its search's budget. */
const LOOKUP_TIMEOUT_MS = 5_000;
/** The time all the directory look-ups of one search may take together. */
export const SEARCH_BUDGET_MS = 2_000;

/** The names getpwnam accepts that isolate looks up (anything else names no user). */
const USER_NAME = /^[A-Za-z0-9._][A-Za-z0-9._-]*\$?$/;

/** The home field of `name`'s line in passwd-format `text`. */
function passwdHome(text: string, name: string): string | undefined {
  return text.split('\n').map((l) => l.split(':')).find((f) => f[0] === name && f.length >= 7)?.[5];
}

/** /etc/passwd's home for `name`, or undefined when it has no such line (or cannot be read). */
function localHome(name: string): string | undefined {
  try {
    return passwdHome(readFileSync('/etc/passwd', 'utf8'), name);
  } catch {
    return undefined;
  }
}

/** getent's answer (exit 0: found, 2: no such user); a host without getent has no directory service to ask. */
const getentLookup: DirectoryLookup = (name, timeoutMs) => {
  const getent = findSystemProgram('getent');
  if (getent === undefined) return null;
  const r = captureSync(getent, ['passwd', '--', name], { env: {}, cwd: '/', timeoutMs });
  if (r.status === 0) return passwdHome(r.stdout, name) ?? null;
  return r.status === 2 ? null : undefined;
};

/** `ask`, with its answers kept (a home, or no such user); a look-up that got none is asked again. */
export function rememberingLookup(ask: DirectoryLookup): DirectoryLookup {
  const answers = new Map<string, string | null>();
  return (name, timeoutMs) => {
    const known = answers.get(name);
    if (known !== undefined) return known;
    const answer = ask(name, timeoutMs);
    if (answer !== undefined) answers.set(name, answer);
    return answer;
  };
}

let systemDirectory: DirectoryLookup | undefined;

/** The system's directories (getent), with the answers kept for this process. */
export function systemDirectoryLookup(): DirectoryLookup {
  systemDirectory ??= rememberingLookup(getentLookup);
  return systemDirectory;
}

/** A user's home (absolute) as the password database has it, asking the directory for at most `timeoutMs`; undefined when it cannot be told. */
export function userHome(name: string, lookup: DirectoryLookup = systemDirectoryLookup(), timeoutMs = LOOKUP_TIMEOUT_MS): string | undefined {
  if (!USER_NAME.test(name)) return undefined;
  // Whole milliseconds, at least one: a time-out of 0 would be none at all.
  const wait = Math.min(Math.floor(timeoutMs), LOOKUP_TIMEOUT_MS);
  const home = localHome(name) ?? (wait >= 1 ? (lookup(name, wait) ?? undefined) : undefined);
  return home !== undefined && isAbsolute(home) ? home : undefined;
}

/** The users' homes of one search: every look-up within one budget of time. */
export class HomeSearch {
  private spentMs = 0;

  constructor(
    private readonly lookup: DirectoryLookup = systemDirectoryLookup(),
    private readonly budgetMs: number = SEARCH_BUDGET_MS,
  ) {}

  /** `name`'s home; undefined when it cannot be told, or the search's budget is spent. */
  home(name: string): string | undefined {
    const start = performance.now();
    try {
      return userHome(name, this.lookup, this.budgetMs - this.spentMs);
    } finally {
      this.spentMs += performance.now() - start;
    }
  }
}
