/**
 * The seccomp filter through `isolate run`: a Python ctypes probe inside the
 * sandbox makes each refused system call with the real kernel. The same
 * probe under a profile with `syscalls: { preset: none }` is the control: it
 * shows each call would otherwise succeed, or fail with a different errno,
 * so the EPERM/ENOSYS seen under the default preset is the filter's.
 */
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { seccompArchFromNode, syscallNumber } from '../../src/seccomp/syscalls.js';
import { STACK_LINE, homeWithProject, isolate, isolateAsync, keyValues, plant, runners, type Project, type Result } from '../helpers/isolate.js';
import { PY_IN_CHILD } from '../helpers/probes.js';

const PYTHON = '/usr/bin/python3';
const EPERM = 1;
const ENOENT = 2;
const EBADF = 9;
const EINVAL = 22;
const ENOTTY = 25;
const ENOSYS = 38;

const arch = seccompArchFromNode();
const SYSCALLS = [
  'ptrace',
  'process_vm_readv',
  'mount',
  'unshare',
  'setns',
  'bpf',
  'perf_event_open',
  'keyctl',
  'add_key',
  'userfaultfd',
  'init_module',
  'io_uring_setup',
  'clone3',
  'clone',
  'personality',
  'ioctl',
  'chroot',
] as const;

function numbers(): Record<string, number> {
  if (arch === undefined) throw new Error('unreachable: skipped');
  const out: Record<string, number> = {};
  for (const name of SYSCALLS) {
    const n = syscallNumber(arch, name);
    if (n === undefined) throw new Error(`no number for ${name} on ${arch}`);
    out[name] = n;
  }
  return out;
}

const skipReason = !existsSync(PYTHON)
  ? `${PYTHON} is not installed`
  : arch === undefined
    ? `isolate has no seccomp tables for ${process.arch}`
    : !/^Seccomp:/m.test(readFileSync('/proc/self/status', 'utf8'))
      ? 'this kernel has no seccomp'
      : undefined;
if (skipReason !== undefined) console.warn(`seccomp integration tests skipped: ${skipReason}`);

/**
 * Prints one JSON object: {ret, errno} of each raw system call. Calls that
 * would change the probe itself (ptrace TRACEME, personality, setsid for the
 * terminal, clone) run in a forked child.
 */
