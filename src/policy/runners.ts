/**
 * Programs beside the shell's own wrappers (wrappers.ts) that run a command
 * named in their arguments: util-linux's (`chrt`, `taskset`, `flock`,
 * `unshare`, `nsenter`, `setpriv`, `prlimit`, `setarch`, `runuser`, `su`,
 * `script`), coreutils' `chroot`, procps' `watch`, shadow's `sg`, and
 * `strace`, `ltrace`, `ssh-agent`, `fakeroot`, `dbus-run-session`,
 * `catchsegv`, `valgrind`, `faketime`, `firejail`, `proot`, `pkexec`,
 * `systemd-run`, `screen`, `gdb --args`, the dynamic loader
 * (`/lib64/ld-linux-x86-64.so.2 /usr/bin/git push`, under any of its names:
 * LOADER) and the package runners (`npx`, `bunx`, `npm exec`, `pnpm
 * exec`/`dlx`, `yarn exec`/`dlx`, `bun x`).
 * `taskset 1 git push` is `git push`; a script given with -c (`su -c`,
 * `runuser -c`, `flock -c`, `script -c`, `npx -c`) and the words of `watch`
 * and `sg` are run by the shell: `sh -c script`, parsed in turn. Programs
 * that run what their input, a script of their own language or another
 * session says (`at`, `batch`, `expect`, `parallel`, `start-stop-daemon`,
 * tmux's commands that start one and its -f, `screen -X` and `-c`,
 * `strace -o '|cmd'`, gdb without --args or with
 * other options than GDB_PLAIN before it) are undecidable.
 */
import { computedCommand, own, readOptions, unreadable, type OptionTable, type Undecidable } from './getopt.js';
import { npmOption } from './git-forms.js';
import { npmCommand } from './npm-commands.js';
import { RUNNER_OPTIONS } from './runner-options.js';
import type { Words } from './words.js';

interface Runner {
  /** Words after the options and before the command (chrt's priority, taskset's mask, flock's lock, chroot's root, setarch's architecture). */
  operands?: number;
  /** Options whose value is a script for the shell. */
  script?: readonly string[];
  /** Options with which it runs no command (chrt -p, taskset -p: they act on a running process). */
  pid?: readonly string[];
  /** Where its options may be: before the operands only, also after them (setarch x86_64 -R cmd), or anywhere (su, runuser, script: no command of their own after the operands). */
  options?: 'after' | 'anywhere';
  /** Its command words are joined into one script for the shell (watch without -x, sg). */
  joined?: true;
  /** A lone `-` before its operands is a flag of its own (sg's login shell), not the first operand. */
  login?: true;
  /** Options with which it runs the words as they are, not joined (watch -x). */
  exec?: readonly string[];
  /** Options with which it runs what another session or a script of its own says (screen -X): undecidable. */
  opaque?: readonly string[];
  /** It runs a shell (the one -s names, else the user's) with its script and the words after the user (su; runuser without -u). */
  userShell?: true;
  /** Given no command, it starts a shell ($SHELL, else /bin/sh) that reads its commands from its input: read as `sh`. */
  bareShell?: true;
}


const SCRIPT = ['-c', '--command', '--session-command'];

const RUNNERS: Record<string, Runner> = {
  chrt: { operands: 1, pid: ['-p', '--pid'] },
  taskset: { operands: 1, pid: ['-p', '--pid'] },
  flock: { operands: 1, script: ['-c', '--command'], options: 'after' },
  unshare: { bareShell: true },
  nsenter: { bareShell: true },
  setpriv: {},
  prlimit: { pid: ['-p', '--pid'] },
  chroot: { operands: 1, bareShell: true },
  setarch: { operands: 1, options: 'after', bareShell: true },
  linux32: { bareShell: true },
  linux64: { bareShell: true },
  runuser: { script: SCRIPT, options: 'anywhere', userShell: true },
  su: { script: SCRIPT, options: 'anywhere', userShell: true },
  // Its operand is the file it writes the session to, not a command.
  script: { operands: 1, script: ['-c', '--command'], options: 'anywhere', bareShell: true },
  strace: {},
  ltrace: {},
  'ssh-agent': {},
  fakeroot: { bareShell: true },
  'dbus-run-session': {},
  catchsegv: {},
  valgrind: {},
  watch: { joined: true, exec: ['-x', '--exec'] },
  sg: { operands: 1, script: ['-c'], options: 'after', joined: true, login: true, bareShell: true },
  faketime: { operands: 1 },
  firejail: { bareShell: true },
  proot: { bareShell: true },
  pkexec: { bareShell: true },
  'systemd-run': {},
  screen: { opaque: ['-X', '-c'] },
  // glibc's and musl's: --list and --verify load the program and run none of it (ldd), the others run it.
  'ld.so': { pid: ['--list', '--verify', '--help', '--version', '--list-tunables', '--list-diagnostics'] },
  npx: { script: ['-c', '--call'] },
  bunx: {},
};

