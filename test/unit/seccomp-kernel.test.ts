/**
 * The default filter on the real kernel: bwrap loads it with --seccomp and a
 * Python probe inside the sandbox makes the refused calls (and some allowed
 * ones). The same probe without --seccomp is the control: it shows each
 * refused call would otherwise succeed (or fail differently), so the test
 * cannot pass vacuously.
 */
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { accessSync, closeSync, constants, existsSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildFilter } from '../../src/seccomp/bpf.js';
import { resolveSeccomp } from '../../src/seccomp/presets.js';
import { seccompArchFromNode, syscallNumber, type SeccompArch } from '../../src/seccomp/syscalls.js';
import { PY_IN_CHILD } from '../helpers/probes.js';

const PYTHON = '/usr/bin/python3';
const EPERM = 1;
const ENOSYS = 38;

function findBwrap(): string | undefined {
  for (const dir of (process.env['PATH'] ?? '/usr/bin:/bin').split(delimiter)) {
    if (dir === '') continue;
    const candidate = join(dir, 'bwrap');
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

const bwrap = findBwrap();
const arch = seccompArchFromNode();
const kernelHasSeccomp = existsSync('/proc/self/status') && /^Seccomp:/m.test(readFileSync('/proc/self/status', 'utf8'));

const skipReason =
  bwrap === undefined
    ? 'bwrap is not installed (apt-get install bubblewrap)'
    : !existsSync(PYTHON)
      ? `${PYTHON} is not installed`
      : arch === undefined
        ? `no seccomp tables for process.arch ${process.arch}`
        : !kernelHasSeccomp
          ? 'this kernel has no seccomp support (no Seccomp: line in /proc/self/status)'
          : undefined;
if (skipReason !== undefined) console.log(`seccomp-kernel: skipped: ${skipReason}`);

/** The probe run inside the sandbox; prints one JSON object. */
const PROBE = String.raw`import ctypes, json, os, pty, subprocess, sys, termios, fcntl, threading
cfg = json.loads(sys.argv[1])
nr = cfg['nr']
libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long
libc.ptrace.restype = ctypes.c_long
libc.ioctl.restype = ctypes.c_int
libc.personality.restype = ctypes.c_int
U = ctypes.c_ulong

def sc(*args):
    ctypes.set_errno(0)
    r = libc.syscall(*[U(a & 0xffffffffffffffff) for a in args])
    return {'ret': r, 'errno': ctypes.get_errno()}

${PY_IN_CHILD}

def oserr(fn):
    try:
        fn()
        return {'ok': True}
    except OSError as e:
        return {'ok': False, 'errno': e.errno, 'type': type(e).__name__}

out = {}

def traceme():
    ctypes.set_errno(0)
    r = libc.ptrace(U(0), U(0), None, None)
    return {'ret': r, 'errno': ctypes.get_errno()}
out['ptrace_traceme'] = in_child(traceme)

params = ctypes.create_string_buffer(120)
ctypes.set_errno(0)
r = libc.syscall(U(nr['io_uring_setup']), U(1), params)
out['io_uring_setup'] = {'ret': r, 'errno': ctypes.get_errno()}
if r >= 0:
    os.close(r)

out['keyctl'] = sc(nr['keyctl'], 0, -3, 0)

p = subprocess.run(['/usr/bin/unshare', '-U', '/usr/bin/true'], capture_output=True, text=True)
out['unshare_U'] = {'returncode': p.returncode, 'stderr': p.stderr}

def clone_newuser():
    res = sc(nr['clone'], 0x10000000 | 17, 0, 0, 0, 0)
    if res['ret'] == 0:
        os._exit(0)
    if res['ret'] > 0:
        os.waitpid(res['ret'], 0)
    return res
out['clone_newuser'] = in_child(clone_newuser)

def tty():
    res = {}
    os.setsid()
    m, s = pty.openpty()
    res['tiocsctty'] = oserr(lambda: fcntl.ioctl(s, termios.TIOCSCTTY, 0))
    res['tiocsti'] = oserr(lambda: fcntl.ioctl(s, termios.TIOCSTI, b'x'))
    c = ctypes.c_char(b'y')
    res['tiocsti_high'] = []
    for req in (0x1_0000_5412, 0xffffffff_00005412):
        ctypes.set_errno(0)
        r = libc.ioctl(s, U(req), ctypes.byref(c))
        res['tiocsti_high'].append({'ret': r, 'errno': ctypes.get_errno()})
    res['tcgets'] = oserr(lambda: termios.tcgetattr(s))
    return res
out['tty'] = in_child(tty)

def pers():
    ctypes.set_errno(0)
    q = libc.personality(U(0xffffffff))
    qe = ctypes.get_errno()
    ctypes.set_errno(0)
    a = libc.personality(U(0x0040000))
    return {'query': {'ret': q, 'errno': qe}, 'addr_no_randomize': {'ret': a, 'errno': ctypes.get_errno()}}
out['personality'] = in_child(pers)

ctypes.set_errno(0)
r = libc.mount(b'none', b'/nonexistent-mountpoint', b'tmpfs', U(0), None)
out['mount'] = {'ret': r, 'errno': ctypes.get_errno()}

if cfg['arch'] == 'x86_64':
    out['x32_getpid'] = sc(0x40000000 | 39)

box = []
t = threading.Thread(target=lambda: box.append(1)); t.start(); t.join()
out['thread'] = box == [1]
out['posix_spawn'] = None
try:
    pid = os.posix_spawn('/usr/bin/true', ['true'], {})
    out['posix_spawn'] = os.waitpid(pid, 0)[1]
except OSError as e:
    out['posix_spawn'] = 'errno %d' % e.errno
out['fork_exec'] = subprocess.run(['/usr/bin/true']).returncode
print(json.dumps(out))
`;

interface Result {
  ret: number;
  errno: number;
}
interface OsResult {
  ok: boolean;
  errno?: number;
  type?: string;
}
interface ProbeOutput {
  ptrace_traceme: Result;
  io_uring_setup: Result;
  keyctl: Result;
  unshare_U: { returncode: number; stderr: string };
  clone_newuser: Result;
  tty: { tiocsctty: OsResult; tiocsti: OsResult; tiocsti_high: Result[]; tcgets: OsResult };
  personality: { query: Result; addr_no_randomize: Result };
  mount: Result;
  x32_getpid?: Result;
  thread: boolean;
  posix_spawn: number | string;
  fork_exec: number;
}

function nrOf(a: SeccompArch, name: string): number {
  const n = syscallNumber(a, name);
  if (n === undefined) throw new Error(`${name} is missing on ${a}`);
  return n;
}

/** Run `python3 -c code ...args` in a minimal bwrap sandbox, with the filter at `filterFile` if given. */
function runPython(code: string, args: readonly string[], filterFile: string | undefined): SpawnSyncReturns<string> {
  if (bwrap === undefined) throw new Error('unreachable: skipped');
  const argv = [
    '--unshare-user',
    '--unshare-pid',
    '--ro-bind', '/usr', '/usr',
    '--symlink', 'usr/bin', '/bin',
    '--symlink', 'usr/lib', '/lib',
    '--symlink', 'usr/lib64', '/lib64',
    '--proc', '/proc',
    '--dev', '/dev',
    ...(filterFile === undefined ? [] : ['--seccomp', '3']),
    '--',
    PYTHON, '-c', code, ...args,
  ];
  const fd = filterFile === undefined ? undefined : openSync(filterFile, 'r');
  try {
    const r = spawnSync(bwrap, argv, {
      stdio: fd === undefined ? ['ignore', 'pipe', 'pipe'] : ['ignore', 'pipe', 'pipe', fd],
      encoding: 'utf8',
      timeout: 20_000,
      env: { PATH: '/usr/bin:/bin', LANG: 'C.UTF-8' },
    });
    if (r.error !== undefined) throw r.error;
    return r;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

function runProbe(filterFile: string | undefined): ProbeOutput {
  if (arch === undefined) throw new Error('unreachable: skipped');
  const config = JSON.stringify({ arch, nr: { io_uring_setup: nrOf(arch, 'io_uring_setup'), keyctl: nrOf(arch, 'keyctl'), clone: nrOf(arch, 'clone') } });
  const r = runPython(PROBE, [config], filterFile);
  if (r.status !== 0) {
    throw new Error(`the probe failed (status ${String(r.status)}, signal ${String(r.signal)}):\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
  }
  return JSON.parse(r.stdout) as ProbeOutput;
}

/** x86_64: getpid through the i386 ABI (int 0x80), from a page of machine code. */
const INT80_GETPID = String.raw`import ctypes, mmap
page = mmap.mmap(-1, 4096, prot=mmap.PROT_READ | mmap.PROT_WRITE | mmap.PROT_EXEC)
page.write(bytes([0xb8, 20, 0, 0, 0, 0xcd, 0x80, 0xc3]))  # mov eax, 20 (getpid); int 0x80; ret
fn = ctypes.CFUNCTYPE(ctypes.c_int)(ctypes.addressof(ctypes.c_char.from_buffer(page)))
print(fn())
`;

describe.skipIf(skipReason !== undefined)('the default seccomp filter on the running kernel', () => {
  let dir = '';
  let filtered: ProbeOutput;
  let control: ProbeOutput;
  let filterFile = '';

  beforeAll(() => {
    if (arch === undefined) throw new Error('unreachable: skipped');
    dir = mkdtempSync(join(tmpdir(), 'isolate-seccomp-'));
    filterFile = join(dir, `filter-${arch}.bpf`);
    writeFileSync(filterFile, buildFilter(arch, resolveSeccomp({ preset: 'default' }).rules));
    control = runProbe(undefined);
    filtered = runProbe(filterFile);
  });

  afterAll(() => {
    if (dir !== '') rmSync(dir, { recursive: true, force: true });
  });

  it('ptrace(PTRACE_TRACEME) is EPERM (control: succeeds)', () => {
    expect(control.ptrace_traceme).toEqual({ ret: 0, errno: 0 });
    expect(filtered.ptrace_traceme).toEqual({ ret: -1, errno: EPERM });
  });

  it('TIOCSTI on the sandbox\'s own controlling pty is EPERM, also with high bits set; TCGETS works (control: TIOCSTI is not EPERM)', () => {
    // The probe makes the pty its controlling terminal first, so without the
    // filter the kernel's own "not your terminal" EPERM cannot be what we see.
    expect(control.tty.tiocsctty.ok).toBe(true);
    expect(filtered.tty.tiocsctty.ok).toBe(true);
    const c = control.tty.tiocsti;
    expect(c.ok || c.errno !== EPERM, `control TIOCSTI: ${JSON.stringify(c)}`).toBe(true);
    expect(filtered.tty.tiocsti).toEqual({ ok: false, errno: EPERM, type: 'PermissionError' });
    // The kernel truncates the request to 32 bits; the filter must too.
    for (const [i, high] of filtered.tty.tiocsti_high.entries()) expect(high, `high-bit request ${String(i)}`).toEqual({ ret: -1, errno: EPERM });
    for (const high of control.tty.tiocsti_high) expect(high.ret === 0 || high.errno !== EPERM).toBe(true);
    expect(filtered.tty.tcgets).toEqual({ ok: true });
    expect(control.tty.tcgets).toEqual({ ok: true });
  });

  it('io_uring_setup is ENOSYS', () => {
    expect(filtered.io_uring_setup).toEqual({ ret: -1, errno: ENOSYS });
    // With io_uring compiled in (the sysctl exists), the control's answer is not ENOSYS.
    if (existsSync('/proc/sys/kernel/io_uring_disabled')) expect(control.io_uring_setup.errno).not.toBe(ENOSYS);
  });

  it('unshare -U fails, and clone(CLONE_NEWUSER) is EPERM (control: both work)', () => {
    expect(filtered.unshare_U.returncode).not.toBe(0);
    expect(filtered.unshare_U.stderr).toMatch(/Operation not permitted/);
    expect(filtered.clone_newuser).toEqual({ ret: -1, errno: EPERM });
    expect(control.unshare_U.returncode, control.unshare_U.stderr).toBe(0);
    expect(control.clone_newuser.ret).toBeGreaterThan(0);
  });

  it('keyctl is EPERM', () => {
    expect(filtered.keyctl).toEqual({ ret: -1, errno: EPERM });
    expect(control.keyctl.errno).not.toBe(EPERM);
  });

  it('personality: querying works, ADDR_NO_RANDOMIZE is EPERM (control: allowed)', () => {
    expect(filtered.personality.query.ret).toBeGreaterThanOrEqual(0);
    expect(filtered.personality.addr_no_randomize).toEqual({ ret: -1, errno: EPERM });
    expect(control.personality.addr_no_randomize.ret).toBeGreaterThanOrEqual(0);
  });

  it('mount is EPERM before the kernel even looks at the path', () => {
    expect(filtered.mount).toEqual({ ret: -1, errno: EPERM });
    expect(control.mount.errno).not.toBe(EPERM);
  });

  if (skipReason === undefined && arch !== 'x86_64') console.warn(`seccomp-kernel: the x32 and i386 checks exist only on x86_64; this is ${arch ?? process.arch}`);
  it.runIf(arch === 'x86_64')('x32 system calls are EPERM', () => {
    expect(filtered.x32_getpid).toEqual({ ret: -1, errno: EPERM });
  });

  it.runIf(arch === 'x86_64')('another ABI (i386 through int 0x80) kills the process with SIGSYS', () => {
    const c = runPython(INT80_GETPID, [], undefined);
    if (c.status !== 0 || !/^\d+\s*$/.test(c.stdout)) {
      console.log(`seccomp-kernel: this kernel cannot run i386 system calls (status ${String(c.status)}, signal ${String(c.signal)}); skipping the foreign-ABI check`);
      return;
    }
    const f = runPython(INT80_GETPID, [], filterFile);
    // bwrap reports a child killed by signal N as exit status 128+N.
    expect(f.stdout).toBe('');
    expect(f.status === 128 + 31 || f.signal === 'SIGSYS', `status ${String(f.status)}, signal ${String(f.signal)}, stderr ${f.stderr}`).toBe(true);
  });

  it('threads, posix_spawn (clone3 falls back to clone) and fork+exec still work', () => {
    for (const out of [control, filtered]) {
      expect(out.thread).toBe(true);
      expect(out.posix_spawn).toBe(0);
      expect(out.fork_exec).toBe(0);
    }
  });
});
