/**
 * The spellings of a value in a response, character by character: a
 * letter or digit as itself; any other character (/, +, =, ", \, <, ...)
 * as itself, after a backslash (`\/` as PHP writes a slash, `\"`, `\\`),
 * percent-encoded (`%2B`, `%2b`) or as a JSON `\u` escape (`\u002B`,
 * `\u002b`), each on its own. Encoders differ in which characters they
 * escape (Python's quote() keeps /, Go's url.PathEscape keeps + and =,
 * .NET's JSON writes `\u002B`) and in the case of their hex digits: one
 * pattern that allows any spelling at each place finds every mix, where
 * a list of fixed escapes missed all but the few it named.
 */

/** A text the scrubber looks for, and what it writes instead. */
export interface Replacement {
  /** The value (or one of its base64 forms), as latin1 text. */
  from: string;
  /** The mask, of the same length: the placeholder (or its form). */
  to: string;
  /** A line end (CRLF or LF) may stand between any two characters: base64 wrapped in lines (MIME, PEM). */
  wrapped?: boolean;
}

const PLAIN = /^[A-Za-z0-9]$/;
/** The longest spelling of a character: `\u002B`. */
const LONGEST_SPELLING = 6;
/** The longest line end: CRLF. */
const LONGEST_LINE_END = 2;

const hexOf = (c: string): string => c.charCodeAt(0).toString(16).padStart(2, '0');

/** A regular expression for `c` in any of its spellings; a group (captured with `capture`) when there are more than one. */
function spellings(c: string, capture: boolean): string {
  if (PLAIN.test(c)) return c;
  const raw = `\\x${hexOf(c)}`;
  const hex = hexOf(c).replace(/[a-f]/g, (d) => `[${d}${d.toUpperCase()}]`);
  return `(${capture ? '' : '?:'}${raw}|\\\\${raw}|%${hex}|\\\\u00${hex})`;
}

/** A regular expression for `r.from` in every spelling, with a group for each character spelled and each line end (`capture`) or none. */
function pattern(r: Replacement, capture: boolean): string {
  const lineEnd = r.wrapped === true ? `(${capture ? '' : '?:'}\\r?\\n)?` : '';
  return [...r.from].map((c) => spellings(c, capture)).join(lineEnd);
}

/** How long `r.from` can be written: the length a match has at most. */
function longest(r: Replacement): number {
  const chars = [...r.from].reduce((sum, c) => sum + (PLAIN.test(c) ? 1 : LONGEST_SPELLING), 0);
  return chars + (r.wrapped === true ? LONGEST_LINE_END * (r.from.length - 1) : 0);
}

/** `c` written as `like` (a spelling of another character) is written: the mask keeps the echo's length and escapes, so a client still decodes it. */
function spellLike(c: string, like: string): string {
  if (like.length === 1) return c;
  const hex = /[a-f]/.test(like.slice(-2)) ? hexOf(c) : hexOf(c).toUpperCase();
  // No escape writes a letter or a digit in two characters: the placeholder of a value too plain to keep its other characters is padded.
  if (like.length === 2) return PLAIN.test(c) ? `${c}x` : `\\${c}`;
  return like.length === 3 ? `%${hex}` : `\\u00${hex}`;
}

/** `r.to` spelled as the echo spelled `r.from`: `groups` are its spellings and line ends, in order (pattern with capture). */
function maskLike(r: Replacement, groups: readonly (string | undefined)[]): string {
  let at = 0;
  return [...r.from]
    .map((c, i) => {
      const lineEnd = r.wrapped === true && i > 0 ? (groups[at++] ?? '') : '';
      const m = r.to[i] ?? 'x';
      return lineEnd + (PLAIN.test(c) ? m : spellLike(m, groups[at++] ?? m));
    })
    .join('');
}

export interface Replacer {
  /** The length of the longest match: what a stream must hold back to find one cut between two pieces. */
  longest: number;
  /** Write each replacement's mask over each match in `data` that starts before `startsBefore`, in place, in the spelling of the match. */
  replaceIn(data: Buffer, startsBefore?: number): void;
}

/**
 * One regular expression finds every replacement in any spelling (a group
 * per spelled character would cost twice the time of a search, so there is
 * none); the few matches are then spelled out by each replacement's
 * pattern with groups.
 */
export function replacer(given: readonly Replacement[]): Replacer {
  // Longest first: a value inside a longer one (two credentials, one token the start of the other) would otherwise be replaced within it, and the rest of the longer one pass.
  const replacements = [...given].sort((a, b) => b.from.length - a.from.length);
  const any = new RegExp(replacements.map((r) => pattern(r, false)).join('|') || '(?!)', 'g');
  const exact = replacements.map((r) => ({ r, re: new RegExp(`^${pattern(r, true)}$`) }));
  const masked = (found: string): string => {
    for (const { r, re } of exact) {
      const m = re.exec(found);
      if (m !== null) return maskLike(r, m.slice(1));
    }
    return 'x'.repeat(found.length);
  };
  return {
    longest: Math.max(0, ...replacements.map(longest)),
    replaceIn(data, startsBefore = data.length) {
      for (const m of data.toString('latin1').matchAll(any)) {
        if (m.index >= startsBefore) break;
        data.write(masked(m[0]), m.index, 'latin1');
      }
    },
  };
}
