/**
 * The options of the programs runners.ts looks through, for getopt.ts (su,
 * runuser and script permute theirs: runners.ts reads them so).
 * util-linux's tools, coreutils' chroot, procps' watch and shadow's sg read
 * theirs with getopt_long, and their tables here are complete: `flock --wa 5
 * lock cmd` is `--wait 5`, and an option a table lacks leaves the command
 * unread. The other programs'
 * tables are partial (`partial`): they name the options that take a value,
 * and a word they do not know is read as a flag.
 */
import { HELP, type OptionTable, type Takes } from './getopt.js';

/** Long options that all take a value, for the partial tables. */
function valued(...names: string[]): Record<string, Takes> {
  return Object.fromEntries(names.map((n) => [n, 'required' as const]));
}

const SU_LONG = {
  ...HELP, command: 'required', 'session-command': 'required', fast: 'none', group: 'required', 'supp-group': 'required', login: 'none',
  'preserve-environment': 'none', pty: 'none', 'no-pty': 'none', shell: 'required', 'whitelist-environment': 'required',
} as const;

const SETARCH: OptionTable = {
  short: '3BFhILRSTvVXZ',
  long: {
    ...HELP, '4gb': 'none', uname26: 'none', 'addr-no-randomize': 'none', 'fdpic-funcptrs': 'none', 'mmap-page-zero': 'none', 'addr-compat-layout': 'none',
    'read-implies-exec': 'none', '32bit': 'none', 'short-inode': 'none', 'whole-seconds': 'none', 'sticky-timeouts': 'none', '3gb': 'none', verbose: 'none', list: 'none',
  },
};

const TRACE: OptionTable = { short: 'e:o:p:s:u:E:a:b:I:O:P:S:X:U:A:D:F:l:n:x:L:', long: valued('output', 'trace', 'signal', 'attach', 'string-limit', 'user', 'env', 'columns', 'summary-columns'), partial: true };

