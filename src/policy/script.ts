/**
 * Every simple command a shell script would run, read from its syntax tree:
 * in pipelines, lists (`&&`, `||`, `;`, `&`), subshells, groups, functions,
 * `if`/`for`/`while`/`case`, command and process substitutions (also inside
 * words, redirections and heredocs). A command's words are known up to the
 * first one computed at run time; a part the parser cannot read is
 * undecidable.
 *
 * Where tree-sitter's bash grammar reads differently from bash, this file
 * makes up for it: words joined by a line continuation (`gi\⏎t`) are one
 * word, an unquoted heredoc that runs commands is undecidable (the
 * grammar misses substitutions after leading blanks in heredoc lines), and
 * so is a heredoc bash ends on another line than the grammar (heredoc.ts).
 */
import { unsetsFunctions } from './dormant-code.js';
import { gitVariable, npmVariable } from './git-forms.js';
import { heredocMisread } from './heredoc.js';
import type { SyntaxNode } from './shell-parser.js';
import { literal, named } from './script-words.js';
import type { Words } from './words.js';

export type ScriptPart =
  | { kind: 'command'; words: Words }
  /** `unread`: a part the policy did not read at all (a limit), where a deny rule may match. */
  | { kind: 'undecidable'; text: string; reason: string; unread?: true }
  /** A script to parse again: the inside of backquotes with escapes, which the grammar reads as words. */
  | { kind: 'script'; script: string };

const PARTS_LIMIT = 1000;
const TEXT_LIMIT = 120;
const DEPTH_LIMIT = 500;

/** A part of the script short enough to show. */
export function clip(text: string): string {
  return text.length > TEXT_LIMIT ? `${text.slice(0, TEXT_LIMIT)}…` : text;
}

/**
 * The command's words as bash reads them: nodes with nothing or only line
 * continuations between them are one word (the grammar splits `a[\$\(x\)]`
 * in two). `globs`: an unquoted glob kept as written (literal).
 */
function joinedWords(nodes: readonly SyntaxNode[], source: string, globs = false): Array<string | null> {
  const words: Array<string | null> = [];
  let previous: SyntaxNode | undefined;
  for (const node of nodes) {
    const value = literal(node, globs);
    const gap = previous === undefined ? ' ' : source.slice(previous.endIndex, node.startIndex);
    if (words.length > 0 && /^(\\\n)*$/.test(gap)) {
      const last = words.pop() ?? null;
      words.push(last === null || value === null ? null : last + value);
    } else words.push(value);
    previous = node;
  }
  return words;
}

/**
 * Words the grammar files under a redirection that follows the command
 * (`git >/dev/null push`: bash's argument `push` is a second destination of
 * `>`; after `<<EOF`, an argument of the heredoc): for bash they are arguments.
 */
function wordsAfterRedirects(command: SyntaxNode): SyntaxNode[] {
  const statement = command.parent;
  if (statement?.type !== 'redirected_statement' || statement.childForFieldName('body')?.startIndex !== command.startIndex) return [];
  const extra: SyntaxNode[] = [];
  for (const redirect of statement.childrenForFieldName('redirect')) {
    if (redirect?.type === 'file_redirect') extra.push(...present(redirect.childrenForFieldName('destination')).slice(1));
    if (redirect?.type === 'heredoc_redirect') extra.push(...present(redirect.childrenForFieldName('argument')));
  }
  return extra;
}

/** A `{name}` right before a redirection (`exec {fd}>x git push`): bash's descriptor variable for it, not an argument. */
function namesDescriptor(node: SyntaxNode, source: string): boolean {
  return /^\{[A-Za-z_][A-Za-z0-9_]*\}$/.test(node.text) && /^[<>]/.test(source.slice(node.endIndex));
}

function present(nodes: readonly (SyntaxNode | null)[]): SyntaxNode[] {
  return nodes.filter((n): n is SyntaxNode => n !== null);
}

