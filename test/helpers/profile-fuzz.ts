/**
 * A seeded generator of bad profiles: the valid base profile with one key
 * given a wrong type or a bad value, unknown keys, deep nesting, broken YAML
 * and JSON text, and `extends` chains that loop or lead nowhere. Each case
 * is a set of files to write into a fresh directory; the first is the
 * profile to load. The same seed always gives the same cases.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { stringify } from 'yaml';
import { BAD_VALUES, LEAF_KINDS, UNKNOWN_KEYS, baseProfile, pick, rng, wrongTypes, type Kind, type Rand } from './fuzz-values.js';

export interface FuzzFile {
  name: string;
  data: string | Buffer;
  /** A named pipe instead of a file (data unused). */
  fifo?: boolean;
}

export interface FuzzCase {
  kind: string;
  /** What was done, for the failure report. */
  what: string;
  files: FuzzFile[];
  /** The file the error must name (default: the first). */
  blame?: string;
  /** The key path the error must name, when the case knows it. */
  keyPath?: string;
  /** Set for the few mutations after which the profile may still be valid. */
  mayLoad?: boolean;
}

type Json = unknown;
type Step = string | number;

function serialize(r: Rand, doc: Json): { name: string; data: string } {
  if (r() < 0.5) return { name: 'p.json', data: JSON.stringify(doc, null, r() < 0.5 ? 2 : undefined) };
  return { name: r() < 0.8 ? 'p.yaml' : 'p.yml', data: stringify(doc, { aliasDuplicateObjects: false, lineWidth: 0 }) };
}

/** `filesystem.read[]`, `environment.set.*`: the pattern LEAF_KINDS is keyed by. */
function pattern(path: readonly Step[]): string {
  let out = '';
  path.forEach((s, i) => {
    if (typeof s === 'number') out += '[]';
    else out += (i === 0 ? '' : '.') + (path[i - 1] === 'set' ? '*' : s);
  });
  return out;
}

interface Target {
  path: Step[];
  kind: Kind | 'list' | 'map';
  /** The value there is a mapping (unknown keys can be added). */
  isMap: boolean;
}

/** Every key path of the base profile, with its schema kind (lists and maps included). */
function keyPaths(doc: Json, prefix: Step[] = [], out: Target[] = []): Target[] {
  const kind = LEAF_KINDS[pattern(prefix)];
  if (Array.isArray(doc)) {
    out.push({ path: prefix, kind: kind ?? 'list', isMap: false });
    doc.forEach((v, i) => keyPaths(v, [...prefix, i], out));
  } else if (typeof doc === 'object' && doc !== null) {
    out.push({ path: prefix, kind: kind ?? 'map', isMap: prefix.at(-1) !== 'set' });
    for (const [k, v] of Object.entries(doc)) keyPaths(v, [...prefix, k], out);
  } else if (kind !== undefined) {
    out.push({ path: prefix, kind, isMap: false });
  }
  return out;
}

/**
 * The key path an error message names. A key that is not a plain name is
 * shown quoted, so only the path up to it is expected; a path entry's
 * `.path` is reported at the entry.
 */
export function formatPath(path: readonly Step[]): string {
  let out = '';
  for (const [i, s] of path.entries()) {
    if (typeof s === 'number') out += `[${s}]`;
    else if (!/^[A-Za-z0-9_$][A-Za-z0-9_$-]*$/.test(s)) break;
    else if (s === 'path' && i === path.length - 1 && typeof path[i - 1] === 'number') break;
    else out += out === '' ? s : `.${s}`;
  }
  return path.length === 0 ? '(top level)' : out;
}

function setAt(doc: Json, path: readonly Step[], value: unknown): Json {
  if (path.length === 0) return value;
  const [head, ...rest] = path as [Step, ...Step[]];
  const copy = (Array.isArray(doc) ? [...(doc as unknown[])] : { ...(doc as object) }) as Record<string | number, unknown>;
  copy[head] = setAt(copy[head], rest, value);
  return copy;
}

function getAt(doc: Json, path: readonly Step[]): unknown {
  return path.reduce<unknown>((v, s) => (v as Record<string | number, unknown>)[s], doc);
}

function wrongTypeAt(r: Rand, target: Target): FuzzCase {
  const value = pick(r, wrongTypes(target.kind));
  const file = serialize(r, setAt(baseProfile(), target.path, value));
  return { kind: 'wrong type', what: `${formatPath(target.path)} = ${JSON.stringify(value)}`, files: [file], keyPath: formatPath(target.path) };
}

const wrongType = (r: Rand): FuzzCase => wrongTypeAt(r, pick(r, keyPaths(baseProfile())));

