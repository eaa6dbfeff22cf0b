/**
 * From a profile file to plain data: read it (a regular file, at most
 * MAX_PROFILE_BYTES), then parse it as JSON (.json) or YAML. Every failure is
 * an IsolateError naming the file and, where the parser knows it, the line.
 */
import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs';
import type { Document, LineCounter, YAMLError } from 'yaml';
import { IsolateError, errnoCode, isIsolateError, shown } from '../errors.js';
import { duplicateJsonKey } from './json-duplicates.js';
import { MAX_NESTING, nestingDepth } from './nesting.js';

/** Profiles are short, hand-written files; anything larger is refused before it is read. */
export const MAX_PROFILE_BYTES = 1024 * 1024;

function readError(file: string, inWhat: string, reason: string, e?: unknown): IsolateError {
  return new IsolateError('E_PROFILE_NOT_FOUND', `cannot read profile ${file}${inWhat}: ${reason}`, {
    fix: 'point --profile (or extends) at a profile file (YAML or JSON)',
    ...(e === undefined ? {} : { cause: e }),
  });
}

/** Who owns the file that was read, and its mode: what trust.ts decides on. */
export interface FileOwner {
  uid: number;
  mode: number;
}

/** A profile file's text and the owner of the very file it was read from (not of whatever the path names later). */
export interface ProfileText {
  text: string;
  owner: FileOwner;
}

/**
 * The file's text. Only regular files: a device (/dev/zero) or a named pipe
 * would never end or never open. O_NONBLOCK keeps a pipe from blocking the
 * open; the size is checked on the open file and again while reading. The
 * owner comes from the same open file, so a path swapped after the read
 * (for a link to a file root owns) cannot lend the text another's trust.
 */
