/**
 * A command as the policy knows it before it runs, and how a rule matches it.
 *
 * `argv` holds the words known before the command runs. From a shell script,
 * a word computed at run time (`$x`, `$(...)`, an unquoted glob) ends what is
 * known: `argv` stops before it and `tail` is set, meaning any number of
 * unknown words may follow. A command given to isolate as argv is all known.
 */
import { basename, posix } from 'node:path';
import { globRegExp } from '../glob.js';

export interface Words {
  argv: string[];
  /** More words, computed at run time, may follow argv. */
  tail: boolean;
}

/** Whether a rule matches: surely, not at all, or depending on the words computed at run time. */
export type Match = 'yes' | 'no' | 'maybe';

export function parseRule(rule: string): string[] {
  return rule.trim().split(/\s+/).filter((t) => t !== '');
}

function tokenMatches(token: string, word: string): boolean {
  return globRegExp(token, { question: true }).test(word);
}

/** The program's path with `.` and `..` resolved (`/usr/bin/../bin/git` is `/usr/bin/git`). */
export function normalProgram(program: string): string {
  return program.includes('/') ? posix.normalize(program) : program;
}

/**
 * How the program matches a rule's first token. A token with a "/" is
 * compared with the program's paths; a bare program name whose path is not
 * known (a command inside a script) may still resolve to it: maybe.
 */
function programMatch(token: string, program: string, resolvedProgram: string | undefined): Match {
  const normal = normalProgram(program);
  if (!token.includes('/')) return tokenMatches(token, basename(normal)) ? 'yes' : 'no';
  const paths = [program, normal, ...(resolvedProgram === undefined ? [] : [resolvedProgram])];
  if (paths.some((p) => tokenMatches(token, p))) return 'yes';
  const unresolved = !program.includes('/') && resolvedProgram === undefined;
  return unresolved && tokenMatches(basename(token), program) ? 'maybe' : 'no';
}

function argsMatch(argTokens: readonly string[], args: readonly string[], tail: boolean): Match {
  const open = argTokens.at(-1) === '*';
  const rest = open ? argTokens.slice(0, -1) : argTokens;
  const compared = Math.min(args.length, rest.length);
  for (let i = 0; i < compared; i++) if (!tokenMatches(rest[i] ?? '', args[i] ?? '')) return 'no';
  if (!tail) return (open ? args.length >= rest.length : args.length === rest.length) ? 'yes' : 'no';
  if (open) return args.length >= rest.length ? 'yes' : 'maybe';
  return args.length > rest.length ? 'no' : 'maybe';
}

/** How one rule matches one command (with the path its program resolves to, when known). */
export function ruleMatch(rule: string, words: Words, resolvedProgram?: string): Match {
  const [programToken, ...argTokens] = parseRule(rule);
  const [program, ...args] = words.argv;
  if (programToken === undefined || program === undefined) return 'no';
  const p = programMatch(programToken, program, resolvedProgram);
  const a = p === 'no' ? 'no' : argsMatch(argTokens, args, words.tail);
  return p === 'yes' || a === 'no' ? a : 'maybe';
}

/** Whether one argv (with the path it resolves to) surely matches one rule. */
export function ruleMatches(rule: string, argv: readonly string[], resolvedProgram?: string): boolean {
  return ruleMatch(rule, { argv: [...argv], tail: false }, resolvedProgram) === 'yes';
}
