/**
 * A git configuration file as the sandbox may see it: without the secrets a
 * CI job or a developer leaves in it. actions/checkout writes the job's
 * token as `http.<url>.extraHeader = AUTHORIZATION: basic ...`, GitLab CI
 * puts `gitlab-ci-token:<token>@` in `remote.origin.url`, developers keep
 * `https://user:token@host/` remotes and `url.<with token>.insteadOf`.
 * Removed: every `http.extraHeader` and `http.<url>.extraHeader`; the
 * password of any URL in a value or a section's name, and the whole
 * userinfo of an http(s) URL that git sends as a remote or a proxy (a token
 * is often the user name), and a `credential.username` that looks like a
 * token (a person's name stays, so nsjail need not refuse a run for it); a
 * `credential.helper` that is a shell snippet naming a password, a token or
 * a user name, or a helper whose arguments name one; every key named as a
 * password or a token
 * (`sendemail.smtpPass`, `imap.pass`, `git-town.github-token`,
 * `github.token`); an include whose file the caller could not find.
 * `http.cookieFile` stays: it
 * names a file (which the profile shows or hides like any other), it holds
 * no secret itself. Every other line is kept byte for byte, so that git in
 * the sandbox reads the same repository. Text isolate cannot parse with
 * certainty is not shown at all. Pure, and never runs git.
 */
import { header, valueOf } from './git-config.js';
import { looksLikeToken } from '../token-shapes.js';

/** What the sandbox sees of a configuration file: the text as it is, without its secrets, or nothing. */
export type Scrubbed = { kind: 'clean' } | { kind: 'scrubbed'; text: string } | { kind: 'unparseable' };

/**
 * Keys whose value is a URL that git (or git-lfs) sends credentials to as a remote or a proxy (section.key, lower
 * case, with any subsection): a token alone as its user name is a secret there.
 */
const REMOTE_URL_KEYS = new Set([
  'remote.url', 'remote.pushurl', 'url.insteadof', 'url.pushinsteadof', 'submodule.url',
  'lfs.url', 'lfs.pushurl', 'remote.lfsurl', 'remote.lfspushurl', 'http.proxy', 'remote.proxy',
]);

/**
 * Keys (the last name, lower case, in any section) whose value is a password or a token: git's own (`imap.pass`,
 * `sendemail.smtpPass`, `gitcvs.dbPass`) and those tools keep beside them (`git-town.github-token`,
 * `github.token`, `hub.oauthtoken`, `git-town.bitbucket-app-password`). `core.askPass` names a program: kept.
 */
const SECRET_KEY = /(^|smtp|db)pass$|password$|passwd$|token$|secret$/;

/** Words in a credential helper's snippet or arguments that name a secret or print one (`password=`, `oauth_refresh_token=`, git 2.46's `credential=`, a `username=` that may be a token). */
const SECRET_HELPER = /pass|token|secret|credential=|username=/i;

/**
 * Whether a credential helper names a secret: a shell snippet (`!...`) anywhere in its text, any other helper in its
 * arguments (`/opt/bin/cred --token=...`); the helper's own name (`libsecret`, `store`) is not a secret.
 */
function helperNamesSecret(value: string): boolean {
  const helper = value.trim();
  return SECRET_HELPER.test(helper.startsWith('!') ? helper : helper.replace(/^\S*/, ''));
}

/**
 * `scheme://userinfo@` at the start of a URL-like word, anywhere in a value or a section's name: to the last `@`
 * before the path (a password may hold one), through quotes and backslashes (git reads `"u:p\"w@"` as a password
 * with a quote in it, and sends it).
 */
const USERINFO = /\b([A-Za-z][A-Za-z0-9+.-]*:\/\/)([^/\s]*)@/g;

/** The same at the start of a value that is one URL (a remote's, a section's name): its userinfo may hold spaces too, as git parses it. */
const URL_USERINFO = /^(\s*[A-Za-z][A-Za-z0-9+.-]*:\/\/)([^/]*)@/;

/** `text` with each URL's password removed; for a remote (`remote`: the text is one URL), the whole userinfo of an http(s) URL. */
export function withoutUserinfo(text: string, remote: boolean): string {
  const clean = (whole: string, scheme: string, info: string): string => {
    const http = /^\s*(https?|ftps?):\/\/$/i.test(scheme);
    if (info.includes(':')) return http ? scheme : `${scheme}${info.slice(0, info.indexOf(':'))}@`;
    return remote && http ? scheme : whole;
  };
  return (remote ? text.replace(URL_USERINFO, clean) : text).replace(USERINFO, clean);
}

/** The section's name (lower case) without its subsection, and the subsection as written. */
function split(section: string): { name: string; sub: string | undefined } {
  const dot = section.indexOf('.');
  return dot === -1 ? { name: section, sub: undefined } : { name: section.slice(0, dot), sub: section.slice(dot + 1) };
}

/** One entry: its section's name (lower case, without the subsection), its key (lower case), its value; the includes of its file that cannot be found. */
interface Entry {
  name: string;
  key: string;
  value: string;
  unresolved: readonly string[];
}

/**
 * The scrubber's rules, first match wins: `drop` removes the entry, `remote` removes the whole userinfo of an http(s)
 * URL in it. An entry no rule matches keeps its value without the passwords of the URLs in it.
 */
