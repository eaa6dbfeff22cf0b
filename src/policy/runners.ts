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
import type { Words } from './words.js';

interface Runner {
  /** Options whose value is the next word. */
  values: readonly string[];
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
  /** Options with which it runs what another session or a script of its own says (screen -X): undecidable. */
  opaque?: readonly string[];
}

/** What runnerCommand returns for a command that cannot be known before it runs. */
export interface Opaque {
  undecidable: string;
}

const USER = ['-g', '--group', '-G', '--supp-group', '-s', '--shell', '-w', '--whitelist-environment'];
const SCRIPT = ['-c', '--command', '--session-command'];
const TRACE = ['-e', '-o', '-p', '-s', '-u', '-E', '-a', '-b', '-I', '-O', '-P', '-S', '-X', '-U', '-A', '-D', '-F', '-l', '-n', '-x', '-L'];

/** A table's own entry for a program's name: never an object's inherited property (a program named `toString`). */
function own<T>(table: Readonly<Record<string, T>>, name: string): T | undefined {
  return Object.hasOwn(table, name) ? table[name] : undefined;
}

const RUNNERS: Record<string, Runner> = {
  chrt: { values: ['-T', '--sched-runtime', '-P', '--sched-period', '-D', '--sched-deadline'], operands: 1, pid: ['-p', '--pid'] },
  taskset: { values: [], operands: 1, pid: ['-p', '--pid'] },
  flock: { values: ['-w', '--timeout', '--wait', '-E', '--conflict-exit-code'], operands: 1, script: ['-c', '--command'], options: 'after' },
  unshare: { values: ['-S', '--setuid', '-G', '--setgid', '-R', '--root', '-w', '--wd', '--map-user', '--map-group', '--map-users', '--map-groups', '--propagation', '--setgroups'] },
  nsenter: { values: ['-t', '--target', '-S', '--setuid', '-G', '--setgid'] },
  setpriv: { values: ['--reuid', '--regid', '--ruid', '--euid', '--rgid', '--egid', '--groups', '--inh-caps', '--ambient-caps', '--bounding-set', '--securebits', '--pdeathsig', '--selinux-label', '--apparmor-profile', '--landlock-access', '--landlock-rule'] },
  prlimit: { values: ['-o', '--output'], pid: ['-p', '--pid'] },
  chroot: { values: [], operands: 1 },
  setarch: { values: [], operands: 1, options: 'after' },
  linux32: { values: [] },
  linux64: { values: [] },
  runuser: { values: ['-u', '--user', ...USER], script: SCRIPT, options: 'anywhere' },
  su: { values: USER, script: SCRIPT, options: 'anywhere' },
  script: { values: ['-E', '--echo', '-I', '--log-in', '-O', '--log-out', '-B', '--log-io', '-T', '--log-timing', '-m', '--logging-format', '-o', '--output-limit'], script: ['-c', '--command'], options: 'anywhere' },
  strace: { values: TRACE },
  ltrace: { values: TRACE },
  'ssh-agent': { values: ['-a', '-E', '-P', '-t', '-O'] },
  fakeroot: { values: ['-l', '--lib', '--faked', '-s', '-i', '-b'] },
  'dbus-run-session': { values: [] },
  catchsegv: { values: [] },
  valgrind: { values: [] },
  watch: { values: ['-n', '--interval', '-q', '--equexit'], joined: true },
  sg: { values: [], operands: 1, script: ['-c'], options: 'after', joined: true },
  faketime: { values: ['--date-prog'], operands: 1 },
  firejail: { values: [] },
  proot: { values: ['-r', '--rootfs', '-b', '--bind', '-m', '--mount', '-w', '--pwd', '--cwd', '-k', '--kernel-release', '-v', '--verbose', '-q', '--qemu', '-p', '--port'] },
  pkexec: { values: ['--user'] },
  'systemd-run': {
    values: ['-p', '--property', '-E', '--setenv', '-M', '--machine', '-H', '--host', '--unit', '-u', '--description', '--slice', '--uid', '--gid', '--nice', '--working-directory', '--service-type', '--on-active', '--on-boot', '--on-startup', '--on-unit-active', '--on-unit-inactive', '--on-calendar', '--timer-property', '--path-property', '--socket-property'],
  },
  screen: { values: ['-c', '-e', '-h', '-p', '-s', '-S', '-t', '-T', '-Logfile'], opaque: ['-X', '-c'] },
  // glibc's and musl's: --list and --verify load the program and run none of it (ldd), the others run it.
  'ld.so': {
    values: ['--library-path', '--inhibit-rpath', '--audit', '--preload', '--argv0', '--glibc-hwcaps-prepend', '--glibc-hwcaps-mask'],
    pid: ['--list', '--verify', '--help', '--version', '--list-tunables', '--list-diagnostics'],
  },
  npx: { values: ['-p', '--package', '--cache', '--userconfig', '-w', '--workspace'], script: ['-c', '--call'] },
  bunx: { values: ['-p', '--package'] },
};

/** Package managers' subcommands that run a command as npx does. */
const PACKAGE_RUNNERS: Readonly<Record<string, readonly string[]>> = { npm: ['exec', 'x'], pnpm: ['exec', 'dlx'], yarn: ['exec', 'dlx'], bun: ['x'] };

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
    if (subcommands.includes(a)) return i;
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

/** tmux's global options that take a value, and its commands that start a shell command. */
const TMUX_VALUES = ['-c', '-f', '-L', '-S', '-T'];
const TMUX_RUNS = new Set(['new', 'new-session', 'new-window', 'neww', 'split-window', 'splitw', 'respawn-pane', 'respawnp', 'respawn-window', 'respawnw', 'run-shell', 'run', 'if-shell', 'if', 'pipe-pane', 'pipep', 'display-popup', 'popup', 'send-keys', 'send']);

