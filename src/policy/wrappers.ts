/**
 * Commands that run another command named in their arguments, and where that
 * command starts: `env [-i] [-u NAME] [-S 'cmd args'] [NAME=VALUE...] cmd`,
 * `nice`, `ionice`, `nohup`, `setsid`, `stdbuf`, `timeout`, `command`,
 * `exec`, `builtin`, `time`, `coproc`, zsh's `noglob` and `nocorrect`, `sudo`,
 * `doas`, `unbuffer`, `busybox` (its applet) and `xargs` (whose command also gets
 * words read from its input: an unknown tail).
 */
import { basename } from 'node:path';
import { gitForm } from './git-forms.js';
import { runnerCommand } from './runners.js';
import { normalProgram, type Words } from './words.js';

/** A wrapper whose inner command cannot be known before it runs. */
export interface Unknowable {
  undecidable: string;
}

/** env's options that take the next word as their value (GNU and BSD). */
const ENV_WITH_VALUE = ['-u', '--unset', '-C', '--chdir', '-P', '-a', '--argv0'];

/** Options of each plain wrapper that take a value as the next word. */
const PLAIN: Record<string, readonly string[]> = {
  nice: ['-n', '--adjustment'],
  ionice: ['-c', '--class', '-n', '--classdata', '-p', '--pid', '-P', '--pgid', '-u', '--uid'],
  nohup: [],
  setsid: [],
  stdbuf: ['-i', '-o', '-e', '--input', '--output', '--error'],
  timeout: ['-k', '--kill-after', '-s', '--signal'],
  command: [],
  coproc: [],
  noglob: [],
  nocorrect: [],
  exec: ['-a'],
  builtin: [],
  time: ['-f', '--format', '-o', '--output'],
  doas: ['-u', '-C'],
  unbuffer: [],
  busybox: [],
  sudo: ['-u', '--user', '-g', '--group', '-C', '--close-from', '-D', '--chdir', '-h', '--host', '-p', '--prompt', '-r', '--role', '-t', '--type', '-U', '--other-user', '-T', '--command-timeout', '-R', '--chroot'],
  xargs: ['-a', '--arg-file', '-d', '--delimiter', '-E', '-I', '-L', '-n', '--max-args', '-P', '--max-procs', '-s', '--max-chars', '--process-slot-var'],
};

/**
 * How many words an option takes: 2 when its value is the next word (`-u
 * root`, and a cluster ending in such a letter: `-nu root`), else 1 (a flag,
 * `--user=root`, or a value in the same word: `-n5`, `-nuroot`).
 */
export function optionWords(a: string, withValue: readonly string[]): number {
  if (withValue.includes(a)) return 2;
  if (a.startsWith('--')) return 1;
  for (let j = 1; j < a.length; j++) if (withValue.includes(`-${a[j] ?? ''}`)) return j === a.length - 1 ? 2 : 1;
  return 1;
}

/** Index of the first word after the options (and a `--`) from `i` on. */
function skipOptions(args: readonly string[], i: number, withValue: readonly string[]): number {
  while (i < args.length) {
    const a = args[i] ?? '';
    if (a === '--') return i + 1;
    if (!a.startsWith('-') || a === '-') return i;
    i += optionWords(a, withValue);
  }
  return i;
}

