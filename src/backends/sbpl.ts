/**
 * The Seatbelt profile (SBPL) for the sandbox-exec backend. Pure: policy and
 * facts in, profile text and parameters out.
 *
 * The one rule this file keeps: no path, and nothing else a user or a
 * profile controls, is ever written into the profile text. Every such value
 * is handed to sandbox-exec as `-D NAME=value` and referenced in the text as
 * `(param "NAME")`, where sandbox-exec reads it as a string, never as SBPL.
 * The text is a function of the policy's shape only: which rules there are,
 * of which kind, in the order they apply (parents first), whether a path is
 * a socket, how many protected names and private directories there are, and
 * the network mode. Renaming every path leaves the text unchanged; the
 * injection test checks exactly that. The only strings in the text are the
 * constants below (system paths, sysctl and service names), which `q()`
 * refuses to quote unless they are plain.
 *
 * Seatbelt semantics relied on:
 * - `(deny default)`: anything not allowed is refused.
 * - The last rule that matches an operation wins. isolate's rule "the most
 *   specific path wins; at the same path deny beats write beats read beats
 *   tmpfs" therefore becomes: emit the rules in orderRules() order (parents
 *   first, stronger kinds last). A deny lands after every allow of a path
 *   that contains it, and an allow of a path inside a hidden one lands after
 *   that deny, exactly as on bubblewrap.
 * - Paths are matched as the kernel resolved them (/private/etc, not /etc),
 *   which is what the policy holds (symlinks resolved).
 * - `file-read*`, `file-write*` and `network*` cover every operation of the
 *   family; `file-write*` includes file-write-unlink (unlink, rmdir and the
 *   source of a rename) and file-write-create (creating, and the target of
 *   a rename), which is what keeps a protected name from being renamed away.
 *   `file-test-existence` is not part of `file-read*` and is named beside it.
 * - Descriptors the command inherited are not checked again (reading and
 *   writing them is not an open); ioctls on them are (`file-ioctl`). Nor are
 *   writes to an inherited, connected socket (no `network-outbound`: that is
 *   checked on connect and on sends to an address): the start wrapper's byte
 *   on READY_FD (sandbox-exec.ts) needs no rule, as a captured stdout (also a
 *   socket pair from run/) needs none. The wrapper is /bin/sh, allowed like
 *   any program only by the policy's read rules (a policy that does not make
 *   it readable is refused at plan time); the shell it runs is chosen in
 *   /private/var/select (SYSTEM_READ).
 * - Hard links (`file-link`) and clones (`file-clone`) are checked against
 *   the new name only; the profile allows neither anywhere.
 */
import { posix } from 'node:path';
import { IsolateError } from '../errors.js';
import type { MountRule, NetworkMode, Policy } from '../profile/types.js';
import { governing, isWritable, orderRules } from './mounts.js';
import type { SetupOp } from './setup-ops.js';
import { protectedNames } from './setup-plan.js';
import { gitConfigUnsupported, gitCredentialStoreUnsupported } from './git-config.js';
import { SEATBELT_DEFAULT } from './sbpl-hardening.js';
import { caselessPathsRegex } from './sbpl-caseless.js';

export interface SbplParam {
  name: string;
  value: string;
}

/** A private, empty directory standing in for a tmpfs path (macOS has no per-process mounts). */
export interface ScratchDir {
  /** Created by run/ (mode 0700) before the sandbox starts and removed, with its contents, after. */
  path: string;
  /** The policy's tmpfs path it replaces; the real one is hidden from the command. */
  replaces: string;
}

export interface SbplInput {
  /** The sandbox's setup operations (setup-ops.ts): its tmpfs paths and protected names. */
  ops: readonly SetupOp[];
  /**
   * A fresh directory, not yet created, as a real path (no symlinks), under
   * which run/ creates one private directory per tmpfs path. Required when
   * the policy has tmpfs paths.
   */
  runDir: string | undefined;
  /** The caller's home directory: its keychains and ~/.docker are denied whatever the profile says. */
  home: string;
  /** The loopback TCP port of isolate's filtering proxy (filtered mode). */
  proxyPort: number;
  /**
   * Allow termios ioctls on the terminal the command inherited (tcsetattr,
   * window size), so a TTY stays a TTY. Safe only when the command runs in a
   * new session and is not root: XNU lets root inject input (TIOCSTI) into
   * any terminal it holds, and anyone into their controlling terminal.
   */
  terminalIoctl: boolean;
}