function commandWords(node: SyntaxNode, source: string): ScriptPart {
  const name = node.childForFieldName('name');
  const args = [...present(node.childrenForFieldName('argument')), ...wordsAfterRedirects(node)]
    .filter((a) => !namesDescriptor(a, source))
    .sort((a, b) => a.startIndex - b.startIndex);
  const [program, ...rest] = name === null ? [null] : joinedWords([name, ...args], source);
  if (program === null || program === undefined || program === '') {
    return { kind: 'undecidable', text: clip(name?.text ?? node.text), reason: 'its program name is computed at run time' };
  }
  const compound = rest.slice(0, 2).some((w) => w === '{' || w === '(') || named(node).some((c) => !['command_name', 'word'].includes(c.type));
  if (program === 'coproc' && compound) {
    return { kind: 'undecidable', text: clip(node.text), reason: 'coproc with a compound command' };
  }
  const argv = [program];
  for (const value of rest) {
    if (value === null) return { kind: 'command', words: { argv, tail: true } };
    argv.push(value);
  }
  return { kind: 'command', words: { argv, tail: false } };
}

/**
 * A declaration (declare, typeset, local, export, readonly) whose variable is
 * named at run time, or a name reference (-n) to one: it may assign bash's
 * command hash or aliases (BASH_CMDS, BASH_ALIASES), which decide what a
 * later name runs.
 */
function declaresUnknownName(node: SyntaxNode): boolean {
  if (node.type !== 'declaration_command') return false;
  const parts = named(node);
  const nameref = parts.some((c) => c.type === 'word' && /^-[a-zA-Z]*n/.test(c.text));
  return parts.some((c) => {
    if (c.type === 'word' || c.type === 'variable_name') return literal(c) === null;
    if (c.type !== 'variable_assignment') return true;
    const value = c.childForFieldName('value');
    return c.childForFieldName('name')?.type !== 'variable_name' || (nameref && value !== null && literal(value) === null);
  });
}

/** The declaration builtins: bash may parse a `(…)` value given to them again, as an array's (arrayValueRunsCode). */
export const DECLARATIONS = new Set(['declare', 'typeset', 'local', 'readonly', 'export']);

export const ARRAY_REPARSED = 'bash parses a (…) value given to a declaration builtin again as an array assignment, and runs the $(…) in it';

/**
 * Whether a declaration builtin's argument, as it receives it (NAME=VALUE,
 * NAME+=VALUE), may run code: bash parses a value that starts with `(` again
 * as an array assignment, for -a, -A or a name that is already an array, and
 * runs the $(…) and backquotes in it (`declare -a a='($(cmd))'`).
 */