/** npx (and npm exec) with no command: it runs the one npm_config_call (any case) names, from the environment, which the policy does not read. */
const NPX_CALL: Undecidable = { undecidable: 'npx with no command runs the one npm_config_call names (from the environment)', unread: true };

/** Package managers' subcommands that run a command as npx does (npm's also by an alias or abbreviation: isSubcommand). */
const PACKAGE_RUNNERS: Readonly<Record<string, readonly string[]>> = { npm: ['exec'], pnpm: ['exec', 'dlx'], yarn: ['exec', 'dlx'], bun: ['x'] };

/** Whether `word` names one of `subcommands` of the package manager `name`: npm reads `x` and `exe` as `exec` (npm-commands.ts). */
function isSubcommand(name: string, subcommands: readonly string[], word: string): boolean {
  return subcommands.includes(name === 'npm' ? (npmCommand(word) ?? '') : word);
}

/** Programs that run what their input, a language of their own or a session says: their command cannot be read from their words. */
const OPAQUE: Readonly<Record<string, string>> = {
  at: 'at runs the commands it reads from its input, later',
  batch: 'batch runs the commands it reads from its input, later',
  expect: 'expect runs what its script says',
  parallel: 'parallel runs commands it builds from its input',
  'start-stop-daemon': 'start-stop-daemon runs the program its options name',
};

/**
 * Where a package manager's subcommand that runs a command is (`npm exec`,
 * also after global options: `npm --yes exec`, `npm -w web exec`): the first
 * such word with only options, and the values they may take, before it.
 * Which options take a value is npm's to know, so a word after any option
 * may be one: a run subcommand there is read as the subcommand (errs
 * towards seeing a command).
 */
function packageRunSubcommand(name: string, args: readonly string[]): number | undefined {
  const subcommands = own(PACKAGE_RUNNERS, name);
  if (subcommands === undefined) return undefined;
  for (let i = 0; i < args.length; i++) {
    const a = args[i] ?? '';
    if (isSubcommand(name, subcommands, a)) return i;
    const before = args[i - 1];
    const option = a.startsWith('-') && a !== '--';
    const value = before !== undefined && before.startsWith('-') && before !== '--' && !before.includes('=');
    if (!option && !value) return undefined;
  }
  return undefined;
}

/** strace's output given to a command (`-o '|cmd'`, `-o!cmd`, `--output=|cmd`), which a shell runs. */
const STRACE_PIPE = /^(-[a-zA-Z]*o|--output=)[|!]/;

/** gdb's options that run no commands of their own (gdb -q --args cmd): with any other, its commands (-ex, -x) may run anything. */
const GDB_PLAIN = /^--?(q|quiet|silent|batch|nx|n|nh|readnow|readnever|tui)$/;

/** Whether gdb only runs the command after --args: nothing but GDB_PLAIN options before it. */
function gdbOnlyRuns(args: readonly string[]): boolean {
  const at = args.indexOf('--args');
  return at !== -1 && args.slice(0, at).every((a) => GDB_PLAIN.test(a));
}

/** tmux's first word that is not a global option or its value: its command (none: new-session). */
function tmuxCommand(args: readonly string[]): string | undefined {
  for (let i = 0; i < args.length; i++) {
    const a = args[i] ?? '';
    if (!a.startsWith('-')) return a;
    if (TMUX_VALUES.includes(a)) i++;
  }
  return undefined;
}

/** tmux's global options that take a value, and its commands that start a shell command. */
const TMUX_VALUES = ['-c', '-f', '-L', '-S', '-T'];
const TMUX_RUNS = new Set(['new', 'new-session', 'new-window', 'neww', 'split-window', 'splitw', 'respawn-pane', 'respawnp', 'respawn-window', 'respawnw', 'run-shell', 'run', 'if-shell', 'if', 'pipe-pane', 'pipep', 'display-popup', 'popup', 'send-keys', 'send']);

