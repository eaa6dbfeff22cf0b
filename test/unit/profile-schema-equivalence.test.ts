/**
 * The profile schema on zod's mini API (src/profile/profile-schema.ts) checks
 * exactly what its classic-API version did (test/fixtures/old-profile-schema.ts):
 * a profile can come from a repository, and a schema that let one more key,
 * type or value through would widen a policy without a word. Both are fed the
 * same documents: the built-in profiles, a profile that sets every key, and
 * that profile spoiled once and in combinations (test/helpers/schema-mutations.ts).
 * Each document must be accepted by both with the same result, or refused by
 * both with the same key paths and messages; the real loader, run with each
 * schema, must say the same of the same files; and the JSON Schema editors
 * read must be the same.
 *
 * The suite runs the values that matter to each key and a seeded sample of
 * the rest; ISOLATE_SCHEMA_CASES=all runs every single spoiling (some 20,000
 * documents), 20,000 combinations, and the loader on each file of the values
 * that matter (about 25 s); ISOLATE_SCHEMA_SEED=<n> draws other samples and
 * combinations.
 */
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { parse, stringify } from 'yaml';
import { profileJsonSchema, validateProfileDoc } from '../../src/profile/schema.js';
import { readProfileFile } from '../../src/profile/load.js';
import * as classic from '../fixtures/old-profile-schema.js';
import { baseProfile, pick, rng } from '../helpers/fuzz-values.js';
import { combinedMutants, fullProfile, singleMutants, valuesOfKind, type Mutant } from '../helpers/schema-mutations.js';

/** The loader's schema (src/profile/schema.ts) with a switch: while `classic` is set, profiles are validated by the classic one. */
const loader = vi.hoisted(() => ({ classic: false, classicCalls: 0 }));
vi.mock('../../src/profile/schema.js', async () => {
  const mini = await vi.importActual<typeof import('../../src/profile/schema.js')>('../../src/profile/schema.js');
  const old = await import('../fixtures/old-profile-schema.js');
  const validateProfileDoc: typeof mini.validateProfileDoc = (doc) => {
    if (!loader.classic) return mini.validateProfileDoc(doc);
    loader.classicCalls++;
    return old.validateProfileDoc(doc);
  };
  return { ...mini, validateProfileDoc };
});

const REPO = new URL('../../', import.meta.url);
const SEED = Number(process.env['ISOLATE_SCHEMA_SEED'] ?? 0x5c4e3a);
const ALL = process.env['ISOLATE_SCHEMA_CASES'] === 'all';
/** Every single spoiling, and thousands of files through the loader, take more than a test's usual time. */
const TIMEOUT = ALL ? 900_000 : 30_000;

/**
 * The documents on which the two schemas differ, each with both verdicts. A
 * schema that changed the document it was given (and so what the other saw)
 * is a difference too.
 */
function differences(docs: readonly Mutant[]): string[] {
  const out: string[] = [];
  for (const m of docs) {
    const before = structuredClone(m.doc);
    const classicSays = classic.validateProfileDoc(m.doc);
    const miniSays = validateProfileDoc(m.doc);
    if (!isDeepStrictEqual(classicSays, miniSays)) out.push(`${m.what}\n  classic: ${JSON.stringify(classicSays).slice(0, 600)}\n  mini:    ${JSON.stringify(miniSays).slice(0, 600)}`);
    else if (!isDeepStrictEqual(before, m.doc)) out.push(`${m.what}: validating changed the document`);
  }
  return out;
}

function builtins(): Mutant[] {
  const dir = new URL('profiles/', REPO);
  return readdirSync(dir)
    .filter((f) => f.endsWith('.yaml'))
    .map((f) => ({ what: `profiles/${f}`, doc: parse(readFileSync(new URL(f, dir), 'utf8')) as unknown }));
}

/** A seeded sample of `n` of the list (all of it when ISOLATE_SCHEMA_CASES=all). */
function sample<T>(list: readonly T[], n: number, seed: number): T[] {
  if (ALL || list.length <= n) return [...list];
  const r = rng(seed);
  return Array.from({ length: n }, () => pick(r, list));
}

describe('the mini-API profile schema against the classic one', () => {
  it('publishes the same JSON Schema', () => {
    expect(profileJsonSchema()).toStrictEqual(classic.profileJsonSchema());
  });

  it('accepts the built-in profiles and the full profile alike', () => {
    const docs = [...builtins(), { what: 'fuzz base', doc: baseProfile() }, { what: 'every key', doc: fullProfile() }];
    for (const m of docs) expect(validateProfileDoc(m.doc), m.what).toMatchObject({ ok: true });
    expect(differences(docs)).toEqual([]);
  });

  it('refuses and accepts alike each key given the values its kind refuses, wrong types, unknown keys, or taken away', () => {
    expect(differences(singleMutants(fullProfile(), valuesOfKind))).toEqual([]);
  });

  it('refuses and accepts alike each key given any of the other values', () => {
    expect(differences(sample(singleMutants(fullProfile()), 300, SEED))).toEqual([]);
  }, TIMEOUT);

  it('refuses and accepts combined spoilings alike', () => {
    expect(differences(combinedMutants(fullProfile(), ALL ? 20_000 : 200, SEED))).toEqual([]);
  }, TIMEOUT);
});

