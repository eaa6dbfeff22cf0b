/**
 * The command policy's decision on everything a command would start (see
 * expand.ts): deny wins anywhere, in any wrapper or script; with an allow
 * list, every command must be allowed and nothing may be undecidable; without
 * one, what cannot be decided is reported, and the command is allowed.
 *
 * This is a check on intent, not a boundary: it reads what a command says it
 * will run. The sandbox bounds what it can do.
 */
import { basename } from 'node:path';
import type { CommandDecision, CommandRules } from './commands.js';
import { expandCommand, type Started, type Unknown } from './expand.js';
import { isRunner } from './runners.js';
import { normalProgram, ruleMatch, type Words } from './words.js';

/** Shell builtins that start nothing and change only the shell's own state or output: in a script they need no allow rule (deny rules still apply). */
const INERT_BUILTINS = new Set([
  'cd', 'pushd', 'popd', 'dirs', 'pwd', 'true', 'false', ':', 'echo', 'printf', 'test', '[', 'set', 'export', 'unset', 'shift',
  'read', 'wait', 'exit', 'return', 'break', 'continue', 'local', 'declare', 'typeset', 'readonly', 'umask', 'getopts', 'type',
  // left by themselves only when no command follows them (exec >log, command -v git): else the command inside is checked
  'exec', 'command', 'builtin',
]);

type Base = Omit<CommandDecision, 'effective' | 'subcommand' | 'undecidable'>;

interface Verdict extends Base {
  words: Words;
}

function programOf(words: Words): string {
  return basename(normalProgram(words.argv[0] ?? ''));
}

function scriptNote(s: Started, text: string, words: Words = s.forms.at(-1) ?? { argv: [], tail: false }): string {
  return s.inScript ? `the script runs ${programOf(words)}, which ${text}` : text;
}

/** The first deny rule that surely matches, and the commands a deny rule may match once their words are known. */
function denied(rules: CommandRules, started: readonly Started[], resolved: string | undefined, unknown: Unknown[]): Verdict | undefined {
  for (const [k, s] of started.entries()) {
    for (const [i, form] of s.forms.entries()) {
      const resolvedProgram = k === 0 && i === 0 ? resolved : undefined;
      for (const rule of rules.deny) {
        const m = ruleMatch(rule, form, resolvedProgram);
        const as = i > 0 ? ` (as ${form.argv.join(' ')})` : '';
        if (m === 'yes') return { decision: 'refused', rule, list: 'deny', reason: scriptNote(s, `matches deny rule "${rule}"${s.inScript ? '' : as}`), words: form };
        if (m === 'maybe') unknown.push({ command: form.argv, reason: `${form.tail ? 'its words computed at run time' : 'the path its program resolves to'} may match deny rule "${rule}"` });
      }
    }
  }
  return undefined;
}

/** With an allow list: the first command no allow rule surely matches, or the rules that allowed each one. */
function allowed(rules: CommandRules, started: readonly Started[], resolved: string | undefined): Verdict {
  const matched: string[] = [];
  let last: Verdict | undefined;
  for (const [k, s] of started.entries()) {
    const innermost = s.forms.at(-1) ?? { argv: [], tail: false };
    // A runner (taskset, unshare, su -c, ...) needs an allow rule of its own, as the command inside it does.
    const runners = s.forms.slice(0, -1).filter((f) => isRunner(programOf(f)));
    const needsNone = s.transparent || (s.inScript && INERT_BUILTINS.has(programOf(innermost)));
    const gates = needsNone ? runners : [...runners, innermost];
    if (gates.length === 0) continue;
    const resolvedProgram = k === 0 && s.forms.length === 1 ? resolved : undefined;
    const ruleOf = (f: Words): string | undefined => rules.allow.find((r) => ruleMatch(r, f, f === s.forms[0] ? resolvedProgram : undefined) === 'yes');
    const inner = gates.find((f) => ruleOf(f) === undefined) ?? gates.at(-1) ?? innermost;
    const rule = ruleOf(inner);
    const list = rules.allow.map((r) => `"${r}"`).join(', ');
    if (rule === undefined) {
      const why = inner.tail ? `is not in the allow list for every value of its words computed at run time (${list})` : `is not in the allow list (${list})`;
      return { decision: 'refused', rule: null, list: null, reason: s.inScript ? scriptNote(s, why, inner) : `not in the allow list (${list})`, words: inner };
    }
    matched.push(`${programOf(inner)} by "${rule}"`);
    last = { decision: 'allowed', rule, list: 'allow', reason: `matches allow rule "${rule}"`, words: inner };
  }
  if (last === undefined) return { decision: 'allowed', rule: null, list: null, reason: 'the script starts no program', words: { argv: [], tail: false } };
  const script = started.some((s) => s.inScript);
  return script ? { ...last, reason: `every program the script starts is allowed: ${matched.join(', ')}` } : last;
}

function result(v: Verdict, top: Started | undefined, unknown: Unknown[], script: boolean): CommandDecision {
  const { words, ...base } = v;
  const effective = script ? words.argv : (top?.forms.at(-1)?.argv ?? words.argv);
  return { ...base, effective, subcommand: script && words.argv.length > 0 ? words.argv : null, undecidable: unknown };
}

/** Decide on `argv` (and the path its program resolves to) under `rules`. Runs nothing; parses a shell script only when the rules are not empty. */
export async function decideCommands(rules: CommandRules, argv: readonly string[], resolved?: string): Promise<CommandDecision> {
  const none = { argv: [...argv], tail: false };
  if (rules.allow.length === 0 && rules.deny.length === 0) return result({ decision: 'allowed', rule: null, list: null, reason: 'no command rules', words: none }, undefined, [], false);
  const { started, unknown } = await expandCommand(argv);
  const script = started.some((s) => s.inScript) || started.some((s) => s.transparent);
  const deny = denied(rules, started, resolved, unknown);
  if (deny !== undefined) return result(deny, started[0], unknown, script);
  const unread = unknown.find((u) => u.unread === true);
  if (rules.deny.length > 0 && unread !== undefined) {
    const reason = `part of it is not read by the policy (${unread.reason}), where a deny rule may match`;
    return result({ decision: 'refused', rule: null, list: null, reason, words: { argv: unread.command, tail: false } }, started[0], unknown, script);
  }
  const first = unknown[0];
  if (rules.allow.length > 0 && first !== undefined) {
    const reason = `cannot be decided before it runs (${first.reason}), and the profile has an allow list`;
    return result({ decision: 'refused', rule: null, list: null, reason, words: { argv: first.command, tail: false } }, started[0], unknown, script);
  }
  if (rules.allow.length > 0) return result(allowed(rules, started, resolved), started[0], unknown, script);
  const reason = first === undefined ? (script ? 'no deny rule matches a command the script runs' : 'no deny rule matches') : `no deny rule matches, but part of it cannot be decided before it runs (${first.reason})`;
  return result({ decision: 'allowed', rule: null, list: null, reason, words: none }, started[0], unknown, script);
}
