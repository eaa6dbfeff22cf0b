/**
 * Everything one command would start, as far as it can be known before it
 * runs: the command and the commands inside its wrappers; the commands of a
 * shell script given with -c (parsed, and a nested shell's literal script
 * parsed again); the commands `find -exec` runs, and those git is given
 * (git-runs.ts). And what cannot be known:
 * eval, source, a shell reading its script from its input, a program named
 * by a variable.
 */
import { basename } from 'node:path';
import { shellInput } from './shell.js';
import { shellParser } from './shell-parser.js';
import { bracketTangle } from './bracket-scan.js';
import { ARRAY_REPARSED, arrayValueRunsCode, clip, codeVariable, DECLARATIONS, exportedFunction, scriptParts } from './script.js';
import { dashEdits, mayReadAsDash } from './posix-reading.js';
import { keywordEdits } from './keyword-prefix.js';
import { rewritten } from './rewrite.js';
import { gitRuns } from './git-runs.js';
import { dormantCodeRuns, emptyDormantCode, noteDormantCode, noteNameValue, type DormantCode } from './dormant-code.js';
import { knownBefore, wrapperChain } from './wrappers.js';
import { normalProgram, type Words } from './words.js';

export interface Started {
  /** The command as written, then the commands inside its wrappers (innermost last). */
  forms: Words[];
  /** A shell given a literal script: its script's commands are checked instead, so it needs no allow rule of its own. */
  transparent: boolean;
  /** Read from a shell script (not the argv isolate was given). */
  inScript: boolean;
}

export interface Unknown {
  command: string[];
  reason: string;
  /** A part the policy did not read (too large, too deep): a deny rule may match there. */
  unread?: true;
}

export interface Expansion {
  started: Started[];
  unknown: Unknown[];
  /** What the scripts assign and evaluate as arithmetic (dormant-code.ts). */
  dormant: DormantCode;
}

const MAX_DEPTH = 8;
/** The longest script parsed (the parser takes seconds for megabytes, on the caller's thread). */
const MAX_SCRIPT = 256 * 1024;
const FIND_EXEC = new Set(['-exec', '-execdir', '-ok', '-okdir']);
/** Builtins that run a string as a command line given with -C: mapfile's callback, the completion's command. */
const CALLBACKS = new Set(['mapfile', 'readarray', 'compgen', 'complete']);
/** Builtins that assign the variables their words name (printf only with -v). */
const ASSIGNS = new Set(['read', 'mapfile', 'readarray', 'getopts', 'printf']);

/** Why a command that evaluates code or redefines names cannot be decided, or undefined. */
function evaluates(words: Words): string | undefined {
  const [program = '', ...args] = words.argv;
  const name = basename(normalProgram(program));
  if ((ASSIGNS.has(name) || DECLARATIONS.has(name)) && words.tail && (name !== 'printf' || args[0] === '-v')) return `${name} may assign a variable named at run time`;
  if (DECLARATIONS.has(name) && args.some(arrayValueRunsCode)) return ARRAY_REPARSED; // builtin declare …, command typeset …
  if (name === 'eval') return 'eval runs a string as a script';
  if (name === 'source' || name === '.') return `${name} runs the commands of a file`;
  if (name === 'trap' && args.some((a) => !a.startsWith('-'))) return 'trap runs a string as a script later';
  if (name === 'alias' && args.some((a) => a.includes('='))) return 'an alias changes what later words run';
  if (name === 'hash' && args.some((a) => a.startsWith('-') && a.includes('p'))) return 'hash -p changes which file a name runs';
  if (name === 'enable') return 'enable loads or switches off shell builtins';
  if (name === 'fc' && (words.tail || !fcOnlyLists(args))) return "fc runs a command of the shell's history again";
  if ((name === 'set' || name === 'shopt') && turnsOnHistoryExpansion(name, args)) return `history expansion (set -H): ${REPLAYED}`;
  if (CALLBACKS.has(name) && (words.tail || args.some((a) => /^-[a-zA-Z]*C/.test(a)))) return `${name} -C runs a string as a script`;
  return undefined;
}

/** What history expansion does to a script (set -H, bash -H, bash -i). */
const REPLAYED = 'bash runs the lines after it as its history makes them (!!, !:1-2), not as written';

/** What an interactive shell runs before its script. */
const STARTUP_FILE = 'an interactive shell first runs the file ENV names (dash, ksh, sh) or its rc file, which the policy does not read';

/**
 * Whether fc only lists the history (`fc -l`): with -s, or `-e -`, or
 * without -l, bash runs commands of its history again (what `history -s`
 * put there, or an earlier command changed by `fc -s old=new`).
 */
