/**
 * A wrapper's or runner's options read as GNU getopt_long reads them, so that the word
 * the policy takes for the program is the one the wrapper runs: `env --u X
 * cmd` is `env --unset X cmd` (any unique prefix of a long option), `xargs
 * -ri cmd` is `-r -i` (an optional value only in the option's own word),
 * `nice -n5` holds its value. Options end at `--` or at the first word that
 * is none (getopt's leading `+`), unless `permute` is set (runners.ts sets
 * it for su, runuser and script).
 *
 * An option the table does not have, a prefix of two, or a value where none
 * is taken is not read: the wrapper would fail, or do what its table does
 * not say, so no later word can be known to be its program.
 */

/** What an option takes: nothing, a value (its word's rest or the next word; `--opt=v` or `--opt v`), or one only in its own word (`-iX`, `--opt=v`). */
export type Takes = 'none' | 'required' | 'optional';

export interface OptionTable {
  /** The short options as getopt's optstring spells them: a letter, `:` after one that takes a value, `::` after one that may. */
  short: string;
  long: Readonly<Record<string, Takes>>;
  /** The table names the options that take a value, not every flag: an option it lacks is read as a flag of one word. */
  partial?: true;
  /** Options may follow operands (getopt without `+`): operands are passed over and kept. */
  permute?: true;
  /** A word of `-` and a number (`nice -10`, `--10`, `-+10`: nice's older form of -n) is an option of its own. */
  numeric?: true;
}

export interface ReadOption {
  /** `-u` or `--unset`: the long option's full name, whatever prefix was written. */
  name: string;
  value?: string;
  /** The index of the word after this option (and its value). */
  next: number;
}

export type Reading = { options: ReadOption[]; next: number; operands: string[] } | { unknown: string };

/** What short letter `c` takes in `optstring`, or undefined when it has none. */
function shortTakes(optstring: string, c: string): Takes | undefined {
  const at = c === ':' ? -1 : optstring.indexOf(c);
  if (at === -1) return undefined;
  if (optstring[at + 1] !== ':') return 'none';
  return optstring[at + 2] === ':' ? 'optional' : 'required';
}

/** The long option a written name means: itself, or the one option it is a prefix of; else why none. */
function longName(table: OptionTable, written: string): string | { unknown: string } {
  if (Object.hasOwn(table.long, written)) return written;
  const matches = Object.keys(table.long).filter((n) => n.startsWith(written));
  if (matches.length === 1) return matches[0] ?? written;
  return { unknown: matches.length === 0 ? `unknown option --${written}` : `ambiguous option --${written} (${matches.join(', ')})` };
}

/** Options read from one word (and the next when a value is there): the options, or why they are not read. */
function readWord(table: OptionTable, args: readonly string[], i: number): ReadOption[] | { unknown: string } {
  const a = args[i] ?? '';
  if (a.startsWith('--')) return readLong(table, a.slice(2), args, i);
  const out: ReadOption[] = [];
  for (let j = 1; j < a.length; j++) {
    const c = a[j] ?? '';
    const takes = shortTakes(table.short, c) ?? (table.partial ? 'none' : undefined);
    if (takes === undefined) return { unknown: `unknown option -${c}` };
    const rest = a.slice(j + 1);
    if (takes === 'none') out.push({ name: `-${c}`, next: i + 1 });
    else if (rest !== '' || takes === 'optional') return [...out, { name: `-${c}`, ...(rest === '' ? {} : { value: rest }), next: i + 1 }];
    else return [...out, { name: `-${c}`, ...valueAt(args, i + 1), next: i + 2 }];
  }
  return out;
}

/** The next word as a value, when there is one. */
function valueAt(args: readonly string[], i: number): { value?: string } {
  const v = args[i];
  return v === undefined ? {} : { value: v };
}

function readLong(table: OptionTable, body: string, args: readonly string[], i: number): ReadOption[] | { unknown: string } {
  const eq = body.indexOf('=');
  const written = eq === -1 ? body : body.slice(0, eq);
  const name = longName(table, written);
  if (typeof name !== 'string') return table.partial ? [{ name: `--${written}`, next: i + 1 }] : name;
  const takes = table.long[name] ?? 'none';
  if (eq !== -1) return takes === 'none' ? { unknown: `option --${name} takes no value` } : [{ name: `--${name}`, value: body.slice(eq + 1), next: i + 1 }];
  if (takes === 'required') return [{ name: `--${name}`, ...valueAt(args, i + 1), next: i + 2 }];
  return [{ name: `--${name}`, next: i + 1 }];
}

/** Read the options of `args` from `from` on: each option, the index of the first word after them, and (permuting) the operands passed over. */
export function readOptions(table: OptionTable, args: readonly string[], from = 0): Reading {
  const options: ReadOption[] = [];
  const operands: string[] = [];
  let i = from;
  while (i < args.length) {
    const a = args[i] ?? '';
    if (a === '--') return { options, next: i + 1, operands };
    if (!a.startsWith('-') || a === '-') {
      if (table.permute !== true) break;
      operands.push(a);
      i++;
      continue;
    }
    const read = table.numeric === true && /^-[-+]?\d/.test(a) ? [{ name: '-n', value: a.slice(1), next: i + 1 }] : readWord(table, args, i);
    if ('unknown' in read) return read;
    options.push(...read);
    i = read.at(-1)?.next ?? i + 1;
  }
  return { options, next: i, operands };
}

/** A command that cannot be known before it runs; `unread` when a wrapper's or runner's options are not read (refused under deny rules). */
export interface Undecidable {
  undecidable: string;
  unread?: true;
}

/** The command of `name`, which has an option (`why`) the policy does not read. */
export function unreadable(name: string, why: string): Undecidable {
  return { undecidable: `${name} has an option the policy does not read (${why}): its command cannot be told`, unread: true };
}

/** The command of `name`, made of words computed at run time (`taskset 1 $X`, `script -c "$X"`). */
export function computedCommand(name: string): Undecidable {
  return { undecidable: `${name} with a command computed at run time` };
}

/** The options every GNU tool has. */
export const HELP = { help: 'none', version: 'none' } as const;

/** A table's own entry for a program's name: never an object's inherited property (a program named `toString`). */
export function own<T>(table: Readonly<Record<string, T>>, name: string): T | undefined {
  return Object.hasOwn(table, name) ? table[name] : undefined;
}
