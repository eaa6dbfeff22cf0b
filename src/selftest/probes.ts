/**
 * The escape attempts `isolate selftest` makes. Each probe is a command run
 * in the sandbox built from the user's profile, a judgement of what happened,
 * and what the profile leads us to expect (a probe the profile deliberately
 * allows, such as DNS with network host, is reported but never counted as an
 * escape).
 */
import type { RunReport } from '../audit/report.js';
import type { LimitsDoc, Policy } from '../profile/types.js';
import { shellQuote } from '../run/quote.js';
import { macosProbes } from './probes-macos.js';

export interface ProbeContext {
  policy: Policy;
  uid: number;
  /** A cgroup with the pids controller is usable (then a process limit holds for root too). */
  cgroupPids: boolean;
  python: string | undefined;
  /** Files and servers planted on the host for the probes. */
  outside: string;
  secretFile: string;
  secretToken: string;
  envTokens: string[];
  hostPort: number;
  hostSocket: string;
  writeTarget: string;
  hooksFile: string;
  /** isolate's own process, outside the sandbox: the target of the macOS probes that reach other processes. */
  hostPid: number;
  gitConfig: string;
  gitConfigBefore: string;
  /** Read host state after a probe ran. */
  exists(path: string): boolean;
  read(path: string): string | undefined;
}

export type Outcome = 'blocked' | 'escaped' | 'allowed' | 'skipped' | 'error';

export interface Judgement {
  outcome: Outcome;
  detail: string;
}

export interface Probe {
  id: string;
  title: string;
  /** What this profile should do with the attempt; a reason when the profile allows it. */
  expect(ctx: ProbeContext): { blocked: true } | { blocked: false; reason: string };
  /** Why the probe cannot run here (e.g. no python3), or undefined. */
  skip?(ctx: ProbeContext): string | undefined;
  command(ctx: ProbeContext): string[];
  env?(ctx: ProbeContext): Record<string, string>;
  limits?(ctx: ProbeContext): LimitsDoc;
  judge(report: RunReport, ctx: ProbeContext): Judgement;
}

const out = (r: RunReport): string => `${r.stdout ?? ''}${r.stderr ?? ''}`;
const firstLine = (s: string): string => s.trim().split('\n').filter(Boolean).slice(-1)[0]?.slice(0, 120) ?? '';
const blocked = (detail: string): Judgement => ({ outcome: 'blocked', detail });
const escaped = (detail: string): Judgement => ({ outcome: 'escaped', detail });
const sh = (script: string): string[] => ['/bin/sh', '-c', script];
const py = (ctx: ProbeContext, code: string): string[] => [ctx.python ?? 'python3', '-c', code];
const needsPython = (ctx: ProbeContext): string | undefined =>
  ctx.python === undefined ? 'python3 is not installed at /usr/bin/python3 (or is not visible in the sandbox)' : undefined;
const always = (): { blocked: true } => ({ blocked: true });

function seccompDenies(ctx: ProbeContext, syscall: string): boolean {
  const s = ctx.policy.syscalls;
  if (s.deny.includes(syscall)) return true;
  return s.preset === 'default' && !s.allow.includes(syscall);
}

const PY_PRELUDE = 'import ctypes, os, sys\nlibc = ctypes.CDLL(None, use_errno=True)\n';

