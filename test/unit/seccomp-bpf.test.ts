/**
 * The seccomp BPF builder: golden disassembly, structural checks the kernel's
 * verifier would make, and behaviour, run through a small classic-BPF
 * emulator over a synthetic struct seccomp_data.
 */
import { describe, expect, it } from 'vitest';
import {
  AUDIT_ARCH_AARCH64,
  AUDIT_ARCH_X86_64,
  BPF_MAXINSNS,
  SECCOMP_RET_ALLOW,
  SECCOMP_RET_KILL_PROCESS,
  buildFilter,
  decode,
  disassemble,
  encode,
} from '../../src/seccomp/bpf.js';
import {
  CLONE_NAMESPACE_FLAGS,
  DEFAULT_PRESET,
  PERSONALITY_ALLOWED,
  SeccompConfigError,
  describeRules,
  resolveSeccomp,
  type SeccompRule,
} from '../../src/seccomp/presets.js';
import { SECCOMP_ARCHES, highestKnownSyscall, syscallNumber, type SeccompArch } from '../../src/seccomp/syscalls.js';
import { IsolateError } from '../../src/errors.js';

// ---------------------------------------------------------------------------
// A classic-BPF emulator for seccomp programs.

interface SeccompData {
  nr: number;
  arch: number;
  ip?: bigint;
  args?: readonly bigint[];
}

/** struct seccomp_data as the kernel lays it out on a little-endian machine. */
function seccompData(d: SeccompData): Buffer {
  const b = Buffer.alloc(64);
  b.writeInt32LE(d.nr | 0, 0);
  b.writeUInt32LE(d.arch >>> 0, 4);
  b.writeBigUInt64LE(d.ip ?? 0n, 8);
  const args = d.args ?? [];
  for (let i = 0; i < 6; i++) b.writeBigUInt64LE(BigInt.asUintN(64, args[i] ?? 0n), 16 + 8 * i);
  return b;
}

/**
 * Run `program` on `data` and return the 32-bit action. Implements the subset
 * of classic BPF seccomp filters may use that matters here (ld abs/imm/len,
 * ldx, st/stx, alu with K and X, every jump, ret K/A, tax/txa) and throws on
 * anything else, on out-of-range loads and jumps, and on falling off the end.
 */
function runFilter(program: Buffer, data: Buffer): number {
  const insns = decode(program);
  let A = 0;
  let X = 0;
  const M = new Uint32Array(16);
  let pc = 0;
  for (let steps = 0; steps <= insns.length; steps++) {
    const insn = insns[pc];
    if (insn === undefined) throw new Error(`pc ${String(pc)} is outside the program (${String(insns.length)} instructions)`);
    const { code, jt, jf, k } = insn;
    const cls = code & 0x07;
    switch (cls) {
      case 0x00: // LD
      case 0x01: {
        // LDX
        const mode = code & 0xe0;
        let v: number;
        if (mode === 0x20) {
          if ((code & 0x18) !== 0x00) throw new Error(`pc ${String(pc)}: only word loads are valid in seccomp`);
          if (k % 4 !== 0 || k + 4 > data.length) throw new Error(`pc ${String(pc)}: load at offset ${String(k)} is outside seccomp_data`);
          v = data.readUInt32LE(k);
        } else if (mode === 0x00) v = k;
        else if (mode === 0x80) v = data.length;
        else if (mode === 0x60) {
          if (k > 15) throw new Error(`pc ${String(pc)}: bad scratch slot`);
          v = M[k] ?? 0;
        } else throw new Error(`pc ${String(pc)}: unsupported load mode ${mode.toString(16)}`);
        if (cls === 0x00) A = v >>> 0;
        else X = v >>> 0;
        pc++;
        break;
      }
      case 0x02: // ST
      case 0x03: // STX
        if (k > 15) throw new Error(`pc ${String(pc)}: bad scratch slot`);
        M[k] = cls === 0x02 ? A : X;
        pc++;
        break;
      case 0x04: {
        // ALU
        const src = (code & 0x08) !== 0 ? X : k;
        switch (code & 0xf0) {
          case 0x00: A = (A + src) >>> 0; break;
          case 0x10: A = (A - src) >>> 0; break;
          case 0x20: A = Math.imul(A, src) >>> 0; break;
          case 0x30: if (src === 0) return 0; A = Math.floor(A / src) >>> 0; break;
          case 0x40: A = (A | src) >>> 0; break;
          case 0x50: A = (A & src) >>> 0; break;
          case 0x60: A = src >= 32 ? 0 : (A << src) >>> 0; break;
          case 0x70: A = src >= 32 ? 0 : A >>> src; break;
          case 0x80: A = -A >>> 0; break;
          case 0xa0: A = (A ^ src) >>> 0; break;
          default: throw new Error(`pc ${String(pc)}: unsupported ALU op ${code.toString(16)}`);
        }
        pc++;
        break;
      }
      case 0x05: {
        // JMP
        const op = code & 0xf0;
        if (op === 0x00) {
          pc += 1 + k;
          break;
        }
        const src = (code & 0x08) !== 0 ? X : k >>> 0;
        let cond: boolean;
        if (op === 0x10) cond = A === src;
        else if (op === 0x20) cond = A > src;
        else if (op === 0x30) cond = A >= src;
        else if (op === 0x40) cond = (A & src) !== 0;
        else throw new Error(`pc ${String(pc)}: unsupported jump ${code.toString(16)}`);
        pc += 1 + (cond ? jt : jf);
        break;
      }
      case 0x06: // RET
        return ((code & 0x18) === 0x10 ? A : k) >>> 0;
      case 0x07: // MISC
        if (code === 0x07) X = A; // tax
        else if (code === 0x87) A = X; // txa
        else throw new Error(`pc ${String(pc)}: unsupported misc op ${code.toString(16)}`);
        pc++;
        break;
      default:
        throw new Error(`pc ${String(pc)}: unknown class`);
    }
  }
  throw new Error('the program did not return (a backward jump?)');
}