export function arrayValueRunsCode(word: string): boolean {
  const value = /^[A-Za-z_][A-Za-z0-9_]*\+?=(.*)$/s.exec(word)?.[1];
  return value !== undefined && value.startsWith('(') && /[$`]/.test(value);
}

/** Where a script may make a name an array (NAME=(…), NAME[…], mapfile, read -a, declare -a or -A, a name reference), and bash's own arrays. */
const MAKES_ARRAYS = /[A-Za-z0-9_](\+?=\(|\[)|\b(mapfile|readarray)\b|\b(declare|typeset|local|readonly|export|read)\b[^;&|\n]*\s[-+][A-Za-z]*[aAn]/;
const BASH_ARRAYS = /^(BASH_[A-Z]+|DIRSTACK|FUNCNAME|GROUPS|PIPESTATUS|COMP_WORDS|COPROC)$/;

/** The text a value begins with, up to its first part computed at run time; null when its first character is computed. */
function leadingText(node: SyntaxNode): string | null {
  const known = literal(node);
  if (known !== null) return known;
  const first = node.type === 'concatenation' || node.type === 'string' ? named(node)[0] : undefined;
  if (first === undefined || first.startIndex !== node.startIndex + (node.type === 'string' ? 1 : 0)) return null;
  return first.type === 'string_content' ? first.text : leadingText(first);
}

/**
 * A declaration whose argument bash may parse again as an array's `(…)` and
 * run code from (arrayValueRunsCode); a value computed at run time may be
 * one, when the name may be an array.
 */
function declaresArrayCode(node: SyntaxNode, source: string): boolean {
  if (node.type !== 'declaration_command') return false;
  const parts = named(node);
  const arrays = MAKES_ARRAYS.test(source) || parts.some((c) => c.type === 'word' && /^[-+][A-Za-z]*[aA]/.test(c.text));
  return parts.some((c) => {
    if (c.type !== 'variable_assignment') return arrayValueRunsCode(literal(c) ?? '');
    const name = c.childForFieldName('name')?.text ?? '';
    const value = c.childForFieldName('value');
    if (value === null || value.type === 'array') return false;
    const known = literal(value);
    if (known !== null) return arrayValueRunsCode(`${name}=${known}`);
    const lead = leadingText(value);
    return (arrays || BASH_ARRAYS.test(name)) && (lead === null || lead.startsWith('('));
  });
}

/** Why the script as a whole cannot be decided, if it changes what names run without running anything. */
function redefinesNames(source: string): string | undefined {
  if (/BASH_(CMDS|ALIASES)/.test(source)) return 'the script changes the command hash or aliases of bash (BASH_CMDS, BASH_ALIASES)';
  return undefined;
}

/** Variables whose value bash expands as a prompt, running the command substitutions in it (PS4 for set -x, PS3 for select), or runs as a script (BASH_ENV, for every bash started). */
const PROMPT_NAME = /^(PS[0-4]|PROMPT_COMMAND|BASH_ENV)([=+[]|$)/;

/** An exported function in the environment (`BASH_FUNC_name%%=() { …; }`): bash defines `name` from it, and a later `name` runs its body. */
const EXPORTED_FUNCTION = /^BASH_FUNC_([^=]*?)(%%|\(\))=(.*)$/s;

/** Why a word naming such a variable (`BASH_ENV=/tmp/x`, given to env), an exported function, SHELLOPTS (which can turn on history expansion), SHELL, or one with which git or npm runs a command (`GIT_EDITOR=…`, `npm_config_call=…`), runs code, or undefined. */
export function codeVariable(word: string): string | undefined {
  if (PROMPT_NAME.test(word)) return `bash runs ${word.replace(/[=+[].*$/s, '')} as code (a prompt's command substitutions, BASH_ENV's file)`;
  if (/^BASH_FUNC_/.test(word)) return `bash defines a function from ${word.replace(/=.*$/s, '')} (an exported function), which its name runs`;
  if (/^SHELLOPTS([=+[]|$)/.test(word)) return 'bash sets the options SHELLOPTS names as it starts (histexpand: history expansion)';
  if (/^SHELL([=+[]|$)/.test(word)) return 'SHELL names the program that flock -c, script -c, su -m -c and runuser -m -c run with their script, and chroot, unshare, fakeroot, script and sg without a command start';
  return gitVariable(word) ?? npmVariable(word);
}

/** The definition bash reads from an exported function's variable (`name () { …; }`), to be parsed as a script, or undefined. */
export function exportedFunction(word: string): string | undefined {
  const m = EXPORTED_FUNCTION.exec(word);
  return m === null ? undefined : `${m[1] ?? ''} ${m[3] ?? ''}`;
}

/**
 * Why a node runs code kept as text, if it does: prompt expansion of a
 * variable (`${x@P}`), or a word naming a prompt variable (an assignment,
 * read, printf -v, declare -n), whose value bash expands later. Reading
 * one (`echo "$SHELL"`) changes nothing.
 */
function expandsPrompt(node: SyntaxNode): string | undefined {
  if (node.type === 'expansion' && /@P\}$/.test(node.text)) return 'prompt expansion (${x@P}) runs the command substitutions in a value';
  const name = node.type === 'variable_name' ? (node.parent?.type === 'simple_expansion' ? null : node.text) : ['word', 'string', 'raw_string', 'concatenation'].includes(node.type) ? literal(node) : null;
  return name === null ? undefined : codeVariable(name);
}

/** A variable name with a subscript that runs a command (`read 'a[$(cmd)]'`, `test -v …`, `printf -v …`, `unset …`): bash expands the subscript when it uses the name. */
const SUBSCRIPT_CODE = /^[A-Za-z_][A-Za-z0-9_]*\[[^\]]*[$`]/;

/**
 * Such a name, read as the builtin receives it: an unquoted `[` is a glob
 * that matches no file (`unset a[\$\(cmd\)]`). A command's words are read
 * whole (joinedWords); any other word by itself.
 */
function namesSubscriptCode(node: SyntaxNode, source: string): boolean {
  if (node.type === 'unset_command' && unsetsFunctions(node)) return false;
  if (node.type === 'command' || node.type === 'unset_command') {
    const words = node.type === 'command' ? [...present(node.childrenForFieldName('argument')), ...wordsAfterRedirects(node)] : named(node);
    return joinedWords(words, source, true).some((w) => SUBSCRIPT_CODE.test(w ?? ''));
  }
  if (!['word', 'string', 'raw_string', 'concatenation'].includes(node.type) || ['concatenation', 'command', 'unset_command'].includes(node.parent?.type ?? '')) return false;
  return SUBSCRIPT_CODE.test(literal(node, true) ?? '');
}

/**
 * A substitution in a word the grammar left unread: inside ${...} it reads
 * `${x:-`cmd`}` as a plain word, and `"${x:-'$(cmd)'}"` as a quoted one
 * (in an unquoted heredoc's body too, where the grammar expands as in
 * double quotes), and bash runs cmd. Such a text is parsed again, and is undecidable.
 */
function unreadSubstitution(node: SyntaxNode, inString: boolean): string | undefined {
  // in "${x:-'…'}" the single quotes are plain characters: bash expands what is between them
  const quotedInString = node.type === 'raw_string' && inString && node.parent !== null && ['expansion', 'concatenation'].includes(node.parent.type);
  const text = quotedInString ? node.text.slice(1, -1) : node.text;
  if (!quotedInString && node.type !== 'word' && node.type !== 'regex' && node.type !== 'extglob_pattern') return undefined;
  return /(^|[^\\])(\\\\)*(`|\$\(|[<>]\()/.test(text) ? text : undefined;
}

/** Whether `node` is a part of an unquoted heredoc's body (the grammar reads expansions only there), outside any substitution. */
function inHeredocBody(node: SyntaxNode): boolean {
  for (let up = node.parent; up !== null; up = up.parent) {
    if (up.type === 'heredoc_body') return true;
    if (up.type === 'command_substitution' || up.type === 'process_substitution') return false;
  }
  return false;
}

/**
 * A pattern the grammar read in a command's words (after `==` or `=~`, as in a test, when a `]]` follows later in the
 * script): bash reads words and operators there, so `echo a == b; cmd ]]` runs cmd, which the grammar files inside
 * the pattern `b; cmd`. Such a text with an operator or a line break in it is parsed again, and is undecidable.
 */
function patternInCommand(node: SyntaxNode): string | undefined {
  if (node.type !== 'regex' || !/[;&|<>()\n]/.test(node.text)) return undefined;
  let up = node.parent;
  while (up !== null && up.type !== 'command' && up.type !== 'test_command') up = up.parent;
  return up?.type === 'command' ? node.text : undefined;
}

/** An unquoted heredoc whose body has a command substitution: the grammar does not read those reliably. */
function heredocRunsCommands(node: SyntaxNode): boolean {
  if (node.type !== 'heredoc_redirect') return false;
  const start = named(node).find((c) => c.type === 'heredoc_start');
  const body = named(node).find((c) => c.type === 'heredoc_body');
  if (start === undefined || body === undefined || /['"\\]/.test(start.text)) return false;
  return /\$\(|`/.test(body.text);
}

