/** Reading and parsing one profile file (src/profile/parse.ts), through the loader. */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadMergedProfile, type LoadContext } from '../../src/profile/load.js';
import { MAX_PROFILE_BYTES } from '../../src/profile/parse.js';
import { MAX_NESTING, nestingDepth } from '../../src/profile/nesting.js';
import { duplicateJsonKey } from '../../src/profile/json-duplicates.js';
import { expectIsolateRejection } from './expect-error.js';

const REPO = fileURLToPath(new URL('../../', import.meta.url));

let dir: string;
beforeEach(() => {
  dir = realpathSync(mkdtempSync(join(tmpdir(), 'isolate-parse-')));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function write(name: string, text: string | Buffer): string {
  const file = join(dir, name);
  writeFileSync(file, text);
  return file;
}

const ctx = (): LoadContext => ({ callerCwd: dir, env: {} });

describe('reading a profile file', () => {
  it('extends: /dev/zero is refused at once as not a regular file, naming the extending file', async () => {
    const child = write('child.yaml', 'extends: /dev/zero\n');
    const err = await expectIsolateRejection(loadMergedProfile(child, ctx()), 'E_PROFILE_NOT_FOUND');
    expect(err.message).toBe(`cannot read profile /dev/zero (extends in ${child}): not a regular file`);
  });

  it('a named pipe is refused without blocking on it', async () => {
    const fifo = join(dir, 'pipe.yaml');
    execFileSync('mkfifo', [fifo]);
    const err = await expectIsolateRejection(loadMergedProfile(fifo, ctx()), 'E_PROFILE_NOT_FOUND');
    expect(err.message).toContain(`${fifo}: not a regular file`);
  });

  it('a directory is refused, naming the extending file', async () => {
    mkdirSync(join(dir, 'sub'));
    const child = write('child.yaml', 'extends: ./sub/\n');
    const err = await expectIsolateRejection(loadMergedProfile(child, ctx()), 'E_PROFILE_NOT_FOUND');
    expect(err.message).toContain(`(extends in ${child})`);
  });

  it(`a file larger than ${MAX_PROFILE_BYTES} bytes is refused; one of exactly that size is read`, async () => {
    const filler = (n: number): string => `description: ${'x'.repeat(n - 'description: \n'.length)}\n`;
    const big = write('big.yaml', filler(MAX_PROFILE_BYTES + 1));
    const err = await expectIsolateRejection(loadMergedProfile(big, ctx()), 'E_PROFILE_NOT_FOUND');
    expect(err.message).toContain(`${big}: larger than 1024 KiB`);
    const fits = write('fits.yaml', filler(MAX_PROFILE_BYTES));
    expect((await loadMergedProfile(fits, ctx())).description).toHaveLength(MAX_PROFILE_BYTES - 'description: \n'.length);
  });

  it('a leading byte-order mark is ignored in YAML and JSON (editors on Windows write one)', async () => {
    const y = write('bom.yaml', '\uFEFFdescription: yaml with bom\n');
    const j = write('bom.json', '\uFEFF{"description": "json with bom"}');
    expect((await loadMergedProfile(y, ctx())).description).toBe('yaml with bom');
    expect((await loadMergedProfile(j, ctx())).description).toBe('json with bom');
  });
});

describe('YAML is read as plain data', () => {
  it('an alias is refused with the file and line: a reviewer would read one list and get another', async () => {
    const file = write('alias.yaml', 'filesystem:\n  read: &ro [/usr]\n  write: *ro\n');
    const err = await expectIsolateRejection(loadMergedProfile(file, ctx()), 'E_PROFILE_PARSE');
    expect(err.message).toBe(`${file}: YAML anchors, aliases and tags are not allowed in a profile (anchor &ro at line 2, column 9)`);
    expect(err.fix).toContain('extends');
  });

  it('an alias bomb ("billion laughs") is refused before anything is expanded', async () => {
    const rows = 'bcdefghi'.split('').map((c, i) => `${c}: &${c} [${Array(9).fill(`*${'abcdefghi'[i]}`).join(',')}]`);
    const file = write('bomb.yaml', `a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n${rows.join('\n')}\n`);
    const err = await expectIsolateRejection(loadMergedProfile(file, ctx()), 'E_PROFILE_PARSE');
    expect(err.message).toContain(`${file}: YAML anchors, aliases and tags are not allowed in a profile (anchor &a at line 1`);
  });

  it('an alias to no anchor is refused the same way, not as an internal error', async () => {
    const file = write('dangling.yaml', 'description: x\nfilesystem:\n  write: *nowhere\n');
    const err = await expectIsolateRejection(loadMergedProfile(file, ctx()), 'E_PROFILE_PARSE');
    expect(err.message).toMatch(new RegExp(`^${file}: .*line 3`));
  });

  it('a merge key is an unknown key, also under a %YAML 1.1 directive', async () => {
    const file = write('merge.yaml', '%YAML 1.1\n---\nnetwork:\n  <<: { mode: host }\n');
    const err = await expectIsolateRejection(loadMergedProfile(file, ctx()), 'E_PROFILE_INVALID');
    expect(err.message).toBe(`${file}: network["<<"]: unknown key`);
  });

  it('a tag the schema does not know (!!binary, !!timestamp, !local) is refused with its line, not ignored', async () => {
    for (const [text, line] of [['description: !!binary aGk=\n', 1], ['x: 1\ndescription: !!timestamp 2001-12-14\n', 2], ['network: !host { mode: host }\n', 1]] as const) {
      const file = write('tag.yaml', text);
      const err = await expectIsolateRejection(loadMergedProfile(file, ctx()), 'E_PROFILE_PARSE');
      expect(err.message).toContain(`${file}: malformed YAML at line ${line}`);
    }
  });

  it('a core tag (!!bool, !!str, !!map, !<tag:...>) is refused too: it would make a value other than it reads', async () => {
    for (const [text, line, col] of [['audit: { enabled: !!bool "false" }\n', 1, 19], ['x: 1\ndescription: !!str 5\n', 2, 14], ['network: !!map { mode: none }\n', 1, 10], ['description: !<tag:yaml.org,2002:str> x\n', 1, 14]] as const) {
      const file = write('core-tag.yaml', text);
      const err = await expectIsolateRejection(loadMergedProfile(file, ctx()), 'E_PROFILE_PARSE');
      expect(err.message).toMatch(new RegExp(`: YAML anchors, aliases and tags are not allowed in a profile \\(tag tag:yaml\\.org,2002:\\w+ at line ${line}, column ${col}\\)$`));
    }
  });

  it('a profile nested deeper than the parser can follow is refused as malformed, not a stack overflow', async () => {
    // 1,400 levels of indentation (a megabyte holds no more): counted by no pre-check, caught from the parser.
    const file = write('block.yaml', `${Array.from({ length: 1400 }, (_, i) => `${' '.repeat(i)}k${i}:`).join('\n')} x\n`);
    const err = await expectIsolateRejection(loadMergedProfile(file, ctx()), 'E_PROFILE_PARSE');
    expect(err.message).toBe(`${file}: malformed YAML: nested too deeply`);
  });
});

describe('one meaning per file', () => {
  it('a duplicate key in JSON is refused with its line, not read as the last value (mode: none, then host)', async () => {
    const file = write('dup.json', '{\n  "network": {\n    "mode": "none",\n    "mode": "host"\n  }\n}\n');
    const err = await expectIsolateRejection(loadMergedProfile(file, ctx()), 'E_PROFILE_PARSE');
    expect(err.message).toBe(`${file}: malformed JSON at line 4: duplicate key "mode"`);
    const top = write('top.json', '{"extends": "default", "extends": "dev"}');
    await expectIsolateRejection(loadMergedProfile(top, ctx()), 'E_PROFILE_PARSE');
  });

  it('duplicateJsonKey: keys compare after unescaping; the same key in different objects is no duplicate', () => {
    expect(duplicateJsonKey('{"a": 1, "\\u0061": 2}')).toEqual({ key: 'a', line: 1 });
    expect(duplicateJsonKey('{"a": {"a": 1}, "b": [{"a": 1}, {"a": 2}], "c": "a,\\"a\\":"}')).toBeUndefined();
    expect(duplicateJsonKey('[{"x": 1},\n {"y": [1, "x"], "y": 2}]')).toEqual({ key: 'y', line: 2 });
    expect(duplicateJsonKey('{"k\\\\": 1, "k\\\\": 2}')).toEqual({ key: 'k\\', line: 1 });
  });

  it('a second YAML document (after --- or ...) is refused, not ignored', async () => {
    for (const text of ['extends: default\n---\nnetwork: { mode: host }\n', 'extends: default\n...\nnetwork: { mode: host }\n']) {
      const file = write('two.yaml', text);
      const err = await expectIsolateRejection(loadMergedProfile(file, ctx()), 'E_PROFILE_PARSE');
      expect(err.message).toMatch(new RegExp(`^${file}: malformed YAML at line [23], column 1: a profile is one document \\(remove the "---" or "\\.\\.\\." line\\)$`));
    }
  });
});

describe('nesting', () => {
  it('the built-in profiles and a typical user profile nest a few levels', () => {
    for (const name of ['strict', 'default', 'dev']) {
      expect(nestingDepth(readFileSync(join(REPO, 'profiles', `${name}.yaml`), 'utf8')), name).toBeLessThanOrEqual(4);
    }
    // A bracket inside a string counts while it is open: the count errs on the high side.
    expect(nestingDepth('filesystem:\n  read:\n    - { path: "[x] {y}", optional: true }\n')).toBe(3);
    expect(nestingDepth('{"filesystem": {"read": [{"path": "/x"}]}}')).toBe(4);
    expect(nestingDepth('description: a - b - c -- d\n')).toBe(1);
    expect(nestingDepth('commands: { deny: ["rm -rf *"] }\n')).toBe(2);
  });

  it('compact sequences and brackets are counted per line; closed brackets give their level back', () => {
    expect(nestingDepth('x: - - - a\n')).toBe(3);
    expect(nestingDepth('- [[a], [b]]\n- [c]\n')).toBe(3);
    expect(nestingDepth('[\n[\n[\n]]]\n[]\n')).toBe(3);
  });

  it(`deeper than ${MAX_NESTING} levels is refused at once, before the parser (YAML and JSON)`, async () => {
    for (const [name, text] of [
      ['compact.yaml', `description: ${'- '.repeat(200_000)}x\n`],
      ['flow.yaml', `filesystem:\n  read: ${'['.repeat(20_000)}${']'.repeat(20_000)}\n`],
      ['deep.json', `{"bogus": ${'{"a":'.repeat(50_000)}1${'}'.repeat(50_000)}}`],
      ['edge.yaml', `x: ${'['.repeat(MAX_NESTING + 1)}${']'.repeat(MAX_NESTING + 1)}\n`],
    ]) {
      const file = write(name as string, text as string);
      const started = Date.now();
      const err = await expectIsolateRejection(loadMergedProfile(file, ctx()), 'E_PROFILE_PARSE');
      expect(Date.now() - started, name).toBeLessThan(1000);
      expect(err.message).toMatch(new RegExp(`^${file}: nested \\d+ levels deep; a profile may nest at most ${MAX_NESTING}$`));
    }
  });

  it(`exactly ${MAX_NESTING} levels parse (and then fail the schema, not the parser)`, async () => {
    const file = write('fits.yaml', `bogus: ${'['.repeat(MAX_NESTING)}${']'.repeat(MAX_NESTING)}\n`);
    await expectIsolateRejection(loadMergedProfile(file, ctx()), 'E_PROFILE_INVALID');
  });
});
