import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { BUILTIN_NAMES } from '../../src/profile/builtin.js';
import { SCHEMA_FILE, schemaText } from '../../src/profile/generate.js';
import { formatKeyPath, validateProfileDoc, type SchemaIssue } from '../../src/profile/schema.js';

const REPO = fileURLToPath(new URL('../../', import.meta.url));

function readBuiltin(name: string): unknown {
  return parse(readFileSync(`${REPO}profiles/${name}.yaml`, 'utf8')) as unknown;
}

/** Validate and return the issues; fails the test when the document is accepted. */
function issuesOf(doc: unknown): SchemaIssue[] {
  const result = validateProfileDoc(doc);
  if (result.ok) throw new Error(`expected ${JSON.stringify(doc)} to be rejected, but it was accepted`);
  return result.issues;
}

function issueAt(doc: unknown, path: string): SchemaIssue {
  const issues = issuesOf(doc);
  const found = issues.find((i) => i.path === path);
  if (found === undefined) throw new Error(`no issue at ${path}; issues: ${JSON.stringify(issues)}`);
  return found;
}

describe('validateProfileDoc: built-in profiles', () => {
  it('knows exactly the three built-in names', () => {
    expect([...BUILTIN_NAMES].sort()).toEqual(['default', 'dev', 'strict']);
  });

  it.each(BUILTIN_NAMES)('accepts profiles/%s.yaml', (name) => {
    const data = readBuiltin(name);
    const result = validateProfileDoc(data);
    expect(result.ok ? [] : result.issues).toEqual([]);
    expect(result.ok && result.value).toEqual(data);
  });

  it('default extends strict and makes ${CWD} writable', () => {
    const result = validateProfileDoc(readBuiltin('default'));
    if (!result.ok) throw new Error('default.yaml rejected');
    expect(result.value.extends).toBe('strict');
    expect(result.value.filesystem?.write).toEqual(['${CWD}']);
  });

  it('dev keeps "~" as a string (not YAML null) in filesystem.read', () => {
    const result = validateProfileDoc(readBuiltin('dev'));
    if (!result.ok) throw new Error('dev.yaml rejected');
    expect(result.value.filesystem?.read?.[0]).toBe('~');
    expect(result.value.network?.mode).toBe('host');
  });

  it('accepts a minimal empty object and every documented key', () => {
    expect(validateProfileDoc({}).ok).toBe(true);
    const full = {
      $schema: './profile.schema.json',
      extends: 'strict',
      description: 'x',
      filesystem: {
        read: ['/usr', { path: '/opt', optional: true }, '~', '~/x', '${CWD}/y'],
        write: ['${TMPDIR}/w'],
        deny: ['~/.ssh'],
        tmpfs: ['/tmp'],
        protect: ['.git/hooks', '.bashrc'],
      },
      network: { mode: 'none' },
      environment: { pass: ['PATH', 'LC_*'], set: { FOO: 'bar', _x1: '' }, secrets: ['*_PEM'] },
      process: { cwd: '${CWD}', hostname: 'box-1.local' },
    };
    const result = validateProfileDoc(full);
    expect(result.ok ? [] : result.issues).toEqual([]);
  });
});

