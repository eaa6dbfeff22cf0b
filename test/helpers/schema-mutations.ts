/**
 * Documents for comparing two profile schemas: a profile that sets every key
 * the schema has, and every way of spoiling it once (each node replaced by a
 * value of every JSON and YAML type, odd strings and numbers; each mapping
 * given unknown keys, including names JavaScript objects treat specially;
 * each key removed; each list emptied or given one more element), then
 * seeded random combinations of two to four of those. Values are what a
 * JSON or YAML file can hold: no dates, no functions, no bigints.
 */
import { BAD_VALUES, LEAF_KINDS, UNKNOWN_KEYS, pick, rng, wrongTypes, type Kind, type Rand } from './fuzz-values.js';

type Step = string | number;

export interface Mutant {
  what: string;
  doc: unknown;
}

/** A profile that sets every key of the schema, with values it accepts. */
export function fullProfile(): Record<string, unknown> {
  return {
    $schema: './profile.schema.json',
    extends: 'default',
    description: 'every key',
    filesystem: {
      read: ['/usr', { path: '~/opt', optional: true }, { path: '${HOME}/x' }],
      write: ['${CWD}', { path: '/tmp/w', optional: false }],
      deny: ['~/.ssh'],
      tmpfs: ['/var/tmp'],
      protect: ['.git/hooks', '~/.bashrc'],
    },
    network: { mode: 'filtered', allow: ['example.com', '*.npmjs.org:*'], deny: ['10.0.0.1:22'], upstreamCa: '/etc/ca.pem' },
    environment: { pass: ['PATH', 'LC_*'], set: { FOO: 'bar', EMPTY: '' }, secrets: ['MY_*'] },
    process: { cwd: '${CWD}', hostname: 'box' },
    limits: {
      timeout: '30s',
      killAfter: 2,
      cpu: '10s',
      memory: '512M',
      processes: 64,
      openFiles: 256,
      fileSize: 1048576,
      tmpfs: 'unlimited',
      ceilings: { tmpfs: '1G', processes: 'unlimited', memory: '2G' },
      enforce: 'cgroup',
    },
    audit: { enabled: true, log: '${TMPDIR}/audit.jsonl', required: false },
    commands: { allow: ['git *'], deny: ['git push *'] },
    syscalls: { preset: 'none', deny: ['ptrace'], allow: ['personality'] },
    credentials: [
      { name: 'GH_TOKEN', from: { env: 'GH_TOKEN' }, hosts: ['api.github.com'], ttl: '15m' },
      { name: 'AWS', kind: 'aws', from: { file: '~/.aws/export.json' }, hosts: ['*.amazonaws.com'] },
      { name: 'NPM_TOKEN', kind: 'token', from: { command: ['pass', 'npm'] }, hosts: ['registry.npmjs.org'], ttl: 60 },
    ],
  };
}

const LONG = 'y'.repeat(100_000);

/** Values every node is replaced by: each JSON/YAML type, the edges of numbers, strings that paths, names and rules refuse. */
export const REPLACEMENTS: readonly unknown[] = [
  undefined, null, true, false, 0, -0, 1, -1, 1.5, 2 ** 31, 2 ** 53, 1e300, NaN, Infinity, -Infinity,
  '', ' ', 'x', '0', '1', '30s', '512M', 'unlimited', 'UNLIMITED', 'unlimited ', 'true', 'null', '~', '/', '..', '/a/../b', '/a/./b',
  '/tmp/nul\u0000', '\u0001\u001b[31m', '\u2028', '*', '*.x', 'a*', '?', '[ab]', '${CWD}', '${CWD}/..', '~/../x', 'PATH', 'ptrace', 'none',
  'token', 'aws', 'default', 'cgroup', LONG, `/${LONG}`,
  [], [null], [undefined], ['x'], ['/usr'], [''], [[]], [{}], [1],
  {}, { x: 1 }, { path: '/usr' }, { path: '/usr', optional: 'yes' }, { env: 'A' }, { file: '/f' }, { command: ['c'] }, { command: [] },
  { env: 'A', file: '/f' },
];

/** Each node of the document: its path and value. */
function nodes(doc: unknown, path: Step[] = [], out: { path: Step[]; value: unknown }[] = []): { path: Step[]; value: unknown }[] {
  out.push({ path, value: doc });
  if (Array.isArray(doc)) doc.forEach((v, i) => nodes(v, [...path, i], out));
  else if (typeof doc === 'object' && doc !== null) for (const [k, v] of Object.entries(doc)) nodes(v, [...path, k], out);
  return out;
}

/** A copy of `obj` with `key` set as an own, enumerable property (as JSON.parse and YAML set "__proto__"). */
function withOwn(obj: object, key: string, value: unknown): Record<string, unknown> {
  const copy = Array.isArray(obj) ? [...(obj as unknown[])] : { ...obj };
  Object.defineProperty(copy, key, { value, enumerable: true, writable: true, configurable: true });
  return copy as Record<string, unknown>;
}

/** `doc` with the node at `path` replaced by what `change` makes of it (undefined removes a mapping's key). */
function changeAt(doc: unknown, path: readonly Step[], change: (old: unknown) => unknown): unknown {
  if (path.length === 0) return change(doc);
  const [head, ...rest] = path as [Step, ...Step[]];
  const container = doc as Record<Step, unknown>;
  const next = changeAt(container[head], rest, change);
  if (Array.isArray(doc)) return doc.map((v, i) => (i === head ? next : v));
  if (next === undefined && rest.length === 0) {
    const copy = { ...(doc as object) } as Record<string, unknown>;
    delete copy[head as string];
    return copy;
  }
  return withOwn(doc as object, head as string, next);
}

