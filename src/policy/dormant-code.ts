/**
 * Code a variable may carry, which bash runs when it evaluates the variable
 * as arithmetic: the value is read as an expression, and an array subscript
 * in it is expanded, command substitutions included. With
 * x='a[$(git push)]', each of `$((x))`, `((x))`, `$[x]`, `[[ x -eq 1 ]]`
 * (anywhere inside the brackets), `let x`, `declare -i y=x`, `${a[x]}`,
 * `test -v a[x]`, `unset a[x]`,
 * `a[x]=1`, `y=([x]=1)`, `for ((i=x;;))`, a substring's offset or length
 * (`${y:x}`, `${@:x:1}`) and the indirection `${!x}` runs git push.
 *
 * A script evaluates a variable so safely only when nothing in the command
 * may have put anything but a number in it: what a script assigns (outside
 * arithmetic) other than an integer literal, what read, mapfile, getopts,
 * printf -v, for and select assign (REPLY and MAPFILE without a name),
 * what `${x:=…}` assigns, and a NAME=VALUE
 * word given to a command (env, export "x=…") all may; so may the
 * positional parameters (the words after a shell's script), `_` and
 * BASH_REMATCH, which bash fills from the script's words, and any name once
 * the script declares a name reference (`declare -n r=x; read r`). Names never
 * assigned come from the environment the profile gives the sandbox.
 */
import type { SyntaxNode } from './shell-parser.js';
import { literal, named } from './script-words.js';

export interface DormantCode {
  /** Names to which the command may give a value other than a number. */
  mayHoldCode: Set<string>;
  /** The places that evaluate variables as arithmetic, with the names they evaluate. */
  evaluated: Array<{ text: string; names: string[] }>;
  /** The command declares a name reference (`declare -n r=x`): assigning r assigns x, so any name may hold code. */
  references: boolean;
}

const INTEGER = /^[+-]?[0-9]+$/;
const IDENTIFIER = /[A-Za-z_][A-Za-z0-9_]*/g;
const NAME_VALUE = /^([A-Za-z_][A-Za-z0-9_]*)(?:\[[^\]]*\])?\+?=(.*)$/s;
/** Special parameters that always hold numbers. */
const NUMERIC_SPECIAL = new Set(['#', '?', '$', '!', 'RANDOM', 'SRANDOM', 'SECONDS', 'LINENO', 'BASHPID', 'PPID', 'UID', 'EUID']);
/** Builtins whose literal identifier arguments name variables they assign. */
const ASSIGNING = new Set(['read', 'mapfile', 'readarray', 'getopts', 'printf']);
/** What those fill when no name is given. */
const DEFAULT_TARGET: Readonly<Record<string, readonly string[]>> = { read: ['REPLY'], mapfile: ['MAPFILE'], readarray: ['MAPFILE'], getopts: ['OPTARG'] };
const ARITH_TEST = /^-(eq|ne|lt|le|gt|ge)$/;
/** Variables bash fills itself with text the script chooses: `_` (the last word of the command before), BASH_REMATCH (what `[[ =~ ]]` matched). */
const FILLED_BY_BASH = new Set(['_', 'BASH_REMATCH']);

export function emptyDormantCode(): DormantCode {
  return { mayHoldCode: new Set(), evaluated: [], references: false };
}

/** A NAME=VALUE word given to a command (env x=…, sudo x=…): NAME may hold code unless VALUE is an integer. */
export function noteNameValue(word: string, out: DormantCode): void {
  const m = NAME_VALUE.exec(word);
  if (m !== null && !INTEGER.test(m[2] ?? '')) out.mayHoldCode.add(m[1] ?? '');
}

/**
 * The names test -v and unset evaluate: the variables their words expand
 * (`unset "$x"`: x's value may be `a[$(cmd)]`) and the names in the
 * subscripts of the names they are given (`unset a[i]`: i, not a).
 */
function subscriptNames(node: SyntaxNode): string[] {
  const args = named(node).filter((c) => c.type !== 'command_name');
  const expanded = args.flatMap(function variables(n: SyntaxNode): string[] {
    const own = ['simple_expansion', 'expansion'].includes(n.parent?.type ?? '') && /variable_name$/.test(n.type) ? [n.text] : [];
    return [...own, ...named(n).flatMap(variables)];
  });
  const subscripts = [...args.map((a) => a.text).join(' ').matchAll(/\[([^\]]*)\]/g)].flatMap((m) => (m[1] ?? '').match(IDENTIFIER) ?? []);
  return [...expanded, ...subscripts];
}