export const RUNNER_OPTIONS: Readonly<Record<string, OptionTable>> = {
  chrt: {
    short: 'abdD:efiphmoP:rRT:vV',
    long: {
      ...HELP, 'all-tasks': 'none', batch: 'none', deadline: 'none', ext: 'none', fifo: 'none', idle: 'none', pid: 'none', max: 'none', other: 'none', rr: 'none',
      'reset-on-fork': 'none', 'sched-runtime': 'required', 'sched-period': 'required', 'sched-deadline': 'required', verbose: 'none',
    },
  },
  taskset: { short: 'acphV', long: { ...HELP, 'all-tasks': 'none', pid: 'none', 'cpu-list': 'none' } },
  // -c and --command come after the lock file, and only there: flock reads that word itself.
  flock: {
    short: 'sexnoFuw:E:hVc:',
    long: {
      ...HELP, shared: 'none', exclusive: 'none', unlock: 'none', nonblocking: 'none', nonblock: 'none', nb: 'none', timeout: 'required', wait: 'required',
      'conflict-exit-code': 'required', close: 'none', 'no-fork': 'none', verbose: 'none', command: 'required',
    },
  },
  unshare: {
    short: 'cCfhimnpR:rS:G:TUuVw:',
    long: {
      ...HELP, mount: 'optional', uts: 'optional', ipc: 'optional', net: 'optional', pid: 'optional', user: 'optional', cgroup: 'optional', time: 'optional',
      fork: 'none', 'kill-child': 'optional', 'mount-proc': 'optional', 'mount-binfmt': 'optional', 'map-user': 'required', 'map-users': 'required',
      'map-group': 'required', 'map-groups': 'required', 'map-root-user': 'none', 'map-current-user': 'none', 'map-auto': 'none', propagation: 'required',
      setgroups: 'required', 'keep-caps': 'none', setuid: 'required', setgid: 'required', root: 'required', wd: 'required', monotonic: 'required',
      boottime: 'required', 'load-interp': 'required',
    },
  },
  nsenter: {
    short: 'aC::eFG:hi::m::n::p::r::S:t:T::u::U::VW::w::Z',
    long: {
      ...HELP, all: 'none', target: 'required', mount: 'optional', uts: 'optional', ipc: 'optional', net: 'optional', pid: 'optional', user: 'optional',
      cgroup: 'optional', time: 'optional', setuid: 'required', setgid: 'required', 'preserve-credentials': 'none', 'keep-caps': 'none', root: 'optional',
      wd: 'optional', wdns: 'required', env: 'none', 'no-fork': 'none', 'follow-context': 'none', 'user-parent': 'none', 'join-cgroup': 'none',
    },
  },
  setpriv: {
    short: 'dhV',
    long: {
      ...HELP, dump: 'none', nnp: 'none', 'no-new-privs': 'none', 'inh-caps': 'required', 'ambient-caps': 'required', 'bounding-set': 'required',
      ruid: 'required', euid: 'required', rgid: 'required', egid: 'required', reuid: 'required', regid: 'required', 'clear-groups': 'none', 'keep-groups': 'none',
      'init-groups': 'none', groups: 'required', securebits: 'required', pdeathsig: 'required', 'reset-env': 'none', 'selinux-label': 'required',
      'apparmor-profile': 'required', 'landlock-access': 'required', 'landlock-rule': 'required', 'seccomp-filter': 'required',
    },
  },
  prlimit: {
    short: 'c::d::e::f::hi::l::m::n::o:p:q::r::s::t::u::v::Vx::y::',
    long: {
      ...HELP, core: 'optional', data: 'optional', nice: 'optional', fsize: 'optional', sigpending: 'optional', memlock: 'optional', rss: 'optional',
      nofile: 'optional', msgqueue: 'optional', rtprio: 'optional', stack: 'optional', cpu: 'optional', nproc: 'optional', as: 'optional', locks: 'optional',
      rttime: 'optional', pid: 'required', output: 'required', noheadings: 'none', raw: 'none', verbose: 'none',
    },
  },
  chroot: { short: '', long: { ...HELP, groups: 'required', userspec: 'required', 'skip-chdir': 'none' } },
  setarch: SETARCH,
  linux32: SETARCH,
  linux64: SETARCH,
  runuser: { short: 'c:fg:G:hlmpPs:u:Vw:', long: { ...SU_LONG, user: 'required' } },
  su: { short: 'c:fg:G:hlmpPs:Vw:', long: SU_LONG },
  script: {
    short: 'aB:c:eE:fhI:m:o:O:qT:t::V',
    long: {
      ...HELP, append: 'none', command: 'required', echo: 'required', return: 'none', flush: 'none', force: 'none', 'log-io': 'required', 'log-in': 'required',
      'log-out': 'required', 'log-timing': 'required', 'logging-format': 'required', 'output-limit': 'required', quiet: 'none', timing: 'optional',
    },
  },
  sg: { short: 'c:', long: {} },
  strace: TRACE,
  ltrace: TRACE,
  'ssh-agent': { short: 'a:E:P:t:O:', long: {}, partial: true },
  fakeroot: { short: 'l:s:i:b:', long: valued('lib', 'faked'), partial: true },
  'dbus-run-session': { short: '', long: {}, partial: true },
  catchsegv: { short: '', long: {}, partial: true },
  valgrind: { short: '', long: {}, partial: true },
  // procps-ng's: -d takes its value only in its own word (-dx is -d with x, not -x).
  watch: {
    short: 'bcCd::egn:pq:rs:twxhv',
    long: {
      ...HELP, beep: 'none', color: 'none', 'no-color': 'none', differences: 'optional', errexit: 'none', chgexit: 'none', interval: 'required', precise: 'none',
      equexit: 'required', 'no-rerun': 'none', shotsdir: 'required', 'no-title': 'none', 'no-wrap': 'none', exec: 'none',
    },
  },
  faketime: { short: '', long: valued('date-prog'), partial: true },
  firejail: { short: '', long: {}, partial: true },
  proot: { short: 'r:b:m:w:k:v:q:p:', long: valued('rootfs', 'bind', 'mount', 'pwd', 'cwd', 'kernel-release', 'verbose', 'qemu', 'port'), partial: true },
  pkexec: { short: '', long: valued('user'), partial: true },
  'systemd-run': {
    short: 'p:E:M:H:u:',
    long: valued(
      'property', 'setenv', 'machine', 'host', 'unit', 'description', 'slice', 'uid', 'gid', 'nice', 'working-directory', 'service-type', 'on-active', 'on-boot',
      'on-startup', 'on-unit-active', 'on-unit-inactive', 'on-calendar', 'timer-property', 'path-property', 'socket-property',
    ),
    partial: true,
  },
  screen: { short: 'c:e:h:p:s:S:t:T:', long: {}, partial: true },
  'ld.so': { short: '', long: valued('library-path', 'inhibit-rpath', 'audit', 'preload', 'argv0', 'glibc-hwcaps-prepend', 'glibc-hwcaps-mask'), partial: true },
  npx: { short: 'p:w:c:', long: valued('package', 'cache', 'userconfig', 'workspace', 'call'), partial: true },
  bunx: { short: 'p:', long: valued('package'), partial: true },
};
