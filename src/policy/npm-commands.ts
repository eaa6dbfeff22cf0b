/**
 * npm's subcommand as npm reads it (`deref` in npm's lib/utils/cmd-list.js):
 * a command's name, an alias of one (`x` is `exec`), or any prefix of them
 * that only one begins with (`exe` is `exec`), after camelCase is spelled
 * with dashes (`runScript` is `run-script`). pnpm, yarn and bun take their
 * commands by their full names and aliases only: none abbreviates them.
 */
import { own } from './getopt.js';

/** npm 11's commands (lib/utils/cmd-list.js, npm 11.19.1). */
const COMMANDS = [
  'access', 'adduser', 'approve-scripts', 'audit', 'bugs', 'cache', 'ci', 'completion', 'config', 'dedupe',
  'deny-scripts', 'deprecate', 'diff', 'dist-tag', 'docs', 'doctor', 'edit', 'exec', 'explain', 'explore',
  'find-dupes', 'fund', 'get', 'help', 'help-search', 'init', 'install', 'install-ci-test', 'install-scripts',
  'install-test', 'link', 'll', 'login', 'logout', 'ls', 'org', 'outdated', 'owner', 'pack', 'ping', 'pkg', 'prefix',
  'profile', 'prune', 'publish', 'query', 'rebuild', 'repo', 'restart', 'root', 'run', 'sbom', 'search', 'set',
  'shrinkwrap', 'stage', 'star', 'stars', 'start', 'stop', 'team', 'test', 'token', 'trust', 'undeprecate',
  'uninstall', 'unpublish', 'unstar', 'update', 'version', 'view', 'whoami',
];

/** npm 11's aliases (the same file), which an abbreviation may name too (`npm ins` is `npm install`). */
const ALIASES: Readonly<Record<string, string>> = {
  author: 'owner', home: 'docs', issues: 'bugs', info: 'view', show: 'view', find: 'search', add: 'install',
  unlink: 'uninstall', remove: 'uninstall', rm: 'uninstall', r: 'uninstall', un: 'uninstall', rb: 'rebuild',
  list: 'ls', ln: 'link', create: 'init', i: 'install', it: 'install-test', cit: 'install-ci-test', u: 'update',
  up: 'update', c: 'config', s: 'search', se: 'search', tst: 'test', t: 'test', ddp: 'dedupe', v: 'view',
  'run-script': 'run', 'clean-install': 'ci', 'clean-install-test': 'install-ci-test', x: 'exec', why: 'explain',
  la: 'll', verison: 'version', ic: 'ci', innit: 'init', in: 'install', ins: 'install', inst: 'install',
  insta: 'install', instal: 'install', isnt: 'install', isnta: 'install', isntal: 'install', isntall: 'install',
  'install-clean': 'ci', 'isntall-clean': 'ci', hlep: 'help', 'dist-tags': 'dist-tag', upgrade: 'update',
  udpate: 'update', rum: 'run', sit: 'install-ci-test', urn: 'run', ogr: 'org', 'add-user': 'adduser',
};

const NAMES = [...COMMANDS, ...Object.keys(ALIASES)];

/** The command npm runs for `word` (its first word that is no option), or undefined when npm knows none by it. */
export function npmCommand(word: string): string | undefined {
  const c = word.replace(/[A-Z]/g, (m) => `-${m.toLowerCase()}`);
  const named = NAMES.includes(c) ? [c] : NAMES.filter((n) => c !== '' && n.startsWith(c));
  const name = named.length === 1 ? named[0] : undefined;
  return name === undefined ? undefined : (own(ALIASES, name) ?? name);
}

/**
 * npm's command written by its full name and first (`npm publ` is `npm
 * publish`, `npm i` is `npm install`, `npm --tag beta publish` is `npm
 * publish --tag beta`: npm reads its options anywhere), so that a rule on the
 * command matches however it was written; undefined when it already is, or
 * npm knows no command by it. After npm's own options a word may be an option's value (`npm
 * --tag beta publ`): each such word npm could read as its command is tried,
 * the first that names one taken (errs towards seeing the command).
 */
export function npmForm(program: string, args: readonly string[], tail: boolean): { argv: string[]; tail: boolean } | undefined {
  for (let i = 0; i < args.length; i++) {
    const a = args[i] ?? '';
    const before = args[i - 1];
    const value = before !== undefined && before.startsWith('-') && before !== '--' && !before.includes('=');
    if (a === '--' || (a.startsWith('-') && !value)) continue;
    const command = a.startsWith('-') ? undefined : npmCommand(a);
    if (command !== undefined) return command === a && i === 0 ? undefined : { argv: [program, command, ...args.slice(0, i), ...args.slice(i + 1)], tail };
    if (!value) return undefined;
  }
  return undefined;
}