function badValue(r: Rand): FuzzCase {
  const targets = keyPaths(baseProfile()).filter((t) => t.kind !== 'list' && t.kind !== 'map' && BAD_VALUES[t.kind].length > 0);
  const target = pick(r, targets);
  const value = pick(r, BAD_VALUES[target.kind as Kind]);
  const file = serialize(r, setAt(baseProfile(), target.path, value));
  const what = `${formatPath(target.path)} = ${JSON.stringify(value).slice(0, 80)}`;
  // extends: "" is named by the schema; paths that reach resolve() name their key path too.
  return { kind: `bad ${target.kind}`, what, files: [file], keyPath: formatPath(target.path) };
}

function unknownKey(r: Rand): FuzzCase {
  const maps = keyPaths(baseProfile()).filter((t) => t.isMap);
  const target = pick(r, maps);
  const key = pick(r, UNKNOWN_KEYS);
  const doc = baseProfile();
  const inner = { ...(getAt(doc, target.path) as object) } as Record<string, unknown>;
  Object.defineProperty(inner, key, { value: pick(r, ['x', 1, null, [], { deep: { er: 1 } }]), enumerable: true });
  const file = serialize(r, setAt(doc, target.path, inner));
  const what = `unknown key ${JSON.stringify(key).slice(0, 40)} in ${formatPath(target.path)}`;
  return { kind: 'unknown key', what, files: [file], keyPath: formatPath([...target.path, key]) };
}

function nested(depth: number, open: string, close: string): string {
  return open.repeat(depth) + close.repeat(depth);
}

