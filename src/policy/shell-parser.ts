/**
 * The shell parser the command policy reads scripts with: tree-sitter's bash
 * grammar (tree-sitter-bash, covering POSIX sh and bash), run by tree-sitter's
 * WebAssembly runtime (web-tree-sitter), so nothing is compiled on install.
 * Both are loaded on first use only, when a policy with command rules meets a
 * shell given a script (once per process); a run without command rules
 * never loads them. docs/command-policy.md says why this parser.
 *
 * They are loaded by path from the package's own node_modules (never bundled),
 * so the same code works from dist/, from the CLI bundle and from the start-up
 * snapshot, whose code has no module URL of its own.
 */
import { createRequire } from 'node:module';
import { setFlagsFromString } from 'node:v8';
import { IsolateError } from '../errors.js';
import { packageRoot } from '../profile/builtin.js';

/** The part of a tree-sitter syntax node the policy reads. */
export interface SyntaxNode {
  readonly type: string;
  readonly text: string;
  readonly startIndex: number;
  readonly endIndex: number;
  readonly isNamed: boolean;
  readonly parent: SyntaxNode | null;
  readonly isMissing: boolean;
  readonly hasError: boolean;
  readonly namedChildren: readonly (SyntaxNode | null)[];
  readonly children: readonly (SyntaxNode | null)[];
  childForFieldName(name: string): SyntaxNode | null;
  childrenForFieldName(name: string): readonly (SyntaxNode | null)[];
}

interface TreeSitter {
  Parser: { init(options: { locateFile: () => string }): Promise<void>; new (): TsParser };
  Language: { load(path: string): Promise<unknown> };
}
interface TsParser {
  setLanguage(language: unknown): void;
  parse(text: string, oldTree: null, options: { progressCallback: () => boolean }): { rootNode: SyntaxNode; delete(): void } | null;
  reset(): void;
}

/**
 * The processor time a parse may take. The grammar's error recovery reads
 * some malformed scripts (runs of `||`, `|`, `>`) in time growing with the
 * square of their length: minutes for 256 KiB, on the caller's thread. An
 * ordinary script of 180 KiB takes 0.6 s. The parser checks its callback
 * between steps, which can be seconds apart in the worst shapes.
 */
const PARSE_CPU_LIMIT_US = 1_500_000;

function cpuMicros(): number {
  const { user, system } = process.cpuUsage();
  return user + system;
}

/** The script's syntax tree, or undefined when the parser gave up at its time limit or its runtime failed. */
export type ParseScript = (script: string) => SyntaxNode | undefined;

let loading: Promise<ParseScript> | undefined;

/** V8's budget before it compiles a hot WebAssembly function again with its optimising compiler. */
const TIERING_BUDGET = '--wasm-tiering-budget';
const V8_DEFAULT_BUDGET = 1_800_000;

/** The budget this process runs with: its own option, else V8's default. */
function currentBudget(): number {
  const options = [...process.execArgv, ...(process.env.NODE_OPTIONS ?? '').split(/\s+/)];
  const given = options.map((o) => /^--wasm-tiering-budget=(\d+)$/.exec(o)?.[1]).find((v) => v !== undefined);
  return given === undefined ? V8_DEFAULT_BUDGET : Number(given);
}

/**
 * Instantiate with a budget no short run exhausts. V8 would otherwise soon
 * recompile the grammar's large lexer with its optimising compiler in the
 * background, and a process waits for that before it exits: about a second
 * of CPU after isolate has finished (docs/command-policy.md). The budget is
 * taken when a module is instantiated, so the process's own is put back
 * straight after, for any other WebAssembly it runs.
 */
async function withLongTieringBudget<T>(fn: () => Promise<T>): Promise<T> {
  const restore = currentBudget();
  setFlagsFromString(`${TIERING_BUDGET}=2000000000`);
  try {
    return await fn();
  } finally {
    setFlagsFromString(`${TIERING_BUDGET}=${restore}`);
  }
}

async function load(): Promise<ParseScript> {
  const require = createRequire(new URL('package.json', packageRoot()));
  const ts = require('web-tree-sitter') as TreeSitter;
  const runtime = require.resolve('web-tree-sitter/web-tree-sitter.wasm');
  const bash = await withLongTieringBudget(async () => {
    await ts.Parser.init({ locateFile: () => runtime });
    return ts.Language.load(require.resolve('tree-sitter-bash/tree-sitter-bash.wasm'));
  });
  const parser = new ts.Parser();
  parser.setLanguage(bash);
  return (script: string): SyntaxNode | undefined => {
    const start = cpuMicros();
    let tree;
    try {
      tree = parser.parse(script, null, { progressCallback: () => cpuMicros() - start > PARSE_CPU_LIMIT_US });
    } catch {
      return undefined; // the runtime aborted (out of its memory on a malformed script); later parses in this process fail alike
    }
    if (tree === null) parser.reset(); // a cancelled parse would otherwise be resumed by the next call, on another script (the runtime aborts)
    return tree?.rootNode;
  };
}

/** The parser, loaded on first call. Rejects with an IsolateError when it cannot be loaded. */
export function shellParser(): Promise<ParseScript> {
  loading ??= load().catch((e: unknown) => {
    loading = undefined;
    throw new IsolateError('E_INTERNAL', `cannot load the shell parser (web-tree-sitter, tree-sitter-bash): ${e instanceof Error ? e.message : String(e)}`, {
      fix: 'reinstall isolate (npm ci), so that its dependencies web-tree-sitter and tree-sitter-bash are present',
    });
  });
  return loading;
}