describe('validateProfileDoc: rejections', () => {
  it('reports an unknown top-level key by name', () => {
    expect(issuesOf({ filesytem: {} })).toEqual([{ path: 'filesytem', message: 'unknown key' }]);
  });

  it('reports an unknown nested key with its full key path', () => {
    expect(issuesOf({ filesystem: { wrte: ['/x'] } })).toEqual([{ path: 'filesystem.wrte', message: 'unknown key' }]);
    expect(issuesOf({ network: { mdoe: 'none' } })).toEqual([{ path: 'network.mdoe', message: 'unknown key' }]);
    expect(issuesOf({ environment: { passs: [] } })).toEqual([{ path: 'environment.passs', message: 'unknown key' }]);
    expect(issuesOf({ process: { dir: '/x' } })).toEqual([{ path: 'process.dir', message: 'unknown key' }]);
  });

  it('reports every unknown key, not just the first', () => {
    const paths = issuesOf({ a: 1, filesystem: { b: 1, c: 2 } }).map((i) => i.path).sort();
    expect(paths).toEqual(['a', 'filesystem.b', 'filesystem.c']);
  });

  it('rejects network.mode: 3 and an unknown mode', () => {
    const issue = issueAt({ network: { mode: 3 } }, 'network.mode');
    expect(issue.message).toMatch(/none/);
    expect(issue.message).toMatch(/host/);
    issueAt({ network: { mode: 'bridge' } }, 'network.mode');
  });

  it('rejects filesystem.write: "x" (a string, not a list)', () => {
    expect(issueAt({ filesystem: { write: 'x' } }, 'filesystem.write').message).toMatch(/array/);
  });

  it('rejects other wrong types', () => {
    issueAt({ description: 5 }, 'description');
    issueAt({ extends: '' }, 'extends');
    issueAt({ environment: { set: { FOO: 1 } } }, 'environment.set.FOO');
    expect(issueAt({ filesystem: { read: [{ path: '/x', optional: 'yes' }] } }, 'filesystem.read[0].optional').message).toMatch(/boolean/);
    expect(issueAt({ filesystem: { read: [{ path: '/x', opt: true }] } }, 'filesystem.read[0].opt').message).toBe('unknown key');
    expect(issueAt({ filesystem: { write: [null] } }, 'filesystem.write[0]').message).toContain('bare ~');
    issueAt({ process: { hostname: '-bad' } }, 'process.hostname');
    issueAt({ filesystem: [] }, 'filesystem');
  });

  it.each([
    ['filesystem.read[0]', { filesystem: { read: ['relative/dir'] } }],
    ['filesystem.write[1]', { filesystem: { write: ['/ok', 'project'] } }],
    ['filesystem.deny[0]', { filesystem: { deny: ['.ssh'] } }],
    ['filesystem.tmpfs[0]', { filesystem: { tmpfs: ['tmp'] } }],
    ['process.cwd', { process: { cwd: './here' } }],
  ])('rejects a relative path at %s', (path, doc) => {
    expect(issueAt(doc, path).message).toMatch(/absolute path/);
  });

  it('rejects ~user (not ~ or ~/...)', () => {
    issueAt({ filesystem: { deny: ['~root/.ssh'] } }, 'filesystem.deny[0]');
  });

  it('rejects an empty path', () => {
    issueAt({ filesystem: { deny: [''] } }, 'filesystem.deny[0]');
  });

  it.each([
    ['filesystem.read[0]', { filesystem: { read: ['/usr/../etc'] } }],
    ['filesystem.read[0].path', { filesystem: { read: [{ path: '${CWD}/..' }] } }],
    ['filesystem.write[0]', { filesystem: { write: ['~/../other'] } }],
    ['filesystem.deny[0]', { filesystem: { deny: ['/a/..'] } }],
    ['filesystem.tmpfs[0]', { filesystem: { tmpfs: ['/tmp/../etc'] } }],
  ])('rejects ".." segments at %s', (path, doc) => {
    expect(issueAt(doc, path).message).toMatch(/"\.\."/);
  });

  it('rejects two paths that YAML folded into one (a list item continued without its "-"), and keeps a path with a space', () => {
    const folded = parse('filesystem:\n  deny:\n    - ~/.ssh\n      ~/.aws\n    - ${CWD}/a\n      ${CWD}/b\n') as unknown;
    expect((folded as { filesystem: { deny: string[] } }).filesystem.deny[0], 'control: YAML folds them').toBe('~/.ssh ~/.aws');
    expect(issueAt(folded, 'filesystem.deny[0]').message).toMatch(/another path/);
    expect(issueAt(folded, 'filesystem.deny[1]').message).toMatch(/another path/);
    expect(issueAt({ filesystem: { read: ['/a /b'] } }, 'filesystem.read[0]').message).toMatch(/another path/);
    expect(validateProfileDoc({ filesystem: { read: ['/home/me/My Documents/notes', '~/a b/c'] } }).ok).toBe(true);
  });

  it('allows names that merely contain dots (not ".." segments)', () => {
    expect(validateProfileDoc({ filesystem: { read: ['/a/..b', '/a/b..', '/a/.../c'] } }).ok).toBe(true);
  });

  it.each([
    ['/etc/passwd', /relative name/],
    ['.git/', /relative name/],
    ['../outside', /plain path segments/],
    ['a/../b', /plain path segments/],
    ['./x', /plain path segments/],
    ['a//b', /plain path segments/],
    ['*.pem', /wildcards/],
    ['.git/hook?', /wildcards/],
    ['[ab]', /wildcards/],
  ])('rejects the protected name %j', (name, message) => {
    const issues = issuesOf({ filesystem: { protect: [name] } });
    expect(issues.every((i) => i.path === 'filesystem.protect[0]')).toBe(true);
    expect(issues.map((i) => i.message).join('; ')).toMatch(message);
  });

  it('rejects environment names with spaces or other bad characters', () => {
    issueAt({ environment: { pass: ['MY VAR'] } }, 'environment.pass[0]');
    issueAt({ environment: { pass: ['PATH', 'LC-ALL'] } }, 'environment.pass[1]');
    issueAt({ environment: { secrets: ['MY SECRET*'] } }, 'environment.secrets[0]');
    const setIssues = issuesOf({ environment: { set: { 'MY VAR': 'x' } } });
    expect(setIssues.length).toBeGreaterThan(0);
    expect(setIssues.every((i) => i.path.startsWith('environment.set'))).toBe(true);
    issuesOf({ environment: { set: { '1ABC': 'x' } } });
    issuesOf({ environment: { set: { 'A=B': 'x' } } });
  });

  it('explains that a bare ~ is YAML null (deny, tmpfs, process.cwd)', () => {
    const denied = issueAt(parse('filesystem:\n  deny:\n    - ~\n'), 'filesystem.deny[0]');
    expect(denied.message).toContain('a bare ~ is YAML for null');
    expect(issueAt(parse('filesystem:\n  tmpfs: [~]\n'), 'filesystem.tmpfs[0]').message).toContain('write "~"');
    expect(issueAt(parse('process:\n  cwd: ~\n'), 'process.cwd').message).toContain('a bare ~ is YAML for null');
  });

  it('explains that a bare ~ is YAML null in filesystem.read and filesystem.write too', () => {
    // `read: [~]` is the most natural place to write a bare ~ (dev.yaml reads "~").
    const read = issueAt(parse('filesystem:\n  read:\n    - ~\n'), 'filesystem.read[0]');
    expect(read.message).toContain('a bare ~ is YAML for null');
    const write = issueAt(parse('filesystem:\n  write: [~]\n'), 'filesystem.write[0]');
    expect(write.message).toContain('a bare ~ is YAML for null');
  });

  it('does not add the ~ hint to unrelated type errors', () => {
    expect(issueAt({ filesystem: { deny: [5] } }, 'filesystem.deny[0]').message).not.toContain('YAML for null');
  });
});