const AUDIT: Record<SeccompArch, number> = { x86_64: AUDIT_ARCH_X86_64, aarch64: AUDIT_ARCH_AARCH64 };
const KILL = SECCOMP_RET_KILL_PROCESS;
const ALLOW = SECCOMP_RET_ALLOW;
const ERRNO = (e: number): number => (0x00050000 | e) >>> 0;
const EPERM = ERRNO(1);
const ENOSYS = ERRNO(38);

function nr(arch: SeccompArch, name: string): number {
  const n = syscallNumber(arch, name);
  if (n === undefined) throw new Error(`${name} does not exist on ${arch}`);
  return n;
}

/** Run a filter for `arch` on a call to `name` with `args`. */
function call(filter: Buffer, arch: SeccompArch, name: string, ...args: bigint[]): number {
  return runFilter(filter, seccompData({ nr: nr(arch, name), arch: AUDIT[arch], args }));
}

const defaultFilters: Record<SeccompArch, Buffer> = {
  x86_64: buildFilter('x86_64', resolveSeccomp({ preset: 'default' }).rules, { refuseNewer: true }),
  aarch64: buildFilter('aarch64', resolveSeccomp({ preset: 'default' }).rules, { refuseNewer: true }),
};

// ---------------------------------------------------------------------------

describe('the emulator itself', () => {
  it('runs hand-written programs', () => {
    const prog = encode([
      { code: 0x20, jt: 0, jf: 0, k: 0 }, // ld [0]
      { code: 0x15, jt: 0, jf: 1, k: 7 }, // jeq #7, 0, 1
      { code: 0x06, jt: 0, jf: 0, k: EPERM }, // ret ERRNO(1)
      { code: 0x20, jt: 0, jf: 0, k: 20 }, // ld [20]: high word of args[0]
      { code: 0x06 | 0x10, jt: 0, jf: 0, k: 0 }, // ret A
    ]);
    expect(runFilter(prog, seccompData({ nr: 7, arch: 0 }))).toBe(EPERM);
    expect(runFilter(prog, seccompData({ nr: 8, arch: 0, args: [0x1234_0000_0000n] }))).toBe(0x1234);
    expect(() => runFilter(encode([{ code: 0x20, jt: 0, jf: 0, k: 64 }]), seccompData({ nr: 0, arch: 0 }))).toThrow(/outside seccomp_data/);
    expect(() => runFilter(encode([{ code: 0x15, jt: 5, jf: 5, k: 0 }]), seccompData({ nr: 0, arch: 0 }))).toThrow(/outside the program/);
  });
});