export function probes(visible: (path: string) => boolean, writable: (path: string) => boolean, passes: (name: string) => boolean): Probe[] {
  return [
    {
      id: 'secret-file',
      title: 'read a secret file outside the allowed paths',
      expect: (c) => (visible(c.secretFile) ? { blocked: false, reason: 'the profile makes it readable' } : { blocked: true }),
      command: (c) => sh(`cat ${shellQuote(c.secretFile)}`),
      judge: (r, c) => (out(r).includes(c.secretToken) ? escaped('the secret was read') : blocked(firstLine(out(r)) || `exit ${r.exitCode}`)),
    },
    {
      id: 'env-secret',
      title: "read a secret from the caller's environment",
      expect: () => (passes('GITHUB_TOKEN') || passes('ISOLATE_SELFTEST_TOKEN') ? { blocked: false, reason: 'the profile passes it' } : { blocked: true }),
      command: () => ['env'],
      judge: (r, c) => (c.envTokens.some((t) => out(r).includes(t)) ? escaped('a secret value is in the environment') : blocked('not in the environment')),
    },
    {
      id: 'proc-environ',
      title: 'read a secret from /proc/1/environ (and every process)',
      expect: () => (passes('GITHUB_TOKEN') || passes('ISOLATE_SELFTEST_TOKEN') ? { blocked: false, reason: 'the profile passes it' } : { blocked: true }),
      command: () => sh('for f in /proc/1/environ /proc/[0-9]*/environ; do cat "$f" 2>/dev/null; echo; done'),
      judge: (r, c) => (c.envTokens.some((t) => out(r).includes(t)) ? escaped('a secret value is in a process environment') : blocked('not in any /proc/*/environ')),
    },
    {
      id: 'write-outside',
      title: 'write outside the writable paths',
      expect: (c) => (writable(c.writeTarget) ? { blocked: false, reason: 'the profile makes it writable' } : { blocked: true }),
      command: (c) => sh(`echo pwned > ${shellQuote(c.writeTarget)}`),
      judge: (r, c) => (c.exists(c.writeTarget) ? escaped('the file appeared on the host') : blocked(firstLine(out(r)))),
    },
    {
      id: 'git-hooks',
      title: 'write .git/hooks and .git/config in the project',
      expect: (c) =>
        writable(c.hooksFile) && !c.policy.filesystem.protect.includes('.git/hooks')
          ? { blocked: false, reason: 'the profile does not protect .git/hooks' }
          : { blocked: true },
      command: (c) => sh(`echo pwned > ${shellQuote(c.hooksFile)}; echo '[core] hooksPath = /tmp' >> ${shellQuote(c.gitConfig)}`),
      judge: (r, c) =>
        c.exists(c.hooksFile) || c.read(c.gitConfig) !== c.gitConfigBefore ? escaped('a hook or the git config was written') : blocked(firstLine(out(r))),
    },
    {
      id: 'symlink-out',
      title: 'follow a symlink in the project out to the secret',
      expect: (c) => (visible(c.secretFile) ? { blocked: false, reason: 'the profile makes the target readable' } : { blocked: true }),
      command: () => sh('cat ./link-out'),
      judge: (r, c) => (out(r).includes(c.secretToken) ? escaped('the secret was read through the link') : blocked(firstLine(out(r)))),
    },
    {
      id: 'tiocsti',
      title: 'inject keystrokes into a terminal (TIOCSTI)',
      expect: (c) => (seccompDenies(c, 'ioctl') ? { blocked: true } : { blocked: false, reason: 'the profile allows ioctl' }),
      skip: needsPython,
      command: (c) =>
        py(
          c,
          `${PY_PRELUDE}import fcntl, pty, termios\nos.setsid()\nm, s = pty.openpty()\nfcntl.ioctl(s, termios.TIOCSCTTY, 0)\ntry:\n    fcntl.ioctl(s, termios.TIOCSTI, b'#')\n    print('INJECTED')\nexcept OSError as e:\n    print('refused', e.strerror)\n`,
        ),
      judge: (r) => (out(r).includes('INJECTED') ? escaped('TIOCSTI succeeded') : blocked(firstLine(out(r)))),
    },
    {
      id: 'ptrace',
      title: 'trace another process (ptrace)',
      expect: (c) => (seccompDenies(c, 'ptrace') ? { blocked: true } : { blocked: false, reason: 'the profile allows ptrace' }),
      skip: needsPython,
      command: (c) =>
        py(
          c,
          `${PY_PRELUDE}r, w = os.pipe()\npid = os.fork()\nif pid == 0:\n    res = libc.ptrace(0, 0, 0, 0)\n    os.write(w, (str(res) + ' ' + os.strerror(ctypes.get_errno())).encode())\n    os._exit(0)\nos.waitpid(pid, 0)\ndata = os.read(r, 200).decode()\nprint('TRACED' if data.startswith('0 ') else 'refused ' + data)\n`,
        ),
      judge: (r) => (out(r).includes('TRACED') ? escaped('ptrace succeeded') : blocked(firstLine(out(r)))),
    },
    {
      id: 'userns',
      title: 'create a nested user namespace and mount',
      expect: always,
      command: () => sh('unshare -Urm sh -c "mount -t tmpfs none /mnt && echo MOUNTED" 2>&1 || echo "refused"'),
      judge: (r) => (out(r).includes('MOUNTED') ? escaped('a nested namespace mounted a filesystem') : blocked(firstLine(out(r)))),
    },
    {
      id: 'io-uring',
      title: 'set up io_uring',
      expect: (c) => (seccompDenies(c, 'io_uring_setup') ? { blocked: true } : { blocked: false, reason: 'the profile allows io_uring' }),
      skip: needsPython,
      command: (c) =>
        py(c, `${PY_PRELUDE}params = ctypes.create_string_buffer(120)\nfd = libc.syscall(425, 4, params)\nprint('RING' if fd >= 0 else 'refused ' + os.strerror(ctypes.get_errno()))\n`),
      judge: (r) => (out(r).includes('RING') ? escaped('io_uring_setup returned a ring') : blocked(firstLine(out(r)))),
    },
    {
      id: 'host-tcp',
      title: 'connect to a TCP port on the host loopback',
      expect: (c) => (c.policy.network.mode === 'host' ? { blocked: false, reason: 'network host' } : { blocked: true }),
      skip: needsPython,
      command: (c) =>
        py(c, `import socket\ns = socket.socket()\ns.settimeout(3)\ntry:\n    s.connect(('127.0.0.1', ${c.hostPort}))\n    print('CONNECTED')\nexcept OSError as e:\n    print('refused', e)\n`),
      judge: (r) => (out(r).includes('CONNECTED') ? escaped('connected to the host') : blocked(firstLine(out(r)))),
    },
    {
      id: 'host-unix-socket',
      title: 'connect to a unix socket on the host',
      expect: (c) => (visible(c.hostSocket) ? { blocked: false, reason: 'the profile makes the socket visible' } : { blocked: true }),
      skip: needsPython,
      command: (c) =>
        py(c, `import socket, sys\ns = socket.socket(socket.AF_UNIX)\ntry:\n    s.connect(sys.argv[1])\n    print('CONNECTED')\nexcept OSError as e:\n    print('refused', e)\n`).concat([c.hostSocket]),
      judge: (r) => (out(r).includes('CONNECTED') ? escaped('connected to the host socket') : blocked(firstLine(out(r)))),
    },
    {
      id: 'dns',
      title: 'resolve a name (DNS)',
      expect: (c) => (c.policy.network.mode === 'host' ? { blocked: false, reason: 'network host' } : { blocked: true }),
      command: () => sh('getent hosts example.com && echo RESOLVED || echo "no answer"'),
      judge: (r) => (out(r).includes('RESOLVED') ? escaped('a name was resolved') : blocked(firstLine(out(r)))),
    },
    {
      id: 'fork-bomb',
      title: 'fork bomb under the process limit',
      expect: always,
      skip: (c) =>
        needsPython(c) ??
        (c.uid === 0 && !c.cgroupPids
          ? 'a process limit cannot be enforced when isolate runs as root without a cgroup (the kernel exempts uid 0 from RLIMIT_NPROC); run selftest as an ordinary user'
          : undefined),
      limits: (c) => ({ processes: c.policy.limits.processes ?? 64, timeout: '20s' }),
      command: (c) =>
        py(
          c,
          `import os, time\nn = 0\ntry:\n    for i in range(5000):\n        if os.fork() == 0:\n            time.sleep(5)\n            os._exit(0)\n        n += 1\n    print('FORKED', n)\nexcept OSError as e:\n    print('stopped after', n, 'forks:', e.strerror)\n`,
        ),
      judge: (r) => (out(r).includes('FORKED') ? escaped('5000 processes were started') : blocked(firstLine(out(r)))),
    },
    {
      id: 'memory-hog',
      title: 'allocate memory beyond the memory limit',
      expect: always,
      skip: needsPython,
      limits: (c) => ({ memory: c.policy.limits.memoryBytes ?? 256 * 1024 * 1024, timeout: '20s' }),
      command: (c) =>
        py(
          c,
          `import sys\nlimit = int(sys.argv[1])\ntry:\n    b = bytearray(limit * 2)\n    print('ALLOCATED', len(b))\nexcept MemoryError:\n    print('refused: MemoryError')\n`,
        ).concat([String(c.policy.limits.memoryBytes ?? 256 * 1024 * 1024)]),
      judge: (r) => (out(r).includes('ALLOCATED') ? escaped('twice the limit was allocated') : blocked(firstLine(out(r)) || `exit ${r.exitCode}`)),
    },
    {
      id: 'busy-loop',
      title: 'spin the CPU beyond the CPU limit',
      expect: always,
      limits: (c) => ({ cpu: c.policy.limits.cpuSeconds ?? 1, timeout: `${(c.policy.limits.cpuSeconds ?? 1) + 10}s` }),
      command: () => sh('while :; do :; done'),
      judge: (r: RunReport) =>
        r.limit === 'cpu' || r.signal === 'SIGXCPU' || r.signal === 'SIGKILL'
          ? blocked(`stopped by the CPU limit (${r.signal ?? `exit ${r.exitCode}`})`)
          : escaped(r.timedOut ? 'ran until the timeout: the CPU limit did not stop it' : `exit ${r.exitCode}`),
    },
  ];
}

/** Probes of interfaces only Linux has (/proc, ptrace, user namespaces, io_uring, getent, a memory limit), or that mean something else on macOS (TIOCSTI into a terminal of the command's own). */
const LINUX_ONLY: ReadonlySet<string> = new Set(['proc-environ', 'tiocsti', 'ptrace', 'userns', 'io-uring', 'dns', 'memory-hog']);

/** The probes for this platform: on macOS the shared ones, then those of probes-macos.ts. */
export function probesFor(platform: NodeJS.Platform, visible: (path: string) => boolean, writable: (path: string) => boolean, passes: (name: string) => boolean): Probe[] {
  const all = probes(visible, writable, passes);
  return platform === 'darwin' ? [...all.filter((p) => !LINUX_ONLY.has(p.id)), ...macosProbes()] : all;
}
