/**
 * Command policy: allow and deny rules matched against what a command would
 * start, before anything starts.
 *
 * A rule is a space-separated list of tokens. The first token matches the
 * program: a token with a "/" is compared with the program's path (as written,
 * with `.` and `..` resolved, and as resolved on the sandbox's PATH); without
 * one, with its file name. Each further token matches one argument. In any
 * token, `*` matches any run of characters and `?` one character. A final
 * token that is exactly `*` matches any number of remaining arguments,
 * including none: "git *" matches `git`, `git status` and `git push origin
 * main`; "npm test" matches only `npm test` (words.ts).
 *
 * Wrappers that run another command are looked through (wrappers.ts); a shell
 * given a literal script with -c is parsed, and every command of the script is
 * checked (expand.ts, script.ts); deny wins anywhere (decide.ts).
 */
import { wrapperChain, unwrap } from './wrappers.js';

export { parseRule, ruleMatches } from './words.js';
export { decideCommands } from './decide.js';

export interface CommandRules {
  allow: readonly string[];
  deny: readonly string[];
}

export interface CommandDecision {
  decision: 'allowed' | 'refused';
  /** The rule that decided, or null (no rules, nothing in the allow list matched, or undecidable). */
  rule: string | null;
  list: 'allow' | 'deny' | null;
  reason: string;
  /** The command the rules were matched against, after looking through wrappers. */
  effective: string[];
  /** For a shell script: the command in it that decided (its words known before it runs), else null. */
  subcommand: string[] | null;
  /** What the policy could not decide before the command runs, and why (refused with an allow list, reported without). */
  undecidable: Array<{ command: string[]; reason: string }>;
}

/** The command inside a wrapper, or undefined when argv is not a known wrapper. */
export function unwrapOnce(argv: readonly string[]): string[] | undefined {
  const inner = unwrap({ argv: [...argv], tail: false });
  return inner === undefined || 'undecidable' in inner ? undefined : inner.argv;
}

/** The command as given, then each command found inside wrappers (innermost last). */
export function commandForms(argv: readonly string[]): string[][] {
  return wrapperChain({ argv: [...argv], tail: false }).forms.map((f) => f.argv);
}