describe('buildFilter: instructions', () => {
  const rules: SeccompRule[] = [
    { syscall: 'ptrace', errno: 'EPERM', reason: 'r', source: 'preset' },
    { syscall: 'ioctl', errno: 'EPERM', when: { kind: 'equals-any', arg: 1, values: [0x5412, 0x541c] }, reason: 'r', source: 'preset' },
  ];

  it('golden disassembly, x86_64', () => {
    expect(disassemble(buildFilter('x86_64', rules))).toEqual([
      'ld [4]',
      'jeq #0xc000003e, 1, 0',
      'ret KILL_PROCESS',
      'ld [0]',
      'jge #0x40000000, 0, 1',
      'ret ERRNO(1)',
      'jeq #0x65, 0, 1',
      'ret ERRNO(1)',
      'jeq #0x10, 0, 5',
      'ld [24]',
      'jeq #0x5412, 1, 0',
      'jeq #0x541c, 0, 1',
      'ret ERRNO(1)',
      'ld [0]',
      'ret ALLOW',
    ]);
  });

  it('golden disassembly, aarch64 (no x32 check), annotated', () => {
    expect(disassemble(buildFilter('aarch64', rules), { arch: 'aarch64' })).toEqual([
      'ld [4]',
      'jeq #0xc00000b7, 1, 0',
      'ret KILL_PROCESS',
      'ld [0]',
      'jeq #0x75, 0, 1  ; ptrace',
      'ret ERRNO(1)',
      'jeq #0x1d, 0, 5  ; ioctl',
      'ld [24]',
      'jeq #0x5412, 1, 0',
      'jeq #0x541c, 0, 1',
      'ret ERRNO(1)',
      'ld [0]',
      'ret ALLOW',
    ]);
  });

  it('golden disassembly of the mask and allowlist blocks', () => {
    const lines = disassemble(buildFilter('aarch64', resolveSeccomp({ preset: 'default' }).rules));
    const clone = lines.indexOf('jeq #0xdc, 0, 4');
    expect(clone).toBeGreaterThan(0);
    expect(lines.slice(clone, clone + 5)).toEqual(['jeq #0xdc, 0, 4', 'ld [16]', 'jset #0x7e020000, 0, 1', 'ret ERRNO(1)', 'ld [0]']);
    const personality = lines.indexOf('jeq #0x5c, 0, 8');
    expect(lines.slice(personality, personality + 9)).toEqual([
      'jeq #0x5c, 0, 8',
      'ld [16]',
      'jeq #0x0, 5, 0',
      'jeq #0x8, 4, 0',
      'jeq #0x20000, 3, 0',
      'jeq #0x20008, 2, 0',
      'jeq #0xffffffff, 1, 0',
      'ret ERRNO(1)',
      'ld [0]',
    ]);
  });

  it('encodes little-endian 8-byte sock_filter records', () => {
    const buf = buildFilter('x86_64', []);
    expect(buf.length % 8).toBe(0);
    // ld [4]: code 0x0020, jt 0, jf 0, k 4
    expect([...buf.subarray(0, 8)]).toEqual([0x20, 0x00, 0, 0, 4, 0, 0, 0]);
    // jeq #0xc000003e, 1, 0
    expect([...buf.subarray(8, 16)]).toEqual([0x15, 0x00, 1, 0, 0x3e, 0x00, 0x00, 0xc0]);
    // the last: ret ALLOW
    expect([...buf.subarray(buf.length - 8)]).toEqual([0x06, 0x00, 0, 0, 0x00, 0x00, 0xff, 0x7f]);
    expect(disassemble(buf)).toEqual(['ld [4]', 'jeq #0xc000003e, 1, 0', 'ret KILL_PROCESS', 'ld [0]', 'jge #0x40000000, 0, 1', 'ret ERRNO(1)', 'ret ALLOW']);
  });

  it('disassembles the other return values and unknown codes', () => {
    const buf = encode([
      { code: 0x06, jt: 0, jf: 0, k: 0x00050026 },
      { code: 0x06, jt: 0, jf: 0, k: 0x7ffc0000 },
      { code: 0x06, jt: 0, jf: 0, k: 0 },
      { code: 0x16, jt: 0, jf: 0, k: 0 },
      { code: 0x05, jt: 0, jf: 0, k: 3 },
      { code: 0xff, jt: 1, jf: 2, k: 3 },
    ]);
    expect(disassemble(buf)).toEqual(['ret ERRNO(38)', 'ret LOG', 'ret KILL_THREAD', 'ret A', 'ja +3', '.insn code=0xff jt=1 jf=2 k=0x3']);
    expect(() => disassemble(Buffer.alloc(7))).toThrow(/multiple of 8/);
  });

  it.each(SECCOMP_ARCHES)('%s default program passes the checks the kernel makes', (arch) => {
    const insns = decode(defaultFilters[arch]);
    expect(insns.length).toBeGreaterThan(0);
    expect(insns.length).toBeLessThanOrEqual(BPF_MAXINSNS);
    const last = insns.at(-1);
    expect(last?.code).toBe(0x06); // ret #k
    expect(last?.k).toBe(ALLOW);
    insns.forEach((insn, pc) => {
      const cls = insn.code & 0x07;
      if (cls === 0x05) {
        if ((insn.code & 0xf0) === 0x00) {
          expect(pc + 1 + insn.k, `ja at ${String(pc)}`).toBeLessThan(insns.length);
        } else {
          expect(pc + 1 + insn.jt, `jt at ${String(pc)}`).toBeLessThan(insns.length);
          expect(pc + 1 + insn.jf, `jf at ${String(pc)}`).toBeLessThan(insns.length);
        }
      } else if (cls === 0x00) {
        expect(insn.code, `only word loads at ${String(pc)}`).toBe(0x20);
        expect(insn.k % 4 === 0 && insn.k < 64, `load offset at ${String(pc)}`).toBe(true);
      } else {
        expect(cls, `only ld, jmp and ret at ${String(pc)}`).toBe(0x06);
      }
    });
    // Every argument block (entered when `jeq #nr` matches, skipped by its jf)
    // starts by loading an argument and ends by reloading nr, so the rules
    // after it compare against the system call number again.
    const lines = disassemble(defaultFilters[arch]);
    let accIsNr = false;
    let blocks = 0;
    insns.forEach((insn, pc) => {
      if (insn.code === 0x20) accIsNr = insn.k === 0;
      if (insn.code === 0x15 && accIsNr && insn.jf > 1) {
        blocks++;
        expect(lines[pc + 1], `block at ${String(pc)}`).toMatch(/^ld \[(16|24|32|40|48|56)\]$/);
        expect(lines[pc + insn.jf], `block at ${String(pc)}`).toBe('ld [0]');
        expect(lines[pc + insn.jf - 1], `block at ${String(pc)}`).toMatch(/^ret ERRNO/);
      }
    });
    expect(blocks).toBe(DEFAULT_PRESET.filter((e) => e.when !== undefined && syscallNumber(arch, e.syscall) !== undefined).length);
  });

  it('refuses argument rules it cannot express', () => {
    const bad = (when: SeccompRule['when']): SeccompRule[] => [
      { syscall: 'ioctl', errno: 'EPERM', ...(when === undefined ? {} : { when }), reason: 'r', source: 'preset' },
    ];
    expect(() => buildFilter('x86_64', bad({ kind: 'equals-any', arg: 6, values: [1] }))).toThrow(/arguments 0 to 5/);
    expect(() => buildFilter('x86_64', bad({ kind: 'equals-any', arg: 1, values: [] }))).toThrow(/empty/);
  });

  it('asserts rather than emit a jump longer than 255', () => {
    const values = Array.from({ length: 300 }, (_, i) => i + 1);
    expect(() => buildFilter('x86_64', [{ syscall: 'ioctl', errno: 'EPERM', when: { kind: 'equals-any', arg: 1, values }, reason: 'r', source: 'preset' }])).toThrow(
      /does not fit in 8 bits/,
    );
  });

  it('skips names absent on the architecture', () => {
    const rules: SeccompRule[] = [{ syscall: 'iopl', errno: 'EPERM', reason: 'r', source: 'preset' }];
    expect(disassemble(buildFilter('aarch64', rules))).toEqual(disassemble(buildFilter('aarch64', [])));
    expect(disassemble(buildFilter('x86_64', rules))).toContain('jeq #0xac, 0, 1');
  });
});

