/**
 * Commands a git subcommand is given in its arguments and runs: `rebase
 * -x`, `difftool -x`, `grep -O`, `filter-branch --tree-filter` and the other
 * filters, `submodule foreach`, `bisect run`, the programs a transport starts
 * for a local remote (`fetch --upload-pack`, `clone -u`, `push
 * --receive-pack`), `send-email --sendmail-cmd`. Each is checked like the
 * command given to isolate (`git rebase -x 'git push' HEAD~1` is refused by
 * "git push *"). Settings a subcommand writes for later git commands (`git
 * config alias.p push`, `git clone -c core.hooksPath=…`) and hooks it takes
 * from a template directory cannot be decided.
 */
import { settingRunsCommands } from './git-forms.js';
import type { Words } from './words.js';

/** What a subcommand runs: a shell script, a command's words, or a reason it cannot be known. */
export type GitRuns = { script: string } | { words: Words } | { undecidable: string };

interface GivenCommand {
  /** Long options whose value is a shell script (git accepts any unambiguous prefix of one: `--exe=…`). */
  long: readonly string[];
  /** The short option whose value is a script. */
  short?: string;
  /** Every short option that takes a value: in a cluster, the rest of the word (or the next word) is its value. */
  values?: string;
  /** The value is optional, so only given in the same word (`-Ocmd`, `--open-files-in-pager=cmd`). */
  attached?: true;
  /** Filter-branch reads its options itself: names in full only. */
  exact?: true;
}

const UPLOAD = { long: ['upload-pack', 'exec'] };
const RECEIVE = { long: ['receive-pack', 'exec'] };
const FILTERS = ['setup', 'env-filter', 'tree-filter', 'index-filter', 'parent-filter', 'msg-filter', 'commit-filter', 'tag-name-filter'];

const GIVEN: Record<string, GivenCommand> = {
  rebase: { long: ['exec'], short: 'x', values: 'sXCx' },
  difftool: { long: ['extcmd'], short: 'x', values: 'xtX' },
  grep: { long: ['open-files-in-pager'], short: 'O', values: 'OefABCm', attached: true },
  'filter-branch': { long: FILTERS, values: 'd', exact: true },
  fetch: { long: ['upload-pack'] },
  pull: { long: ['upload-pack'] },
  'ls-remote': UPLOAD,
  'fetch-pack': UPLOAD,
  archive: { long: ['exec'] },
  clone: { long: ['upload-pack'], short: 'u', values: 'uobjc' },
  push: RECEIVE,
  'send-pack': RECEIVE,
  'send-email': { long: ['sendmail-cmd', 'to-cmd', 'cc-cmd', 'header-cmd'] },
};

/** The value of a long option that gives a command (`--exec=x`, `--exec x`, `--exe=x`), with how many words it took. */
function longValue(spec: GivenCommand, args: readonly string[], i: number): { value: string; words: number } | undefined {
  const a = args[i] ?? '';
  const eq = a.indexOf('=');
  const name = a.slice(2, eq === -1 ? undefined : eq);
  if (name === '' || !spec.long.some((l) => (spec.exact ? l === name : l.startsWith(name)))) return undefined;
  if (eq !== -1) return { value: a.slice(eq + 1), words: 1 };
  return spec.attached ? undefined : { value: args[i + 1] ?? '', words: 2 };
}

/** The value of the short option in a cluster (`-x cmd`, `-qx cmd`, `-xcmd`), with how many words it took; `skip` when another option takes the next word. */
function shortValue(spec: GivenCommand, a: string, next: string | undefined): { value?: string; words: number } {
  for (let j = 1; j < a.length; j++) {
    const letter = a[j] ?? '';
    if (!(spec.values ?? '').includes(letter)) continue;
    const rest = a.slice(j + 1);
    const takesNext = rest === '' && !(letter === spec.short && spec.attached);
    if (letter !== spec.short) return { words: takesNext ? 2 : 1 };
    if (rest !== '') return { value: rest, words: 1 };
    return spec.attached ? { words: 1 } : { value: next ?? '', words: 2 };
  }
  return { words: 1 };
}

/** The scripts given by options (every occurrence: git runs each `-x`). */
function optionScripts(spec: GivenCommand, args: readonly string[]): string[] {
  const scripts: string[] = [];
  for (let i = 0; i < args.length; ) {
    const a = args[i] ?? '';
    if (a === '--') break;
    if (a.startsWith('--')) {
      const v = longValue(spec, args, i);
      if (v !== undefined) scripts.push(v.value);
      i += v?.words ?? 1;
    } else if (a.startsWith('-') && a !== '-') {
      const v = shortValue(spec, a, args[i + 1]);
      if (v.value !== undefined) scripts.push(v.value);
      i += v.words;
    } else i++;
  }
  return scripts;
}

/** The words after a sub-subcommand and its options (`submodule [--quiet] foreach [--recursive] <command>`, `bisect run <command>`). */
function after(args: readonly string[], word: string): string[] | undefined {
  const at = args.indexOf(word);
  if (at === -1 || args.slice(0, at).some((a) => !a.startsWith('-'))) return undefined;
  let i = at + 1;
  while (i < args.length && (args[i] ?? '').startsWith('-')) if (args[i++] === '--') break;
  return args.slice(i);
}

const quote = (w: string): string => `'${w.replace(/'/g, `'\\''`)}'`;

/** What `git config` and `git clone` set for later git commands, when that runs commands. */
function settingsWritten(sub: string, args: readonly string[]): string | undefined {
  if (sub === 'config' && args.some((a) => !a.startsWith('-') && settingRunsCommands(a))) return 'git config sets a setting with which git later runs a command (an alias, a pager, a hook path, …)';
  if (sub === 'clone' || sub === 'init') {
    for (const [i, a] of args.entries()) {
      if (/^--temp/.test(a)) return `git ${sub} --template copies hooks that git then runs`;
      const setting = a === '-c' || a === '--config' ? args[i + 1] : /^(?:-c|--config=)(.+)$/.exec(a)?.[1];
      if (setting !== undefined && settingRunsCommands(setting)) return `git ${sub} ${a}: a setting with which git runs a command of its own`;
    }
  }
  return undefined;
}

/** The commands `git <sub> …` (its plain form) is given to run, and what cannot be known of them. */
export function gitRuns(words: Words): GitRuns[] {
  const [, sub = '', ...args] = words.argv;
  const out: GitRuns[] = [];
  const written = settingsWritten(sub, args);
  if (written !== undefined) out.push({ undecidable: written });
  const spec = GIVEN[sub];
  if (spec !== undefined) out.push(...optionScripts(spec, args).map((script) => ({ script })));
  const foreach = sub === 'submodule' ? after(args, 'foreach') : undefined;
  if (foreach !== undefined && foreach.length > 0) {
    // One word is a script; more are run as `sh -c '<first> "$@"' <first> <rest>`.
    out.push({ script: [foreach[0] ?? '', ...foreach.slice(1).map(quote)].join(' ') + (words.tail ? ' "$@"' : '') });
  }
  const run = sub === 'bisect' ? after(args, 'run') : undefined;
  if (run !== undefined && run.length > 0) out.push({ words: { argv: run, tail: words.tail } });
  if (words.tail && (spec !== undefined || foreach !== undefined || run !== undefined)) out.push({ undecidable: `git ${sub} with words computed at run time may run a command it is given` });
  return out;
}
