/**
 * The value of a shell word when it can be known from the script alone:
 * quotes and escapes removed (`g\it`, `'git'`, `"g"it`, `$'g\x69t'` are all
 * `git`), or null when the shell computes it at run time (variables, command
 * and process substitutions, arithmetic, unquoted globs (extended ones too), brace expansion,
 * zsh's `=cmd`).
 */
import type { SyntaxNode } from './shell-parser.js';

/** An unquoted word: backslash escapes removed; null if the shell would expand a glob or braces in it, unless `globs` keeps them as written. */
function unquoted(text: string, globs: boolean): string | null {
  if (!globs && /^=[^=\s]/.test(text)) return null; // zsh: =cmd is the path of cmd
  if (!globs && /(^|[^\\])\{[^}]*(,|\.\.)[^}]*\}/.test(text)) return null;
  let out = '';
  for (let i = 0; i < text.length; i++) {
    const c = text[i] ?? '';
    if (c === '\\') {
      const next = text[++i];
      if (next !== undefined && next !== '\n') out += next;
    } else if (!globs && (c === '*' || c === '?' || c === '[' || ('@!+'.includes(c) && text[i + 1] === '('))) return null;
    else out += c;
  }
  return out;
}

/** Inside double quotes, a backslash escapes only $ ` " \ and a newline. */
function doubleQuoted(text: string): string {
  return text.replace(/\\([$`"\\\n])/g, (_m, c: string) => (c === '\n' ? '' : c));
}

const C_ESCAPES: Record<string, string> = { n: '\n', t: '\t', r: '\r', a: '\x07', b: '\b', e: '\x1b', E: '\x1b', f: '\f', v: '\v', '\\': '\\', "'": "'", '"': '"', '?': '?' };

/** bash's $'...' quoting. */
function ansiC(body: string): string {
  return body.replace(/\\(x[0-9a-fA-F]{1,2}|u[0-9a-fA-F]{1,4}|U[0-9a-fA-F]{1,8}|[0-7]{1,3}|c.|.)/gs, (m, e: string) => {
    const head = e[0] ?? '';
    if (head === 'x' || head === 'u' || head === 'U') return String.fromCodePoint(parseInt(e.slice(1), 16));
    if (/^[0-7]/.test(e)) return String.fromCharCode(parseInt(e, 8) & 0xff);
    if (head === 'c') return String.fromCharCode((e.charCodeAt(1) || 0) & 0x1f);
    return C_ESCAPES[e] ?? m;
  });
}

/** The children tree-sitter names (without null entries). */
export function named(node: SyntaxNode): SyntaxNode[] {
  return node.namedChildren.filter((c): c is SyntaxNode => c !== null);
}

function stringValue(node: SyntaxNode): string | null {
  if (named(node).some((c) => c.type !== 'string_content')) return null;
  return doubleQuoted(node.text.slice(1, -1));
}

/**
 * A word's literal value, or null when it is computed at run time. With
 * `globs`, its text as bash passes it on when a glob in it matches no file
 * (`a[\$\(cmd\)]` is `a[$(cmd)]`): what a builtin given a variable name
 * with a subscript receives.
 */
export function literal(node: SyntaxNode, globs = false): string | null {
  switch (node.type) {
    case 'word':
    case 'number':
      return unquoted(node.text, globs);
    case 'variable_name': // a name given to declare or unset
      return node.text;
    case 'raw_string':
      return node.text.slice(1, -1);
    case 'string':
      return stringValue(node);
    case 'ansi_c_string':
      return ansiC(node.text.slice(2, -1));
    case 'command_name':
    case 'concatenation': {
      const parts = named(node).map((part) => literal(part, globs));
      if (parts.length === 0 || parts.length !== node.children.length) return null; // a bare token between the parts: not a plain word
      const braced = named(node).some((c) => c.type === 'word' && /(^|[^\\])\{/.test(c.text)) && /\{[^}]*(,|\.\.)/.test(node.text);
      if (braced && !globs) return null; // brace expansion across the parts
      return parts.some((p) => p === null) ? null : parts.join('');
    }
    default:
      return null;
  }
}
