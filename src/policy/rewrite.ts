/**
 * The script read again, rewritten where the grammar reads it otherwise
 * than the shell that runs it: bash's `time` and `!` before a compound
 * command (keyword-prefix.ts), and, for a shell that may be dash, bash's own
 * syntax as dash reads it (posix-reading.ts). All the edits of one script
 * make one text, parsed once more; what an edit leaves for another reading
 * (`time ! { cmd; }`) is rewritten when that text is read in turn.
 */
import type { SyntaxNode } from './shell-parser.js';

/** Replace `length` characters at `at` (an index of the script as parsed) with `text`. */
export interface Edit {
  at: number;
  length: number;
  text: string;
}

/** The script with the edits that `editsOf` gives for its nodes, or undefined when there are none. */
export function rewritten(root: SyntaxNode, source: string, editsOf: (node: SyntaxNode) => Edit[]): string | undefined {
  const edits: Edit[] = [];
  const stack: SyntaxNode[] = [root];
  while (stack.length > 0) {
    const node = stack.pop() as SyntaxNode;
    edits.push(...editsOf(node));
    for (const child of node.children) if (child !== null) stack.push(child);
  }
  if (edits.length === 0) return undefined;
  let text = source;
  for (const e of edits.sort((a, b) => b.at - a.at)) text = text.slice(0, e.at) + e.text + text.slice(e.at + e.length);
  return text;
}