export interface Sbpl {
  /** The profile text, for `sandbox-exec -p`. */
  text: string;
  /** The `-D NAME=value` parameters, in the order they are first used. */
  params: SbplParam[];
  /** One private directory per governing tmpfs rule, in the order of the rules. */
  scratch: ScratchDir[];
  /** The policy's path rules that govern their own path, in the order they are emitted. */
  rules: MountRule[];
  /** Read or write rules naming a unix socket: the only host sockets the command may connect to. */
  sockets: string[];
  /** Protected paths (existing or not): no write, create, rename or unlink. */
  protect: string[];
  /** Writable directories above protected paths: they cannot be renamed, removed or changed themselves. */
  pins: string[];
  /** Directories (and symlinks) whose metadata is readable so the visible paths can be reached. */
  traverse: string[];
}

// ---- constants of the profile --------------------------------------------------

/**
 * Read by every process on macOS before its first line of code, whatever
 * the profile says. Not the whole of /System: /System/Volumes/Data is the
 * data volume, home directories included.
 */
export const SYSTEM_READ: readonly { path: string; why: string }[] = [
  { path: '/usr/lib', why: 'dyld and the system libraries' },
  { path: '/System/Library', why: 'frameworks, and the dyld shared cache up to macOS 12' },
  { path: '/System/Cryptexes/OS', why: 'the dyld shared cache from macOS 13 on, as spelled' },
  { path: '/System/Volumes/Preboot/Cryptexes/OS', why: 'the dyld shared cache from macOS 13 on, as resolved' },
  { path: '/Library/Apple/usr/libexec/oah', why: 'Rosetta 2, which runs x86_64 programs on Apple silicon' },
  { path: '/private/var/db/oah', why: 'Rosetta 2 translations of those programs' },
  { path: '/private/var/db/timezone', why: 'the time zone database /etc/localtime points into' },
  { path: '/private/var/select', why: 'which shell /bin/sh runs (macOS\'s /bin/sh is a shim)' },
  { path: '/private/var/db/xcode_select_link', why: 'which developer directory xcode-select chose' },
  { path: '/Library/Developer/CommandLineTools', why: 'the developer tools: /usr/bin/git, make, cc, python3 are shims that run them from here' },
  { path: '/Applications/Xcode.app/Contents/Developer', why: 'or from Xcode, when xcode-select chose it' },
];

/** Symlinks every macOS tool resolves (realpath, getcwd): their metadata is readable. */
const SYSTEM_LINKS: readonly string[] = ['/etc', '/tmp', '/var'];

/** Devices a command reads and writes: `rw` read and written, `r` only read. */
const DEVICES: readonly { path: string; access: 'rw' | 'r'; why: string }[] = [
  { path: '/dev/null', access: 'rw', why: 'discarded output' },
  { path: '/dev/zero', access: 'rw', why: 'zeroes' },
  { path: '/dev/random', access: 'r', why: 'randomness' },
  { path: '/dev/urandom', access: 'r', why: 'randomness' },
  { path: '/dev/dtracehelper', access: 'rw', why: 'dyld registers DTrace probes of every program here' },
  { path: '/dev/stdin', access: 'rw', why: 'reopening inherited descriptors' },
  { path: '/dev/stdout', access: 'rw', why: 'reopening inherited descriptors' },
  { path: '/dev/stderr', access: 'rw', why: 'reopening inherited descriptors' },
  { path: '/dev/tty', access: 'rw', why: 'the controlling terminal: the pseudo-terminal of the sandbox\'s own when the command has one (password prompts), else there is none to open' },
];

/** Pseudo-terminal slaves. */
const TTYS = '^/dev/ttys[0-9]+$';

