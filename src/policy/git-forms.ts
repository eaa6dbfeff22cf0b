/**
 * git as the policy reads it: `git -C dir push`, `git --git-dir=x push`,
 * `git -c k=v --no-pager push` all run `git push`, and so do the programs
 * git dispatches to (`/usr/lib/git-core/git-push`). Their plain form
 * `git push …` is what a rule such as "git push *" is matched against too.
 * A `-c` setting that makes git run a command of its own choosing (an alias
 * starting with `!`, core.sshCommand, a pager, an editor, a hook path, …)
 * cannot be decided.
 */
import { basename } from 'node:path';
import type { Words } from './words.js';

/** git's global options that take the next word as their value. */
const WITH_VALUE = new Set(['-C', '-c', '--git-dir', '--work-tree', '--namespace', '--config-env', '--super-prefix', '--exec-path', '--list-cmds']);

/** Settings whose value is a command git runs (or a place it runs commands from). */
const RUNS_COMMANDS = /^(alias\.[^=]*=\s*!|core\.(sshcommand|pager|editor|fsmonitor|hookspath|askpass|gitproxy)=|credential\.|diff\.|difftool\.|merge\.|mergetool\.|filter\.|gpg\.|sequence\.editor=|pager\.|uploadpack\.|receive\.|remote\.[^=]*\.(uploadpack|receivepack|proxy)=|include|protocol\.|ssh\.|http\.|interactive\.difffilter=)/i;

export type GitForm = Words | { undecidable: string } | undefined;

/** Where git's subcommand starts after its global options, or a reason the command cannot be decided. */
function subcommandStart(args: readonly string[]): number | { undecidable: string } {
  let i = 0;
  while (i < args.length) {
    const a = args[i] ?? '';
    if (a === '--') return i + 1;
    if (!a.startsWith('-')) return i;
    const setting = a === '-c' || a === '--config-env' ? args[i + 1] : /^-c(.+)$/.exec(a)?.[1];
    if (setting !== undefined && (a === '--config-env' || RUNS_COMMANDS.test(setting))) {
      return { undecidable: `git ${a} ${setting}: a setting with which git runs a command of its own` };
    }
    if (a.startsWith('--exec-path=') || (a === '--exec-path' && i + 1 < args.length)) return { undecidable: `git ${a}: git runs its commands from another directory` };
    i += WITH_VALUE.has(a) ? 2 : 1;
  }
  return i;
}

/** The plain form of a git command (`git push …`), or undefined when it is already plain or not git. */
export function gitForm(words: Words): GitForm {
  const [program = '', ...args] = words.argv;
  const name = basename(program);
  const dispatched = /^git-([a-z][a-z0-9-]*)$/.exec(name);
  if (dispatched !== null) return { argv: ['git', dispatched[1] ?? '', ...args], tail: words.tail };
  if (name !== 'git' || !(args[0] ?? '').startsWith('-')) return undefined;
  const start = subcommandStart(args);
  if (typeof start !== 'number') return start;
  if (start >= args.length) return words.tail ? { undecidable: 'git with a subcommand computed at run time' } : undefined;
  return { argv: [program, ...args.slice(start)], tail: words.tail };
}