function fcOnlyLists(args: readonly string[]): boolean {
  const end = args.findIndex((a) => !a.startsWith('-'));
  const options = end === -1 ? args : args.slice(0, end);
  return options.some((a) => /^-[a-z]*l/.test(a)) && !options.some((a) => /^-[a-z]*[se]/.test(a));
}

/**
 * Whether `set` (`-H`, `-eH`, `-o histexpand`) or `shopt` (`-so
 * histexpand`) turns on history expansion, which rewrites each line bash
 * reads after it from its history (`!:1-2` after `: git push` runs git push).
 */
function turnsOnHistoryExpansion(name: 'set' | 'shopt', args: readonly string[]): boolean {
  if (name === 'shopt') return args.some((a) => /^-[a-z]*s/.test(a)) && args.some((a) => /^-[a-z]*o/.test(a)) && args.includes('histexpand');
  for (let i = 0; i < args.length; i++) {
    const a = args[i] ?? '';
    if (!/^[-+][A-Za-z]+$/.test(a)) return false;
    const letters = a.slice(1);
    const on = a.startsWith('-');
    if (on && letters.includes('H')) return true;
    const values = [...letters].filter((l) => l === 'o').length;
    if (on && values > 0 && args.slice(i + 1, i + 1 + values).includes('histexpand')) return true;
    i += values;
  }
  return false;
}

/** The command `history -s` (`-ps`, `-s --`) keeps as an entry of the history, which fc runs again; undefined without -s. */
function historyEntry(args: readonly string[]): string | undefined {
  const end = args.findIndex((a) => !a.startsWith('-') || a === '--');
  const options = end === -1 ? args : args.slice(0, end);
  if (!options.some((a) => /^-[a-z]*s/.test(a))) return undefined;
  return args.slice(end === -1 ? args.length : args[end] === '--' ? end + 1 : end).join(' ');
}

/** The string given to -C (`-C cmd`, `-Ccmd`, `-tC cmd`). */
function callbackString(args: readonly string[]): string | undefined {
  const i = args.findIndex((a) => /^-[a-zA-Z]*C/.test(a));
  if (i === -1) return undefined;
  const rest = (args[i] ?? '').slice((args[i] ?? '').indexOf('C') + 1);
  return rest === '' ? args[i + 1] : rest;
}

/** The literal string `eval` or `trap` would run as a script: still undecidable, but deny rules see inside it. */
function evaluatedString(words: Words): string | undefined {
  const [program = '', ...args] = words.argv;
  const name = basename(normalProgram(program));
  if (name === 'eval' && !words.tail && args.length > 0) return args.join(' ');
  if (name === 'trap') return args.find((a) => !a.startsWith('-'));
  if (name === 'history' && !words.tail) return historyEntry(args);
  if (CALLBACKS.has(name)) return callbackString(args);
  return undefined;
}

/** The commands `find -exec`/`-execdir`/`-ok`/`-okdir` run; `{}` and `+` make their words unknown from there on. */
function findExecs(words: Words): Array<Words | Unknown> {
  const out: Array<Words | Unknown> = [];
  const { argv } = words;
  for (let i = 1; i < argv.length; i++) {
    if (!FIND_EXEC.has(argv[i] ?? '')) continue;
    const end = argv.findIndex((a, j) => j > i && (a === ';' || a === '+'));
    const body = argv.slice(i + 1, end === -1 ? undefined : end);
    const known = knownBefore(body, '{}');
    const tail = end === -1 || argv[end] === '+' || known.length < body.length || words.tail;
    out.push(known.length === 0 ? { command: argv, reason: 'find -exec runs a program named at run time' } : { argv: known, tail });
    if (end === -1) break;
    i = end;
  }
  if (words.tail) out.push({ command: argv, reason: 'find with arguments computed at run time may run commands (-exec)' });
  return out;
}