/** The script a word gives with a script option (`-c x`, `-qc x`, `-cx`, `--command=x`), with how many words it took; undefined when it gives none. */
function scriptValue(r: Runner, args: readonly string[], i: number): { script: string; words: number } | undefined {
  const a = args[i] ?? '';
  const script = r.script ?? [];
  if (script.includes(a)) return { script: args[i + 1] ?? '', words: 2 };
  const long = script.find((o) => o.startsWith('--') && a.startsWith(`${o}=`));
  if (long !== undefined) return { script: a.slice(long.length + 1), words: 1 };
  if (a.startsWith('--') || !a.startsWith('-')) return undefined;
  for (let j = 1; j < a.length; j++) {
    const o = `-${a[j] ?? ''}`;
    if (r.values.includes(o)) return undefined; // the rest of the word is that option's value
    if (script.includes(o)) return j === a.length - 1 ? { script: args[i + 1] ?? '', words: 2 } : { script: a.slice(j + 1), words: 1 };
  }
  return undefined;
}

/** For programs whose options may follow their operands (su root -c x, script -q log -c x): a script option anywhere. */
function scriptAnywhere(r: Runner, args: readonly string[]): string | undefined {
  for (let i = 0; i < args.length && args[i] !== '--'; i++) {
    const s = scriptValue(r, args, i);
    if (s !== undefined) return s.script;
  }
  return undefined;
}

/** The index of the first word after the options, a script given with an option, and whether it acts on a process instead. */
function readOptions(r: Runner, args: readonly string[], optionWords: (a: string, v: readonly string[]) => number): { next: number; script?: string; pid: boolean } {
  let i = 0;
  let pid = false;
  while (i < args.length) {
    const a = args[i] ?? '';
    if (a === '--') return { next: i + 1, pid };
    if (!a.startsWith('-') || a === '-') break;
    const s = scriptValue(r, args, i);
    if (s !== undefined) return { next: i + s.words, script: s.script, pid };
    pid ||= (r.pid ?? []).some((p) => a === p || (!a.startsWith('--') && a.includes(p.slice(1))));
    i += optionWords(a, r.values);
  }
  return { next: i, pid };
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

/** Why the command of a program that runs one its words do not name cannot be known; undefined for any other program. */
function opaqueCommand(name: string, args: readonly string[]): Opaque | undefined {
  const why = own(OPAQUE, name);
  if (why !== undefined) return args.length > 0 || name === 'at' || name === 'batch' ? { undecidable: why } : undefined;
  if (name === 'tmux' && (args.includes('-c') || args.some((a, i) => TMUX_RUNS.has(a) && !TMUX_VALUES.includes(args[i - 1] ?? '')))) return { undecidable: 'tmux runs a shell command in a session' };
  if (name === 'tmux' && args.includes('-f')) return { undecidable: 'tmux runs the commands of the configuration file -f names' };
  if (name === 'strace' && args.some((a, i) => STRACE_PIPE.test(a) || (/^[|!]/.test(a) && /^(-[a-zA-Z]*o|--output)$/.test(args[i - 1] ?? '')))) {
    return { undecidable: 'strace -o |cmd pipes its output to a shell command' };
  }
  if (name === 'gdb' && args.length > 0 && !gdbOnlyRuns(args)) return { undecidable: 'gdb runs the program it loads as its commands say, and what they say (-ex shell …, -x file)' };
  return undefined;
}

/** The command a runner starts: the inner command, a shell with its script, or undefined when `name` is no runner or runs nothing. */
export function runnerCommand(name: string, args: readonly string[], tail: boolean, optionWords: (a: string, v: readonly string[]) => number): Words | Opaque | undefined {
  const opaque = opaqueCommand(name, args);
  if (opaque !== undefined) return opaque;
  if (name === 'gdb') return args.includes('--args') ? words(args.slice(args.indexOf('--args') + 1), tail) : undefined;
  const sub = packageRunSubcommand(name, args);
  if (sub !== undefined) return runnerCommand('npx', args.slice(sub + 1), tail, optionWords);
  const r = own(RUNNERS, runnerName(name));
  if (r === undefined) return undefined;
  if (r.opaque !== undefined && args.some((a) => r.opaque?.includes(a))) return { undecidable: `${name} ${args.find((a) => r.opaque?.includes(a)) ?? ''} runs what another session or a script says` };
  const anywhere = r.options === 'anywhere' ? scriptAnywhere(r, args) : undefined;
  if (anywhere !== undefined) return { argv: ['sh', '-c', anywhere], tail: false };
  const o = readOptions(r, args, optionWords);
  if (o.script !== undefined) return { argv: ['sh', '-c', o.script], tail: false };
  if (o.pid) return undefined;
  const operandsEnd = o.next + (r.operands ?? 0);
  const after = r.options === 'after' ? readOptions(r, args.slice(operandsEnd), optionWords) : { next: 0, pid: false };
  if (after.script !== undefined) return { argv: ['sh', '-c', after.script], tail: false };
  const rest = args.slice(operandsEnd + after.next);
  if (rest.length === 0) return undefined;
  const exec = name === 'watch' && args.slice(0, o.next).some((a) => a === '-x' || a === '--exec' || /^-[a-wyz]*x/.test(a));
  if (r.joined === true && !exec) return { argv: ['sh', '-c', rest.join(' ')], tail };
  return { argv: [...rest], tail };
}

/** The words of a command, or undefined when there are none. */
function words(argv: readonly string[], tail: boolean): Words | undefined {
  return argv.length === 0 ? undefined : { argv: [...argv], tail };
}
