/**
 * Values the profile fuzzer puts into profiles: a seeded random source, the
 * valid profile it mutates, and the bad values per kind of key. Every value
 * listed as bad here must be refused wherever it is put.
 */

/** mulberry32: small, fast and the same on every machine, so a seed reproduces a run. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export type Rand = () => number;

export function pick<T>(r: Rand, list: readonly T[]): T {
  const item = list[Math.floor(r() * list.length)];
  if (item === undefined) throw new Error('pick from an empty list');
  return item;
}

/** A profile that loads on any Linux host from a fresh temp directory (the control case checks it). */
export function baseProfile(): Record<string, unknown> {
  return {
    extends: 'default',
    description: 'fuzz base',
    filesystem: {
      read: ['/usr', { path: '/nonexistent-fuzz', optional: true }],
      write: ['${CWD}'],
      deny: ['~/.ssh'],
      tmpfs: ['/var/tmp'],
      protect: ['.git/hooks'],
    },
    network: { mode: 'filtered', allow: ['example.com'], deny: ['*.evil.test:443'] },
    environment: { pass: ['PATH', 'LC_*'], set: { FOO: 'bar' }, secrets: ['MY_*'] },
    process: { cwd: '${CWD}', hostname: 'box' },
    limits: { timeout: '30s', killAfter: '1s', cpu: '10s', memory: '512M', processes: 64, openFiles: 256, fileSize: '1G', enforce: 'rlimit' },
    audit: { enabled: false, log: '${TMPDIR}/fuzz-audit.jsonl', required: false },
    commands: { allow: ['git *'], deny: ['git push *'] },
    syscalls: { preset: 'default', deny: ['ptrace'], allow: ['personality'] },
  };
}

/** The kind of value each leaf key holds; `[]` stands for every element of a list. */
export const LEAF_KINDS: Record<string, Kind> = {
  extends: 'extends',
  description: 'text',
  'filesystem.read[]': 'path',
  'filesystem.read[].path': 'path',
  'filesystem.read[].optional': 'bool',
  'filesystem.write[]': 'path',
  'filesystem.deny[]': 'path',
  'filesystem.tmpfs[]': 'path',
  'filesystem.protect[]': 'protect',
  'network.mode': 'enum',
  'network.allow[]': 'domain',
  'network.deny[]': 'domain',
  'environment.pass[]': 'envPattern',
  'environment.set.*': 'envValue',
  'environment.secrets[]': 'envPattern',
  'process.cwd': 'path',
  'process.hostname': 'hostname',
  'limits.timeout': 'duration',
  'limits.killAfter': 'duration',
  'limits.cpu': 'duration',
  'limits.memory': 'size',
  'limits.processes': 'count',
  'limits.openFiles': 'count',
  'limits.fileSize': 'size',
  'limits.enforce': 'enum',
  'audit.enabled': 'bool',
  'audit.log': 'path',
  'audit.required': 'bool',
  'commands.allow[]': 'command',
  'commands.deny[]': 'command',
  'syscalls.preset': 'enum',
  'syscalls.deny[]': 'syscall',
  'syscalls.allow[]': 'syscall',
};

export type Kind =
  | 'extends' | 'text' | 'path' | 'bool' | 'protect' | 'enum' | 'domain' | 'envPattern' | 'envValue'
  | 'hostname' | 'duration' | 'size' | 'count' | 'command' | 'syscall';

const LONG = 'a'.repeat(70_000);
const CONTROL = '\u0001\u0007\u001b[31m\u007f\u0085\u2028';

/** Values of the wrong JSON type for a key of this kind (durations and sizes also take numbers). */
export function wrongTypes(kind: Kind | 'list' | 'map'): unknown[] {
  const all: unknown[] = [null, true, false, 0, 42, -1, 1.5, '', 'x', [], ['x'], [[1]], {}, { x: 'y' }];
  const ok = (v: unknown): boolean => {
    if (kind === 'list') return Array.isArray(v);
    if (kind === 'map') return typeof v === 'object' && v !== null && !Array.isArray(v);
    if (kind === 'bool') return typeof v === 'boolean';
    if (kind === 'count') return typeof v === 'number';
    if (kind === 'duration' || kind === 'size') return typeof v === 'number' || typeof v === 'string';
    return typeof v === 'string';
  };
  return all.filter((v) => !ok(v));
}

/** Values of the right type that must still be refused. */
export const BAD_VALUES: Record<Kind, readonly unknown[]> = {
  extends: [''],
  text: [],
  path: [
    'relative/dir', 'x', '.', './here', '../up', '/a/../b', '/a/..', '${CWD}/../..', '~root/.ssh', '~user', '~+', '~-/x',
    '${NOPE}/x', '${HOME', '$HOME/x', '${}', '${cwd}', '/tmp/nul\u0000byte', '\u0000', '', LONG, ' /usr', `${CONTROL}/x`,
  ],
  bool: ['yes', 'true', 1, 0, 'on'],
  protect: ['/abs', 'a/../b', '..', '.', '', 'a//b', 'trailing/', '*.sh', 'x?', '[ab]', 'nul\u0000', '/'],
  enum: ['', 'NONE', 'all', 'both', 'strict', 'Host ', LONG],
  domain: [
    '', '*', '*.', 'a..b', 'http://example.com', 'example.com/path', 'x:99999', 'x:-1', 'x:abc', 'x:', '[::1', 'a b.com',
    `${'a'.repeat(300)}.com`, '*.*.com', 'ex*ample.com', 'nul\u0000.com', `${CONTROL}.com`,
  ],
  envPattern: ['', 'A-B', 'A B', 'A=B', 'A.B', '$A', 'nul\u0000', LONG.replace(/a/g, '-')],
  envValue: [1, true, null, ['x'], { x: 1 }, 'with\u0000nul', '\u0000', '\u0000--bind\u0000/\u0000/mnt'],
  hostname: ['', '-x', 'a'.repeat(64), 'a_b', 'x\n', 'has space', 'nul\u0000', 'é'],
  duration: [
    '597h', '1e309s', '1e3s', '-1s', '0', '0s', '0.0001ms', 'NaN', 'Infinity', '-Infinity', 'Infinitys', '1.5.3s', ' ', '', '10 years',
    '99999999999999999999h', '5 m s', '1d', '-0', 0, -5, 2 ** 31, 1e300, Number.MAX_VALUE, '2147484s', '35792m', 'ms',
  ],
  size: [
    '99999999999T', '-1M', '0', '1.5', 'NaN', 'Infinity', '1e3M', '1PB', 'M', '', '1.5.2G', '2048T', 1.5, -1, 0, 2 ** 60,
    Number.MAX_SAFE_INTEGER + 2, 1e300,
  ],
  count: [0, -1, 1.5, 1e300, 2 ** 53, Number.MAX_SAFE_INTEGER, 2 ** 31, 2 ** 32, -0.5],
  command: ['', '   ', '\t'],
  syscall: ['', 'nosuchcall', 'ptrace ', 'PTRACE', 'open*', 'nul\u0000', LONG],
};

/** Keys that are no part of the schema, including names JavaScript objects treat specially. */
export const UNKNOWN_KEYS = ['bogus', 'readd', 'Read', 'mode ', '', ' ', '__proto__', 'constructor', 'toString', 'hasOwnProperty', '$ref', '1', 'x'.repeat(2000)];
