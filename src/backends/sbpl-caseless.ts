/**
 * Paths as macOS's file systems compare them. APFS and HFS+ volumes are
 * case-insensitive by default, and APFS ignores Unicode normalization:
 * `~/.SSH/id_rsa` opens `~/.ssh/id_rsa`, and a `.ENVRC` created where
 * `.envrc` is missing is the file direnv reads there next. Seatbelt's
 * `literal` and `subpath` compare strings (a new name at least as the
 * program wrote it), so
 * every deny of sandbox-exec's profile also carries one of these regexes
 * (passed as a parameter, never spliced into the profile's text). A deny
 * that matches more names than the file system tells apart only refuses
 * more on a case-sensitive volume; it never allows anything.
 */

/** One character of a path as a case-insensitive regex: an ASCII letter either way (as written first), a special character escaped. */
function caselessChar(c: string): string {
  const lower = c.toLowerCase();
  const upper = c.toUpperCase();
  if (lower !== upper && /^[a-z]$/.test(lower)) return `[${c}${c === lower ? upper : lower}]`;
  return /[.*+?^${}()|[\]\\]/.test(c) ? `\\${c}` : c;
}

/**
 * One path, its ASCII letters in either case; each run of other characters
 * (whose case folding and normalization forms the file system also equates)
 * matches any such run within one name.
 */
function caselessPath(path: string): string {
  return path
    .split(/(\P{ASCII}+)/u)
    .map((part, i) => (i % 2 === 1 ? '[^/]+' : [...part].map(caselessChar).join('')))
    .join('');
}

/**
 * Match these paths whatever the case of their letters: an anchored
 * alternation, and with `below` everything under each path too (what
 * `subpath` covers).
 */
export function caselessPathsRegex(paths: readonly string[], below: boolean): string {
  const alternation = paths.map((p) => caselessPath(p === '/' ? '' : p)).join('|');
  return below ? `^(${alternation})(/|$)` : `^(${alternation})$`;
}