describe('buildFilter: behaviour', () => {
  it.each(SECCOMP_ARCHES)('%s: a foreign architecture is killed', (arch) => {
    const f = defaultFilters[arch];
    for (const audit of [AUDIT_ARCH_X86_64, AUDIT_ARCH_AARCH64, 0x40000003 /* i386 */, 0x40000028 /* arm */, 0]) {
      if (audit === AUDIT[arch]) continue;
      expect(runFilter(f, seccompData({ nr: 0, arch: audit })), audit.toString(16)).toBe(KILL);
      expect(runFilter(f, seccompData({ nr: nr(arch, 'read'), arch: audit }))).toBe(KILL);
    }
  });

  it('x86_64: the x32 ABI is refused with EPERM', () => {
    const f = defaultFilters.x86_64;
    const x86 = AUDIT_ARCH_X86_64;
    expect(runFilter(f, seccompData({ nr: 0x40000000, arch: x86 }))).toBe(EPERM);
    expect(runFilter(f, seccompData({ nr: 0x40000000 | 39 /* getpid */, arch: x86 }))).toBe(EPERM);
    expect(runFilter(f, seccompData({ nr: 0x40000000 | 101 /* ptrace */, arch: x86 }))).toBe(EPERM);
    expect(runFilter(f, seccompData({ nr: -1, arch: x86 }))).toBe(EPERM);
    expect(runFilter(f, seccompData({ nr: 39, arch: x86 }))).toBe(ALLOW);
    // aarch64 has no x32: a high number is one newer than the tables, refused with ENOSYS.
    expect(runFilter(defaultFilters.aarch64, seccompData({ nr: 0x40000000, arch: AUDIT_ARCH_AARCH64 }))).toBe(ENOSYS);
  });

  for (const arch of SECCOMP_ARCHES) {
    const plain = DEFAULT_PRESET.filter((e) => e.when === undefined && syscallNumber(arch, e.syscall) !== undefined);
    it.each(plain.map((e) => [e.syscall, e.errno] as const))(`${arch}: default denies %s with %s`, (name, errno) => {
      const want = errno === 'EPERM' ? EPERM : ENOSYS;
      const f = defaultFilters[arch];
      expect(call(f, arch, name)).toBe(want);
      // Arguments never matter for a plain rule.
      expect(call(f, arch, name, 0xffffffffffffffffn, 1n, 2n, 3n, 4n, 5n)).toBe(want);
    });
  }

  it('the x86_64-only names are skipped on aarch64 and nothing else is', () => {
    const absent = DEFAULT_PRESET.filter((e) => syscallNumber('aarch64', e.syscall) === undefined).map((e) => e.syscall);
    // aarch64 has only the *at forms of the calls that set a mode.
    expect(absent.sort()).toEqual(['chmod', 'creat', 'ioperm', 'iopl', 'mkdir', 'mknod', 'open', 'uselib']);
    expect(DEFAULT_PRESET.every((e) => syscallNumber('x86_64', e.syscall) !== undefined)).toBe(true);
  });

  it('the default preset lists every documented call once', () => {
    const names = DEFAULT_PRESET.map((e) => e.syscall);
    expect(new Set(names).size).toBe(names.length);
    // 47 plain EPERM rules, 5 ENOSYS, 4 argument rules and 10 for set-user/group-ID modes.
    expect(names.length).toBe(47 + 5 + 4 + 10);
    for (const e of DEFAULT_PRESET) expect(e.reason.length, e.syscall).toBeGreaterThan(5);
    expect(DEFAULT_PRESET.filter((e) => e.errno === 'ENOSYS').map((e) => e.syscall)).toEqual(['clone3', 'io_uring_setup', 'io_uring_enter', 'io_uring_register', 'openat2']);
  });

  for (const arch of SECCOMP_ARCHES) {
    describe(arch, () => {
      const f = defaultFilters[arch];

      it.each(['read', 'write', 'openat', 'execve', 'mmap', 'close', 'futex', 'getpid', 'exit_group', 'wait4', 'prctl', 'seccomp'])('allows %s', (name) => {
        expect(call(f, arch, name, 1n, 2n, 3n)).toBe(ALLOW);
      });

      it('no set-user-ID or set-group-ID bit through any call that sets a mode; plain modes pass', () => {
        const modeArg: Record<string, number> = { chmod: 1, fchmod: 1, fchmodat: 2, open: 2, openat: 3, creat: 1, mkdir: 1, mkdirat: 2, mknod: 1, mknodat: 2 };
        for (const [name, arg] of Object.entries(modeArg)) {
          if (syscallNumber(arch, name) === undefined) continue;
          const args = (mode: bigint): bigint[] => Array.from({ length: arg + 1 }, (_, i) => (i === arg ? mode : 3n));
          expect(call(f, arch, name, ...args(0o4755n)), `${name} S_ISUID`).toBe(EPERM);
          expect(call(f, arch, name, ...args(0o2755n)), `${name} S_ISGID`).toBe(EPERM);
          expect(call(f, arch, name, ...args((0xffffffffn << 32n) | 0o755n)), `${name} high bits`).toBe(ALLOW);
          expect(call(f, arch, name, ...args(0o755n)), `${name} 0755`).toBe(ALLOW);
        }
        expect(call(f, arch, 'openat2', 3n, 0n, 0n, 24n)).toBe(ENOSYS);
      });

      it('socket: vsock and Bluetooth are refused, the namespaced families are not', () => {
        expect(call(f, arch, 'socket', 40n, 1n, 0n)).toBe(EPERM);
        expect(call(f, arch, 'socket', 31n, 1n, 0n)).toBe(EPERM);
        expect(call(f, arch, 'socket', (1n << 32n) | 40n, 1n, 0n)).toBe(EPERM);
        for (const family of [1n /* AF_UNIX */, 2n /* AF_INET */, 10n /* AF_INET6 */, 16n /* AF_NETLINK */]) expect(call(f, arch, 'socket', family, 1n, 0n)).toBe(ALLOW);
      });

      it('a system call newer than the tables is refused with ENOSYS; the newest one known is not', () => {
        const highest = highestKnownSyscall(arch);
        expect(runFilter(f, seccompData({ nr: highest + 2 /* fchmodat2 on Linux 6.6 */, arch: AUDIT[arch] }))).toBe(ENOSYS);
        expect(runFilter(f, seccompData({ nr: highest + 17 /* open_tree_attr on Linux 6.15 */, arch: AUDIT[arch] }))).toBe(ENOSYS);
        expect(runFilter(f, seccompData({ nr: highest, arch: AUDIT[arch] }))).toBe(ALLOW);
      });

      it('ioctl: TIOCSTI and TIOCLINUX are refused on the low 32 bits alone', () => {
        expect(call(f, arch, 'ioctl', 0n, 0x5412n)).toBe(EPERM);
        expect(call(f, arch, 'ioctl', 0n, 0x541cn)).toBe(EPERM);
        expect(call(f, arch, 'ioctl', 0n, 0x1_0000_5412n)).toBe(EPERM);
        expect(call(f, arch, 'ioctl', 0n, 0xffffffff_00005412n)).toBe(EPERM);
        expect(call(f, arch, 'ioctl', 0n, 0x8000_0000_0000_541cn)).toBe(EPERM);
        expect(call(f, arch, 'ioctl', 0n, 0x5401n /* TCGETS */)).toBe(ALLOW);
        expect(call(f, arch, 'ioctl', 0n, 0x5413n /* TIOCGWINSZ */)).toBe(ALLOW);
        expect(call(f, arch, 'ioctl', 0n, 0x5412_0000_0000n /* TIOCSTI only in the high word */)).toBe(ALLOW);
        // The request is argument 1, not 0 or 2.
        expect(call(f, arch, 'ioctl', 0x5412n, 0x5401n, 0x5412n)).toBe(ALLOW);
      });

      it('clone: namespace flags are refused, fork and threads are not', () => {
        const SIGCHLD = 17n;
        expect(call(f, arch, 'clone', SIGCHLD)).toBe(ALLOW);
        expect(call(f, arch, 'clone', 0x003d0f00n /* pthread_create's flags */)).toBe(ALLOW);
        expect(call(f, arch, 'clone', 0x01200011n /* fork(): CHILD_SETTID|CHILD_CLEARTID|SIGCHLD */)).toBe(ALLOW);
        for (const [flag, value] of Object.entries(CLONE_NAMESPACE_FLAGS)) {
          expect(call(f, arch, 'clone', BigInt(value) | SIGCHLD), flag).toBe(EPERM);
          expect(call(f, arch, 'clone', (0xffffffffn << 32n) | BigInt(value)), `${flag} with high bits`).toBe(EPERM);
        }
        expect(call(f, arch, 'clone', 0x10000000n | SIGCHLD /* CLONE_NEWUSER */)).toBe(EPERM);
        // Only arg 0 holds the flags.
        expect(call(f, arch, 'clone', SIGCHLD, 0x10000000n, 0x10000000n, 0x10000000n, 0x10000000n)).toBe(ALLOW);
        expect(call(f, arch, 'clone3', 0n, 88n)).toBe(ENOSYS);
      });

      it('personality: only the listed personas', () => {
        for (const v of PERSONALITY_ALLOWED) expect(call(f, arch, 'personality', BigInt(v)), v.toString(16)).toBe(ALLOW);
        expect(call(f, arch, 'personality', 0xffffffffn)).toBe(ALLOW);
        expect(call(f, arch, 'personality', 0x0040000n /* ADDR_NO_RANDOMIZE */)).toBe(EPERM);
        expect(call(f, arch, 'personality', 0x0400000n /* READ_IMPLIES_EXEC */)).toBe(EPERM);
        expect(call(f, arch, 'personality', 0x0040008n)).toBe(EPERM);
        expect(call(f, arch, 'personality', 1n)).toBe(EPERM);
        // The kernel takes an unsigned int: the high word is ignored.
        expect(call(f, arch, 'personality', 0xdead_0000_0000_0008n)).toBe(ALLOW);
        expect(call(f, arch, 'personality', 0xdead_0000_0004_0000n)).toBe(EPERM);
      });

      it('the nr is reloaded after every argument block', () => {
        // Calls checked after the argument blocks still match on their number.
        expect(call(f, arch, 'personality', 0n)).toBe(ALLOW);
        const lastPlain = DEFAULT_PRESET.filter((e) => e.when === undefined).at(-1)?.syscall ?? '';
        expect(call(f, arch, lastPlain)).toBe(ENOSYS);
        // A user deny comes after all argument blocks.
        const g = buildFilter(arch, resolveSeccomp({ preset: 'default', deny: ['chroot'] }).rules);
        expect(call(g, arch, 'chroot', 0x5412n, 0x5412n)).toBe(EPERM);
        expect(call(g, arch, 'ioctl', 0n, 0x5401n)).toBe(ALLOW);
      });
    });
  }
});

