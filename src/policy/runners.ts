/**
 * Programs beside the shell's own wrappers (wrappers.ts) that run a command
 * named in their arguments: util-linux's (`chrt`, `taskset`, `flock`,
 * `unshare`, `nsenter`, `setpriv`, `prlimit`, `setarch`, `runuser`, `su`,
 * `script`), coreutils' `chroot`, procps' `watch`, and `strace`, `ltrace`,
 * `ssh-agent`, `fakeroot`, `dbus-run-session`, `catchsegv`, `valgrind`.
 * `taskset 1 git push` is `git push`; a script given with -c (`su -c`,
 * `runuser -c`, `flock -c`, `script -c`) and watch's words are run by the
 * shell: `sh -c script`, parsed in turn.
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
}

const USER = ['-g', '--group', '-G', '--supp-group', '-s', '--shell', '-w', '--whitelist-environment'];
const SCRIPT = ['-c', '--command', '--session-command'];
const TRACE = ['-e', '-o', '-p', '-s', '-u', '-E', '-a', '-b', '-I', '-O', '-P', '-S', '-X', '-U', '-A', '-D', '-F', '-l', '-n', '-x', '-L'];

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
  watch: { values: ['-n', '--interval', '-q', '--equexit'] },
};

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

/** Whether `name` is a runner: a program that runs a command it is given, and needs an allow rule of its own. */
export function isRunner(name: string): boolean {
  return Object.hasOwn(RUNNERS, name);
}

/** The command a runner starts: the inner command, a shell with its script, or undefined when `name` is no runner or runs nothing. */
export function runnerCommand(name: string, args: readonly string[], tail: boolean, optionWords: (a: string, v: readonly string[]) => number): Words | undefined {
  const r = RUNNERS[name];
  if (r === undefined) return undefined;
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
  if (name === 'watch' && !args.slice(0, o.next).some((a) => a === '-x' || a === '--exec' || /^-[a-wyz]*x/.test(a))) return { argv: ['sh', '-c', rest.join(' ')], tail };
  return { argv: [...rest], tail };
}
