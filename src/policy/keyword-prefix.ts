/**
 * bash's `time` and `!` are keywords before a whole pipeline, compound
 * commands among them: `time { cmd; }`, `! { cmd; }` and `! if …; then cmd;
 * fi` run cmd. The grammar reads `time` as a command's name, and after `!`
 * it reads `{`, `if`, `while`, … as one, whose words end at the first `;`:
 * cmd became a word of a command named `{` (or `if`), which a deny rule
 * never matched. The script is read again with each such keyword (and
 * time's `-p`, `--`) blanked out (rewrite.ts), so that the compound
 * command's own commands are checked.
 */
import type { SyntaxNode } from './shell-parser.js';
import type { Edit } from './rewrite.js';

/** Words that begin a compound command (or a negation) where bash reads a keyword. */
const COMPOUND_START = new Set(['{', '!', 'if', 'while', 'until', 'for', 'case', 'select', '[[', '((', 'function', 'coproc']);

const startsCompound = (word: string): boolean => COMPOUND_START.has(word) || word.startsWith('((');

/** Blank the text from `from` to `to`, keeping every later index where it was. */
const blank = (from: number, to: number): Edit[] => [{ at: from, length: to - from, text: ' '.repeat(to - from) }];

/** The keyword the grammar misread before a compound command in `node`, blanked: `time [-p] [--]`, or the `!` of a negation. */
export function keywordEdits(node: SyntaxNode): Edit[] {
  const name = node.childForFieldName('name');
  if (node.type !== 'command' || name === null) return [];
  if (startsCompound(name.text) && node.parent?.type === 'negated_command') return blank(node.parent.startIndex, node.startIndex);
  if (name.text !== 'time') return [];
  const words = node.namedChildren.filter((c): c is SyntaxNode => c !== null && c.startIndex > name.startIndex);
  const first = words.find((w) => w.text !== '-p' && w.text !== '--');
  return first !== undefined && startsCompound(first.text) ? blank(name.startIndex, first.startIndex) : [];
}