/**
 * Inside backquotes, bash removes the backslash before \\, ` and $ (and " within
 * double quotes) and then parses the text: a nested `\`cmd\`` is a command
 * substitution there. The grammar reads it as words, so such a text is parsed again.
 */
function backquoted(node: SyntaxNode, inString: boolean): string | undefined {
  if (node.type !== 'command_substitution' || !node.text.startsWith('`') || !node.text.includes('\\')) return undefined;
  return node.text.slice(1, -1).replace(inString ? /\\([\\`$"])/g : /\\([\\`$])/g, '$1');
}

/** The simple commands in the script `source`, whose syntax tree is `root`, in the order they appear. */
export function scriptParts(root: SyntaxNode, source: string): ScriptPart[] {
  const parts: ScriptPart[] = [];
  const redefined = redefinesNames(source);
  if (redefined !== undefined) parts.push({ kind: 'undecidable', text: clip(source), reason: redefined });
  const stack: Array<{ node: SyntaxNode; depth: number; inString: boolean }> = [{ node: root, depth: 0, inString: false }];
  while (stack.length > 0 && parts.length <= PARTS_LIMIT) {
    const { node, depth, inString } = stack.pop() ?? { node: root, depth: 0, inString: false };
    if (depth > DEPTH_LIMIT) {
      parts.push({ kind: 'undecidable', text: clip(node.text), reason: `the script nests more than ${DEPTH_LIMIT} levels deep`, unread: true });
      break;
    }
    if (node.type === 'ERROR' || node.isMissing) {
      parts.push({ kind: 'undecidable', text: clip(node.text), reason: 'the shell parser cannot read this part of the script' });
    } else if (node.type === 'command') parts.push(commandWords(node, source));
    else if (heredocRunsCommands(node)) parts.push({ kind: 'undecidable', text: clip(node.text), reason: 'an unquoted heredoc runs commands ($(...) or `...`)' });
    else if (declaresUnknownName(node)) parts.push({ kind: 'undecidable', text: clip(node.text), reason: 'it declares a variable named at run time' });
    else if (declaresArrayCode(node, source)) parts.push({ kind: 'undecidable', text: clip(node.text), reason: ARRAY_REPARSED });
    const misread = heredocMisread(node, source);
    if (misread !== undefined) parts.push({ kind: 'undecidable', text: clip(node.text), reason: misread.reason }, { kind: 'script', script: misread.text });
    if (namesSubscriptCode(node, source)) parts.push({ kind: 'undecidable', text: clip(node.text), reason: 'a variable name whose subscript runs a command when bash uses it' });
    const prompt = expandsPrompt(node);
    if (prompt !== undefined) parts.push({ kind: 'undecidable', text: clip(node.text), reason: prompt });
    const unread = unreadSubstitution(node, inString || inHeredocBody(node));
    if (unread !== undefined) parts.push({ kind: 'undecidable', text: clip(unread), reason: 'a command substitution the shell parser reads as a plain word' });
    const pattern = patternInCommand(node);
    if (pattern !== undefined) parts.push({ kind: 'undecidable', text: clip(pattern), reason: 'words the shell parser reads as a pattern (after == or =~) where the shell reads commands' });
    const again = backquoted(node, inString) ?? unread ?? pattern;
    if (again !== undefined) parts.push({ kind: 'script', script: again });
    const childInString = node.type === 'command_substitution' || node.type === 'process_substitution' ? false : inString || node.type === 'string';
    for (const child of named(node).reverse()) stack.push({ node: child, depth: depth + 1, inString: childInString });
  }
  if (root.hasError && !parts.some((p) => p.kind === 'undecidable')) {
    parts.push({ kind: 'undecidable', text: clip(root.text), reason: 'the shell parser cannot read the whole script' });
  }
  if (parts.length > PARTS_LIMIT) parts.push({ kind: 'undecidable', text: '…', reason: `the script runs more than ${PARTS_LIMIT} commands`, unread: true });
  return parts;
}
