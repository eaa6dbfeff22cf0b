/**
 * How deeply a profile's text nests, measured before it is parsed. The YAML
 * parser's time grows with the square of the nesting of compact sequences
 * (`- - - x`: 5,000 levels take seconds, a megabyte of them hours) and it
 * recurses once per level, so a profile nested deeper than MAX_NESTING is
 * refused unparsed. A real profile nests four levels (filesystem.read[0].path).
 *
 * The count errs on the high side, never the low: it does not know quoted
 * strings and comments, so a bracket in a description counts too (only
 * dozens of unclosed ones would matter). Per line: the run of block
 * sequence or key indicators (`- `, `? `) plus the depth of [ and { brackets.
 */
export const MAX_NESTING = 32;

const INDICATOR_RUN = /(?:[-?](?:[ \t]+|$))+/g;

export function nestingDepth(text: string): number {
  let flow = 0;
  let max = 0;
  for (const line of text.split('\n')) {
    let block = 0;
    for (const run of line.match(INDICATOR_RUN) ?? []) block = Math.max(block, run.replace(/[^-?]/g, '').length);
    max = Math.max(max, flow + block);
    for (const c of line) {
      if (c === '[' || c === '{') max = Math.max(max, ++flow + block);
      else if ((c === ']' || c === '}') && flow > 0) flow--;
    }
  }
  return max;
}
