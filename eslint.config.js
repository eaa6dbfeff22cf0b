// isolate's linter: `npm run lint` (part of `npm test`). ESLint's and
// typescript-eslint's recommended rules, and the one-way flow of DESIGN.md
// as import rules per folder of src/: a layer that reaches past its place
// is a lint error, not a review comment.
//
// The rules are not type-aware: with type information the run takes about
// three times as long (a second type-check; `npm run typecheck` is the first).
import js from '@eslint/js';
import { defineConfig, globalIgnores } from 'eslint/config';
import globals from 'globals';
import tseslint from 'typescript-eslint';

/** What a pure layer must not load: the disk, processes, the network. */
const IO_MODULES = ['fs', 'fs/promises', 'child_process', 'net', 'dgram', 'dns', 'dns/promises', 'http', 'https', 'http2', 'tls', 'worker_threads', 'cluster'];
const OUTER = ['cli/', 'index.ts', 'doctor/', 'selftest/', 'mcp/'];
const INNER = ['profile/', 'host/', 'backends/', 'seccomp/', 'policy/', 'network/', 'run/', 'audit/'];

/**
 * Each folder of src/, what it must not import ('name/' a folder of src/,
 * 'name.ts' a file at its top, or a regular expression) and why. `types`:
 * folders it may import types from (`import type`) but no code. `io`: no
 * module that reads the disk, starts a process or opens a socket. Every
 * file but process.ts also loads no execa and no child_process itself.
 */
const LAYERS = [
  {
    files: ['src/cli/**'],
    // backends/types.ts names the backends (--backend's choices); the rest of backends/ is reached through the API,
    // which a command loads only when it runs (start-up time: docs/performance.md).
    forbid: ['backends/(?!types\\.js$)', 'run/', 'host/', 'network/', 'seccomp/', 'policy/', 'process.ts'],
    why: 'cli/ parses arguments and prints; it plans and runs only through the API (src/index.ts)',
  },
  {
    files: ['src/mcp/**'],
    // The MCP server is a program around the API, as the CLI is: it plans, runs and records only through src/index.ts.
    forbid: ['cli/', 'backends/', 'run/', 'host/', 'network/', 'seccomp/', 'policy/', 'profile/', 'audit/', 'process.ts'],
    why: 'mcp/ serves the tools over MCP; it checks, runs and records only through the API (src/index.ts)',
  },
  { files: ['src/index.ts'], forbid: ['cli/', 'mcp/'], why: 'the CLI and the MCP server are built on the API, never the reverse' },
  { files: ['src/doctor/**', 'src/selftest/**'], forbid: ['cli/', 'process.ts'], why: 'doctor/ and selftest/ serve the CLI and start processes only through run/' },
  {
    files: ['src/profile/**'],
    forbid: [...OUTER, 'host/', 'backends/', 'run/', 'process.ts'],
    why: 'profile/ turns files and flags into a policy, before host facts, planning and running',
  },
  {
    files: ['src/host/**'],
    forbid: [...OUTER, 'run/', 'audit/'],
    why: 'host/ gathers facts before planning: it runs no sandbox and records nothing',
  },
  {
    files: ['src/backends/**'],
    forbid: [...OUTER, 'host/', 'run/', 'network/', 'audit/', 'process.ts'],
    io: true,
    why: 'backends/ is pure: plan() gets the host facts it needs and returns data; only run/ executes',
  },
  {
    files: ['src/seccomp/**'],
    forbid: [...OUTER, 'profile/', 'host/', 'backends/', 'run/', 'network/', 'audit/', 'policy/', 'process.ts'],
    io: true,
    why: 'seccomp/ holds pure tables and the BPF builder that profile/ and backends/ use',
  },
  { files: ['src/policy/**'], forbid: [...OUTER, 'host/', 'run/', 'audit/', 'process.ts'], why: 'policy/ decides on a command before anything runs' },
  {
    files: ['src/network/**'],
    forbid: [...OUTER, 'profile/', 'host/', 'backends/', 'run/', 'audit/', 'process.ts'],
    why: 'network/ (the rules, the proxy) is started by run/ and knows nothing of the layers around it',
  },
  { files: ['src/run/**'], forbid: [...OUTER, 'profile/'], why: 'run/ executes a Plan: what it needs of the policy is in the plan' },
  {
    files: ['src/audit/**'],
    forbid: [...OUTER],
    types: ['run/'],
    why: "audit/ records a run's result after it ended; it calls nothing of run/",
  },
  { files: ['src/errors.ts'], forbid: [...OUTER, ...INNER], why: 'errors.ts is a leaf every layer uses' },
  { files: ['src/ancestors.ts'], forbid: [...OUTER, ...INNER], why: 'ancestors.ts is a leaf: the one rule for who can change the directories above a path' },
  { files: ['src/own-dir.ts'], forbid: [...OUTER, ...INNER], why: 'own-dir.ts is a leaf: how isolate makes its own directories' },
  { files: ['src/tiering.ts'], forbid: [...OUTER, ...INNER], why: 'tiering.ts is a leaf: when V8 may optimise, for the CLI and the searches' },
  { files: ['src/token-shapes.ts'], forbid: [...OUTER, ...INNER], why: 'token-shapes.ts is a leaf: what a token looks like, for the audit log and the git scrubber' },
  { files: ['src/process.ts'], forbid: [...OUTER, ...INNER], spawns: true, why: 'process.ts is the leaf through which run/ and host/ start processes' },
];

