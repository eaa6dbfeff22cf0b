/**
 * Whether a command is a shell, and what it would run: a script given with
 * `-c` (`sh -c`, `bash -c`, `bash -lc`, `dash -c`, `zsh -c`, ...), a script
 * file, or whatever arrives on its standard input (`curl x | sh`).
 */
import { basename } from 'node:path';
import { normalProgram, type Words } from './words.js';

const SHELLS = new Set(['sh', 'bash', 'dash', 'zsh', 'ksh', 'mksh', 'ash', 'posh', 'yash', 'rbash']);

/** Long options of bash and zsh that take the next word as their value. */
const LONG_WITH_VALUE = new Set(['--rcfile', '--init-file']);

export type ShellInput =
  /** The script after -c, as one literal word. */
  | { kind: 'script'; script: string }
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
  next: number;
}

/** Reads a shell's options: -c / -s anywhere in a cluster, -o/+o and -O/+O take a value. */
function shellOptions(args: readonly string[]): ShellOptions {
  let command = false;
  let stdin = false;
  let i = 0;
  while (i < args.length) {
    const a = args[i] ?? '';
    if (a === '--' || a === '-') return { command, stdin, next: i + 1 };
    if (LONG_WITH_VALUE.has(a)) i += 2;
    else if (a.startsWith('--')) i++;
    else if (/^[-+][A-Za-z]+$/.test(a)) {
      const letters = a.slice(1);
      if (a.startsWith('-') && letters.includes('c')) command = true;
      if (a.startsWith('-') && letters.includes('s')) stdin = true;
      i += 1 + [...letters].filter((l) => l === 'o' || l === 'O').length;
    } else return { command, stdin, next: i };
  }
  return { command, stdin, next: i };
}

/** What a shell command would run, or undefined when `words` is not a shell. */
export function shellInput(words: Words): ShellInput | undefined {
  const [program, ...args] = words.argv;
  if (program === undefined || !isShell(program)) return undefined;
  const o = shellOptions(args);
  const first = args[o.next];
  if (o.command) {
    if (first === undefined) return { kind: 'unknown', reason: `${basename(program)} -c with a script computed at run time` };
    return { kind: 'script', script: first };
  }
  if (first === undefined && !words.tail) return { kind: 'unknown', reason: `${basename(program)} reads its script from standard input` };
  if (o.stdin || first === undefined) return { kind: 'unknown', reason: `${basename(program)} reads its script from standard input or from words computed at run time` };
  return { kind: 'file' };
}