/** What the rules mean, written directly: the model the BPF program must agree with. */
function reference(arch: SeccompArch, rules: readonly SeccompRule[], d: SeccompData): number {
  if (d.arch >>> 0 !== AUDIT[arch]) return KILL;
  if (arch === 'x86_64' && d.nr >>> 0 >= 0x40000000) return EPERM;
  for (const rule of rules) {
    if (syscallNumber(arch, rule.syscall) !== d.nr) continue;
    const action = rule.errno === 'EPERM' ? EPERM : ENOSYS;
    const w = rule.when;
    if (w === undefined) return action;
    const low = Number(BigInt.asUintN(32, d.args?.[w.arg] ?? 0n));
    const hit =
      w.kind === 'equals-any' ? w.values.includes(low) : w.kind === 'mask-any' ? (low & w.mask) !== 0 : !w.values.includes(low);
    if (hit) return action;
  }
  return ALLOW;
}

describe('buildFilter agrees with a direct model of the rules', () => {
  // A small deterministic PRNG (xorshift32), so failures reproduce.
  let seed = 0x2545f491;
  const rand = (): number => {
    seed ^= seed << 13;
    seed ^= seed >>> 17;
    seed ^= seed << 5;
    return seed >>> 0;
  };
  const interesting = [0n, 17n, 0x5412n, 0x541cn, 0x5401n, 0x10000000n, 0x40000n, 0x8n, 0x20008n, 0xffffffffn, 0x1_0000_5412n, 0xffffffff_00005412n, 0x7e020000n];
  const randomArg = (): bigint => {
    const r = rand() % 4;
    if (r === 0) return interesting[rand() % interesting.length] ?? 0n;
    if (r === 1) return (BigInt(rand()) << 32n) | (interesting[rand() % interesting.length] ?? 0n);
    return (BigInt(rand()) << 32n) | BigInt(rand());
  };
  const configs = [
    { preset: 'default' as const },
    { preset: 'default' as const, allow: ['ptrace', 'clone'], deny: ['chroot', 'ioctl'] },
    { preset: 'none' as const, deny: ['read', 'iopl'] },
  ];
  for (const arch of SECCOMP_ARCHES) {
    it(`${arch}: every syscall number 0..500 and random arguments`, () => {
      for (const config of configs) {
        const rules = resolveSeccomp(config).rules;
        const filter = buildFilter(arch, rules);
        for (let n = 0; n <= 500; n++) {
          for (let trial = 0; trial < 8; trial++) {
            const d: SeccompData = { nr: n, arch: AUDIT[arch], args: Array.from({ length: 6 }, randomArg) };
            expect(runFilter(filter, seccompData(d)), `${JSON.stringify(config)} nr ${String(n)} ${String(d.args)}`).toBe(reference(arch, rules, d));
          }
        }
        for (const n of [-1, 0x40000000, 0x40000027, 0x7fffffff, 1023, 0xfffff]) {
          const d: SeccompData = { nr: n, arch: AUDIT[arch] };
          expect(runFilter(filter, seccompData(d))).toBe(reference(arch, rules, d));
        }
      }
    });
  }
});