function deep(r: Rand): FuzzCase {
  const depth = pick(r, [50, 500, 5000, 50_000]);
  const where = pick(r, ['filesystem.read', 'environment.set.A', 'bogus', 'limits.timeout']);
  const [top, ...rest] = where.split('.');
  const leaf = r() < 0.5 ? nested(depth, '[', ']') : `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;
  const json = `{${rest.length === 0 ? `"${top}": ${leaf}` : `"${top}": ${rest.reduceRight((acc, k) => `{"${k}": ${acc}}`, leaf)}`}}`;
  const yamlBlock = Array.from({ length: Math.min(depth, 3000) }, (_, i) => `${' '.repeat(i)}k${i}:`).join('\n');
  const variants: FuzzFile[] = [
    { name: 'p.json', data: json },
    { name: 'p.yaml', data: json },
    { name: 'p.yaml', data: `filesystem:\n  read: ${nested(depth, '[', ']')}\n` },
    { name: 'p.yaml', data: `${yamlBlock} x\n` },
    { name: 'p.yaml', data: `description: ${'- '.repeat(Math.min(depth, 5000))}x\n` },
  ];
  const file = pick(r, variants);
  return { kind: 'deep nesting', what: `depth ${depth} (${file.name}, ${String(file.data).slice(0, 30)}...)`, files: [file] };
}

const YAML_TEXTS: readonly { what: string; data: string | Buffer; mayLoad?: boolean }[] = [
  { what: 'unclosed flow sequence', data: 'filesystem:\n  read: [/usr\n' },
  { what: 'bad indentation', data: 'filesystem:\n  read:\n - /usr\n   - /etc\n' },
  { what: 'tab indentation', data: 'filesystem:\n\tread: [/usr]\n' },
  { what: 'tab after a key (valid YAML)', data: 'network:\n  mode:\tnone\n', mayLoad: true },
  { what: 'duplicate key', data: 'network:\n  mode: none\n  mode: host\n' },
  { what: 'duplicate top-level key', data: 'extends: default\nextends: dev\n' },
  { what: 'anchor and alias', data: 'filesystem:\n  read: &a [/usr]\n  write: *a\n' },
  { what: 'alias without anchor', data: 'extends: default\nfilesystem:\n  write: *nowhere\n' },
  { what: 'merge key', data: 'base: &b { mode: host }\nnetwork:\n  <<: *b\n' },
  { what: 'alias bomb', data: `a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n${'bcdefghi'.split('').map((c, i) => `${c}: &${c} [${Array(9).fill(`*${'abcdefghi'[i]}`).join(',')}]`).join('\n')}\n` },
  { what: 'anchor only', data: 'description: &d hello\n' },
  { what: 'two documents', data: 'extends: default\n---\nnetwork: { mode: host }\n' },
  { what: 'document end then text', data: 'extends: default\n...\nnetwork: host\n' },
  { what: 'YAML 1.1 directive with merge key', data: '%YAML 1.1\n---\nx: &x { mode: host }\nnetwork: { <<: *x }\n' },
  { what: 'YAML 1.1 timestamp', data: '%YAML 1.1\n---\ndescription: !!timestamp 2001-12-14\n' },
  { what: 'YAML 1.1 set', data: '%YAML 1.1\n---\nfilesystem: { read: !!set { /usr } }\n' },
  { what: 'binary tag', data: 'description: !!binary aGVsbG8=\nbogus: 1\n' },
  { what: 'unknown local tag', data: 'network: !host { mode: host }\nbogus: 1\n' },
  { what: 'js function tag', data: 'description: !!js/function "function(){}"\nbogus: 1\n' },
  { what: 'complex key', data: '? [a, b]\n: c\n' },
  { what: 'numeric keys', data: '1: 2\n' },
  { what: 'null document', data: '~\n' },
  { what: 'only a comment', data: '# nothing here\n' },
  { what: 'empty', data: '' },
  { what: 'a bare scalar', data: 'just text\n' },
  { what: 'a list at the top', data: '- extends: default\n' },
  { what: 'a huge integer', data: 'limits:\n  processes: 99999999999999999999999999999\n' },
  { what: 'YAML .inf', data: 'limits:\n  timeout: .inf\n' },
  { what: 'YAML -.inf', data: 'limits:\n  cpu: -.inf\n' },
  { what: 'YAML .nan', data: 'limits:\n  openFiles: .nan\n' },
  { what: 'YAML 1e309', data: 'limits:\n  killAfter: 1e309\n' },
  { what: 'hex and octal counts', data: 'limits:\n  processes: 0x7fffffffffffffff\n  openFiles: 0o777777777777\n' },
  { what: 'BOM then an unknown key', data: '\uFEFFbogus: 1\n' },
  { what: 'BOM then a valid profile', data: '\uFEFFextends: default\n', mayLoad: true },
  { what: 'two BOMs (YAML reads the second)', data: '\uFEFF\uFEFFextends: default\n', mayLoad: true },
  { what: 'NUL in the middle', data: 'extends: default\u0000\nbogus: 1\n' },
  { what: 'invalid UTF-8', data: Buffer.from([0x65, 0x78, 0x3a, 0x20, 0xff, 0xfe, 0xc3, 0x28, 0x0a]) },
  { what: 'UTF-16 text', data: Buffer.from('\uFEFFextends: default\n', 'utf16le') },
  { what: 'CR line ends with an unknown key', data: 'extends: default\rbogus: 1\r' },
  { what: 'quoted key with escapes', data: '"exten\\u0064s": default\n"bo\\u0000gus": 1\n' },
  { what: 'key with a NUL', data: '"net\\0work": {}\n' },
  { what: 'very long key', data: `${'k'.repeat(5000)}: 1\n` },
  { what: 'very long line', data: `description: ${'x'.repeat(200_000)}\nbogus: 1\n` },
  { what: 'many entries', data: `filesystem:\n  read:\n${Array.from({ length: 3000 }, (_, i) => `    - relative${i}`).join('\n')}\n` },
];

const JSON_TEXTS: readonly { what: string; data: string | Buffer; mayLoad?: boolean }[] = [
  { what: 'JSON trailing comma', data: '{"extends": "default",}' },
  { what: 'JSON comment', data: '{"extends": "default" // note\n}' },
  { what: 'JSON single quotes', data: "{'extends': 'default'}" },
  { what: 'JSON duplicate key', data: '{"network": {"mode": "none", "mode": "host"}}' },
  { what: 'JSON duplicate top-level key', data: '{"extends": "default", "extends": "dev"}' },
  { what: 'JSON unclosed', data: '{"filesystem": {"read": ["/usr"]' },
  { what: 'JSON NaN', data: '{"limits": {"timeout": NaN}}' },
  { what: 'JSON Infinity', data: '{"limits": {"timeout": Infinity}}' },
  { what: 'JSON 1e309', data: '{"limits": {"timeout": 1e309}}' },
  { what: 'JSON -1e309', data: '{"limits": {"memory": -1e309}}' },
  { what: 'JSON huge integer', data: '{"limits": {"openFiles": 123456789012345678901234567890}}' },
  { what: 'JSON __proto__ key', data: '{"__proto__": {"network": {"mode": "host"}}}' },
  { what: 'JSON __proto__ in set', data: '{"environment": {"set": {"__proto__": "x"}}}' },
  { what: 'JSON constructor key', data: '{"filesystem": {"constructor": {"prototype": {"x": 1}}}}' },
  { what: 'JSON null', data: 'null' },
  { what: 'JSON string', data: '"default"' },
  { what: 'JSON number', data: '42' },
  { what: 'JSON array', data: '[{"extends": "default"}]' },
  { what: 'JSON empty', data: '' },
  { what: 'JSON whitespace', data: ' \n\t ' },
  { what: 'JSON BOM then unknown key', data: '\uFEFF{"bogus": 1}' },
  { what: 'JSON BOM then a valid profile', data: '\uFEFF{"extends": "default"}', mayLoad: true },
  { what: 'JSON that is YAML', data: 'extends: default\n' },
  { what: 'JSON NUL escape in a path', data: '{"filesystem": {"read": ["/usr\\u0000/etc"]}}' },
  { what: 'JSON NUL escape in an env value', data: '{"environment": {"set": {"A": "x\\u0000--bind\\u0000/\\u0000/mnt"}}}' },
  { what: 'JSON lone surrogate', data: '{"description": "\\ud800", "bogus": 1}' },
];

function text(r: Rand): FuzzCase {
  const json = r() < 0.4;
  const t = pick(r, json ? JSON_TEXTS : YAML_TEXTS);
  const name = json ? 'p.json' : pick(r, ['p.yaml', 'p.yml']);
  return { kind: json ? 'JSON text' : 'YAML text', what: t.what, files: [{ name, data: t.data }], ...(t.mayLoad ? { mayLoad: true } : {}) };
}

function garbage(r: Rand): FuzzCase {
  const n = pick(r, [1, 7, 64, 1000, 20_000]);
  const bytes = Buffer.alloc(n);
  for (let i = 0; i < n; i++) bytes[i] = Math.floor(r() * 256);
  // A leading "x: " makes most YAML parsers accept the line; the garbage then lands in an unknown key.
  const data = r() < 0.5 ? bytes : Buffer.concat([Buffer.from('bogus: '), bytes]);
  return { kind: 'binary garbage', what: `${n} random bytes`, files: [{ name: pick(r, ['p.yaml', 'p.json']), data }] };
}

function truncated(r: Rand): FuzzCase {
  const file = serialize(r, baseProfile());
  const cut = 1 + Math.floor(r() * (file.data.length - 2));
  return { kind: 'truncated', what: `cut at ${cut} of ${file.data.length}`, files: [{ name: file.name, data: file.data.slice(0, cut) }], mayLoad: true };
}

function extendsCase(r: Rand): FuzzCase {
  const y = (ext: string, more = ''): string => `extends: ${JSON.stringify(ext)}\n${more}`;
  const variants: FuzzCase[] = [
    { kind: 'extends', what: 'extends itself', files: [{ name: 'p.yaml', data: y('./p.yaml') }] },
    { kind: 'extends', what: 'a -> b -> a', files: [{ name: 'p.yaml', data: y('b.yaml') }, { name: 'b.yaml', data: y('p.yaml') }] },
    { kind: 'extends', what: 'a -> b -> c -> b', files: [{ name: 'p.yaml', data: y('b.yaml') }, { name: 'b.yaml', data: y('c.json') }, { name: 'c.json', data: '{"extends": "b.yaml"}' }] },
    { kind: 'extends', what: 'a missing file', files: [{ name: 'p.yaml', data: y('./missing.yaml') }] },
    { kind: 'extends', what: 'a missing absolute file', files: [{ name: 'p.yaml', data: y('/nonexistent/isolate/p.yaml') }] },
    { kind: 'extends', what: 'an unknown name', files: [{ name: 'p.yaml', data: y('no-such-profile') }] },
    { kind: 'extends', what: 'a name with spaces', files: [{ name: 'p.yaml', data: y('no such') }] },
    { kind: 'extends', what: 'a directory', files: [{ name: 'p.yaml', data: y('./sub/') }, { name: 'sub/x.yaml', data: 'extends: default\n' }] },
    { kind: 'extends', what: '/dev/zero', files: [{ name: 'p.yaml', data: y('/dev/zero') }] },
    { kind: 'extends', what: '/dev/null', files: [{ name: 'p.yaml', data: y('/dev/null') }] },
    { kind: 'extends', what: 'a named pipe', files: [{ name: 'p.yaml', data: y('./pipe.yaml') }, { name: 'pipe.yaml', data: '', fifo: true }] },
    { kind: 'extends', what: 'a NUL in the name', files: [{ name: 'p.yaml', data: y('de\u0000fault') }] },
    { kind: 'extends', what: 'a NUL in a path', files: [{ name: 'p.yaml', data: y('./x\u0000.yaml') }] },
    { kind: 'extends', what: 'a very long name', files: [{ name: 'p.yaml', data: y('a'.repeat(5000)) }] },
    { kind: 'extends', what: 'a very long path', files: [{ name: 'p.yaml', data: y(`${'a/'.repeat(3000)}x.yaml`) }] },
    { kind: 'extends', what: 'a path component too long', files: [{ name: 'p.yaml', data: y(`./${'b'.repeat(300)}.yaml`) }] },
    { kind: 'extends', what: 'a ~ path', files: [{ name: 'p.yaml', data: y('~/nope.yaml') }] },
    { kind: 'extends', what: 'a ${HOME} path', files: [{ name: 'p.yaml', data: y('${HOME}/nope.yaml') }] },
    { kind: 'extends', what: 'a number', files: [{ name: 'p.yaml', data: 'extends: 42\n' }], keyPath: 'extends' },
    { kind: 'extends', what: 'a list', files: [{ name: 'p.yaml', data: 'extends: [default, dev]\n' }], keyPath: 'extends' },
    { kind: 'extends', what: 'to a bad file', files: [{ name: 'p.yaml', data: y('bad.yaml') }, { name: 'bad.yaml', data: 'bogus: 1\n' }], blame: 'bad.yaml', keyPath: 'bogus' },
    { kind: 'extends', what: 'to a broken JSON file', files: [{ name: 'p.yaml', data: y('bad.json') }, { name: 'bad.json', data: '{' }], blame: 'bad.json' },
    { kind: 'extends', what: 'to an alias bomb', files: [{ name: 'p.yaml', data: y('bad.yaml') }, { name: 'bad.yaml', data: 'a: &a [1]\nb: [*a, *a]\n' }], blame: 'bad.yaml' },
    { kind: 'extends', what: 'a 50-file chain ending in a bad key', files: chain(50), blame: 'c49.yaml', keyPath: 'bogus' },
  ];
  return pick(r, variants);
}

function chain(n: number): FuzzFile[] {
  const files: FuzzFile[] = [{ name: 'p.yaml', data: 'extends: c0.yaml\n' }];
  for (let i = 0; i < n - 1; i++) files.push({ name: `c${i}.yaml`, data: `extends: c${i + 1}.yaml\n` });
  files.push({ name: `c${n - 1}.yaml`, data: 'bogus: 1\n' });
  return files;
}

const FAMILIES: readonly [number, (r: Rand) => FuzzCase][] = [
  [30, wrongType],
  [30, badValue],
  [10, unknownKey],
  [4, deep],
  [14, text],
  [3, garbage],
  [3, truncated],
  [6, extendsCase],
];

/** The seed every run uses unless ISOLATE_FUZZ_SEED names another (to replay a failure or explore). */
export const FUZZ_SEED = Number(process.env['ISOLATE_FUZZ_SEED'] ?? 0x150_1a7e);

/** Write the case's files into `dir`, which exists. */
export function writeCase(c: FuzzCase, dir: string): void {
  for (const f of c.files) {
    const file = join(dir, f.name);
    mkdirSync(dirname(file), { recursive: true });
    if (f.fifo === true) execFileSync('mkfifo', [file]);
    else writeFileSync(file, f.data);
  }
}

/** A case as the failure report shows it: what was done, and each file's text. */
export function showCase(c: FuzzCase): string {
  const files = c.files.map((f) => `  --- ${f.name}${f.fifo === true ? ' (named pipe)' : ''}\n  ${JSON.stringify(f.data.toString()).slice(0, 1500)}`);
  return `${c.kind}: ${c.what}\n${files.join('\n')}`;
}

/** Whatever the seed: a wrong type at every key path, and an unknown key in every mapping. */
function everyKeyPath(r: Rand): FuzzCase[] {
  const targets = keyPaths(baseProfile());
  const wrong = targets.map((t) => wrongTypeAt(r, t));
  const unknown = targets.filter((t) => t.isMap).map((t): FuzzCase => {
    const file = serialize(r, setAt(baseProfile(), [...t.path, 'bogus'], 1));
    return { kind: 'unknown key', what: `bogus in ${formatPath(t.path)}`, files: [file], keyPath: formatPath([...t.path, 'bogus']) };
  });
  return [...wrong, ...unknown];
}

export function generateCases(seed: number, count: number): FuzzCase[] {
  const r = rng(seed);
  const total = FAMILIES.reduce((s, [w]) => s + w, 0);
  const out: FuzzCase[] = everyKeyPath(r);
  while (out.length < count) {
    let x = r() * total;
    const family = FAMILIES.find(([w]) => (x -= w) < 0)?.[1] ?? wrongType;
    out.push(family(r));
  }
  return out;
}
