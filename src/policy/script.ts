/**
 * Every simple command a shell script would run, read from its syntax tree:
 * in pipelines, lists (`&&`, `||`, `;`, `&`), subshells, groups, functions,
 * `if`/`for`/`while`/`case`, command and process substitutions (also inside
 * words, redirections and unquoted heredocs). A command's words are known up
 * to the first one computed at run time; a part the parser cannot read is
 * undecidable.
 */
import type { SyntaxNode } from './shell-parser.js';
import { literal, named } from './script-words.js';
import type { Words } from './words.js';

export type ScriptPart = { kind: 'command'; words: Words } | { kind: 'undecidable'; text: string; reason: string };

const NAMES_LIMIT = 200;

function commandWords(node: SyntaxNode): ScriptPart {
  const name = node.childForFieldName('name');
  const program = name === null ? null : literal(name);
  if (program === null || program === '') {
    return { kind: 'undecidable', text: name?.text ?? node.text, reason: 'its program name is computed at run time' };
  }
  const argv = [program];
  for (const arg of node.childrenForFieldName('argument')) {
    const value = arg === null ? null : literal(arg);
    if (value === null) return { kind: 'command', words: { argv, tail: true } };
    argv.push(value);
  }
  return { kind: 'command', words: { argv, tail: false } };
}

/** The simple commands in `root`, in the order they appear. */
export function scriptParts(root: SyntaxNode): ScriptPart[] {
  const parts: ScriptPart[] = [];
  const visit = (node: SyntaxNode): void => {
    if (parts.length > NAMES_LIMIT) return;
    if (node.type === 'ERROR' || node.isMissing) {
      parts.push({ kind: 'undecidable', text: node.text, reason: 'the shell parser cannot read this part of the script' });
    } else if (node.type === 'command') parts.push(commandWords(node));
    for (const child of named(node)) visit(child);
  };
  visit(root);
  if (root.hasError && !parts.some((p) => p.kind === 'undecidable')) {
    parts.push({ kind: 'undecidable', text: root.text, reason: 'the shell parser cannot read the whole script' });
  }
  if (parts.length > NAMES_LIMIT) parts.push({ kind: 'undecidable', text: '', reason: `the script runs more than ${NAMES_LIMIT} commands` });
  return parts;
}