/** What a runner's options say: where they end, the script one of them gives, and whether it acts on a process instead. */
interface RunnerOptions {
  next: number;
  script?: string;
  pid: boolean;
  /** One of the runner's `exec` options was given. */
  exec: boolean;
}

/** The options of `args` from `from` on, read as the runner reads them; an option it does not have leaves its command unread. */
function runnerOptions(name: string, r: Runner, args: readonly string[], from: number, table: OptionTable, tail: boolean): RunnerOptions | Undecidable {
  const read = readOptions(table, args, from);
  if ('unknown' in read) return unreadable(name, read.unknown);
  const script = read.options.find((o) => r.script?.includes(o.name) === true);
  // A script option's value missing from the known words is the first word computed at run time.
  if (script !== undefined && script.value === undefined && tail) return computedCommand(name);
  const pid = read.options.some((o) => r.pid?.includes(o.name) === true);
  const exec = read.options.some((o) => r.exec?.includes(o.name) === true);
  return { next: read.next, ...(script === undefined ? {} : { script: script.value ?? '' }), pid, exec };
}

/** The dynamic loader's file names (ld-linux-x86-64.so.2, ld-linux-aarch64.so.1, ld-musl-x86_64.so.1, ld64.so.2, ld-2.31.so, ld.so.1). */
const LOADER = /^ld(?:64|-[\w.-]+)?\.so(?:\.\d+)*$/;

/** The name `RUNNERS` knows a program by: the dynamic loader's is `ld.so` whatever its file is called. */
function runnerName(name: string): string {
  return LOADER.test(name) ? 'ld.so' : name;
}

/** Whether `name` is a runner: a program that runs a command it is given, and needs an allow rule of its own. */
export function isRunner(name: string): boolean {
  return Object.hasOwn(RUNNERS, runnerName(name)) || Object.hasOwn(PACKAGE_RUNNERS, name) || name === 'gdb';
}

/** The programs that take npm's settings on their command line (git-forms.ts: npmOption). */
const NPM_CONFIGURED = new Set(['npm', 'npx', 'pnpm']);

/** Why an npm setting given before `--` (its options may be anywhere before it) makes the command unknown, or undefined. */
function npmSetting(name: string, args: readonly string[]): Undecidable | undefined {
  if (!NPM_CONFIGURED.has(name)) return undefined;
  const end = args.indexOf('--');
  const why = (end === -1 ? args : args.slice(0, end)).map(npmOption).find((w) => w !== undefined);
  return why === undefined ? undefined : { undecidable: why };
}

/** Why the command of a program that runs one its words do not name cannot be known; undefined for any other program. */
function opaqueCommand(name: string, args: readonly string[], tail: boolean): Undecidable | undefined {
  const setting = npmSetting(name, args);
  if (setting !== undefined) return setting;
  const why = own(OPAQUE, name);
  if (why !== undefined) return args.length > 0 || tail || name === 'at' || name === 'batch' ? { undecidable: why } : undefined;
  if (name === 'tmux' && tail) return computedCommand(name);
  if (name === 'tmux' && tmuxCommand(args) === undefined) return { undecidable: 'tmux with no command starts a session, and its shell' };
  if (name === 'tmux' && (args.includes('-c') || args.some((a, i) => TMUX_RUNS.has(a) && !TMUX_VALUES.includes(args[i - 1] ?? '')))) return { undecidable: 'tmux runs a shell command in a session' };
  if (name === 'tmux' && args.includes('-f')) return { undecidable: 'tmux runs the commands of the configuration file -f names' };
  if (name === 'strace' && args.some((a, i) => STRACE_PIPE.test(a) || (/^[|!]/.test(a) && /^(-[a-zA-Z]*o|--output)$/.test(args[i - 1] ?? '')))) {
    return { undecidable: 'strace -o |cmd pipes its output to a shell command' };
  }
  if (name === 'gdb' && args.length > 0 && !gdbOnlyRuns(args)) return { undecidable: 'gdb runs the program it loads as its commands say, and what they say (-ex shell …, -x file)' };
  return undefined;
}