/** Words split from `env -S`'s string, or undefined when it quotes, escapes or expands (env's own syntax). */
function splitString(value: string): string[] | undefined {
  if (/["'\\$#]/.test(value)) return undefined;
  return value.split(/\s+/).filter((w) => w !== '');
}

function unwrapEnv(args: readonly string[]): { start: number; split: string[] } | Unknowable {
  const split: string[] = [];
  let i = 0;
  while (i < args.length) {
    const a = args[i] ?? '';
    if (a === '--') return { start: i + 1, split };
    let s: string | undefined;
    if (a === '-S' || a === '--split-string') s = args[++i];
    else if (a.startsWith('--split-string=')) s = a.slice('--split-string='.length);
    else if (/^-[i0v]*S/.test(a)) s = a.slice(a.indexOf('S') + 1) || args[++i];
    if (s !== undefined || a === '-S' || a === '--split-string') {
      const words = splitString(s ?? '');
      if (words === undefined) return { undecidable: 'env -S with quotes, escapes or variables in its string' };
      split.push(...words);
    } else if (a.startsWith('-') && optionWords(a, ENV_WITH_VALUE) === 2) i++;
    else if (!a.startsWith('-') && !/^[^=]+=/.test(a)) return { start: i, split };
    i++;
  }
  return { start: i, split };
}

function unwrapEnvWords(args: readonly string[], tail: boolean): Words | Unknowable | undefined {
  const env = unwrapEnv(args);
  if ('undecidable' in env) return env;
  // The words of -S are env's own again: options and NAME=VALUE before the command.
  const argv = env.split.length > 0 ? ['env', ...env.split, ...args.slice(env.start)] : args.slice(env.start);
  if (argv.length > 0) return { argv, tail };
  return tail ? { undecidable: 'env with a command computed at run time' } : undefined;
}

/** Where the inner command starts among a plain wrapper's arguments, or undefined when it runs none. */
function innerStart(name: string, args: readonly string[]): number | undefined {
  const options = PLAIN[name];
  if (options === undefined) return undefined;
  if (name === 'command' && args.some((a) => /^-[a-zA-Z]*[vV]/.test(a))) return undefined; // command -v/-V only looks a name up
  let i = skipOptions(args, 0, options);
  if (name === 'timeout') i++; // its duration, whatever its spelling (10, 1.5m, inf, 1e3)
  if (name === 'time') while (args[i] === '!') i++; // the keyword times a pipeline, which may be negated: time ! git push
  if (name === 'sudo') while (/^[A-Za-z_][A-Za-z0-9_]*=/.test(args[i] ?? '')) i++;
  return i;
}

/** The string xargs -I (or -i) replaces with words read from its input, if given. */
function xargsReplace(options: readonly string[]): string | undefined {
  for (const [i, a] of options.entries()) {
    if (a === '-I') return options[i + 1];
    if (a === '-i' || a === '--replace') return '{}';
    const attached = /^(?:-I|-i|--replace=)(.+)$/.exec(a);
    if (attached !== null) return attached[1];
  }
  return undefined;
}

/** The words before the first one containing `marker` (replaced at run time). */
export function knownBefore(argv: readonly string[], marker: string | undefined): string[] {
  if (marker === undefined || marker === '') return [...argv];
  const cut = argv.findIndex((w) => w.includes(marker));
  return cut === -1 ? [...argv] : argv.slice(0, cut);
}

/** The command inside a wrapper, or undefined when `words` is not a wrapper around a known command. */
export function unwrap(words: Words): Words | Unknowable | undefined {
  const [program, ...args] = words.argv;
  if (program === undefined) return undefined;
  const name = basename(normalProgram(program));
  if (name === 'env') return unwrapEnvWords(args, words.tail);
  if (name === 'git' || name.startsWith('git-')) return gitForm(words);
  const run = runnerCommand(name, args, words.tail, optionWords);
  if (run !== undefined) return run;
  const start = innerStart(name, args);
  if (start === undefined) return undefined;
  const argv = args.slice(start);
  if (name === 'xargs') {
    const known = knownBefore(argv.length === 0 ? ['echo'] : argv, xargsReplace(args.slice(0, start)));
    return known.length === 0 ? { undecidable: 'xargs runs a command named by its input' } : { argv: known, tail: true };
  }
  if (argv.length === 0) return words.tail ? { undecidable: `${name} with a command computed at run time` } : undefined;
  return { argv, tail: words.tail };
}

/** The command as given, then each command found inside wrappers (innermost last), or why the innermost cannot be known. */
export function wrapperChain(words: Words): { forms: Words[]; unknown?: string } {
  const forms: Words[] = [words];
  let current: Words = words;
  while (forms.length < 16) {
    const inner = unwrap(current);
    if (inner === undefined) return { forms };
    if ('undecidable' in inner) return { forms, unknown: inner.undecidable };
    forms.push(inner);
    current = inner;
  }
  return { forms, unknown: 'wrappers nested more than 16 deep' };
}