const show = (path: readonly Step[]): string => (path.length === 0 ? '(top level)' : path.map((s) => (typeof s === 'number' ? `[${s}]` : `.${s}`)).join(''));
const brief = (v: unknown): string => (v === undefined ? 'undefined' : typeof v === 'number' ? String(v) : (JSON.stringify(v) ?? String(v)).slice(0, 60));

/** The kind of value each key of the full profile holds, for the values that matter to it; `[]` every element of a list, `*` every key of a mapping. */
const KINDS: Readonly<Record<string, Kind>> = {
  ...LEAF_KINDS,
  $schema: 'text',
  'network.upstreamCa': 'path',
  'limits.tmpfs': 'size',
  'limits.ceilings.tmpfs': 'size',
  'limits.ceilings.processes': 'count',
  'limits.ceilings.memory': 'size',
  'credentials[].name': 'envPattern',
  'credentials[].kind': 'enum',
  'credentials[].from.env': 'envPattern',
  'credentials[].from.file': 'path',
  'credentials[].from.command[]': 'command',
  'credentials[].hosts[]': 'domain',
  'credentials[].ttl': 'duration',
};

/** `filesystem.read[]`, `environment.set.*`: the pattern KINDS is keyed by. */
function pattern(path: readonly Step[]): string {
  return path.map((s, i) => (typeof s === 'number' ? '[]' : `${i === 0 ? '' : '.'}${path[i - 1] === 'set' ? '*' : s}`)).join('');
}

/** Values every node gets besides those of its kind: each JSON/YAML type and the numbers JSON cannot write. */
const EVERY_NODE: readonly unknown[] = [undefined, null, true, 0, -1, 1.5, NaN, Infinity, -Infinity, '', 'x', [], [null], ['x'], {}, { x: 1 }];

/** Every single spoiling of `base`: each node replaced by `values(path)`, each mapping given unknown keys and each of its keys removed, each list one more element. */
export function singleMutants(base: unknown, values: (path: readonly Step[]) => readonly unknown[] = allValues): Mutant[] {
  const out: Mutant[] = [];
  for (const { path, value } of nodes(base)) {
    for (const v of values(path)) out.push({ what: `${show(path)} = ${brief(v)}`, doc: changeAt(base, path, () => v) });
    if (Array.isArray(value)) {
      for (const v of values([...path, value.length])) out.push({ what: `${show(path)} += ${brief(v)}`, doc: changeAt(base, path, (old) => [...(old as unknown[]), v]) });
    } else if (typeof value === 'object' && value !== null) {
      for (const key of UNKNOWN_KEYS) out.push({ what: `${show(path)} + key ${brief(key)}`, doc: changeAt(base, path, (old) => withOwn(old as object, key, 1)) });
      for (const key of ['__proto__', 'constructor']) {
        out.push({ what: `${show(path)} + key ${key} = {}`, doc: changeAt(base, path, (old) => withOwn(old as object, key, { mode: 'host' })) });
      }
      for (const key of Object.keys(value)) out.push({ what: `${show(path)} - key ${key}`, doc: changeAt(base, [...path, key], () => undefined) });
    }
  }
  return out;
}

/** Every replacement value at every node (some 20,000 documents of the full profile). */
function allValues(): readonly unknown[] {
  return [...REPLACEMENTS, ...new Set(Object.values(BAD_VALUES).flat())];
}

/** The values that matter at a node: those its kind refuses, the wrong types for it, and one of each JSON/YAML type. */
export function valuesOfKind(path: readonly Step[]): readonly unknown[] {
  const kind = KINDS[pattern(path)];
  return kind === undefined ? EVERY_NODE : distinct([...EVERY_NODE, ...BAD_VALUES[kind], ...wrongTypes(kind)]);
}

/** The list without repeats (by JSON text; NaN, Infinity, -0 and undefined told apart). */
function distinct(values: readonly unknown[]): unknown[] {
  const key = (v: unknown): string => (typeof v === 'number' ? `n${Object.is(v, -0) ? '-0' : String(v)}` : `${typeof v}:${JSON.stringify(v)}`);
  return [...new Map(values.map((v) => [key(v), v])).values()];
}

/** `count` seeded combinations of two to four single spoilings, each applied to the result of the one before. */
export function combinedMutants(base: unknown, count: number, seed: number): Mutant[] {
  const r: Rand = rng(seed);
  const out: Mutant[] = [];
  for (let n = 0; n < count; n++) {
    let doc = base;
    const steps: string[] = [];
    const times = 2 + Math.floor(r() * 3);
    for (let i = 0; i < times; i++) {
      const m = pick(r, quickMutants(r, doc));
      doc = m.doc;
      steps.push(m.what);
    }
    out.push({ what: steps.join('; '), doc });
  }
  return out;
}

/** One random spoiling of `doc` (cheaper than listing every one). */
function quickMutants(r: Rand, doc: unknown): Mutant[] {
  const all = nodes(doc);
  const { path, value } = pick(r, all);
  const v = REPLACEMENTS[Math.floor(r() * REPLACEMENTS.length)]; // pick() takes undefined for an empty list
  const list: Mutant[] = [{ what: `${show(path)} = ${brief(v)}`, doc: changeAt(doc, path, () => v) }];
  if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
    const key = pick(r, UNKNOWN_KEYS);
    list.push({ what: `${show(path)} + key ${brief(key)}`, doc: changeAt(doc, path, (old) => withOwn(old as object, key, 1)) });
    const keys = Object.keys(value);
    if (keys.length > 0) {
      const k = pick(r, keys);
      list.push({ what: `${show(path)} - key ${k}`, doc: changeAt(doc, [...path, k], () => undefined) });
    }
  }
  return list;
}