/** The names an arithmetic context refers to (of a subscript, its index): variables, identifiers in words, positional parameters. */
function namesIn(node: SyntaxNode): string[] {
  if (node.type === 'unset_command' || (node.type === 'command' && literal(node.childForFieldName('name') ?? node) !== 'let')) return subscriptNames(node);
  const names: string[] = [];
  const stack = node.type === 'expansion' && isSubstring(node) ? afterColon(node) : [(node.type === 'subscript' ? node.childForFieldName('index') : node) ?? node];
  while (stack.length > 0) {
    const n = stack.pop() as SyntaxNode;
    if (n.type === 'variable_name' || n.type === 'special_variable_name') names.push(n.text);
    else if (n.type === 'word') for (const m of n.text.matchAll(IDENTIFIER)) names.push(m[0]);
    for (const child of named(n)) stack.push(child);
  }
  return names;
}

/** `${x:offset}`, `${x:offset:length}` (not `${x:-…}`, `${x:=…}`, `${x:?…}`, `${x:+…}`, whose operators are tokens of their own). */
const isSubstring = (node: SyntaxNode): boolean => node.children.some((c) => c?.type === ':');

/** The offset and length of a substring expansion: the named nodes after its first `:`. */
function afterColon(node: SyntaxNode): SyntaxNode[] {
  const at = node.children.findIndex((c) => c?.type === ':');
  return node.children.slice(at + 1).filter((c): c is SyntaxNode => c !== null && c.isNamed);
}

/** Whether a test expression stands inside `[[ ]]`, however deep in (), &&, || and ! it is. */
function inDoubleBrackets(node: SyntaxNode): boolean {
  let up = node.parent;
  while (up !== null && ['binary_expression', 'parenthesized_expression', 'unary_expression', 'negated_expression'].includes(up.type)) up = up.parent;
  return up?.type === 'test_command' && firstToken(up) === '[[';
}

function firstToken(node: SyntaxNode): string {
  return node.children[0]?.text ?? '';
}

/** Whether `node` makes bash evaluate the names inside it as arithmetic (see the file's comment). */
function evaluates(node: SyntaxNode): boolean {
  switch (node.type) {
    case 'arithmetic_expansion':
    case 'c_style_for_statement':
    case 'subscript':
      return true;
    case 'compound_statement':
      return firstToken(node) === '((';
    case 'expansion': // ${!x}, not the names ${!a[@]} ${!p@}; a substring's offset and length
      return (node.children.some((c) => c?.type === '!') && !/[@*]\]?\}$/.test(node.text)) || isSubstring(node);
    case 'binary_expression': // [[ a -eq b ]]; the test builtin ([ a -eq b ]) compares integers only
      return inDoubleBrackets(node) && named(node).some((c) => c.type === 'test_operator' && ARITH_TEST.test(c.text));
    case 'unary_expression': // [[ -v x ]] evaluates a subscript in x's value
      return inDoubleBrackets(node) && named(node).some((c) => c.type === 'test_operator' && /^-[vR]$/.test(c.text));
    case 'array': // y=([x]=1): an indexed array's subscripts
      return named(node).some((c) => c.text.startsWith('['));
    case 'command': {
      const name = literal(node.childForFieldName('name') ?? node);
      return name === 'let' || ((name === 'test' || name === '[') && node.childrenForFieldName('argument').some((a) => a !== null && /^-[vR]$/.test(a.text)));
    }
    case 'unset_command':
      return !unsetsFunctions(node);
    case 'declaration_command':
      return named(node).some((c) => c.type === 'word' && /^[-+][A-Za-z]*i/.test(c.text));
    default:
      return false;
  }
}

/** Whether `unset` is given -f: its words name functions, whose names have no subscript to evaluate. */
export function unsetsFunctions(node: SyntaxNode): boolean {
  return named(node).some((c) => /^-[a-z]*f/.test(c.text));
}

/** Whether a value is surely a number: an integer literal, arithmetic, a range of integers, the indices of an array (${!a[@]}). */
function isNumber(value: SyntaxNode | null): boolean {
  if (value === null) return true; // x= is empty: 0 in arithmetic
  if (value.type === 'arithmetic_expansion') return true;
  if (value.type === 'brace_expression') return named(value).every((c) => c.type === 'number');
  if (value.type === 'expansion' && /^\$\{![A-Za-z_][A-Za-z0-9_]*\[[@*]\]\}$/.test(value.text)) return true;
  if (value.type === 'string' && named(value).length === 1) return isNumber(named(value)[0] ?? null);
  const v = literal(value);
  return v !== null && INTEGER.test(v);
}

