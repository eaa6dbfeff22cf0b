/**
 * The one glob of isolate's rules: `*` matches any run of characters
 * (newlines included), `?` one character where the rule allows it (command
 * rules), and every other character itself. Used by command rules,
 * environment name patterns and `isolate audit show --command`.
 */

const cache = new Map<string, RegExp>();

/** The pattern as an anchored regular expression body. */
export function globSource(pattern: string, question: boolean): string {
  return [...pattern]
    .map((ch) => (ch === '*' ? '[\\s\\S]*' : question && ch === '?' ? '[\\s\\S]' : ch.replace(/[.+?^${}()|[\]\\*]/g, '\\$&')))
    .join('');
}

/** A compiled glob, cached: `question` makes `?` match one character; `ignoreCase` for names matched without case. */
export function globRegExp(pattern: string, options: { question?: boolean; ignoreCase?: boolean } = {}): RegExp {
  const key = `${options.question === true ? 'q' : ''}${options.ignoreCase === true ? 'i' : ''}:${pattern}`;
  let re = cache.get(key);
  if (re === undefined) {
    re = new RegExp(`^${globSource(pattern, options.question === true)}$`, options.ignoreCase === true ? 'iu' : 'u');
    cache.set(key, re);
  }
  return re;
}
