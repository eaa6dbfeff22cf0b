/**
 * bash's `time` and `!` are keywords before a whole pipeline, compound
 * commands among them: `time { cmd; }`, `! { cmd; }` and `! if …; then cmd;
 * fi` run cmd. The grammar reads `time` as a command's name, and after `!`
 * it reads `{`, `if`, `while`, … as one, whose words end at the first `;`:
 * cmd became a word of a command named `{` (or `if`), which a deny rule
 * never matched. The script is read again with each such keyword (and
 * time's `-p`, `--`) blanked out, so that the compound command's own
 * commands are checked; a keyword left behind (`time ! { cmd; }`) is
 * blanked in the next reading.
 */
import type { SyntaxNode } from './shell-parser.js';

/** Words that begin a compound command (or a negation) where bash reads a keyword. */
const COMPOUND_START = new Set(['{', '!', 'if', 'while', 'until', 'for', 'case', 'select', '[[', '((', 'function', 'coproc']);

const startsCompound = (word: string): boolean => COMPOUND_START.has(word) || word.startsWith('((');

interface Span {
  from: number;
  to: number;
}

/** The keyword the grammar misread before a compound command in `node`: `time [-p] [--]`, or the `!` of a negation; undefined when none. */
function keywordSpan(node: SyntaxNode): Span | undefined {
  const name = node.childForFieldName('name');
  if (node.type !== 'command' || name === null) return undefined;
  if (startsCompound(name.text) && node.parent?.type === 'negated_command') return { from: node.parent.startIndex, to: node.startIndex };
  if (name.text !== 'time') return undefined;
  const words = node.namedChildren.filter((c): c is SyntaxNode => c !== null && c.startIndex > name.startIndex);
  const first = words.find((w) => w.text !== '-p' && w.text !== '--');
  return first !== undefined && startsCompound(first.text) ? { from: name.startIndex, to: first.startIndex } : undefined;
}

/** The script with each such keyword blanked out, or undefined when it has none. */
export function withoutKeywordPrefixes(root: SyntaxNode, source: string): string | undefined {
  const spans: Span[] = [];
  const stack: SyntaxNode[] = [root];
  while (stack.length > 0) {
    const node = stack.pop() as SyntaxNode;
    const span = keywordSpan(node);
    if (span !== undefined) spans.push(span);
    for (const child of node.namedChildren) if (child !== null) stack.push(child);
  }
  if (spans.length === 0) return undefined;
  let text = source;
  for (const s of spans.sort((a, b) => b.from - a.from)) text = text.slice(0, s.from) + ' '.repeat(s.to - s.from) + text.slice(s.to);
  return text;
}
