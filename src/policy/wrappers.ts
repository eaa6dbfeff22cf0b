/**
 * Commands that run another command named in their arguments, and where that
 * command starts: `env [-i] [-u NAME] [-S 'cmd args'] [NAME=VALUE...] cmd`,
 * `nice`, `ionice`, `nohup`, `setsid`, `stdbuf`, `timeout`, `command`,
 * `exec`, `builtin`, `time`, `coproc`, zsh's `noglob` and `nocorrect`, `sudo`,
 * `doas`, `unbuffer`, `busybox` (its applet) and `xargs` (whose command also gets
 * words read from its input: an unknown tail). Their options are read as
 * getopt_long reads them (getopt.ts, wrapper-options.ts), so the word taken
 * for the program is the one the wrapper runs.
 */
import { basename } from 'node:path';
import { gitForm } from './git-forms.js';
import { computedCommand, own, readOptions, unreadable, type ReadOption, type Undecidable } from './getopt.js';
import { npmForm } from './npm-commands.js';
import { runnerCommand } from './runners.js';
import { ENV, NO_OPTIONS, WRAPPER_OPTIONS } from './wrapper-options.js';
import { normalProgram, type Words } from './words.js';

/** A wrapper whose inner command cannot be known before it runs; `unread` when its options are not read (getopt.ts), where a deny rule may match. */

/** Words split from `env -S`'s string, or undefined when it quotes, escapes or expands (env's own syntax). */
function splitString(value: string): string[] | undefined {
  if (/["'\\$#]/.test(value)) return undefined;
  return value.split(/\s+/).filter((w) => w !== '');
}

/**
 * env's command: after its options, every word with a `=` is an assignment
 * (also after `--`: `env -- A=B cmd`); the words of -S are env's own again,
 * read as getopt goes on reading them (options, NAME=VALUE, the command).
 */
function unwrapEnv(args: readonly string[], tail: boolean): Words | Undecidable | undefined {
  const read = readOptions(ENV, args);
  if ('unknown' in read) return unreadable('env', read.unknown);
  const split = read.options.find((o) => o.name === '-S' || o.name === '--split-string');
  if (split !== undefined) {
    const words = splitString(split.value ?? '');
    if (words === undefined) return { undecidable: 'env -S with quotes, escapes or variables in its string' };
    return { argv: ['env', ...words, ...args.slice(split.next)], tail };
  }
  let start = read.next;
  if (args[start] === '-') start++; // GNU env reads a lone - as -i
  while (args[start]?.includes('=') === true) start++;
  if (args[start] === '--' && start > read.next) start++; // env would run a program named `--` (none): read as the command a reader sees after it
  const argv = args.slice(start);
  if (argv.length > 0) return { argv, tail };
  return tail ? { undecidable: 'env with a command computed at run time' } : undefined;
}

interface Read {
  start: number;
  options: ReadOption[];
}

/** A plain wrapper's options, and where its inner command starts; undefined when `name` is none or runs no command (`command -v`). */
function readWrapper(name: string, args: readonly string[]): Read | Undecidable | undefined {
  if (NO_OPTIONS.has(name)) return { start: 0, options: [] };
  const table = own(WRAPPER_OPTIONS, name);
  if (table === undefined) return undefined;
  const read = readOptions(table, args);
  if ('unknown' in read) return unreadable(name, read.unknown);
  if (name === 'command' && read.options.some((o) => o.name === '-v' || o.name === '-V')) return undefined; // it only looks a name up
  let i = read.next;
  if (name === 'timeout') i++; // its duration, whatever its spelling (10, 1.5m, inf, 1e3)
  if (name === 'time') while (args[i] === '!') i++; // the keyword times a pipeline, which may be negated: time ! git push
  if (name === 'sudo') while (/^[A-Za-z_][A-Za-z0-9_]*=/.test(args[i] ?? '')) i++;
  return { start: i, options: read.options };
}

/** The string xargs replaces with words read from its input: -I's, or -i's and --replace's (`{}` when given none); the last one given counts. */
function xargsReplace(options: readonly ReadOption[]): string | undefined {
  let replace: string | undefined;
  for (const o of options) {
    if (o.name === '-I') replace = o.value;
    else if (o.name === '-i' || o.name === '--replace') replace = o.value ?? '{}';
  }
  return replace;
}

/** The words before the first one containing `marker` (replaced at run time). */
export function knownBefore(argv: readonly string[], marker: string | undefined): string[] {
  if (marker === undefined || marker === '') return [...argv];
  const cut = argv.findIndex((w) => w.includes(marker));
  return cut === -1 ? [...argv] : argv.slice(0, cut);
}

/** The command inside a wrapper, or undefined when `words` is not a wrapper around a known command. */
export function unwrap(words: Words): Words | Undecidable | undefined {
  const [program, ...args] = words.argv;
  if (program === undefined) return undefined;
  const name = basename(normalProgram(program));
  if (name === 'env') return unwrapEnv(args, words.tail);
  if (name === 'git' || name.startsWith('git-')) return gitForm(words);
  const run = runnerCommand(name, args, words.tail);
  if (run !== undefined) return run;
  if (name === 'npm') return npmForm(program, args, words.tail);
  const read = readWrapper(name, args);
  if (read === undefined || 'undecidable' in read) return read;
  const argv = args.slice(read.start);
  if (argv.length === 0 && words.tail) return computedCommand(name);
  if (name === 'xargs') {
    const known = knownBefore(argv.length === 0 ? ['echo'] : argv, xargsReplace(read.options));
    return known.length === 0 ? { undecidable: 'xargs runs a command named by its input' } : { argv: known, tail: true };
  }
  if (argv.length === 0) return undefined;
  return { argv, tail: words.tail };
}

/** The command as given, then each command found inside wrappers (innermost last), or why the innermost cannot be known. */
export function wrapperChain(words: Words): { forms: Words[]; unknown?: string; unread?: true } {
  const forms: Words[] = [words];
  let current: Words = words;
  while (forms.length < 16) {
    const inner = unwrap(current);
    if (inner === undefined) return { forms };
    if ('undecidable' in inner) return { forms, unknown: inner.undecidable, ...(inner.unread === true ? { unread: true as const } : {}) };
    forms.push(inner);
    current = inner;
  }
  return { forms, unknown: 'wrappers nested more than 16 deep' };
}