/** Each sysctl the command may read, grouped by why common tools read it. Names and prefixes only; nothing writable. */
export const SYSCTLS: readonly { why: string; names: readonly string[]; prefixes?: readonly string[] }[] = [
  {
    why: 'CPU counts: sysconf(_SC_NPROCESSORS_*), thread pools of Go, Rust, Node (os.availableParallelism), make -j',
    names: ['hw.ncpu', 'hw.activecpu', 'hw.logicalcpu', 'hw.logicalcpu_max', 'hw.physicalcpu', 'hw.physicalcpu_max', 'hw.nperflevels'],
    prefixes: ['hw.perflevel'],
  },
  { why: 'page size: getpagesize(3), every allocator', names: ['hw.pagesize', 'hw.pagesize_compat'] },
  { why: 'memory size: os.totalmem(), heap sizing of the JVM and Go', names: ['hw.memsize'] },
  {
    why: 'architecture and CPU features: uname -m, arch(1), Rosetta detection, SIMD dispatch in zlib, OpenSSL, V8',
    names: ['hw.machine', 'hw.model', 'hw.cputype', 'hw.cpusubtype', 'hw.cpufamily', 'hw.byteorder', 'sysctl.proc_cputype', 'sysctl.proc_translated'],
    prefixes: ['hw.optional.', 'machdep.cpu.'],
  },
  {
    why: 'cache sizes and clock rates: os.cpus(), memcpy tuning, benchmarks',
    names: ['hw.cachelinesize', 'hw.l1icachesize', 'hw.l1dcachesize', 'hw.l2cachesize', 'hw.l3cachesize', 'hw.cpufrequency', 'hw.tbfrequency'],
  },
  { why: 'the OS: uname(3), sw_vers, platform checks of Python and Node', names: ['kern.ostype', 'kern.osrelease', 'kern.osversion', 'kern.version', 'kern.osproductversion'] },
  { why: 'the host name: uname -n, gethostname(3), shell prompts (macOS has no UTS namespace)', names: ['kern.hostname'] },
  { why: 'libSystem start-up checks (os_variant)', names: ['kern.osvariant_status', 'kern.secure_kernel'] },
  { why: 'limits: sysconf(_SC_ARG_MAX) for xargs, find and shells; the per-process file limit', names: ['kern.argmax', 'kern.maxfilesperproc'] },
  { why: 'the stack\'s location: thread set-up in runtimes (Rust, Go, the JVM)', names: ['kern.usrstack64'] },
  { why: 'uptime and load: os.uptime(), os.loadavg(), uptime(1)', names: ['kern.boottime', 'vm.loadavg'] },
];

/** Mach services every mode may look up. Everything else (including launchservicesd, which could start applications outside the sandbox) is refused. */
export const MACH_SERVICES: readonly { name: string; why: string }[] = [
  { name: 'com.apple.system.opendirectoryd.libinfo', why: 'user and group lookups: getpwuid(3), getgrgid(3), id, whoami, git, ssh, os.userInfo()' },
];

/** Certificate trust evaluation for TLS through the Security framework (Go's crypto/x509, Swift, curl built on it). */
const TRUST_SERVICES: readonly string[] = ['com.apple.trustd', 'com.apple.trustd.agent'];

/** Host network only: name resolution. getaddrinfo(3) asks mDNSResponder over these. */
const DNS_SERVICES: readonly string[] = ['com.apple.dnssd.service', 'com.apple.SystemConfiguration.DNSConfiguration'];
const DNS_SOCKET = '/private/var/run/mDNSResponder';
const RESOLV_CONF = '/private/var/run/resolv.conf';

/** The temp directories a tmpfs entry may stand for (TMPDIR then points to its private directory). */
const TEMP_DIRS: readonly string[] = ['/tmp', '/private/tmp', '/var/tmp', '/private/var/tmp'];

// ---- writing SBPL --------------------------------------------------------------

