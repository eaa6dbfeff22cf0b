/**
 * A profile is read by people before it is run: its paths, protected names,
 * command rules and extends must be what they show. A character that does
 * not show (a zero-width space or joiner, a bidirectional control, a soft
 * hyphen, a variation selector), a control character (the newline a YAML
 * block scalar keeps, a tab), a space other than the plain one, or a space
 * at either end would make `${CWD}/.env` name another file, one that does
 * not exist: a deny that hides nothing, a protected name that protects
 * nothing, a command rule that matches nothing, an extends that reads
 * another file than the one a reader opens, while `isolate explain` prints
 * what looks like the rule the reader expected. Such values are refused.
 * (A NUL byte has its own message where a value may not hold one.)
 */
// eslint-disable-next-line no-control-regex -- control characters are among what this finds, to refuse them
const UNSEEN = /[\u0001-\u001f\u007f-\u009f\p{Default_Ignorable_Code_Point}\p{Zl}\p{Zp}]|(?!\u0020)\p{Zs}/u;

/** What a reader of `text` would not see, as a message, or undefined when it shows what it is. */
export function unseenIn(text: string, edges: 'trimmed' | 'kept'): string | undefined {
  const found = UNSEEN.exec(text);
  if (found !== null) {
    const code = (found[0].codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, '0');
    return `contains U+${code} at character ${[...text.slice(0, found.index)].length + 1}, which does not show as itself; write the value out with visible characters only`;
  }
  if (edges === 'kept' && text.trim() !== text) return 'starts or ends with a space, which a reader does not see; remove it';
  return undefined;
}
