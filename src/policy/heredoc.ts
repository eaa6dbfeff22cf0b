/**
 * Where bash ends a heredoc, checked against where the grammar ended it. bash
 * ends the body at the first line equal to the delimiter, which is the word
 * after `<<` with its quotes removed, `$'…'` and `$"…"` among them
 * (`<<$'EOF'` ends at `EOF`); in an unquoted heredoc it first joins a line
 * that ends in a backslash to the next (`EO\` then `F` is `EOF`); after
 * `<<-` it strips the lines' leading tabs. The grammar reads some of these
 * otherwise and ends the body on another line: what bash then runs as
 * commands, the policy would read as text, and the reverse. A heredoc whose
 * end the two do not agree on is undecidable, and its lines are parsed
 * again as a script, so that deny rules see the commands bash may run.
 */
import type { SyntaxNode } from './shell-parser.js';
import { named } from './script-words.js';

/**
 * The delimiter bash reads from the word after `<<` (quote removal, nothing
 * expanded), or undefined when the word has a form not read here: `$` or a
 * backquote anywhere (`$'…'`, `$"…"`), an escape inside double quotes, a
 * quote left open.
 */
export function heredocDelimiter(word: string): string | undefined {
  let out = '';
  for (let i = 0; i < word.length; i++) {
    const c = word[i] ?? '';
    if (c === '$' || c === '`' || c === '\n') return undefined;
    if (c === "'" || c === '"') {
      const close = word.indexOf(c, i + 1);
      const inside = word.slice(i + 1, close);
      if (close < 0 || (c === '"' && /[\\$`]/.test(inside))) return undefined;
      out += inside;
      i = close;
    } else if (c === '\\') {
      const next = word[++i];
      if (next === undefined || next === '\n') return undefined;
      out += next;
    } else out += c;
  }
  return out;
}

/** The lines bash compares with the delimiter: joined at an unescaped backslash before the newline when the heredoc is unquoted. */
function logicalLines(text: string, quoted: boolean): string[] {
  const joined = quoted ? text : text.replace(/(^|[^\\])((?:\\\\)*)\\\n/g, '$1$2');
  return joined.split('\n');
}

/** Whether bash ends the heredoc on the line the grammar ended it (`region`: its body and end line as written), read with leading tabs stripped before and after joining. */
function endsWhereBashDoes(region: string, delimiter: string, quoted: boolean, stripTabs: boolean): boolean {
  const strip = (line: string): string => (stripTabs ? line.replace(/^\t+/, '') : line);
  const readings = stripTabs ? [logicalLines(region.split('\n').map(strip).join('\n'), quoted), logicalLines(region, quoted).map(strip)] : [logicalLines(region, quoted)];
  return readings.every((lines) => {
    const last = lines.length - 1;
    return lines.findIndex((line) => strip(line) === delimiter) === last && last >= 0;
  });
}

/**
 * Whether the grammar began the body on a later line than bash: bash begins it on the line after the one with `<<`
 * (joined with its line continuations); the grammar reads a body line of a lone backslash as a line continuation of
 * the command, and the line after it as a word of the command (`cat <<EOF`, `\`, `EOF`: bash ends the body there).
 * Read as late whenever a line continuation lies between that line and the body (also after an earlier heredoc's body).
 */
function bodyStartsLate(source: string, lineAfter: number, bodyLine: number): boolean {
  return source.slice(lineAfter, bodyLine).includes('\\\n');
}

/** Where the line after the one with `<<` begins (that line joined with its line continuations). */
function lineAfterWord(source: string, afterWord: number): number {
  let lineEnd = source.indexOf('\n', afterWord);
  while (lineEnd > 0 && source[lineEnd - 1] === '\\') lineEnd = source.indexOf('\n', lineEnd + 1);
  return lineEnd < 0 ? source.length : lineEnd + 1;
}

/** A heredoc bash may end elsewhere: why, and the text from the line after `<<` to the grammar's end, which bash may run as commands (parsed again: deny rules see inside). */
export interface Misread {
  reason: string;
  text: string;
}

/** Why bash would end this heredoc elsewhere than the grammar did, or undefined when they agree (or `node` is no heredoc). */
export function heredocMisread(node: SyntaxNode, source: string): Misread | undefined {
  if (node.type !== 'heredoc_redirect') return undefined;
  const parts = named(node);
  const start = parts.find((c) => c.type === 'heredoc_start');
  const body = parts.find((c) => c.type === 'heredoc_body');
  const end = parts.find((c) => c.type === 'heredoc_end');
  if (start === undefined) return undefined;
  const lineAfter = lineAfterWord(source, start.endIndex);
  const misread = (reason: string): Misread => ({ reason, text: source.slice(Math.min(lineAfter, node.endIndex), node.endIndex) });
  const delimiter = heredocDelimiter(start.text);
  if (delimiter === undefined) return misread(`a heredoc delimiter read otherwise by bash than by the policy (${start.text})`);
  if (end === undefined || end.text === '') return misread('a heredoc without its end line');
  const from = body === undefined ? end.startIndex : body.startIndex;
  const bodyLine = source.lastIndexOf('\n', from - 1) + 1;
  if (bodyStartsLate(source, lineAfter, bodyLine)) return misread('a heredoc whose body the policy reads from a later line than bash (a line continuation in it)');
  const region = source.slice(bodyLine, end.endIndex);
  const stripTabs = node.children.some((c) => c?.type === '<<-');
  if (endsWhereBashDoes(region, delimiter, /['"\\]/.test(start.text), stripTabs)) return undefined;
  return misread(`a heredoc that bash ends on another line than the policy reads (delimiter ${delimiter})`);
}