const PROBE = String.raw`import ctypes, fcntl, json, os, pty, sys, termios, time
nr = json.loads(sys.argv[1])
libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long
U = ctypes.c_ulong

def sc(name, *args):
    ctypes.set_errno(0)
    r = libc.syscall(U(nr[name]), *[U(a & 0xffffffffffffffff) if isinstance(a, int) else a for a in args])
    return {'ret': r, 'errno': ctypes.get_errno()}

def closing(res):
    if res['ret'] >= 0:
        os.close(res['ret'])
    return res

${PY_IN_CHILD}

out = {}
out['ptrace_traceme'] = in_child(lambda: sc('ptrace', 0, 0, 0, 0))

class IOV(ctypes.Structure):
    _fields_ = [('base', ctypes.c_void_p), ('len', ctypes.c_size_t)]
src = ctypes.create_string_buffer(b'isolate-probe', 16)
dst = ctypes.create_string_buffer(16)
liov = IOV(ctypes.addressof(dst), 13)
riov = IOV(ctypes.addressof(src), 13)
out['process_vm_readv'] = sc('process_vm_readv', os.getpid(), ctypes.byref(liov), 1, ctypes.byref(riov), 1, 0)
out['process_vm_readv']['data'] = dst.value.decode()

out['mount'] = sc('mount', ctypes.c_char_p(b'none'), ctypes.c_char_p(b'/nonexistent-isolate-mountpoint'), ctypes.c_char_p(b'tmpfs'), 0, 0)
out['unshare0'] = sc('unshare', 0)
out['setns'] = sc('setns', -1, 0)
out['bpf'] = sc('bpf', 0xffff, 0, 0)
out['perf_event_open'] = sc('perf_event_open', 0, 0, -1, -1, 0)
out['keyctl'] = sc('keyctl', 0, -3, 0)  # KEYCTL_GET_KEYRING_ID, KEY_SPEC_SESSION_KEYRING
out['add_key'] = sc('add_key', 0, 0, 0, 0, 0)
out['userfaultfd'] = closing(sc('userfaultfd', 1 | 0o2000000))  # UFFD_USER_MODE_ONLY | O_CLOEXEC
out['init_module'] = sc('init_module', 0, 0, 0)
params = ctypes.create_string_buffer(120)
out['io_uring_setup'] = closing(sc('io_uring_setup', 1, params))
out['clone3'] = sc('clone3', 0, 0)
out['chroot'] = sc('chroot', ctypes.c_char_p(b'/nonexistent-isolate-chroot'))

def clone_with(flags):
    def f():
        res = sc('clone', flags | 17, 0, 0, 0, 0)  # | SIGCHLD
        if res['ret'] == 0:
            os._exit(0)
        if res['ret'] > 0:
            os.waitpid(res['ret'], 0)
        return res
    return f
out['clone_newuser'] = in_child(clone_with(0x10000000))
out['clone_plain'] = in_child(clone_with(0))

def pers():
    return {'query': sc('personality', 0xffffffff), 'addr_no_randomize': sc('personality', 0x0040000)}
out['personality'] = in_child(pers)

def ok(fn):
    try:
        fn()
        return {'ok': True}
    except OSError as e:
        return {'ok': False, 'errno': e.errno}

def tty():
    res = {}
    os.setsid()
    m, s = pty.openpty()
    res['tiocsctty'] = ok(lambda: fcntl.ioctl(s, termios.TIOCSCTTY, 0))
    c = ctypes.c_char(b'x')
    res['tiocsti'] = sc('ioctl', s, 0x5412, ctypes.byref(c))
    res['tiocsti_high'] = sc('ioctl', s, 0x1_0000_5412, ctypes.byref(c))
    res['tioclinux'] = sc('ioctl', s, 0x541c, ctypes.byref(c))
    res['tcgets'] = ok(lambda: termios.tcgetattr(s))
    # The terminal echoes each injected byte to the master side when it gets to it (on a loaded machine, after this
    # read had found one of two): read until every injection that succeeded has arrived, or for at most 5 s.
    want = sum(1 for k in ('tiocsti', 'tiocsti_high') if res[k]['ret'] == 0)
    os.set_blocking(m, False)
    injected = ''
    deadline = time.monotonic() + 5
    while True:
        try:
            injected += os.read(m, 100).decode()
        except BlockingIOError:
            pass
        if len(injected) >= want or time.monotonic() > deadline:
            break
        time.sleep(0.01)
    res['injected'] = injected
    return res
out['tty'] = in_child(tty)
print(json.dumps(out))
`;

interface Call {
  ret: number;
  errno: number;
}
interface Probe {
  ptrace_traceme: Call;
  process_vm_readv: Call & { data: string };
  mount: Call;
  unshare0: Call;
  setns: Call;
  bpf: Call;
  perf_event_open: Call;
  keyctl: Call;
  add_key: Call;
  userfaultfd: Call;
  init_module: Call;
  io_uring_setup: Call;
  clone3: Call;
  chroot: Call;
  clone_newuser: Call;
  clone_plain: Call;
  personality: { query: Call; addr_no_randomize: Call };
  tty: { tiocsctty: { ok: boolean }; tiocsti: Call; tiocsti_high: Call; tioclinux: Call; tcgets: { ok: boolean }; injected: string };
}

const refused = (errno: number): Call => ({ ret: -1, errno });