export function readProfileText(file: string, inWhat = ''): ProfileText {
  let fd: number;
  try {
    fd = openSync(file, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (e: unknown) {
    throw readError(file, inWhat, errnoCode(e) ?? String(e), e);
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) throw readError(file, inWhat, 'not a regular file');
    const tooLarge = (): IsolateError => readError(file, inWhat, `larger than ${MAX_PROFILE_BYTES / 1024} KiB; a profile is a short, hand-written file`);
    if (st.size > MAX_PROFILE_BYTES) throw tooLarge();
    const buf = Buffer.allocUnsafe(MAX_PROFILE_BYTES + 1);
    let n = 0;
    for (let got = -1; got !== 0 && n < buf.length; n += got) got = readSync(fd, buf, n, buf.length - n, null);
    if (n > MAX_PROFILE_BYTES) throw tooLarge();
    return { text: buf.toString('utf8', 0, n).replace(/^\uFEFF/, ''), owner: { uid: st.uid, mode: st.mode } };
  } catch (e: unknown) {
    if (isIsolateError(e)) throw e;
    throw readError(file, inWhat, errnoCode(e) ?? String(e), e);
  } finally {
    closeSync(fd);
  }
}

export async function parseProfileText(file: string, text: string): Promise<unknown> {
  const isJson = /\.json$/i.test(file);
  const depth = nestingDepth(text);
  if (depth > MAX_NESTING) {
    throw new IsolateError('E_PROFILE_PARSE', `${file}: nested ${depth} levels deep; a profile may nest at most ${MAX_NESTING}`, {
      fix: 'a profile nests a few levels (filesystem.read[0].path); check for runaway brackets or "- - -" sequences',
    });
  }
  try {
    if (isJson) return await parseJson(file, text);
    return await parseYaml(file, text);
  } catch (e: unknown) {
    if (isIsolateError(e)) throw e;
    // The parsers recurse: a profile nested thousands of levels deep ends in a stack overflow.
    const message = e instanceof Error ? e.message : String(e);
    const reason = /call stack/i.test(message) ? 'nested too deeply' : message;
    throw new IsolateError('E_PROFILE_PARSE', `${file}: malformed ${isJson ? 'JSON' : 'YAML'}: ${reason}`, { cause: e });
  }
}

async function parseJson(file: string, text: string): Promise<unknown> {
  let data: unknown;
  try {
    data = JSON.parse(text) as unknown;
  } catch (e: unknown) {
    throw new IsolateError('E_PROFILE_PARSE', `${file}: malformed JSON: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
  }
  const duplicate = duplicateJsonKey(text);
  if (duplicate !== undefined) {
    throw new IsolateError('E_PROFILE_PARSE', `${file}: malformed JSON at line ${duplicate.line}: duplicate key ${shown(duplicate.key)}`, {
      fix: 'keep one of the two entries: JSON would silently use the last',
    });
  }
  return data;
}

function parseError(file: string, format: 'JSON' | 'YAML', e: YAMLError): IsolateError {
  const pos = e.linePos?.[0];
  const where = pos === undefined ? '' : ` at line ${pos.line}, column ${pos.col}`;
  const reason =
    e.code === 'MULTIPLE_DOCS'
      ? 'a profile is one document (remove the "---" or "..." line)'
      : (e.message.split('\n')[0] ?? '').replace(/ at line \d+, column \d+:?$/, '');
  return new IsolateError('E_PROFILE_PARSE', `${file}: malformed ${format}${where}: ${reason}`, { cause: e });
}

/**
 * YAML as plain data. The core schema whatever a %YAML directive says, no
 * merge keys, no YAML 1.1 tags (!!binary, !!set, !!timestamp), and every
 * warning (an unknown tag, say) is an error: a profile means what it shows.
 */
const YAML_OPTIONS = {
  prettyErrors: true,
  uniqueKeys: true,
  strict: true,
  stringKeys: true,
  schema: 'core',
  merge: false,
  resolveKnownTags: false,
  logLevel: 'error',
} as const;

async function parseYaml(file: string, text: string): Promise<unknown> {
  const { LineCounter, parseDocument } = await import('yaml');
  const lines = new LineCounter();
  const doc = parseDocument(text, { ...YAML_OPTIONS, lineCounter: lines });
  const first = doc.errors[0] ?? doc.warnings[0];
  if (first !== undefined) throw parseError(file, 'YAML', first);
  await refuseIndirection(file, text, doc, lines);
  return doc.toJS({ maxAliasCount: 0 }) as unknown;
}

/** Where the tag of the node at `offset` begins: its first `!` (of `!!bool`, `!<...>`, `!local`). */
function tagStart(text: string, offset: number): number {
  let at = Math.max(0, text.lastIndexOf('!', offset));
  while (at > 0 && text[at - 1] === '!') at--;
  return at;
}

/**
 * No anchors (&a), no aliases (*a) and no tags (!!bool) in a profile. A
 * profile is security policy that people review: with an alias, what a key
 * holds is written somewhere else (`write: *readonly` makes the read list
 * writable), and aliases of aliases expand exponentially ("billion
 * laughs"); a tag makes a value other than it reads (`enabled: !!bool
 * "false"` is false, where "false" is refused as a string). Sharing
 * settings is what `extends` is for. Refusing them is simpler to explain
 * and to check than a bound on how far they may expand.
 */
async function refuseIndirection(file: string, text: string, doc: Document, lines: LineCounter): Promise<void> {
  const { isAlias, isNode, visit } = await import('yaml');
  let found: { what: string; offset: number } | undefined;
  visit(doc, (_key, node) => {
    if (isAlias(node)) found = { what: `alias *${node.source}`, offset: node.range?.[0] ?? 0 };
    // The node starts after its anchor: point at the &name itself.
    else if (isNode(node) && node.anchor !== undefined) {
      found = { what: `anchor &${node.anchor}`, offset: Math.max(0, text.lastIndexOf(`&${node.anchor}`, node.range?.[0] ?? 0)) };
    } else if (isNode(node) && node.tag !== undefined) found = { what: `tag ${node.tag}`, offset: tagStart(text, node.range?.[0] ?? 0) };
    return found === undefined ? undefined : visit.BREAK;
  });
  if (found === undefined) return;
  const pos = lines.linePos(found.offset);
  throw new IsolateError('E_PROFILE_PARSE', `${file}: YAML anchors, aliases and tags are not allowed in a profile (${found.what} at line ${pos.line}, column ${pos.col})`, {
    fix: 'write the values out where they apply, as plain YAML; to share settings between profiles, use extends',
  });
}