describe('validateProfileDoc: a value of the wrong type for a limit', () => {
  it('names what the limit takes and the value given, not a path entry\'s shape', () => {
    expect(issueAt({ limits: { timeout: true } }, 'limits.timeout').message).toBe('expected string or number, received true');
    expect(issueAt({ limits: { memory: Infinity } }, 'limits.memory').message).toBe('expected "unlimited" or string or number, received Infinity');
    expect(issueAt({ limits: { memory: [1] } }, 'limits.memory').message).toBe('expected "unlimited" or string or number, received [1]');
  });

  it('a path entry still says what a path entry is, and what is wrong inside one', () => {
    expect(issueAt({ filesystem: { write: [true] } }, 'filesystem.write[0]').message).toBe('expected a path string or { path, optional }');
    expect(issueAt({ filesystem: { write: [{ path: '/x', bad: 1 }] } }, 'filesystem.write[0].bad').message).toBe('unknown key');
    expect(issueAt({ filesystem: { write: [{ path: 1 }] } }, 'filesystem.write[0].path').message).toMatch(/expected string, received number/);
  });
});

describe('validateProfileDoc: environment.set', () => {
  it('a "__proto__" key is refused, not silently dropped', () => {
    expect(issueAt(JSON.parse('{"environment": {"set": {"__proto__": "x", "A": "b"}}}'), 'environment.set.__proto__').message).toBe('this name cannot be set');
    expect(validateProfileDoc({ environment: { set: { A: 'b' } } })).toEqual({ ok: true, value: { environment: { set: { A: 'b' } } } });
  });

  it('a value with a NUL byte is refused at its key (it would add bwrap arguments)', () => {
    expect(issueAt({ environment: { set: { FOO: 'x\u0000--bind\u0000/\u0000/mnt' } } }, 'environment.set.FOO').message).toBe('a value may not contain a NUL byte');
  });
});