describe.skipIf(skipReason !== undefined).each(runners())('seccomp ($label)', (runner) => {
  let p: Project;
  let profiles: { none: string; allowPtrace: string; denyChroot: string; unknownDeny: string; unknownAllow: string };
  let filtered: Probe;
  let control: Probe;
  let allowPtrace: Probe;
  let denyChroot: Probe;
  const marker = (): string => join(p.project, 'ran.txt');

  const run = (args: string[]): Result => isolate(runner, args, { cwd: p.project, env: p.env });

  function parseProbe(what: string, r: Result): Probe {
    if (r.status !== 0) throw new Error(`${what}: the probe failed (status ${String(r.status)}):\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
    return JSON.parse(r.stdout) as Probe;
  }

  beforeAll(async () => {
    p = homeWithProject(runner);
    profiles = {
      none: plant(runner, p.home, 'profiles/none.yaml', 'extends: default\nsyscalls:\n  preset: none\n'),
      allowPtrace: plant(runner, p.home, 'profiles/allow-ptrace.yaml', 'extends: default\nsyscalls:\n  allow: [ptrace]\n'),
      denyChroot: plant(runner, p.home, 'profiles/deny-chroot.yaml', 'extends: default\nsyscalls:\n  deny: [chroot]\n'),
      unknownDeny: plant(runner, p.home, 'profiles/unknown-deny.yaml', 'extends: default\nsyscalls:\n  deny: [chrooot]\n'),
      unknownAllow: plant(runner, p.home, 'profiles/unknown-allow.yaml', 'extends: default\nsyscalls:\n  allow: [no_such_syscall_xyz]\n'),
    };
    const nr = JSON.stringify(numbers());
    const probe = (profileArgs: string[]): Promise<Result> =>
      isolateAsync(runner, ['run', ...profileArgs, '--', PYTHON, '-c', PROBE, nr], { cwd: p.project, env: p.env });
    // One after the other: concurrent runs in one working directory race on
    // the protected-name placeholders (see faults.test.ts).
    filtered = parseProbe('default preset', await probe([]));
    control = parseProbe('preset none', await probe(['-p', profiles.none]));
    allowPtrace = parseProbe('allow: [ptrace]', await probe(['-p', profiles.allowPtrace]));
    denyChroot = parseProbe('deny: [chroot]', await probe(['-p', profiles.denyChroot]));
  });
  afterEach(() => rmSync(marker(), { force: true }));
  afterAll(() => p.cleanup());

  it('/proc/self/status: Seccomp 2 (filter) by default, 0 with preset none', () => {
    const def = run(['run', '--', 'grep', '-E', '^(Seccomp|NoNewPrivs):', '/proc/self/status']);
    expect(def.status, def.stderr).toBe(0);
    expect(def.stdout).toMatch(/^Seccomp:\s+2$/m);
    expect(def.stdout).toMatch(/^NoNewPrivs:\s+1$/m);
    const none = run(['run', '-p', profiles.none, '--', 'grep', '^Seccomp:', '/proc/self/status']);
    expect(none.status, none.stderr).toBe(0);
    expect(none.stdout).toMatch(/^Seccomp:\s+0$/m);
  });

  it('ptrace(PTRACE_TRACEME) is EPERM (control: returns 0 under preset none)', () => {
    expect(filtered.ptrace_traceme).toEqual(refused(EPERM));
    expect(control.ptrace_traceme).toEqual({ ret: 0, errno: 0 });
  });

  it('process_vm_readv of its own memory is EPERM (control: reads the bytes)', () => {
    expect(filtered.process_vm_readv).toMatchObject(refused(EPERM));
    expect(filtered.process_vm_readv.data).toBe('');
    expect(control.process_vm_readv).toEqual({ ret: 13, errno: 0, data: 'isolate-probe' });
  });

  it('mount is EPERM before the kernel looks at the path (control: ENOENT)', () => {
    expect(filtered.mount).toEqual(refused(EPERM));
    expect(control.mount).toEqual(refused(ENOENT));
  });

  it('unshare is EPERM even with no flags (control: unshare(0) succeeds)', () => {
    expect(filtered.unshare0).toEqual(refused(EPERM));
    expect(control.unshare0).toEqual({ ret: 0, errno: 0 });
  });

  it('setns is EPERM (control: EBADF for fd -1)', () => {
    expect(filtered.setns).toEqual(refused(EPERM));
    expect(control.setns).toEqual(refused(EBADF));
  });

  it('bpf, perf_event_open, keyctl, add_key and userfaultfd are EPERM (control: each gets past the filter)', () => {
    expect(filtered.bpf).toEqual(refused(EPERM));
    expect(filtered.perf_event_open).toEqual(refused(EPERM));
    expect(filtered.keyctl).toEqual(refused(EPERM));
    expect(filtered.add_key).toEqual(refused(EPERM));
    expect(filtered.userfaultfd).toEqual(refused(EPERM));
    // Without the filter the kernel answers differently: bad command, bad pointer, a key id, an fd.
    expect(control.bpf.errno).not.toBe(EPERM);
    expect(control.perf_event_open.errno).not.toBe(EPERM);
    expect(control.keyctl.ret, JSON.stringify(control.keyctl)).toBeGreaterThan(0);
    expect(control.add_key.errno).not.toBe(EPERM);
    expect(control.userfaultfd.errno).not.toBe(EPERM);
  });

  it('init_module is EPERM', () => {
    // No discriminating control: without CAP_SYS_MODULE the kernel refuses with EPERM too (or ENOSYS without module support).
    expect(filtered.init_module).toEqual(refused(EPERM));
    expect([EPERM, ENOSYS]).toContain(control.init_module.errno);
  });

  it('io_uring_setup and clone3 are ENOSYS (control: an io_uring fd, and EINVAL for clone3)', () => {
    expect(filtered.io_uring_setup).toEqual(refused(ENOSYS));
    expect(filtered.clone3).toEqual(refused(ENOSYS));
    expect(control.clone3).toEqual(refused(EINVAL));
    const disabled = existsSync('/proc/sys/kernel/io_uring_disabled') ? readFileSync('/proc/sys/kernel/io_uring_disabled', 'utf8').trim() : undefined;
    if (disabled === '0') expect(control.io_uring_setup.ret, JSON.stringify(control.io_uring_setup)).toBeGreaterThanOrEqual(0);
    else expect(control.io_uring_setup.errno).not.toBe(ENOSYS);
  });

  it('clone with CLONE_NEWUSER is EPERM, plain clone works (control: the kernel\'s own answer is not EPERM)', () => {
    expect(filtered.clone_newuser).toEqual(refused(EPERM));
    expect(control.clone_newuser.errno).not.toBe(EPERM); // ENOSPC: bwrap --disable-userns
    expect(filtered.clone_plain.ret).toBeGreaterThan(0);
    expect(control.clone_plain.ret).toBeGreaterThan(0);
  });

  it('personality: querying works, ADDR_NO_RANDOMIZE is EPERM (control: allowed)', () => {
    expect(filtered.personality.query.ret).toBeGreaterThanOrEqual(0);
    expect(filtered.personality.addr_no_randomize).toEqual(refused(EPERM));
    expect(control.personality.addr_no_randomize.ret).toBeGreaterThanOrEqual(0);
    expect(control.personality.addr_no_randomize.errno).toBe(0);
  });

  it('TIOCSTI on its own controlling pty is EPERM, also with high bits set; TIOCLINUX is EPERM; TCGETS works (control: TIOCSTI injects)', () => {
    for (const out of [filtered, control]) {
      expect(out.tty.tiocsctty).toEqual({ ok: true });
      expect(out.tty.tcgets).toEqual({ ok: true });
    }
    expect(filtered.tty.tiocsti).toEqual(refused(EPERM));
    expect(filtered.tty.tiocsti_high).toEqual(refused(EPERM));
    expect(filtered.tty.tioclinux).toEqual(refused(EPERM));
    expect(filtered.tty.injected).toBe('');
    expect(control.tty.tioclinux).toEqual(refused(ENOTTY)); // not a virtual console
    const legacy = existsSync('/proc/sys/dev/tty/legacy_tiocsti') ? readFileSync('/proc/sys/dev/tty/legacy_tiocsti', 'utf8').trim() : '1';
    if (legacy === '0') {
      console.warn('dev.tty.legacy_tiocsti = 0: the kernel refuses TIOCSTI itself; the TIOCSTI control cannot succeed here');
    } else {
      expect(control.tty.tiocsti).toEqual({ ret: 0, errno: 0 });
      expect(control.tty.tiocsti_high).toEqual({ ret: 0, errno: 0 }); // the kernel uses the low 32 bits
      expect(control.tty.injected).toBe('xx');
    }
  });

  it('syscalls.allow: [ptrace] re-allows ptrace only', () => {
    expect(allowPtrace.ptrace_traceme).toEqual({ ret: 0, errno: 0 });
    expect(allowPtrace.process_vm_readv).toMatchObject(refused(EPERM));
    expect(allowPtrace.mount).toEqual(refused(EPERM));
    expect(allowPtrace.io_uring_setup).toEqual(refused(ENOSYS));
  });

  it('syscalls.deny: [chroot] adds chroot (control: ENOENT under the default preset)', () => {
    expect(denyChroot.chroot).toEqual(refused(EPERM));
    expect(filtered.chroot).toEqual(refused(ENOENT));
    expect(denyChroot.ptrace_traceme).toEqual(refused(EPERM)); // the preset still applies
  });

  for (const [which, key, name] of [
    ['unknownDeny', 'syscalls.deny[0]', 'chrooot'],
    ['unknownAllow', 'syscalls.allow[0]', 'no_such_syscall_xyz'],
  ] as const) {
    it(`an unknown system call name in ${key.replace('[0]', '')} is refused with exit 125, naming the file, the key and the name`, () => {
      const profile = profiles[which];
      const r = run(['run', '-p', profile, '--', 'touch', 'ran.txt']);
      expect(r.status, r.stderr).toBe(125);
      expect(r.stderr).toMatch(/^isolate: /);
      expect(r.stderr).not.toMatch(STACK_LINE);
      expect(existsSync(marker()), 'the command must not have run').toBe(false);
      expect(r.stderr).toContain(profile);
      expect(r.stderr).toContain(key);
      const e = run(['explain', '-p', profile, '--', 'true']);
      expect(e.status).toBe(125);
      // Which name is wrong (the list can be long), as resolveSeccomp's own message says.
      expect(r.stderr).toContain(name);
    });
  }

  it('a run without seccomp problems still runs ordinary programs (fork, exec, threads)', () => {
    const code = 'import subprocess, threading; t = threading.Thread(target=lambda: None); t.start(); t.join(); print("rc=%d" % subprocess.run(["/usr/bin/true"]).returncode)';
    const r = run(['run', '--', PYTHON, '-c', code]);
    expect(r.status, r.stderr).toBe(0);
    expect(keyValues(r.stdout)['rc']).toBe('0');
  });

  describe('explain', () => {
    it('lists the refused system calls, with errno and condition', () => {
      const r = run(['explain', '--', 'true']);
      expect(r.status, r.stderr).toBe(0);
      expect(r.stdout).toMatch(/^syscalls\s+seccomp preset default \((x86_64|aarch64)\)/m);
      for (const line of [
        /^\s+ptrace: EPERM always/m,
        /^\s+process_vm_readv: EPERM always/m,
        /^\s+mount: EPERM always/m,
        /^\s+unshare: EPERM always/m,
        /^\s+bpf: EPERM always/m,
        /^\s+keyctl: EPERM always/m,
        /^\s+clone3: ENOSYS always/m,
        /^\s+io_uring_setup: ENOSYS always/m,
        /^\s+ioctl: EPERM when arg 1 \(low 32 bits\) is TIOCSTI \(0x5412\) or TIOCLINUX \(0x541c\)/m,
        /^\s+clone: EPERM when arg 0 \(low 32 bits\) has any of .*CLONE_NEWUSER/m,
        /^\s+personality: EPERM unless arg 0/m,
      ]) {
        expect(r.stdout).toMatch(line);
      }
      expect(r.stdout).toMatch(/--seccomp \d/);
    });

    it('shows the profile options: allow removes, deny adds, preset none installs nothing', () => {
      const allow = run(['explain', '-p', profiles.allowPtrace, '--', 'true']);
      expect(allow.status, allow.stderr).toBe(0);
      expect(allow.stdout).not.toMatch(/^\s+ptrace: /m);
      expect(allow.stdout).toMatch(/^\s+mount: EPERM always/m);

      const deny = run(['explain', '-p', profiles.denyChroot, '--', 'true']);
      expect(deny.status, deny.stderr).toBe(0);
      expect(deny.stdout).toMatch(/^\s+chroot: EPERM always \(denied by the profile\)/m);

      const none = run(['explain', '-p', profiles.none, '--', 'true']);
      expect(none.status, none.stderr).toBe(0);
      expect(none.stdout).toMatch(/^syscalls\s+no seccomp filter \(preset none\)/m);
      expect(none.stdout).not.toMatch(/--seccomp \d/);
    });

    it('--json: summary.seccomp', () => {
      interface Sc {
        summary: { seccomp: { preset: string; install: boolean; rules: string[] } };
      }
      const def = JSON.parse(run(['explain', '--json', '--', 'true']).stdout) as Sc;
      expect(def.summary.seccomp.preset).toBe('default');
      expect(def.summary.seccomp.install).toBe(true);
      expect(def.summary.seccomp.rules.some((r) => r.startsWith('ptrace: EPERM'))).toBe(true);
      const none = JSON.parse(run(['explain', '--json', '-p', profiles.none, '--', 'true']).stdout) as Sc;
      expect(none.summary.seccomp.install).toBe(false);
      expect(none.summary.seccomp.rules).toEqual([]);
    });
  });
});