const KEY_RULES: readonly { what: string; matches: (e: Entry) => boolean; then: 'drop' | 'remote' }[] = [
  { what: 'http.extraHeader, http.<url>.extraHeader', matches: (e) => e.name === 'http' && e.key === 'extraheader', then: 'drop' },
  { what: 'a key named as a password or a token, in any section', matches: (e) => SECRET_KEY.test(e.key), then: 'drop' },
  { what: 'credential.username, credential.<url>.username that looks like a token (token-shapes.ts)', matches: (e) => e.name === 'credential' && e.key === 'username' && looksLikeToken(e.value), then: 'drop' },
  { what: 'a credential helper that names a secret', matches: (e) => e.name === 'credential' && e.key === 'helper' && helperNamesSecret(e.value), then: 'drop' },
  {
    what: 'include.path, includeIf.<condition>.path whose file isolate cannot find (`~user/` of no user it knows): the file could hold anything',
    matches: (e) => (e.name === 'include' || e.name === 'includeif') && e.key === 'path' && e.unresolved.includes(e.value),
    then: 'drop',
  },
  { what: 'a URL git sends credentials to as a remote or a proxy', matches: (e) => REMOTE_URL_KEYS.has(`${e.name}.${e.key}`), then: 'remote' },
];

/** What becomes of one entry: kept, dropped, or written with another value. */
function entryValue(section: string, key: string, value: string, unresolved: readonly string[]): string | null {
  const entry = { name: split(section).name, key, value, unresolved };
  const rule = KEY_RULES.find((r) => r.matches(entry));
  return rule?.then === 'drop' ? null : withoutUserinfo(value, rule?.then === 'remote');
}

/** A value as git reads it back: quoted, with `\`, `"`, newline and tab escaped. */
function quoted(value: string): string {
  return `"${value.replace(/[\\"]/g, (c) => `\\${c}`).replace(/\n/g, '\\n').replace(/\t/g, '\\t')}"`;
}

/** A subsection as written in a header, quoted. */
const quotedSub = (sub: string): string => `"${sub.replace(/[\\"]/g, (c) => `\\${c}`)}"`;

/** A line that is blank or only a comment. */
const isBlank = (line: string): boolean => /^\s*([#;].*)?$/.test(line);

/** Whether a value's quotes close (git refuses the file otherwise). */
function quotesBalanced(raw: string): boolean {
  let quoted = false;
  for (let i = 0; i < raw.length; i++) {
    const c = raw[i];
    if (c === '\\') i++;
    else if (c === '"') quoted = !quoted;
    else if (!quoted && (c === '#' || c === ';')) break;
  }
  return !quoted;
}

/** A line without its carriage return, and the carriage return. */
function ending(line: string): { body: string; eol: string } {
  return line.endsWith('\r') ? { body: line.slice(0, -1), eol: '\r' } : { body: line, eol: '' };
}

/** The configuration text without its secrets (see the module's comment), and without the includes named in `unresolved` (as written). */
export function scrubGitConfig(text: string, unresolved: readonly string[] = []): Scrubbed {
  const lines = text.split('\n');
  const out: string[] = [];
  let section = '';
  let changed = false;
  for (let i = 0; i < lines.length; i++) {
    const start = i;
    const { body, eol } = ending(lines[i] as string);
    let line = body;
    let head: { text: string; changed: boolean } | undefined;
    if (/^\s*\[/.test(line)) {
      const h = header(line);
      if (h === undefined) return { kind: 'unparseable' };
      const { name, sub } = split(h.section);
      const clean = sub === undefined ? undefined : withoutUserinfo(sub, true);
      section = clean === undefined ? name : `${name}.${clean}`;
      head = clean === sub ? { text: line.slice(0, line.length - h.rest.length), changed: false } : { text: `[${name} ${quotedSub(clean as string)}]`, changed: true };
      if (isBlank(h.rest)) {
        changed ||= head.changed;
        out.push(head.changed ? `${head.text}${h.rest}${eol}` : (lines[i] as string));
        continue;
      }
      line = h.rest;
    } else if (isBlank(line)) {
      out.push(lines[i] as string);
      continue;
    }
    const m = /^(\s*)([A-Za-z][A-Za-z0-9-]*)\s*(=?)(.*)$/.exec(line);
    if (m === null) return { kind: 'unparseable' };
    // A backslash at the end of a line continues the value on the next one (inside quotes too).
    let raw = m[4] ?? '';
    while (valueOf(raw).more) {
      if (i + 1 >= lines.length) return { kind: 'unparseable' };
      raw = raw.slice(0, -1) + ending(lines[++i] as string).body;
    }
    if (!quotesBalanced(raw) || (m[3] === '' && !isBlank(raw))) return { kind: 'unparseable' };
    const value = m[3] === '' ? undefined : valueOf(raw).value;
    const kept = value === undefined ? undefined : entryValue(section, (m[2] as string).toLowerCase(), value, unresolved);
    if (kept === value && head?.changed !== true) {
      out.push(...lines.slice(start, i + 1));
      continue;
    }
    changed = true;
    if (head !== undefined) out.push(`${head.text}${eol}`);
    if (kept === value) out.push(`${line}${eol}`, ...lines.slice(start + 1, i + 1));
    else if (kept !== null) out.push(`${m[1] ?? ''}${m[2] as string} = ${quoted(kept as string)}${eol}`);
  }
  return changed ? { kind: 'scrubbed', text: out.join('\n') } : { kind: 'clean' };
}