describe('validateProfileDoc: values shown as written', () => {
  it.each([
    ['a zero-width space', { filesystem: { deny: ['${CWD}/.env\u200b'] } }, 'filesystem.deny[0]', 'U+200B at character 12'],
    ['a right-to-left override', { filesystem: { read: ['/srv/\u202Egnp.exe'] } }, 'filesystem.read[0]', 'U+202E at character 6'],
    ['the newline a block scalar keeps', { filesystem: { deny: ['~/.ssh\n'] } }, 'filesystem.deny[0]', 'U+000A at character 7'],
    ['a no-break space', { filesystem: { write: [{ path: '${CWD}/my\u00a0cache' }] } }, 'filesystem.write[0].path', 'U+00A0 at character 10'],
    ['a space at the end', { filesystem: { tmpfs: ['~/.cache '] } }, 'filesystem.tmpfs[0]', 'starts or ends with a space'],
    ['a soft hyphen', { process: { cwd: '${HOME}/pro\u00adject' } }, 'process.cwd', 'U+00AD at character 12'],
    ['a zero-width joiner in a protected name', { filesystem: { protect: ['Make\u200dfile'] } }, 'filesystem.protect[0]', 'U+200D at character 5'],
    ['a space before a protected name', { filesystem: { protect: [' Makefile'] } }, 'filesystem.protect[0]', 'starts or ends with a space'],
    ['a word joiner in a command rule', { commands: { deny: ['git\u2060 push *'] } }, 'commands.deny[0]', 'U+2060 at character 4'],
    ['a zero-width space in extends', { extends: './base\u200b.yaml' }, 'extends', 'U+200B at character 7'],
    ['a byte-order mark inside a credential file', { credentials: [{ name: 'T', from: { file: '~/t\ufeff' }, hosts: ['x.org'] }] }, 'credentials[0].from.file', 'U+FEFF'],
  ])('refuses %s, naming the character and where it is', (_what, doc, path, message) => {
    expect(issueAt(doc, path).message).toContain(message);
  });

  it('accepts letters of any script, spaces inside a path, and spaces around a command rule (its words are what count)', () => {
    const doc = {
      filesystem: { read: ['/srv/données/日本語', '${HOME}/My Documents'], protect: ['notes é.md'] },
      commands: { allow: [' git status ', 'npm  test'] },
    };
    const result = validateProfileDoc(doc);
    expect(result.ok ? [] : result.issues).toEqual([]);
  });
});

describe('validateProfileDoc: long values', () => {
  it('a 300,000-character system call name is refused at once (no edit distance against every name), its message cut', () => {
    const started = Date.now();
    const issue = issueAt({ syscalls: { deny: ['p'.repeat(300_000)] } }, 'syscalls.deny[0]');
    expect(Date.now() - started).toBeLessThan(2000);
    expect(issue.message).toMatch(/^"p{100}…" \(300000 characters\) is not a system call name/);
  });

  it('a near miss still gets its suggestion', () => {
    expect(issueAt({ syscalls: { deny: ['ptrac'] } }, 'syscalls.deny[0]').message).toContain('did you mean ptrace?');
  });
});

describe('formatKeyPath', () => {
  it('renders keys and indexes the way a user reads them', () => {
    expect(formatKeyPath(['filesystem', 'write', 2])).toBe('filesystem.write[2]');
    expect(formatKeyPath(['environment', 'set', 'FOO'])).toBe('environment.set.FOO');
    expect(formatKeyPath([])).toBe('(top level)');
    expect(formatKeyPath(['filesystem', 'rea d'])).toBe('filesystem["rea d"]');
    expect(formatKeyPath(['', 'x\nisolate: ok'])).toBe('[""]["x\\u000aisolate: ok"]');
    expect(formatKeyPath(['network', '<<'])).toBe('network["<<"]');
  });
});

describe('JSON Schema', () => {
  it(`${SCHEMA_FILE} is in sync with the zod schema`, () => {
    const committed = readFileSync(`${REPO}${SCHEMA_FILE}`, 'utf8');
    const generated = schemaText();
    expect(generated, `${SCHEMA_FILE} is out of date with src/profile/schema.ts: run \`npm run schema\` and commit the result`).toBe(
      committed,
    );
  });

  it('the schema rejects unknown keys and describes the path entries', () => {
    const schema = JSON.parse(schemaText()) as {
      additionalProperties?: unknown;
      properties: Record<string, { additionalProperties?: unknown } | undefined>;
    };
    expect(schema.additionalProperties).toBe(false);
    expect(schema.properties['filesystem']?.additionalProperties).toBe(false);
    expect(Object.keys(schema.properties).sort()).toEqual(
      ['$schema', 'audit', 'commands', 'credentials', 'description', 'environment', 'extends', 'filesystem', 'limits', 'network', 'process', 'syscalls'].sort(),
    );
  });
});
