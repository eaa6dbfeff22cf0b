/**
 * git as the policy reads it: `git -C dir push`, `git --git-dir=x push`,
 * `git -c k=v --no-pager push` all run `git push`, and so do the programs
 * git dispatches to (`/usr/lib/git-core/git-push`), its other ways to push
 * (`send-pack`, `http-push`, `subtree push`) and an alias given with
 * `-c` (`git -c alias.p=push p` runs `git push`; `git -c 'alias.p=!cmd' p`
 * runs the shell script `cmd`). Their plain form `git push …` is what a rule
 * such as "git push *" is matched against too. A `-c` setting that makes git
 * run a command of its own choosing (core.sshCommand, a pager, an editor, a
 * hook path, …), a setting taken from the environment (`--config-env`) and
 * an alias git would split by its own quoting rules cannot be decided.
 */
import { basename } from 'node:path';
import type { Words } from './words.js';

/** git's global options that take the next word as their value. */
const WITH_VALUE = new Set(['-C', '-c', '--git-dir', '--work-tree', '--namespace', '--config-env', '--super-prefix', '--exec-path', '--list-cmds']);

/** Settings whose value is a command git runs (or a place it runs commands from, or with which it runs a command other than the one named: help.autocorrect runs `git psuh` as `git push`). Aliases are read instead (aliasOf). */
const RUNS_COMMANDS = /^(help\.autocorrect=|core\.(sshcommand|pager|editor|fsmonitor|hookspath|askpass|gitproxy|alternaterefscommand)=|sendemail\.|tar\.|trailer\.|submodule\.|init\.|web\.|browser\.|man\.|instaweb\.|guitool\.|credential\.|diff\.|difftool\.|merge\.|mergetool\.|filter\.|gpg\.|sequence\.editor=|pager\.|uploadpack\.|receive\.|remote\.[^=]*\.(uploadpack|receivepack|proxy)=|include|protocol\.|ssh\.|http\.|interactive\.difffilter=)/i;

/** Whether a setting (`key=value`, or a key alone) names a command git runs, or an alias (which names a git command or a script). */
export function settingRunsCommands(setting: string): boolean {
  return /^alias\./i.test(setting) || RUNS_COMMANDS.test(setting.includes('=') ? setting : `${setting}=`);
}

/**
 * Variables with which git runs a command, or takes settings that may:
 * editors, pagers, ssh, askpass, the external diff, its exec path, settings
 * given in the environment (`GIT_CONFIG_COUNT` and its keys and values,
 * `GIT_CONFIG_PARAMETERS`), other configuration files, hook templates and
 * the transports it allows (`ext::` runs a command).
 */
const GIT_VARIABLE = /^(GIT_(EDITOR|SEQUENCE_EDITOR|PAGER|SSH|SSH_COMMAND|ASKPASS|EXTERNAL_DIFF|EXEC_PATH|CONFIG|CONFIG_PARAMETERS|CONFIG_COUNT|CONFIG_KEY_[0-9]+|CONFIG_VALUE_[0-9]+|CONFIG_GLOBAL|CONFIG_SYSTEM|PROXY_COMMAND|TEMPLATE_DIR|ALLOW_PROTOCOL)|EDITOR|VISUAL|PAGER|SSH_ASKPASS)([=+]|$)/;

/** Why a word naming such a variable (`GIT_EDITOR=…`, given to env or exported) makes git run a command, or undefined. */
export function gitVariable(word: string): string | undefined {
  return GIT_VARIABLE.test(word) ? `${word.replace(/[=+].*$/s, '')} names a command (or settings) that git, and other programs, run` : undefined;
}

/** npm's settings that name a command it runs: npx's and npm exec's call, its scripts' shell, its git, editor, browser and node-gyp. */
const NPM_COMMAND_SETTINGS = ['call', 'script-shell', 'shell', 'git', 'editor', 'browser', 'viewer', 'node-gyp'];

/** Those settings from the environment (`npm_config_<name>`, in any case). */
const NPM_COMMAND_SETTING = new RegExp(`^npm_config_(${NPM_COMMAND_SETTINGS.map((s) => s.replaceAll('-', '_')).join('|')})([=+]|$)`, 'i');

/** Why a word naming such a variable (`npm_config_call=…`, given to env or exported) makes npm run a command, or undefined. */
export function npmVariable(word: string): string | undefined {
  return NPM_COMMAND_SETTING.test(word) ? `${word.replace(/[=+].*$/s, '')} names a command npm runs` : undefined;
}

/**
 * Why an option of npm's command line (npx's and pnpm's too) that sets one of those settings makes npm run a command,
 * or undefined: `--script-shell=prog`, `--shell prog`, also by a prefix of its name and with one dash, as npm reads it
 * (`--script-sh=prog`, `-script-shell=prog`). A lone letter is a short option (`-c` is npx's script), not a prefix.
 */
