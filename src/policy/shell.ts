/**
 * Whether a command is a shell, and what it would run: a script given with
 * `-c` (`sh -c`, `bash -c`, `bash -lc`, `dash -c`, `zsh -c`, ...), a script
 * file, or whatever arrives on its standard input (`curl x | sh`).
 */
import { basename } from 'node:path';
import { normalProgram, type Words } from './words.js';

const SHELLS = new Set(['sh', 'bash', 'dash', 'zsh', 'ksh', 'mksh', 'ash', 'posh', 'yash', 'rbash']);

/**
 * The shells that bash is: given -s with -c, bash runs the -c script alone. dash (Debian's /bin/sh) runs the script and
 * then the commands it reads from its input; any other shell (sh may be any of them) is read as dash.
 */
const BASH = new Set(['bash', 'rbash']);

/** Long options of bash and zsh that take the next word as their value. */
const LONG_WITH_VALUE = new Set(['--rcfile', '--init-file']);

export type ShellInput =
  /**
   * The script after -c, as one literal word; `historyExpansion`: the option that has the shell expand its lines from
   * its history (-H, -i); `interactive`: the option that makes it interactive without -i (`-o interactive`); `stdin`:
   * it then runs what it reads from its input too (-s, in any shell but bash: BASH).
   */
  | { kind: 'script'; script: string; historyExpansion?: '-H' | '-i'; interactive?: string; stdin?: true }
  /** A script file: the shell runs whatever the file says (checked as the command given). */
  | { kind: 'file' }
  /** The script comes from standard input, or from a word computed at run time. */
  | { kind: 'unknown'; reason: string };

export function isShell(program: string): boolean {
  return SHELLS.has(basename(normalProgram(program)));
}

interface ShellOptions {
  command: boolean;
  stdin: boolean;
  /** Started with history expansion on: -H or `-o histexpand`, or -i (on by default in an interactive shell). */
  historyExpansion?: '-H' | '-i';
  /** Made interactive by name (`-o interactive`, zsh's `--interactive`): the option as written. */
  interactive?: string;
  next: number;
}

/**
 * Whether an option name, given on (`-o`, zsh's `--`) or off (`+o`), turns on the interactive mode: an interactive
 * shell first runs the file ENV names (dash, ksh, a POSIX sh) or its rc file, which the policy does not read. zsh
 * reads a name in any case, without underscores, and `no` before it turns it the other way.
 */
function turnsInteractive(name: string, on: boolean): boolean {
  const plain = name.toLowerCase().replace(/[_-]/g, '');
  if (plain === 'interactive') return on;
  return plain === 'nointeractive' && !on;
}

/** Reads a shell's options: -c / -s / -H / -i anywhere in a cluster, -o/+o and -O/+O take a value. */
function shellOptions(args: readonly string[]): ShellOptions {
  const o: ShellOptions = { command: false, stdin: false, next: 0 };
  let i = 0;
  while (i < args.length) {
    const a = args[i] ?? '';
    if (a === '--' || a === '-') return { ...o, next: i + 1 };
    if (LONG_WITH_VALUE.has(a)) i += 2;
    else if (a.startsWith('--')) {
      if (turnsInteractive(a.slice(2), true)) o.interactive ??= a;
      i++;
    } else if (/^[-+][A-Za-z]+$/.test(a)) {
      const letters = a.slice(1);
      const on = a.startsWith('-');
      const values = [...letters].filter((l) => l === 'o' || l === 'O').length;
      const named = args.slice(i + 1, i + 1 + values);
      if (on && letters.includes('c')) o.command = true;
      if (on && letters.includes('s')) o.stdin = true;
      if (on && (letters.includes('H') || (letters.includes('o') && named.includes('histexpand')))) o.historyExpansion = '-H';
      else if (on && letters.includes('i')) o.historyExpansion ??= '-i';
      const interactive = letters.includes('o') ? named.find((name) => turnsInteractive(name, on)) : undefined;
      if (interactive !== undefined) o.interactive ??= `${on ? '-o' : '+o'} ${interactive}`;
      i += 1 + values;
    } else return { ...o, next: i };
  }
  return { ...o, next: i };
}

/** What a shell command would run, or undefined when `words` is not a shell. */
export function shellInput(words: Words): ShellInput | undefined {
  const [program, ...args] = words.argv;
  if (program === undefined || !isShell(program)) return undefined;
  const o = shellOptions(args);
  const first = args[o.next];
  if (o.command) {
    if (first === undefined) return { kind: 'unknown', reason: `${basename(program)} -c with a script computed at run time` };
    return {
      kind: 'script',
      script: first,
      ...(o.historyExpansion === undefined ? {} : { historyExpansion: o.historyExpansion }),
      ...(o.interactive === undefined ? {} : { interactive: o.interactive }),
      ...(o.stdin && !BASH.has(basename(normalProgram(program))) ? { stdin: true as const } : {}),
    };
  }
  if (first === undefined && !words.tail) return { kind: 'unknown', reason: `${basename(program)} reads its script from standard input` };
  if (o.stdin || first === undefined) return { kind: 'unknown', reason: `${basename(program)} reads its script from standard input or from words computed at run time` };
  return { kind: 'file' };
}
