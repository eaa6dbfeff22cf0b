/**
 * A linear look at a script's brackets and operators before it is parsed. tree-sitter's
 * error recovery reads brackets nested thousands deep, or thousands of
 * closers with no opener, in time growing with the square of their number
 * (a 40,000-character script held `isolate mcp` for seconds), and runs of
operators (`||||…`) likewise; counted here in
 * microseconds, such a script is undecidable without being parsed.
 *
 * Quotes are not followed: a bracket in a quoted string counts as any other,
 * so an ordinary script reaches neither limit only while its quoted text
 * stays under them too.
 */

/** Deeper than the policy reads a syntax tree (script.ts): the tree of each bracket level is at least one level deep. */
const DEPTH_LIMIT = 500;
/** Closers with no opener (a case item's `pat)` is one): far more than a case statement has items. */
const STRAY_LIMIT = 1000;

/** Characters in runs of 4 or more control operator characters (`||||`): bash's own operators are at most 3 long (`;;&`, `&>>`, `<<<`). */
const OPERATOR_RUN_LIMIT = 1000;

const OPERATORS = new Set(['|', '&', ';', '<', '>']);
const OPENERS = new Set(['(', '{', '[']);
const CLOSERS = new Set([')', '}', ']']);

/** Pipes (`|`, `|&`; not `||`): a pipeline of thousands left open (`a|a|…a|`) takes the parser seconds and gigabytes, then aborts its runtime. As many commands are more than the policy reads (script.ts). */
const PIPE_LIMIT = 1000;

function pipes(script: string): number {
  let count = 0;
  for (let i = 0; i < script.length; i++) {
    if (script[i] === '|' && script[i - 1] !== '|' && script[i + 1] !== '|') count++;
  }
  return count;
}

/** How many characters of the script are in runs of 4 or more operator characters. */
function operatorRunChars(script: string): number {
  let total = 0;
  let run = 0;
  for (let i = 0; i <= script.length; i++) {
    if (OPERATORS.has(script[i] ?? '')) run++;
    else {
      if (run >= 4) total += run;
      run = 0;
    }
  }
  return total;
}

/** Why the script's brackets or operators are too many for the parser to read in time, or undefined. */
export function bracketTangle(script: string): string | undefined {
  if (pipes(script) > PIPE_LIMIT) return `it has more than ${PIPE_LIMIT} pipes`;
  if (operatorRunChars(script) > OPERATOR_RUN_LIMIT) return `it has more than ${OPERATOR_RUN_LIMIT} characters in runs of 4 or more of | & ; < >`;
  let depth = 0;
  let stray = 0;
  for (let i = 0; i < script.length; i++) {
    const c = script[i] ?? '';
    if (c === '\\') i++;
    else if (OPENERS.has(c)) {
      if (++depth > DEPTH_LIMIT) return `its brackets nest more than ${DEPTH_LIMIT} levels deep`;
    } else if (CLOSERS.has(c)) {
      if (depth > 0) depth--;
      else if (++stray > STRAY_LIMIT) return `it has more than ${STRAY_LIMIT} closing brackets without an opening one`;
    }
  }
  return undefined;
}