/** Profile files whose every byte a repository could choose, as the loader reads them. */
const TEXTS: readonly { name: string; text: string }[] = [
  { name: 'dup.yaml', text: 'network:\n  mode: none\n  mode: host\n' },
  { name: 'dup.json', text: '{"network": {"mode": "none", "mode": "host"}}' },
  { name: 'proto.json', text: '{"__proto__": {"network": {"mode": "host"}}}' },
  { name: 'proto.yaml', text: '__proto__:\n  network: { mode: host }\n' },
  { name: 'proto-set.yaml', text: 'environment:\n  set:\n    __proto__: x\n    constructor: y\n' },
  { name: 'constructor.json', text: '{"filesystem": {"constructor": {"prototype": {"x": 1}}}}' },
  { name: 'nan.yaml', text: 'limits:\n  openFiles: .nan\n  timeout: .inf\n  cpu: -.inf\n' },
  { name: 'huge.json', text: '{"limits": {"processes": 1e309, "memory": -1e309}}' },
  { name: 'tilde.yaml', text: 'filesystem:\n  read: [~, ~/x]\n  deny:\n    - ~\n' },
  { name: 'nul.json', text: '{"filesystem": {"read": ["/usr\\u0000/etc"]}, "environment": {"set": {"A": "x\\u0000y"}}}' },
  { name: 'control.yaml', text: 'process:\n  hostname: "a\\x1b[31m"\nfilesystem:\n  protect: ["\\u0007x"]\n' },
  { name: 'empty-lists.yaml', text: 'filesystem: { read: [], write: [], deny: [] }\ncredentials: []\nnetwork: { allow: [] }\n' },
  { name: 'nulls.yaml', text: 'filesystem:\nnetwork:\n  mode:\nlimits: { timeout: ~ }\n' },
  { name: 'wildcards.yaml', text: 'filesystem:\n  protect: ["*.sh", ".git/*"]\nsyscalls:\n  deny: ["open*"]\nenvironment:\n  pass: ["A-*"]\n' },
  { name: 'dotdot.yaml', text: 'filesystem:\n  write: ["${CWD}/..", "/a/../b", "~/..", ".."]\n  protect: ["a/../b"]\n' },
  { name: 'unknown-deep.yaml', text: 'credentials:\n  - name: T\n    from: { env: T, extra: 1 }\n    hosts: [x.com]\nlimits:\n  ceilings: { cpu: 1 }\n' },
  { name: 'credential-twice.yaml', text: 'credentials:\n  - { name: AWS, kind: aws, from: { env: A }, hosts: [a.com] }\n  - { name: AWS_ACCESS_KEY_ID, from: { env: B }, hosts: [b.com] }\n' },
  { name: 'empty-path.yaml', text: 'filesystem:\n  read: [""]\n  write: [{ path: "" }]\n' },
  { name: 'quoted-numbers.yaml', text: 'limits:\n  processes: "5"\n  openFiles: "0x10"\n  memory: 1e3\n  ceilings: { processes: "unlimited " }\n' },
  { name: 'bools.yaml', text: 'audit:\n  enabled: "true"\n  required: yes\nfilesystem:\n  read: [{ path: /usr, optional: 1 }]\n' },
  { name: 'long.yaml', text: `description: ${'d'.repeat(200_000)}\nextends: "${'e'.repeat(70_000)}"\n` },
];

describe('the real loader with each schema', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'isolate-schemas-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  /** What the loader says of a file with the schema named: its document, or its error's code, summary and detail. */
  async function said(schema: 'classic' | 'mini', file: string): Promise<unknown> {
    loader.classic = schema === 'classic';
    try {
      return { doc: (await readProfileFile(file)).doc };
    } catch (e: unknown) {
      const err = e as { code?: unknown; message?: unknown; detail?: unknown };
      return { code: err.code, message: err.message, detail: err.detail };
    } finally {
      loader.classic = false;
    }
  }

  it('validates with the classic schema when asked', async () => {
    const file = join(dir, 'probe.yaml');
    writeFileSync(file, 'bogus: 1\n');
    const calls = loader.classicCalls;
    expect(await said('classic', file)).toEqual(await said('mini', file));
    expect(loader.classicCalls).toBe(calls + 1);
  });

  it('names the same file, key paths and messages for the same files', async () => {
    const r = rng(SEED);
    const mutants = sample(singleMutants(fullProfile(), valuesOfKind), 50, SEED);
    const files = [
      ...TEXTS,
      ...mutants.map((m, i) => {
        const asJson = r() < 0.5;
        // A document that is undefined is written as JSON's null or as an empty YAML file.
        return asJson ? { name: `m${i}.json`, text: JSON.stringify(m.doc) ?? 'null' } : { name: `m${i}.yaml`, text: stringify(m.doc, { lineWidth: 0 }) ?? '' };
      }),
    ];
    const diffs: string[] = [];
    for (const { name, text } of files) {
      const file = join(dir, name);
      writeFileSync(file, text);
      const before = await said('classic', file);
      const after = await said('mini', file);
      if (!isDeepStrictEqual(before, after)) diffs.push(`${name}: ${text.slice(0, 200)}\n  classic: ${JSON.stringify(before).slice(0, 600)}\n  mini:    ${JSON.stringify(after).slice(0, 600)}`);
    }
    expect(diffs).toEqual([]);
  }, TIMEOUT);
});
