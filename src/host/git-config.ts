/**
 * The few settings of a git configuration file that name other files git
 * runs or reads: core.hooksPath (the hooks), include.path and
 * includeIf.<condition>.path (more configuration), core.worktree and
 * core.bare (where relative hook paths start), and credential helpers (the
 * file a `store --file` helper keeps tokens in). Parsed here, never by running git: the file
 * may have been written by a sandboxed command, and host git would obey it.
 * Pure: the text in, the values out, every one of them (not only the last,
 * which is the one git uses), so that nothing git might use is missed.
 */

export interface GitConfigPaths {
  hooksPath: string[];
  /** include.path and includeIf.*.path, whatever the condition. */
  include: string[];
  worktree: string[];
  /** core.bare, as written. */
  bare: string[];
  /** credential.helper and credential.<url>.helper. */
  helper: string[];
}

/** One line's value: quotes removed, escapes applied, comments dropped, the rest trimmed; `more` when it ends in a continuation. */
export function valueOf(text: string): { value: string; more: boolean } {
  let out = '';
  let quoted = false;
  let pending = ''; // whitespace outside quotes, kept only if something follows
  for (let i = 0; i < text.length; i++) {
    const c = text[i] as string;
    if (c === '\\') {
      const next = text[i + 1];
      if (next === undefined) return { value: out, more: true };
      out += pending + ({ n: '\n', t: '\t', b: '\b' }[next] ?? next);
      pending = '';
      i++;
    } else if (c === '"') {
      out += pending;
      pending = '';
      quoted = !quoted;
    } else if (!quoted && (c === '#' || c === ';')) {
      break;
    } else if (!quoted && (c === ' ' || c === '\t')) {
      if (out !== '') pending += c;
    } else {
      out += pending + c;
      pending = '';
    }
  }
  return { value: out, more: false };
}

/** `[section]`, `[section "sub"]` or `[section.sub]` at the start of `line`: the section's key (lower case, `.sub` as written) and the rest of the line. */
export function header(line: string): { section: string; rest: string } | undefined {
  const m = /^\s*\[\s*([A-Za-z0-9.-]+)\s*(?:"((?:[^"\\]|\\.)*)")?\s*\]/.exec(line);
  if (m === null) return undefined;
  const name = (m[1] as string).toLowerCase();
  const sub = m[2] === undefined ? '' : `.${m[2].replace(/\\(.)/g, '$1')}`;
  return { section: `${name}${sub}`, rest: line.slice(m[0].length) };
}

/** The paths named in a git configuration file's text. */
export function gitConfigPaths(text: string): GitConfigPaths {
  const out: GitConfigPaths = { hooksPath: [], include: [], worktree: [], bare: [], helper: [] };
  const lines = text.split(/\r?\n/);
  let section = '';
  for (let i = 0; i < lines.length; i++) {
    let line = lines[i] as string;
    const h = header(line);
    if (h !== undefined) {
      section = h.section;
      line = h.rest;
    }
    const m = /^\s*([A-Za-z][A-Za-z0-9-]*)\s*(=?)(.*)$/.exec(line);
    if (m === null) continue;
    // A backslash at the end of a line continues the value on the next one (inside quotes too).
    let raw = m[3] ?? '';
    while (valueOf(raw).more && i + 1 < lines.length) raw = raw.slice(0, -1) + (lines[++i] as string);
    if (m[2] === '') continue; // a name alone is `true`: no path
    record(out, section, (m[1] as string).toLowerCase(), valueOf(raw).value);
  }
  return out;
}

function record(out: GitConfigPaths, section: string, name: string, value: string): void {
  if (value === '') return;
  const lower = section.toLowerCase();
  if (lower === 'core' && name === 'hookspath') out.hooksPath.push(value);
  else if (lower === 'core' && name === 'worktree') out.worktree.push(value);
  else if (lower === 'core' && name === 'bare') out.bare.push(value);
  else if (name === 'path' && (lower === 'include' || lower.startsWith('includeif.'))) out.include.push(value);
  else if (name === 'helper' && (lower === 'credential' || lower.startsWith('credential.'))) out.helper.push(value);
}
