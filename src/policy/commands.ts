/**
 * Command policy: allow and deny rules matched against the command isolate is
 * asked to start, before anything starts.
 *
 * A rule is a space-separated list of tokens. The first token matches the
 * program: a token with a "/" is compared with the program's path (as written
 * and as resolved on the sandbox's PATH); without one, with its file name.
 * Each further token matches one argument. In any token, `*` matches any run
 * of characters and `?` one character. A final token that is exactly `*`
 * matches any number of remaining arguments, including none: "git *" matches
 * `git`, `git status` and `git push origin main`; "npm test" matches only
 * `npm test`.
 *
 * Wrappers that run another command are looked through: `env [-i] [-u NAME]
 * [NAME=VALUE...] cmd`, `nice [-n N] cmd`, `nohup cmd`, `setsid cmd`,
 * `stdbuf -oL cmd`, `timeout [opts] DURATION cmd`, `ionice [-c N] [-n N] cmd`.
 * A deny rule refuses the command if it matches the command as given or any
 * command found inside wrappers; with an allow list, the innermost command
 * must match an allow rule. Deny wins.
 *
 * This covers the command isolate starts, not what that command runs inside
 * the sandbox (`sh -c '...'` is the program sh): the sandbox bounds those.
 */
import { basename } from 'node:path';
import { globRegExp } from '../glob.js';

export interface CommandRules {
  allow: readonly string[];
  deny: readonly string[];
}

export interface CommandDecision {
  decision: 'allowed' | 'refused';
  /** The rule that decided, or null (no rules, or nothing in the allow list matched). */
  rule: string | null;
  list: 'allow' | 'deny' | null;
  reason: string;
  /** The command the rules were matched against, after looking through wrappers. */
  effective: string[];
}

export function parseRule(rule: string): string[] {
  return rule.trim().split(/\s+/).filter((t) => t !== '');
}

/** Whether one argv (with the path it resolves to) matches one rule. */
export function ruleMatches(rule: string, argv: readonly string[], resolvedProgram?: string): boolean {
  const tokens = parseRule(rule);
  const [programToken, ...argTokens] = tokens;
  const [program, ...args] = argv;
  if (programToken === undefined || program === undefined) return false;
  const names = programToken.includes('/') ? [program, ...(resolvedProgram === undefined ? [] : [resolvedProgram])] : [basename(program)];
  if (!names.some((n) => globRegExp(programToken, { question: true }).test(n))) return false;
  const rest = argTokens.at(-1) === '*' ? argTokens.slice(0, -1) : argTokens;
  const open = rest.length !== argTokens.length;
  if (open ? args.length < rest.length : args.length !== rest.length) return false;
  return rest.every((t, i) => globRegExp(t, { question: true }).test(args[i] ?? ''));
}

const DURATION = /^\d+(\.\d+)?[smhd]?$/;

/** The command inside a wrapper, or undefined when argv is not a known wrapper. */
export function unwrapOnce(argv: readonly string[]): string[] | undefined {
  const [program, ...rest] = argv;
  if (program === undefined) return undefined;
  const name = basename(program);
  let i = 0;
  const takeOptions = (withValue: readonly string[]): void => {
    while (i < rest.length) {
      const a = rest[i] ?? '';
      if (a === '--') {
        i++;
        return;
      }
      if (!a.startsWith('-') || a === '-') return;
      i += withValue.includes(a) ? 2 : 1;
    }
  };
  switch (name) {
    case 'env':
      while (i < rest.length) {
        const a = rest[i] ?? '';
        if (a === '--') {
          i++;
          break;
        }
        if (a === '-u' || a === '--unset' || a === '-C' || a === '--chdir' || a === '-S' || a === '--split-string') i += 2;
        else if (a.startsWith('-')) i++;
        else if (/^[^=]+=/.test(a)) i++;
        else break;
      }
      break;
    case 'nice':
      takeOptions(['-n', '--adjustment']);
      break;
    case 'ionice':
      takeOptions(['-c', '--class', '-n', '--classdata', '-p', '--pid', '-P', '--pgid', '-u', '--uid']);
      break;
    case 'nohup':
    case 'setsid':
      takeOptions([]);
      break;
    case 'stdbuf':
      takeOptions(['-i', '-o', '-e', '--input', '--output', '--error']);
      break;
    case 'timeout':
      takeOptions(['-k', '--kill-after', '-s', '--signal']);
      if (DURATION.test(rest[i] ?? '')) i++;
      break;
    default:
      return undefined;
  }
  const inner = rest.slice(i);
  return inner.length === 0 ? undefined : inner;
}

/** The command as given, then each command found inside wrappers (innermost last). */
export function commandForms(argv: readonly string[]): string[][] {
  const forms: string[][] = [[...argv]];
  let current: string[] | undefined = [...argv];
  while ((current = unwrapOnce(current)) !== undefined && forms.length < 16) forms.push(current);
  return forms;
}

export function decideCommand(rules: CommandRules, argv: readonly string[], resolvedProgram?: string): CommandDecision {
  const forms = commandForms(argv);
  const effective = forms.at(-1) ?? [...argv];
  for (const [i, form] of forms.entries()) {
    const resolved = i === 0 ? resolvedProgram : undefined;
    const rule = rules.deny.find((r) => ruleMatches(r, form, resolved));
    if (rule !== undefined) {
      return { decision: 'refused', rule, list: 'deny', reason: `matches deny rule "${rule}"${i > 0 ? ` (as ${form.join(' ')})` : ''}`, effective };
    }
  }
  if (rules.allow.length === 0) return { decision: 'allowed', rule: null, list: null, reason: 'no command rules', effective };
  const rule = rules.allow.find((r) => ruleMatches(r, effective, forms.length === 1 ? resolvedProgram : undefined));
  if (rule !== undefined) return { decision: 'allowed', rule, list: 'allow', reason: `matches allow rule "${rule}"`, effective };
  return { decision: 'refused', rule: null, list: null, reason: `not in the allow list (${rules.allow.map((r) => `"${r}"`).join(', ')})`, effective };
}
