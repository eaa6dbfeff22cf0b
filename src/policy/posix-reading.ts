/**
 * How a POSIX shell reads what bash reads as syntax of its own. dash (the
 * /bin/sh of Debian and Ubuntu, which runs the MCP server's `command` and
 * most `sh -c` scripts) has none of it: `((x))` is two nested subshells
 * that run the command x, `[[` is the name of a command whose test ends at
 * `||`, `&&`, `|`, `&` or `;` (`[[ a || x ]]` runs x), and `&>` is `&`
 * then `>` (`a &>f x` runs x). Before 0.5.13 it has no `$'…'` either: the
 * `$` is a plain character and the quote a single quote, which ends at the
 * next `'` whatever backslash comes before it (`echo $'\' ; x # '` runs x in
 * dash, where bash echoes one string). And in the word of `${x:-…}` (`-`,
 * `=`, `+`, `?`, with or without `:`) inside double quotes, a `'` is a
 * plain character to dash, where bash begins a quote there (`echo
 * "${x:-'}" ; x # '}"` runs x in dash). The grammar reads a script as bash does; for
 * a shell that may be dash, the script is read again with those spans
 * written as dash reads them (rewrite.ts), so the commands dash would run
 * are checked too (`[[` itself starts nothing there: it is written `:`).
 */
import type { SyntaxNode } from './shell-parser.js';
import type { Edit } from './rewrite.js';

/** Shells that read `((`, `[[` and `&>` as bash does; any other (sh, dash, ash, ksh, …) may read them as dash. */
const BASH_SYNTAX = new Set(['bash', 'rbash', 'zsh']);

export function mayReadAsDash(shell: string): boolean {
  return !BASH_SYNTAX.has(shell);
}

/** The operators of `${x:-word}` whose word dash reads in double quotes as double-quoted text, its single quotes plain characters. */
const DEFAULTING = new Set(['-', ':-', '=', ':=', '+', ':+', '?', ':?']);

/** Whether `node` is a single-quoted string that dash reads as plain characters: in the word of a defaulting `${…}` inside double quotes. */
function plainQuoteInDash(node: SyntaxNode): boolean {
  if (node.type !== 'raw_string') return false;
  let expansion = node.parent;
  while (expansion?.type === 'concatenation') expansion = expansion.parent; // ${x:-a'…'}
  if (expansion?.type !== 'expansion') return false;
  if (!expansion.children.some((c) => c !== null && DEFAULTING.has(c.type))) return false;
  while (expansion?.type === 'expansion') expansion = expansion.parent;
  return expansion?.type === 'string';
}

/**
 * The quotes of such a string escaped. The closing one only when nothing between them can end the word for dash
 * (`}`, `"`) or begin text of another kind (`${`, `$(`, a backquote, a backslash; a plain `$name` or `${name}` cannot); otherwise
 * dash's reading of what follows is left to the next reading of the rewritten text.
 */
function plainQuoteEdits(node: SyntaxNode): Edit[] {
  const open: Edit = { at: node.startIndex, length: 1, text: "\\'" };
  const inside = node.text.slice(1, -1).replace(/\$\{\w+\}/g, '');
  return /[}"`\\]|\$[{(]/.test(inside) ? [open] : [open, { at: node.endIndex - 1, length: 1, text: "\\'" }];
}

/** The edits that write one node's bash syntax as dash reads it. */
export function dashEdits(node: SyntaxNode): Edit[] {
  const first = node.children[0];
  const last = node.children.at(-1);
  if (node.type === 'compound_statement' && first?.type === '((' && last?.type === '))') {
    return [
      { at: first.startIndex, length: 2, text: '( (' },
      { at: last.startIndex, length: 2, text: ') )' },
    ];
  }
  if (node.type === 'test_command' && first?.type === '[[') return [{ at: first.startIndex, length: 2, text: ':' }];
  // the $ escaped: a plain character before a single-quoted string, as dash reads it (the grammar's quote ends where dash's does)
  if (node.type === 'ansi_c_string') return [{ at: node.startIndex, length: 1, text: '\\$' }];
  if (plainQuoteInDash(node)) return plainQuoteEdits(node);
  if (node.type === 'file_redirect' && (first?.type === '&>' || first?.type === '&>>')) return [{ at: first.startIndex, length: 1, text: '& ' }];
  return [];
}