/** The names a node assigns, when their value may be other than a number. */
function assignsCode(node: SyntaxNode, inArithmetic: boolean): string[] {
  if (node.type === 'variable_assignment' && !inArithmetic) {
    const target = node.childForFieldName('name');
    const name = target?.type === 'subscript' ? target.childForFieldName('name') : target;
    const value = node.childForFieldName('value');
    return name !== null && name !== undefined && !isNumber(value) ? [name.text] : [];
  }
  if (node.type === 'for_statement' || node.type === 'select_statement') {
    const variable = node.childForFieldName('variable');
    const values = node.childrenForFieldName('value').filter((v): v is SyntaxNode => v !== null);
    const select = node.type === 'select_statement' || firstToken(node) === 'select'; // the parser reads select as a for
    const numbers = !select && values.length > 0 && values.every(isNumber);
    const reply = select ? ['REPLY'] : [];
    return variable === null || numbers ? reply : [variable.text, ...reply];
  }
  if (node.type === 'expansion' && /^\$\{[A-Za-z_][A-Za-z0-9_]*:?=/.test(node.text)) return [named(node)[0]?.text ?? ''];
  const builtin = node.type === 'command' ? (literal(node.childForFieldName('name') ?? node) ?? '') : '';
  if (ASSIGNING.has(builtin)) {
    const names = node.childrenForFieldName('argument').flatMap((a) => (a === null ? [] : assignedNames(literal(a) ?? '')));
    // Given no name, read fills REPLY, mapfile MAPFILE and getopts OPTARG: counted whatever the words are (towards undecidable).
    return [...names, ...(DEFAULT_TARGET[builtin] ?? [])];
  }
  return [];
}

/**
 * The names a word given to read, printf, … may name: the word without its subscript (`read 'x[0]'`: x), or, in an
 * option cluster, each name its letters may end with (`printf -vx`, `read -rax`: x, among others).
 */
function assignedNames(word: string): string[] {
  const cluster = /^-([A-Za-z0-9_]+)$/.exec(word)?.[1];
  if (cluster !== undefined) return [...cluster].map((_, i) => cluster.slice(i)).filter((n) => /^[A-Za-z_]/.test(n));
  const name = /^([A-Za-z_][A-Za-z0-9_]*)(\[.*\])?$/s.exec(word)?.[1];
  return name === undefined ? [] : [name];
}

/** Whether a declaration makes a name reference (`declare -n`, `local -n`, `typeset -n`). */
function declaresReference(node: SyntaxNode): boolean {
  return node.type === 'declaration_command' && named(node).some((c) => c.type === 'word' && /^-[A-Za-z]*n/.test(c.text));
}

/** The most nodes of one script read; a script with more is undecidable as a whole. */
const NODES_LIMIT = 20_000;

/** Add what the script `root` assigns and evaluates to `out`; false when the script is too large to read whole. */
export function noteDormantCode(root: SyntaxNode, out: DormantCode): boolean {
  const stack: Array<{ node: SyntaxNode; arithmetic: boolean; declared: boolean }> = [{ node: root, arithmetic: false, declared: false }];
  for (let seen = 0; stack.length > 0; seen++) {
    if (seen >= NODES_LIMIT) return false;
    const { node, arithmetic, declared } = stack.pop() as { node: SyntaxNode; arithmetic: boolean; declared: boolean };
    const type = node.type;
    for (const name of assignsCode(node, arithmetic)) out.mayHoldCode.add(name);
    if (declaresReference(node)) out.references = true;
    if (declared && type !== 'variable_assignment') noteNameValue(literal(node) ?? '', out); // export "x=…"
    const evaluating = evaluates(node);
    if (evaluating) out.evaluated.push({ text: node.text, names: namesIn(node) });
    const inside = arithmetic || (evaluating && type !== 'expansion');
    for (const child of named(node)) stack.push({ node: child, arithmetic: inside, declared: type === 'declaration_command' });
  }
  return true;
}

/** The places that evaluate, as arithmetic, a name the command may have given code; empty when there are none. */
export function dormantCodeRuns(d: DormantCode): string[] {
  const risky = (name: string): boolean => !NUMERIC_SPECIAL.has(name) && (/^[0-9@*]+$/.test(name) || d.mayHoldCode.has(name) || FILLED_BY_BASH.has(name) || d.references);
  return d.evaluated.filter((e) => e.names.some(risky)).map((e) => e.text);
}
