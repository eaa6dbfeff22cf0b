/**
 * Each wrapper's options, complete, as its own source gives them to getopt
 * (getopt.ts): a prefix is read against all of a tool's long options, so a
 * table that lacked one would take `--ver` for `--verbose` where the tool
 * reads `--version`, and an option missing here makes the command
 * unreadable rather than misread. Where GNU and BSD differ, the table is
 * their union (BSD env's -P altpath, -L and -U user/class).
 */
import { HELP, type OptionTable } from './getopt.js';

/** A shell builtin's options: letters only, read by bash's internal getopt (clusters, `--`). */
const builtin = (short: string): OptionTable => ({ short, long: {} });

/** GNU coreutils env 9.x, and BSD/macOS env. */
export const ENV: OptionTable = {
  short: '0a:C:iL:P:S:u:U:v',
  long: {
    ...HELP, 'ignore-environment': 'none', null: 'none', unset: 'required', chdir: 'required', 'default-signal': 'optional', 'ignore-signal': 'optional',
    'block-signal': 'optional', 'list-signal-handling': 'none', debug: 'none', 'split-string': 'required', argv0: 'required',
  },
};

export const WRAPPER_OPTIONS: Readonly<Record<string, OptionTable>> = {
  env: ENV,
  nice: { short: 'n:', long: { ...HELP, adjustment: 'required' }, numeric: true },
  nohup: { short: '', long: HELP },
  timeout: { short: 'fk:ps:v', long: { ...HELP, foreground: 'none', 'kill-after': 'required', 'preserve-status': 'none', signal: 'required', verbose: 'none' } },
  stdbuf: { short: 'i:o:e:', long: { ...HELP, input: 'required', output: 'required', error: 'required' } },
  // util-linux
  setsid: { short: 'cfwhV', long: { ...HELP, ctty: 'none', fork: 'none', wait: 'none' } },
  ionice: { short: 'c:n:p:P:tu:hV', long: { ...HELP, class: 'required', classdata: 'required', pid: 'required', pgid: 'required', ignore: 'none', uid: 'required' } },
  // GNU time (the program; bash's keyword takes -p only)
  time: { short: 'af:o:pqvV', long: { ...HELP, append: 'none', format: 'required', output: 'required', portability: 'none', quiet: 'none', verbose: 'none' } },
  // GNU findutils xargs
  xargs: {
    short: '0a:d:e::E:i::I:l::L:n:oprP:s:tx',
    long: {
      ...HELP, null: 'none', 'arg-file': 'required', delimiter: 'required', eof: 'optional', replace: 'optional', 'max-lines': 'optional', 'max-args': 'required',
      'open-tty': 'none', interactive: 'none', 'no-run-if-empty': 'none', 'max-procs': 'required', 'max-chars': 'required', verbose: 'none', exit: 'none',
      'show-limits': 'none', 'process-slot-var': 'required',
    },
  },
  // sudo 1.9
  sudo: {
    short: 'Aa:BbC:c:D:Eeg:Hh::iKklNnPp:R:r:SsT:t:U:u:Vv',
    long: {
      ...HELP, askpass: 'none', 'auth-type': 'required', background: 'none', bell: 'none', 'close-from': 'required', 'login-class': 'required', chdir: 'required',
      'preserve-env': 'optional', edit: 'none', group: 'required', 'set-home': 'none', host: 'required', login: 'none', 'remove-timestamp': 'none',
      'reset-timestamp': 'none', list: 'none', 'non-interactive': 'none', 'preserve-groups': 'none', prompt: 'required', chroot: 'required', role: 'required',
      stdin: 'none', shell: 'none', type: 'required', 'command-timeout': 'required', 'other-user': 'required', user: 'required', validate: 'none',
    },
  },
  // OpenBSD doas
  doas: { short: 'a:C:Lnsu:', long: {} },
  busybox: { short: '', long: { list: 'none', 'list-full': 'none', install: 'none', help: 'none' } },
  unbuffer: { short: 'p', long: {} },
  command: builtin('pvV'),
  exec: builtin('cla:'),
  builtin: builtin(''),
};

/** Wrappers that read no options: their first word is the command (bash's `coproc`, zsh's precommand modifiers). */
export const NO_OPTIONS = new Set(['coproc', 'noglob', 'nocorrect']);