describe('resolveSeccomp', () => {
  it.each(SECCOMP_ARCHES)('%s: allow removes preset rules, deny adds EPERM', (arch) => {
    const allowed = buildFilter(arch, resolveSeccomp({ preset: 'default', allow: ['ptrace'] }).rules);
    expect(call(allowed, arch, 'ptrace')).toBe(ALLOW);
    expect(call(allowed, arch, 'mount')).toBe(EPERM);

    const denied = buildFilter(arch, resolveSeccomp({ preset: 'default', deny: ['chroot'] }).rules);
    expect(call(denied, arch, 'chroot')).toBe(EPERM);
    expect(call(defaultFilters[arch], arch, 'chroot')).toBe(ALLOW);

    const argAllowed = buildFilter(arch, resolveSeccomp({ preset: 'default', allow: ['ioctl', 'clone', 'personality', 'clone3'] }).rules);
    expect(call(argAllowed, arch, 'ioctl', 0n, 0x5412n)).toBe(ALLOW);
    expect(call(argAllowed, arch, 'clone', 0x10000000n)).toBe(ALLOW);
    expect(call(argAllowed, arch, 'personality', 0x0040000n)).toBe(ALLOW);
    expect(call(argAllowed, arch, 'clone3')).toBe(ALLOW);
    expect(call(argAllowed, arch, 'ptrace')).toBe(EPERM);
  });

  it('deny wins over allow, and replaces argument and ENOSYS rules with a plain EPERM', () => {
    const r = resolveSeccomp({ preset: 'default', allow: ['ptrace'], deny: ['ptrace', 'ioctl', 'clone3'] });
    const f = buildFilter('x86_64', r.rules);
    expect(call(f, 'x86_64', 'ptrace')).toBe(EPERM);
    expect(call(f, 'x86_64', 'ioctl', 0n, 0x5401n)).toBe(EPERM);
    expect(call(f, 'x86_64', 'clone3')).toBe(EPERM);
    expect(r.allowed).toEqual([]);
    expect(r.rules.filter((x) => x.syscall === 'ioctl')).toEqual([{ syscall: 'ioctl', errno: 'EPERM', reason: 'denied by the profile', source: 'deny' }]);
    const names = r.rules.map((x) => x.syscall);
    expect(new Set(names).size).toBe(names.length);
  });

  it('reports which preset calls were allowed', () => {
    const r = resolveSeccomp({ preset: 'default', allow: ['ptrace', 'chroot', 'ioctl'] });
    expect(r.allowed).toEqual(['ptrace', 'ioctl']);
    expect(r.rules.some((x) => x.syscall === 'ptrace' || x.syscall === 'ioctl')).toBe(false);
    expect(r.install).toBe(true);
  });

  it("preset 'none' has no rules and installs nothing unless something is denied", () => {
    expect(resolveSeccomp({ preset: 'none' })).toEqual({ preset: 'none', rules: [], allowed: [], install: false, refuseNewer: false });
    const r = resolveSeccomp({ preset: 'none', deny: ['ptrace'], allow: ['mount'] });
    expect(r.install).toBe(true);
    expect(r.rules.map((x) => x.syscall)).toEqual(['ptrace']);
    const f = buildFilter('aarch64', r.rules);
    expect(call(f, 'aarch64', 'ptrace')).toBe(EPERM);
    expect(call(f, 'aarch64', 'mount')).toBe(ALLOW);
  });

  it('unknown names are an error listing all of them', () => {
    let err: unknown;
    try {
      resolveSeccomp({ preset: 'default', deny: ['ptrac', 'chroot', 'nosuchcall'], allow: ['constructor', 'ptrac'] });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(SeccompConfigError);
    expect(err).toBeInstanceOf(IsolateError);
    const e = err as SeccompConfigError;
    expect(e.exitCode).toBe(125);
    expect(e.code).toBe('E_PROFILE_INVALID');
    expect(e.unknown).toEqual(['ptrac', 'nosuchcall', 'constructor']);
    expect(e.message).toContain('"ptrac" (did you mean ptrace?)');
    expect(e.message).toContain('"nosuchcall"');
    expect(e.message).toContain('"constructor"');
    expect(e.fix).toMatch(/man 2 syscalls/);
  });

  it('names known on only one architecture are accepted', () => {
    const r = resolveSeccomp({ preset: 'none', deny: ['iopl', 'renameat'] });
    expect(call(buildFilter('x86_64', r.rules), 'x86_64', 'iopl')).toBe(EPERM);
    expect(call(buildFilter('aarch64', r.rules), 'aarch64', 'renameat')).toBe(EPERM);
  });

  it('an unknown preset is an error', () => {
    expect(() => resolveSeccomp({ preset: 'strict' as 'default' })).toThrow(SeccompConfigError);
  });

  it('describes every rule in one line', () => {
    const lines = describeRules(resolveSeccomp({ preset: 'default' }).rules);
    expect(lines).toContain(
      'ioctl: EPERM when arg 1 (low 32 bits) is TIOCSTI (0x5412) or TIOCLINUX (0x541c) (TIOCSTI and TIOCLINUX push keystrokes into the terminal, which the shell outside runs after the sandbox exits)',
    );
    expect(lines.find((l) => l.startsWith('clone:'))).toContain(
      'when arg 0 (low 32 bits) has any of CLONE_NEWNS|CLONE_NEWCGROUP|CLONE_NEWUTS|CLONE_NEWIPC|CLONE_NEWUSER|CLONE_NEWPID|CLONE_NEWNET',
    );
    expect(lines.find((l) => l.startsWith('personality:'))).toContain('unless arg 0 (low 32 bits) is 0x0, 0x8, 0x20000, 0x20008, 0xffffffff');
    expect(lines.find((l) => l.startsWith('ptrace:'))).toMatch(/^ptrace: EPERM always \(/);
    for (const l of lines) expect(l).not.toContain('\n');
  });
});