/** `dash`: the shell that runs the script may read bash's own syntax as dash does (posix-reading.ts). */
async function expandScript(script: string, depth: number, out: Expansion, dash: boolean): Promise<void> {
  if (depth >= MAX_DEPTH) {
    out.unknown.push({ command: [clip(script)], reason: `shells nested more than ${MAX_DEPTH} deep`, unread: true });
    return;
  }
  if (script.length > MAX_SCRIPT) {
    out.unknown.push({ command: [clip(script)], reason: `the script is longer than ${MAX_SCRIPT / 1024} KiB`, unread: true });
    return;
  }
  const tangle = bracketTangle(script);
  if (tangle !== undefined) {
    out.unknown.push({ command: [clip(script)], reason: `the script is not parsed: ${tangle}`, unread: true });
    return;
  }
  const root = (await shellParser())(script);
  if (root === undefined) {
    out.unknown.push({ command: [clip(script)], reason: 'the shell parser could not read the script within its time and memory', unread: true });
    return;
  }
  if (!noteDormantCode(root, out.dormant)) out.unknown.push({ command: [clip(script)], reason: 'the script is too large to read whole', unread: true });
  for (const part of scriptParts(root, script)) {
    if (part.kind === 'undecidable') out.unknown.push({ command: [part.text], reason: part.reason, ...(part.unread ? { unread: true as const } : {}) });
    else if (part.kind === 'script') await expandScript(part.script, depth + 1, out, dash);
    else await expandInto(part.words, depth + 1, true, out, dash);
  }
  // Read once more where the grammar reads otherwise than the shell (rewrite.ts): one text for all the edits.
  const again = rewritten(root, script, dash ? (node) => [...keywordEdits(node), ...dashEdits(node)] : keywordEdits);
  if (again !== undefined) await expandScript(again, depth + 1, out, dash);
}

/** `dash`: the shell the command runs in (for the string an eval runs) may read bash's own syntax as dash does. */
async function expandInto(words: Words, depth: number, inScript: boolean, out: Expansion, dash: boolean): Promise<void> {
  const chain = wrapperChain(words);
  const inner = chain.forms.at(-1) ?? words;
  for (const [k, form] of chain.forms.slice(0, -1).entries()) {
    const own = form.argv.length - (chain.forms[k + 1]?.argv.length ?? 0);
    for (const word of form.argv.slice(1, Math.max(1, own))) {
      noteNameValue(word, out.dormant); // env x=… cmd, sudo x=… cmd
      const code = codeVariable(word);
      if (code !== undefined) out.unknown.push({ command: form.argv, reason: code });
      const definition = exportedFunction(word);
      if (definition !== undefined) await expandScript(definition, depth + 1, out, false); // only bash reads exported functions
    }
  }
  if (chain.unknown !== undefined) out.unknown.push({ command: inner.argv, reason: chain.unknown, ...(chain.unread === true ? { unread: true as const } : {}) });
  const why = evaluates(inner);
  if (why !== undefined) out.unknown.push({ command: inner.argv, reason: why });
  const shell = chain.unknown === undefined ? shellInput(inner) : undefined;
  out.started.push({ forms: chain.forms, transparent: shell?.kind === 'script', inScript });
  const evaluated = evaluatedString(inner);
  const program = basename(normalProgram(inner.argv[0] ?? ''));
  if (shell?.kind === 'script') await expandScript(shell.script, depth, out, mayReadAsDash(program));
  else if (evaluated !== undefined) await expandScript(evaluated, depth, out, dash);
  else if (shell?.kind === 'unknown') out.unknown.push({ command: inner.argv, reason: shell.reason });
  if (shell?.kind === 'script' && shell.stdin === true) out.unknown.push({ command: inner.argv, reason: `${program} reads its script from standard input (-s), after its -c script` });
  if (shell?.kind === 'script' && shell.historyExpansion !== undefined) {
    out.unknown.push({ command: inner.argv, reason: `${basename(normalProgram(inner.argv[0] ?? ''))} ${shell.historyExpansion}: history expansion is on from the start: ${REPLAYED}` });
  } else if (shell?.kind === 'script' && shell.interactive !== undefined) {
    out.unknown.push({ command: inner.argv, reason: `${basename(normalProgram(inner.argv[0] ?? ''))} ${shell.interactive}: ${STARTUP_FILE}` });
  }
  if (program === 'git') {
    for (const given of gitRuns(inner)) {
      if ('undecidable' in given) out.unknown.push({ command: inner.argv, reason: given.undecidable });
      else if ('script' in given) await expandScript(given.script, depth + 1, out, true); // git runs it with sh -c
      else await expandInto(given.words, depth + 1, inScript, out, dash);
    }
  }
  if (program !== 'find') return;
  for (const exec of findExecs(inner)) {
    if ('reason' in exec) out.unknown.push(exec);
    else await expandInto(exec, depth, inScript, out, dash);
  }
}

/** Everything `argv` would start, loading the shell parser only when it meets a shell script. */
export async function expandCommand(argv: readonly string[]): Promise<Expansion> {
  const out: Expansion = { started: [], unknown: [], dormant: emptyDormantCode() };
  await expandInto({ argv: [...argv], tail: false }, 0, false, out, true);
  for (const text of dormantCodeRuns(out.dormant)) {
    out.unknown.push({ command: [clip(text)], reason: "arithmetic evaluates a variable that may hold code (bash runs the $(…) in x='a[$(cmd)]' when it evaluates x)" });
  }
  return out;
}