/** The command a runner starts: the inner command, a shell with its script, or undefined when `name` is no runner or runs nothing; `via`: the package manager whose subcommand it is (npm exec is npx). */
export function runnerCommand(name: string, args: readonly string[], tail: boolean, via: string = name): Words | Undecidable | undefined {
  const opaque = opaqueCommand(name, args, tail);
  if (opaque !== undefined) return opaque;
  if (name === 'gdb') return args.includes('--args') ? words(name, args.slice(args.indexOf('--args') + 1), tail) : undefined;
  const sub = packageRunSubcommand(name, args);
  if (sub !== undefined) return runnerCommand('npx', args.slice(sub + 1), tail, name);
  const known = runnerName(name);
  const r = own(RUNNERS, known);
  const table = own(RUNNER_OPTIONS, known);
  if (r === undefined || table === undefined) return undefined;
  if (r.opaque !== undefined && args.some((a) => r.opaque?.includes(a))) return { undecidable: `${name} ${args.find((a) => r.opaque?.includes(a)) ?? ''} runs what another session or a script says` };
  if (r.userShell === true) return userShellCommand(name, args, table, tail);
  // script takes its options anywhere (getopt permutes): a script option after its file is its own.
  const anywhere = r.options === 'anywhere' ? runnerOptions(name, r, args, 0, { ...table, permute: true }, tail) : undefined;
  if (anywhere !== undefined && 'undecidable' in anywhere) return anywhere;
  if (anywhere?.script !== undefined) return { argv: ['sh', '-c', anywhere.script], tail: false };
  const o = runnerOptions(name, r, args, 0, table, tail);
  if ('undecidable' in o) return o;
  if (o.script !== undefined) return { argv: ['sh', '-c', o.script], tail: false };
  if (o.pid) return undefined;
  const operandsEnd = o.next + (r.login === true && args[o.next] === '-' ? 1 : 0) + (r.operands ?? 0);
  const after = r.options === 'after' ? runnerOptions(name, r, args, operandsEnd, table, tail) : { next: operandsEnd, pid: false, exec: false };
  if ('undecidable' in after) return after;
  if (after.script !== undefined) return { argv: ['sh', '-c', after.script], tail: false };
  const rest = args.slice(after.next);
  if (rest.length === 0 && !tail && r.bareShell === true) return { argv: ['sh'], tail: false };
  if (rest.length === 0 && !tail) return via === 'npx' || via === 'npm' ? NPX_CALL : undefined;
  if (rest.length === 0) return words(name, rest, tail);
  if (r.joined === true && !o.exec) return { argv: ['sh', '-c', rest.join(' ')], tail };
  return { argv: [...rest], tail };
}

/** The words of `name`'s command; none: undefined, unless words computed at run time follow, which may be a command (undecidable). */
function words(name: string, argv: readonly string[], tail: boolean): Words | Undecidable | undefined {
  if (argv.length > 0) return { argv: [...argv], tail };
  return tail ? computedCommand(name) : undefined;
}

/**
 * su, and runuser without -u: the first operand (after a lone `-`) is the
 * user, and the shell (-s, else the user's, read as sh) is started with the
 * script (-c) and the words after the user: `su root -- -c cmd` runs
 * `sh -c cmd`, `su root` an interactive sh. runuser -u runs its operands as
 * the command.
 */
function userShellCommand(name: string, args: readonly string[], table: OptionTable, tail: boolean): Words | Undecidable | undefined {
  const read = readOptions({ ...table, permute: true }, args, 0);
  if ('unknown' in read) return unreadable(name, read.unknown);
  const operands = [...read.operands, ...args.slice(read.next)];
  const last = (names: readonly string[]): string | undefined => read.options.findLast((o) => names.includes(o.name))?.value;
  const script = last(SCRIPT);
  if (script === undefined && tail && read.options.some((o) => SCRIPT.includes(o.name))) return computedCommand(name);
  if (read.options.some((o) => o.name === '-u' || o.name === '--user')) return script === undefined ? words(name, operands, tail) : { argv: ['sh', '-c', script], tail: false };
  const rest = operands.slice(operands[0] === '-' ? 2 : 1);
  return { argv: [last(['-s', '--shell']) ?? 'sh', ...(script === undefined ? [] : ['-c', script]), ...rest], tail };
}