export function npmOption(word: string): string | undefined {
  const name = /^--?([a-z][\w-]+)(=|$)/i.exec(word)?.[1]?.toLowerCase().replaceAll('_', '-');
  return name !== undefined && NPM_COMMAND_SETTINGS.some((s) => s.startsWith(name)) ? `npm's ${word.replace(/=.*$/s, '')} names a command npm runs` : undefined;
}

export type GitForm = Words | { undecidable: string } | undefined;

/** The most aliases followed in one command (git itself refuses a loop). */
const MAX_ALIASES = 16;

/** An alias a `-c` setting defines: its name (git compares names ignoring case) and value, or undefined. */
function aliasOf(setting: string): [string, string] | undefined {
  const m = /^alias\.([^=]+)=(.*)$/is.exec(setting);
  return m === null ? undefined : [(m[1] ?? '').toLowerCase(), m[2] ?? ''];
}

/** Where git's subcommand starts after its global options (noting the aliases `-c` defines), or a reason the command cannot be decided. */
function subcommandStart(args: readonly string[], aliases: Map<string, string>): number | { undecidable: string } {
  let i = 0;
  while (i < args.length) {
    const a = args[i] ?? '';
    if (a === '--') return i + 1;
    if (!a.startsWith('-')) return i;
    if (a === '--config-env' || a.startsWith('--config-env=')) return { undecidable: `git ${a}${a === '--config-env' ? ` ${args[i + 1] ?? ''}` : ''}: a setting taken from the environment` };
    const setting = a === '-c' ? args[i + 1] : /^-c(.+)$/.exec(a)?.[1];
    const alias = setting === undefined ? undefined : aliasOf(setting);
    if (alias !== undefined) aliases.set(...alias);
    else if (setting !== undefined && RUNS_COMMANDS.test(setting)) {
      return { undecidable: `git ${a} ${setting}: a setting with which git runs a command of its own` };
    }
    if (a.startsWith('--exec-path=') || (a === '--exec-path' && i + 1 < args.length)) return { undecidable: `git ${a}: git runs its commands from another directory` };
    i += WITH_VALUE.has(a) ? 2 : 1;
  }
  return i;
}

/** What an alias runs in place of its name: git's own words, or a shell script (`!…`, given the remaining words as "$@"). */
function expandAlias(name: string, value: string, rest: readonly string[], tail: boolean): string[] | Words | { undecidable: string } {
  if (value.trimStart().startsWith('!')) {
    const script = value.trimStart().slice(1);
    return { argv: ['sh', '-c', rest.length > 0 || tail ? `${script} "$@"` : script], tail: false };
  }
  if (/["'\\]/.test(value)) return { undecidable: `git alias ${name}: its value is split by git's quoting rules` };
  return value.split(/\s+/).filter((w) => w !== '');
}

/**
 * git's other ways to push, as `git push`: the plumbing `send-pack` that
 * push itself runs, `http-push` (for the dumb HTTP transport), and
 * `subtree push`, which runs `git push` of its own.
 */
function pushEquivalent(program: string, args: readonly string[], tail: boolean): Words | undefined {
  const [sub, ...rest] = args;
  if (sub === 'send-pack' || sub === 'http-push') return { argv: [program, 'push', ...rest], tail };
  if (sub === 'subtree' && rest.find((a) => !a.startsWith('-')) === 'push') return { argv: [program, 'push', ...rest.filter((a) => a !== 'push')], tail };
  return undefined;
}

/** The plain form of a git command (`git push …`), or undefined when it is already plain or not git. */
export function gitForm(words: Words): GitForm {
  const [program = '', ...first] = words.argv;
  const name = basename(program);
  const dispatched = /^git-([a-z][a-z0-9-]*)$/.exec(name);
  if (dispatched !== null) return { argv: ['git', dispatched[1] ?? '', ...first], tail: words.tail };
  // No word after git but words computed at run time: they may be its global options (-c alias.x='!cmd'), read below.
  if (name === 'git' && first.length > 0 && !(first[0] ?? '').startsWith('-')) return pushEquivalent(program, first, words.tail);
  if (name !== 'git') return undefined;
  const aliases = new Map<string, string>();
  let args = first;
  for (let round = 0; round <= MAX_ALIASES; round++) {
    const start = subcommandStart(args, aliases);
    if (typeof start !== 'number') return start;
    if (start >= args.length) return words.tail ? { undecidable: 'git with a subcommand computed at run time' } : undefined;
    const sub = args[start] ?? '';
    const value = aliases.get(sub.toLowerCase());
    if (value === undefined) return pushEquivalent(program, args.slice(start), words.tail) ?? { argv: [program, ...args.slice(start)], tail: words.tail };
    const expanded = expandAlias(sub, value, args.slice(start + 1), words.tail);
    if (!Array.isArray(expanded)) return expanded;
    args = [...expanded, ...args.slice(start + 1)];
  }
  return { undecidable: `git aliases nested more than ${MAX_ALIASES} deep` };
}