const PLAIN = /^[A-Za-z0-9_./*:+^$[\]@-]*$/;
const PARAM_NAME = /^[A-Z][A-Z0-9_]*$/;

/** A constant string of the profile. Only plain characters: never a path from a policy. */
function q(constant: string): string {
  if (!PLAIN.test(constant)) throw new Error(`sbpl: refusing to quote ${JSON.stringify(constant)} into the profile text`);
  return `"${constant}"`;
}

/** Match exactly these paths: an anchored alternation, every character of every path escaped. */
export function exactPathsRegex(paths: readonly string[]): string {
  return `^(${paths.map((p) => p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|')})$`;
}

/** Every ancestor directory of `path`, from `/` down, not `path` itself. */
export function ancestors(path: string): string[] {
  const out: string[] = [];
  let p = posix.dirname(path);
  while (true) {
    out.unshift(p);
    const up = posix.dirname(p);
    if (up === p) break;
    p = up;
  }
  return path === '/' ? [] : out;
}

/** An absolute path, normalized, without a trailing slash; undefined for anything else. */
export function normalizeDir(path: string | undefined): string | undefined {
  if (path === undefined || !path.startsWith('/')) return undefined;
  const n = posix.normalize(path);
  return n.length > 1 && n.endsWith('/') ? n.slice(0, -1) : n;
}

class Writer {
  readonly lines: string[] = [];
  readonly params: SbplParam[] = [];
  private readonly counters = new Map<string, number>();

  /** A new parameter named PREFIX_n (or PREFIX when `single`), holding `value`; returns `(param "NAME")`. */
  param(prefix: string, value: string, single = false): string {
    let name = prefix;
    if (!single) {
      const n = this.counters.get(prefix) ?? 0;
      this.counters.set(prefix, n + 1);
      name = `${prefix}_${n}`;
    }
    if (!PARAM_NAME.test(name) || this.params.some((p) => p.name === name)) throw new Error(`sbpl: bad or duplicate parameter name ${name}`);
    if (value.includes('\0')) throw new IsolateError('E_PATH_INVALID', 'a path contains a NUL byte');
    this.params.push({ name, value });
    return ref(name);
  }

  blank(): void {
    this.lines.push('');
  }

  comment(...text: string[]): void {
    for (const t of text) {
      if (/[\n\r]/.test(t)) throw new Error('sbpl: a comment is one line');
      this.lines.push(`; ${t}`);
    }
  }

  /** `(action op... filter...)`, one filter per line when there are several. Filter strings may carry `; comment` lines. */
  rule(action: 'allow' | 'deny', ops: readonly string[], filters: readonly string[] = [], inline = filters.length === 1): void {
    const head = `(${action} ${ops.join(' ')}`;
    if (filters.length > 0 && filters[filters.length - 1]?.startsWith(';')) throw new Error('sbpl: a rule cannot end with a comment');
    if (filters.length === 0) this.lines.push(`${head})`);
    else if (inline && !filters.some((f) => f.startsWith(';'))) this.lines.push(`${head} ${filters.join(' ')})`);
    else {
      this.lines.push(head);
      filters.forEach((f, i) => this.lines.push(`  ${f}${i === filters.length - 1 ? ')' : ''}`));
    }
  }
}

/**
 * Operation sets. `file-test-existence` (access(2), existence probes) is not
 * part of `file-read*`, so it goes wherever reading is allowed or denied.
 */
const READ = ['file-read*', 'file-test-existence'] as const;
const METADATA = ['file-read-metadata', 'file-test-existence'] as const;
const WRITE = 'file-write*';
const EXEC = 'process-exec';

const ref = (name: string): string => `(param ${q(name)})`;
const subpath = (x: string): string => `(subpath ${x})`;
const literal = (x: string): string => `(literal ${x})`;
const regex = (x: string): string => `(regex ${x})`;
const globalName = (name: string): string => `(global-name ${q(name)})`;

/** The same paths whatever their letters' case, as a case-insensitive volume opens them (sbpl-caseless.ts): every deny carries one. */
function anyCase(w: Writer, name: string, paths: readonly string[], below: boolean, single = false): string {
  return regex(w.param(`ANYCASE_${name}`, caselessPathsRegex(paths, below), single));
}

// ---- the profile ---------------------------------------------------------------

/** Which tmpfs paths stand for the home directory and the temp directory. */
export function tmpfsRoles(scratch: readonly ScratchDir[], callerEnv: Readonly<Record<string, string | undefined>>): { home?: ScratchDir; temp?: ScratchDir } {
  const home = normalizeDir(callerEnv['HOME']);
  const tmp = normalizeDir(callerEnv['TMPDIR']);
  const temps = new Set([...TEMP_DIRS, ...(tmp === undefined ? [] : [tmp, tmp.startsWith('/private/') ? tmp.slice('/private'.length) : `/private${tmp}`])]);
  const homeDir = scratch.find((s) => s.replaces === home);
  const tempDir = scratch.find((s) => temps.has(s.replaces));
  return { ...(homeDir === undefined ? {} : { home: homeDir }), ...(tempDir === undefined ? {} : { temp: tempDir }) };
}

/** One private directory per tmpfs operation: macOS has no per-process mounts. */
function scratchFor(ops: readonly SetupOp[], runDirInput: string | undefined): ScratchDir[] {
  const tmpfs = ops.filter((op) => op.kind === 'tmpfs');
  const runDir = normalizeDir(runDirInput);
  if (tmpfs.length > 0 && runDir === undefined) {
    throw new IsolateError('E_SANDBOX_SETUP', 'the sandbox-exec backend needs a per-run directory for the profile\'s tmpfs paths, and the host facts name none', {
      detail: 'macOS has no per-process mounts: each tmpfs path is hidden and replaced by a private directory created for the run',
      fix: 'this is a bug in isolate; as a workaround, use a profile without filesystem.tmpfs',
    });
  }
  return tmpfs.map((op, i) => ({ path: `${runDir ?? ''}/tmpfs-${i}`, replaces: op.path }));
}

/**
 * The profile for `policy`. What the setup operations (setup-ops.ts) mean on
 * macOS too, it takes from them: the tmpfs paths (each stood in for by a
 * private directory) and the protected names (refused writes). The path rules
 * themselves are written from the policy's rules, not from the binds of the
 * list: Seatbelt has no mounts, and it allows the system paths every program
 * needs (SYSTEM_READ) whatever the profile says, so a deny rule the list
 * drops as "nothing to hide" (nothing of the profile shows the path) can
 * still hide something here, and is always written; and where a mount
 * namespace recreates a symlink, Seatbelt only needs the link's metadata
 * readable (traversal below). The rest of the list has no meaning here: no
 * /proc (proc, kernel-*), the host's devices by name instead of a /dev of
 * the sandbox's own (DEVICES), no mount to make read-only or to pin with
 * (read-only, submount, pin: the writable directories above a protected
 * name are kept in place by rules instead), and the proxy reached over the
 * loopback instead of a socket directory (socket-dir).
 */
export function buildSbpl(policy: Policy, input: SbplInput): Sbpl {
  const all = policy.filesystem.mounts;
  const rules = orderRules(all).filter((r) => governing(all, r.path) === r);
  const scratch = scratchFor(input.ops, input.runDir);
  if (!Number.isInteger(input.proxyPort) || input.proxyPort < 1 || input.proxyPort > 65535) throw new Error(`sbpl: bad proxy port ${input.proxyPort}`);
  const home = normalizeDir(input.home) ?? '/var/empty';
  const w = new Writer();
  writeProcesses(w);
  writeDevices(w, input.terminalIoctl);
  const paramOf = writePathRules(w, rules);
  const scratchParams = writeScratch(w, scratch);
  writeNetwork(w, policy.network.mode, input.proxyPort);
  const sockets = writeSockets(w, rules, paramOf, scratchParams);
  const traverse = writeTraverse(w, rules, scratch);
  const { protect, pins } = writeProtected(w, input.ops, all);
  writeAlwaysDenied(w, home);
  if (policy.syscalls.preset === 'default') writeHardening(w);
  return { text: `${w.lines.join('\n')}\n`, params: w.params, scratch, rules, sockets, protect, pins, traverse };
}

/** The header, and what every process may do: fork, signal and inspect its own sandbox, sysctl values, Mach services. */
function writeProcesses(w: Writer): void {
  w.comment(
    'isolate: Seatbelt profile for sandbox-exec, generated from the policy.',
    'Every path in it is a -D parameter, read with (param "NAME"); the text itself holds no path of the policy.',
    'The last rule that matches an operation decides it.',
  );
  w.lines.push('(version 1)');
  w.rule('deny', ['default']);

  w.blank();
  w.comment('Processes. The sandbox is inherited by every child and cannot be left. Programs run only from', 'paths the command may read (see the path rules below).');
  w.rule('allow', ['process-fork']);
  w.rule('allow', ['signal'], ['(target same-sandbox)']);
  w.rule('allow', ['process-info*'], ['(target same-sandbox)']);
  w.comment('Mapping code from files the command could open (dlopen of native modules); opening is what the path rules decide.');
  w.rule('allow', ['file-map-executable']);
  w.comment('Host statistics through the host port: os.cpus() and os.freemem() in Node (libuv), top-like tools.');
  w.rule('allow', ['mach-host*']);
  w.comment('Named POSIX semaphores: Python multiprocessing locks (pytest-xdist, concurrent.futures).');
  w.rule('allow', ['ipc-posix-sem']);

  w.blank();
  w.comment('sysctl values, read only, and only these.');
  w.rule(
    'allow',
    ['sysctl-read'],
    SYSCTLS.flatMap((g) => [`; ${g.why}`, ...g.names.map((n) => `(sysctl-name ${q(n)})`), ...(g.prefixes ?? []).map((p) => `(sysctl-name-prefix ${q(p)})`)]),
  );

  w.blank();
  w.comment('Mach services.');
  w.rule('allow', ['mach-lookup'], MACH_SERVICES.flatMap((s) => [`; ${s.why}`, globalName(s.name)]));

}

/** Devices, terminals, and the system every program needs to start. */
function writeDevices(w: Writer, terminalIoctl: boolean): void {
  w.blank();
  w.comment('Devices.');
  w.rule('allow', [...READ, WRITE], DEVICES.filter((d) => d.access === 'rw').map((d) => literal(q(d.path))));
  w.rule('allow', [...READ], DEVICES.filter((d) => d.access === 'r').map((d) => literal(q(d.path))));
  w.comment('Descriptors the command already holds, reopened through /dev/fd (bash process substitution).');
  w.rule('allow', [...READ, WRITE], [subpath(q('/dev/fd'))]);
  w.comment(
    'Terminals. Pseudo-terminals the command creates (script, expect, node-pty, isolate\'s terminal helper) carry the',
    'sandbox\'s pty extension; other terminals cannot be opened, but /dev/tty, which is only ever the process\'s own',
    'controlling terminal (none, or the helper\'s). Reading and writing descriptors the command inherited is not checked by Seatbelt.',
  );
  w.rule('allow', ['pseudo-tty']);
  w.rule('allow', [...READ, WRITE], [literal(q('/dev/ptmx'))]);
  const ownPty = `(require-all ${regex(q(TTYS))} (extension ${q('com.apple.sandbox.pty')}))`;
  w.rule('allow', [...READ, WRITE], [ownPty]);
  if (terminalIoctl) {
    w.comment(
      'termios ioctls, also on the terminal the command inherited. It cannot inject input into that terminal',
      '(TIOCSTI): it runs in a new session, without a controlling terminal, and not as root.',
    );
    w.rule('allow', ['file-ioctl'], [literal(q('/dev/ptmx')), literal(q('/dev/dtracehelper')), literal(q('/dev/tty')), regex(q(TTYS))]);
  } else {
    w.comment(
      'termios ioctls only on the pseudo-terminals the command creates: as root it could inject input (TIOCSTI)',
      'into any terminal it holds, so the one it inherited does not behave as a terminal.',
    );
    w.rule('allow', ['file-ioctl'], [literal(q('/dev/ptmx')), literal(q('/dev/dtracehelper')), literal(q('/dev/tty')), ownPty]);
  }

  w.blank();
  w.comment('The system every program needs to start, whatever the profile says:');
  w.rule('allow', [...READ, EXEC], SYSTEM_READ.flatMap((s) => [`; ${s.why}`, subpath(q(s.path))]));
  const systemTraverse = [...new Set([...SYSTEM_READ.map((s) => s.path), ...DEVICES.map((d) => d.path), '/dev/fd', '/dev/ptmx'].flatMap(ancestors))].sort();
  w.comment('and the metadata of the directories above it, and of the /etc, /tmp and /var symlinks.');
  w.rule('allow', [...METADATA], [...systemTraverse, ...SYSTEM_LINKS].map((p) => literal(q(p))));

}

/** The policy's paths, parents first, stronger kinds last; the parameter of each read and write rule. */
function writePathRules(w: Writer, rules: readonly MountRule[]): Map<MountRule, string> {
  w.blank();
  w.comment(
    'The profile\'s paths, parents first: a rule for a deeper path comes later and wins for it.',
    'read: readable and runnable, not writable; write: readable, writable, runnable;',
    'deny: hidden; tmpfs: hidden (its private replacement is allowed further down).',
  );
  w.comment(
    'Hard links (file-link) and clones (file-clone) are allowed nowhere: Seatbelt checks them against the new',
    'name only, so either would make a readable alias of a hidden or protected file.',
  );
  const paramOf = new Map<MountRule, string>();
  for (const rule of rules) {
    switch (rule.kind) {
      case 'read': {
        const p = w.param('READ', rule.path);
        paramOf.set(rule, p);
        w.rule('allow', [...READ, EXEC], [subpath(p)]);
        w.rule('deny', [WRITE], [subpath(p)]);
        break;
      }
      case 'write': {
        const p = w.param('WRITE', rule.path);
        paramOf.set(rule, p);
        w.rule('allow', [...READ, WRITE, EXEC], [subpath(p)]);
        break;
      }
      case 'deny':
        w.rule('deny', [...READ, WRITE, EXEC], [subpath(w.param('DENY', rule.path)), anyCase(w, 'DENY', [rule.path], true)], true);
        break;
      case 'tmpfs':
        w.rule('deny', [...READ, WRITE, EXEC], [subpath(w.param('TMPFS', rule.path)), anyCase(w, 'TMPFS', [rule.path], true)], true);
        break;
    }
  }

  return paramOf;
}

function writeScratch(w: Writer, scratch: readonly ScratchDir[]): string[] {
  const scratchParams: string[] = [];
  if (scratch.length > 0) {
    w.blank();
    w.comment('Private directories standing in for the tmpfs paths: created empty for this run, removed after it.');
    for (const s of scratch) {
      const p = w.param('SCRATCH', s.path);
      scratchParams.push(p);
      w.rule('allow', [...READ, WRITE, EXEC], [subpath(p)]);
    }
  }

  return scratchParams;
}

/** The network mode: nothing, everything but unix sockets, or TCP to the proxy on the loopback. */
function writeNetwork(w: Writer, mode: NetworkMode, proxyPort: number): void {
  w.blank();
  switch (mode) {
    case 'none':
      w.comment('Network: none. No IP traffic at all, loopback included.');
      w.rule('deny', ['network*']);
      break;
    case 'host':
      w.comment('Network: host. Everything but unix sockets, which are allowed one by one below.');
      w.rule('allow', ['network*']);
      w.rule('deny', ['network-outbound'], ['(remote unix-socket)']);
      w.comment('Name resolution: mDNSResponder (its socket and services), the resolver configuration.');
      w.rule('allow', ['network-outbound'], [`(remote unix-socket (path-literal ${q(DNS_SOCKET)}))`]);
      w.rule('allow', ['mach-lookup'], DNS_SERVICES.map(globalName));
      w.rule('allow', [...READ], [literal(q(RESOLV_CONF))]);
      w.comment('Network interfaces and routes: getifaddrs(3), os.networkInterfaces() (dev servers print their addresses).');
      w.rule('allow', ['sysctl-read'], [`(sysctl-name-prefix ${q('net.routetable.')})`]);
      break;
    case 'filtered':
      w.comment('Network: filtered. Only TCP to isolate\'s proxy on the loopback; no name resolution (the proxy resolves).');
      w.rule('deny', ['network*']);
      w.rule('allow', ['network-outbound'], [`(remote tcp (string-append ${q('localhost:')} ${w.param('PROXY_PORT', String(proxyPort), true)}))`]);
      break;
  }
  if (mode !== 'none') {
    w.comment('TLS certificate verification through the Security framework.');
    w.rule('allow', ['mach-lookup'], TRUST_SERVICES.map(globalName));
  }
}

/** Unix sockets: those the command creates in its private directories, and those the profile names (returned). */
function writeSockets(w: Writer, rules: readonly MountRule[], paramOf: ReadonlyMap<MountRule, string>, scratchParams: readonly string[]): string[] {
  const sockets = rules.filter((r) => (r.kind === 'read' || r.kind === 'write') && r.type === 'other');
  if (scratchParams.length > 0) {
    w.comment('Unix sockets the command creates in its private directories.');
    w.rule('allow', ['network-bind', 'network-inbound'], scratchParams.map((p) => `(local unix-socket ${subpath(p)})`));
    w.rule('allow', ['network-outbound'], scratchParams.map((p) => `(remote unix-socket ${subpath(p)})`));
  }
  if (sockets.length > 0) {
    w.comment('Unix sockets the profile names (a connect may count as a write of the socket file: data only, never unlink or create).');
    for (const s of sockets) {
      const p = paramOf.get(s) ?? '';
      w.rule('allow', ['network-outbound'], [`(remote unix-socket (path-literal ${p}))`]);
      w.rule('allow', ['file-write-data'], [literal(p)]);
    }
  }
  return sockets.map((s) => s.path);
}

/** The metadata of every directory above a visible path and of the symlinks naming one; returns those paths. */
function writeTraverse(w: Writer, rules: readonly MountRule[], scratch: readonly ScratchDir[]): string[] {
  const traverse = new Set<string>(['/']);
  for (const r of rules) {
    if (r.kind !== 'read' && r.kind !== 'write') continue;
    for (const a of ancestors(r.path)) traverse.add(a);
    if (r.linkFrom !== undefined) {
      traverse.add(r.linkFrom);
      for (const a of ancestors(r.linkFrom)) traverse.add(a);
    }
  }
  for (const s of scratch) for (const a of ancestors(s.path)) traverse.add(a);
  const traverseList = [...traverse].sort();
  w.blank();
  w.comment('Metadata (stat, lstat, readlink) of every directory above a visible path, and of the symlinks naming', 'one, so that the paths can be reached and resolved (realpath, getcwd). Not their contents.');
  w.rule('allow', [...METADATA], [regex(w.param('TRAVERSE', exactPathsRegex(traverseList), true))]);
  return traverseList;
}

/**
 * The protected names of the list (existing or not: Seatbelt refuses the
 * write at the name either way, so nothing is created for a missing one) and
 * the directories that must stay in place for them. On Linux only the
 * directories between the writable root and a name are pinned (the root is a
 * mount point, which cannot be renamed); Seatbelt has no mount points, so
 * every writable directory above a name is kept in place.
 */
function writeProtected(w: Writer, ops: readonly SetupOp[], rules: readonly MountRule[]): { protect: string[]; pins: string[] } {
  const shown = ops.find((op) => op.kind === 'git-config');
  if (shown !== undefined) throw gitConfigUnsupported(shown.path, 'sandbox-exec');
  const store = ops.find((op) => op.kind === 'hide' && op.credentialStore === true);
  if (store !== undefined) throw gitCredentialStoreUnsupported(store.path, 'sandbox-exec');
  const protect = protectedNames(ops);
  // Pin ops name directories above protected names, and above paths a rule already hides (isolate's own directories).
  const pinned = ops.flatMap((op) => (op.kind === 'pin' ? [op.path, ...ancestors(op.path)] : []));
  const above = [...protect.flatMap((path) => ancestors(path)), ...pinned];
  const pins = [...new Set(above.filter((dir) => dir !== '/' && isWritable(rules, dir)))].sort();
  if (protect.length === 0 && pins.length === 0) return { protect, pins };
  w.blank();
  w.comment(
    'Protected names inside writable paths: never written, created, renamed or removed (file-write*),',
    'whether they exist or not; emitted after every allow, so they win.',
  );
  for (const path of protect) {
    const p = w.param('PROTECT', path);
    w.rule('deny', ['file-write*'], [literal(p), subpath(p), anyCase(w, 'PROTECT', [path], true)], true);
  }
  w.comment(
    'Every writable directory above them stays put: file-write* on the directory itself (not on its',
    'contents) covers file-write-unlink (rename away, rmdir) and file-write-create (rename into place).',
  );
  w.rule('deny', ['file-write*'], [regex(w.param('PINS', exactPathsRegex(pins), true)), anyCase(w, 'PINS', pins, false, true)], true);
  return { protect, pins };
}

/** Denied whatever the profile says: the keychains, Docker, Launch Services and Apple Events. */
function writeAlwaysDenied(w: Writer, home: string): void {
  w.blank();
  w.comment('Denied whatever the profile says. The keychains: their services and their files.');
  w.rule('deny', ['mach-lookup'], [globalName('com.apple.SecurityServer'), `(global-name-prefix ${q('com.apple.securityd')})`, `(global-name-prefix ${q('com.apple.security.')})`]);
  const under = home === '/' ? '' : home;
  const keychains = `${under}/Library/Keychains`;
  w.rule('deny', [...READ, WRITE, EXEC], [subpath(w.param('KEYCHAINS', keychains, true)), subpath(q('/Library/Keychains')), anyCase(w, 'KEYCHAINS', [keychains, '/Library/Keychains'], true, true)], true);
  w.comment('Docker: its socket, its configuration (~/.docker, where Docker Desktop also keeps its socket), its helpers.');
  const docker = w.param('DOCKER_CONFIG', `${under}/.docker`, true);
  w.rule('deny', [...READ, WRITE, EXEC], [literal(q('/private/var/run/docker.sock')), subpath(docker), anyCase(w, 'DOCKER', [`${under}/.docker`, '/private/var/run/docker.sock'], true, true)], true);
  w.rule('deny', ['network-outbound'], [`(remote unix-socket (path-literal ${q('/private/var/run/docker.sock')}))`, `(remote unix-socket ${subpath(docker)})`]);
  w.rule('deny', ['mach-lookup'], [`(global-name-prefix ${q('com.docker.')})`]);
  w.comment('Launch Services and Apple Events would start or drive programs outside the sandbox.');
  w.rule('deny', ['mach-lookup'], [globalName('com.apple.coreservices.launchservicesd'), globalName('com.apple.coreservices.appleevents')]);
}

/** syscalls.preset: default (sbpl-hardening.ts): last, so that no allow above undoes it. */
function writeHardening(w: Writer): void {
  w.blank();
  w.comment('syscalls.preset: default. What Linux\'s seccomp filter refuses, as far as Seatbelt can say it; written last, so it wins.');
  for (const r of SEATBELT_DEFAULT) {
    w.comment(r.reason);
    w.rule('deny', r.ops, r.filters ?? []);
  }
}