/** A relative import of one of `targets` from a file `depth` folders below src/ (0: src/index.ts, 1: src/run/execute.ts, 2: src/run/io/feed.ts). */
function relativeTo(targets, depth) {
  const alternatives = targets.map((t) => (t.endsWith('.ts') ? `${t.replace(/\.ts$/, '')}\\.js$` : t));
  return `^${depth === 0 ? '\\./' : `(\\.\\./){${depth}}`}(${alternatives.join('|')})`;
}

const IO_REGEX = `^(node:)?(${IO_MODULES.join('|')})$|^execa$`;
/** Only src/process.ts loads execa or child_process; elsewhere their types may be named. */
const SPAWN = { regex: '^(node:)?child_process$|^execa$', allowTypeImports: true, message: 'Processes start through src/process.ts only (DESIGN.md: execution is one place).' };

function restrictions({ forbid, types = [], io = false, spawns = false, why }, depth) {
  const patterns = [];
  const dynamic = [];
  if (forbid.length > 0) patterns.push({ regex: relativeTo(forbid, depth), message: `${why} (DESIGN.md).` });
  if (types.length > 0) patterns.push({ regex: relativeTo(types, depth), allowTypeImports: true, message: `${why}: import its types only (DESIGN.md).` });
  if (forbid.length + types.length > 0) dynamic.push({ regex: relativeTo([...forbid, ...types], depth), message: `${why} (DESIGN.md).` });
  if (io) patterns.push({ regex: IO_REGEX, message: `${why}: no I/O module (DESIGN.md).` });
  if (io) dynamic.push({ regex: IO_REGEX, message: `${why}: no I/O module (DESIGN.md).` });
  if (!io && !spawns) patterns.push(SPAWN);
  if (!io && !spawns) dynamic.push(SPAWN);
  // no-restricted-imports does not see import(): the same patterns for dynamic imports.
  const syntax = dynamic.map(({ regex, message }) => ({ selector: `ImportExpression[source.value=/${regex.replaceAll('/', '\\/')}/]`, message }));
  return { 'no-restricted-imports': ['error', { patterns }], 'no-restricted-syntax': ['error', ...syntax] };
}

/** One block per depth below src/ (up to src/<folder>/a/b/c/), so that '../' means the same folder in every pattern. */
function layerRules(layer) {
  if (layer.files.every((f) => f.endsWith('.ts'))) return [{ files: layer.files, rules: restrictions(layer, 0) }];
  return [1, 2, 3, 4].map((depth) => ({ files: layer.files.map((f) => `${f.replace(/\/\*\*$/, '')}/${'*/'.repeat(depth - 1)}*.ts`), rules: restrictions(layer, depth) }));
}

export default defineConfig(
  globalIgnores(['dist/', 'dist-check/']),
  // A disable comment that no longer disables anything is an error: it would hide the next finding on that line.
  { linterOptions: { reportUnusedDisableDirectives: 'error' } },
  js.configs.recommended,
  tseslint.configs.recommended,
  {
    rules: {
      // `const { hash: _hash, ...body } = record` leaves a field out: the codebase's way to omit one.
      '@typescript-eslint/no-unused-vars': ['error', { ignoreRestSiblings: true }],
    },
  },
  { files: ['**/*.js', '**/*.mjs'], languageOptions: { globals: globals.node } },
  // A file of a folder not named in LAYERS still starts no process itself.
  { files: ['src/**/*.ts'], rules: restrictions({ forbid: [], why: '' }, 0) },
  ...LAYERS.flatMap(layerRules),
);
