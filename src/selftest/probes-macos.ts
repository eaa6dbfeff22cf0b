/**
 * The escape attempts of `isolate selftest` on macOS. The files, the
 * environment, writes, protected names and the network are probed as on
 * Linux (probes.ts); what reaches other processes differs: macOS has no
 * /proc, no ptrace of the Linux kind and no namespaces, so these probes
 * aim at isolate's own process, which runs outside the sandbox, through
 * the interfaces macOS has: its environment through sysctl
 * KERN_PROCARGS2 (what `ps -E` reads), a signal, its task port
 * (task_for_pid, macOS's ptrace), and a set-user-ID program.
 */
import type { RunReport } from '../audit/report.js';
import type { Judgement, Probe, ProbeContext } from './probes.js';

const out = (r: RunReport): string => `${r.stdout ?? ''}${r.stderr ?? ''}`;
const lastLine = (s: string): string => s.trim().split('\n').filter(Boolean).slice(-1)[0]?.slice(0, 120) ?? '';
const judged = (escapedWhen: RegExp, escapedDetail: string) => (r: RunReport): Judgement =>
  escapedWhen.test(out(r)) ? { outcome: 'escaped', detail: escapedDetail } : { outcome: 'blocked', detail: lastLine(out(r)) || `exit ${r.exitCode}` };
const sh = (script: string, ...args: string[]): string[] => ['/bin/sh', '-c', script, 'isolate-probe', ...args];
const py = (ctx: ProbeContext, code: string, ...args: string[]): string[] => [ctx.python ?? 'python3', '-c', code, ...args];
const needsPython = (ctx: ProbeContext): string | undefined =>
  ctx.python === undefined ? 'python3 is not installed at /usr/bin/python3 (or is not visible in the sandbox)' : undefined;
const always = (): { blocked: true } => ({ blocked: true });
const hardened = (ctx: ProbeContext, what: string): { blocked: true } | { blocked: false; reason: string } =>
  ctx.policy.syscalls.preset === 'default' ? { blocked: true } : { blocked: false, reason: `syscalls.preset none: the profile has no Seatbelt rule against ${what}` };

const PROCARGS = `import ctypes, os, sys
libc = ctypes.CDLL(None, use_errno=True)
mib = (ctypes.c_int * 3)(1, 49, int(sys.argv[1]))  # CTL_KERN, KERN_PROCARGS2, pid
size = ctypes.c_size_t(1 << 20)
buf = ctypes.create_string_buffer(size.value)
if libc.sysctl(mib, 3, buf, ctypes.byref(size), None, 0) == 0 and size.value > 0:
    print('READ', size.value)
else:
    print('refused', os.strerror(ctypes.get_errno()))
`;

const TASK_PORT = `import ctypes, sys
libc = ctypes.CDLL(None, use_errno=True)
me = ctypes.c_uint.in_dll(libc, 'mach_task_self_').value
task = ctypes.c_uint(0)
kr = libc.task_for_pid(me, int(sys.argv[1]), ctypes.byref(task))
print('TASKPORT' if kr == 0 else 'refused: kern_return ' + str(kr))
`;

const RESOLVE = `import socket
try:
    socket.getaddrinfo('example.com', 443)
    print('RESOLVED')
except OSError as e:
    print('no answer:', e)
`;

export function macosProbes(): Probe[] {
  return [
    {
      id: 'process-environ',
      title: "read another process's environment (sysctl KERN_PROCARGS2, as ps -E does)",
      expect: always,
      skip: needsPython,
      command: (c) => py(c, PROCARGS, String(c.hostPid)),
      judge: judged(/^READ \d+/m, "the environment and arguments of isolate's own process were read"),
    },
    {
      id: 'signal-other',
      title: 'signal a process outside the sandbox',
      expect: always,
      // SIGCONT: a real signal (not kill -0's existence check) that a running process ignores.
      command: (c) => sh('kill -CONT "$1" 2>&1 && echo SIGNALLED || echo refused', String(c.hostPid)),
      judge: judged(/^SIGNALLED$/m, "isolate's own process could be signalled"),
    },
    {
      id: 'task-port',
      title: "take another process's task port (task_for_pid)",
      expect: (c) => hardened(c, 'task ports'),
      skip: needsPython,
      command: (c) => py(c, TASK_PORT, String(c.hostPid)),
      judge: judged(/^TASKPORT$/m, "isolate's own task port was taken: its memory could be read and written"),
    },
    {
      id: 'setid-exec',
      title: 'start a set-user-ID program (sudo)',
      expect: (c) => hardened(c, 'set-user-ID programs'),
      command: () => sh('v=$(/usr/bin/sudo -V 2>&1); case "$v" in "Sudo version"*) echo STARTED;; *) echo "refused: $v";; esac'),
      judge: judged(/^STARTED$/m, 'sudo started (it runs as root)'),
    },
    {
      id: 'dns',
      title: 'resolve a name (DNS)',
      expect: (c) => (c.policy.network.mode === 'host' ? { blocked: false, reason: 'network host' } : { blocked: true }),
      skip: needsPython,
      command: (c) => py(c, RESOLVE),
      judge: judged(/^RESOLVED$/m, 'a name was resolved'),
    },
  ];
}
