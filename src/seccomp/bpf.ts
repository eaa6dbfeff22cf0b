/**
 * A classic-BPF seccomp program builder, in plain TypeScript: the output is
 * the byte image of a `struct sock_filter[]` that `bwrap --seccomp FD` loads.
 *
 * Program layout (first match wins):
 *
 *     ld [4]                         ; seccomp_data.arch
 *     jeq #AUDIT_ARCH, 1, 0
 *     ret KILL_PROCESS               ; any other ABI (i386 via int 0x80, arm32, ...)
 *     ld [0]                         ; seccomp_data.nr
 *     jge #0x40000000, 0, 1          ; x86_64 only: the x32 ABI
 *     ret ERRNO(1)
 *     jgt #HIGHEST, 0, 1             ; the default preset: calls newer than the tables
 *     ret ERRNO(38)
 *     jeq #NR, 0, 1                  ; a plain rule
 *     ret ERRNO(e)
 *     jeq #NR, 0, n                  ; an argument rule: skip its block unless NR
 *       ld [16 + 8*i]                ;   low 32 bits of args[i]
 *       ...compare...                ;   jump to the ret, or past it
 *       ret ERRNO(e)
 *       ld [0]                       ;   reload nr for the rules after
 *     ...
 *     ret ALLOW
 *
 * Every jump goes forward by at most the length of one argument block, so
 * the 8-bit jump offsets of classic BPF are never at risk; emit() still
 * refuses an offset above 255.
 */
import { ERRNO_VALUES, type ArgCondition, type SeccompRule } from './presets.js';
import { highestKnownSyscall, syscallName, syscallNumber, type SeccompArch } from './syscalls.js';

// struct sock_filter { __u16 code; __u8 jt; __u8 jf; __u32 k; }, native (little) endian.
export const SOCK_FILTER_SIZE = 8;
/** BPF_MAXINSNS: the kernel refuses longer programs. */
export const BPF_MAXINSNS = 4096;

// Instruction classes and fields (linux/filter.h, linux/bpf_common.h).
export const BPF_LD = 0x00;
export const BPF_JMP = 0x05;
export const BPF_RET = 0x06;
export const BPF_W = 0x00;
export const BPF_ABS = 0x20;
export const BPF_IMM = 0x00;
export const BPF_JA = 0x00;
export const BPF_JEQ = 0x10;
export const BPF_JGT = 0x20;
export const BPF_JGE = 0x30;
export const BPF_JSET = 0x40;
export const BPF_K = 0x00;
export const BPF_A = 0x10;

// struct seccomp_data { int nr; __u32 arch; __u64 instruction_pointer; __u64 args[6]; }
export const SECCOMP_DATA_NR = 0;
export const SECCOMP_DATA_ARCH = 4;
export const SECCOMP_DATA_IP = 8;
export const SECCOMP_DATA_ARGS = 16;
export const SECCOMP_DATA_SIZE = 64;
/** Offset of the low 32 bits of args[i] (little-endian). */
export const argLowOffset = (i: number): number => SECCOMP_DATA_ARGS + 8 * i;

export const AUDIT_ARCH_X86_64 = 0xc000003e;
export const AUDIT_ARCH_AARCH64 = 0xc00000b7;
export const AUDIT_ARCH: Readonly<Record<SeccompArch, number>> = Object.freeze({
  x86_64: AUDIT_ARCH_X86_64,
  aarch64: AUDIT_ARCH_AARCH64,
});

export const SECCOMP_RET_KILL_PROCESS = 0x80000000;
export const SECCOMP_RET_KILL_THREAD = 0x00000000;
export const SECCOMP_RET_TRAP = 0x00030000;
export const SECCOMP_RET_ERRNO = 0x00050000;
export const SECCOMP_RET_TRACE = 0x7ff00000;
export const SECCOMP_RET_LOG = 0x7ffc0000;
export const SECCOMP_RET_ALLOW = 0x7fff0000;
export const SECCOMP_RET_ACTION_FULL = 0xffff0000;
export const SECCOMP_RET_DATA = 0x0000ffff;
export const EPERM = 1;
export const ENOSYS = 38;
export const retErrno = (errno: number): number => (SECCOMP_RET_ERRNO | (errno & SECCOMP_RET_DATA)) >>> 0;

/** x86_64: system call numbers with this bit belong to the x32 ABI. */
export const X32_SYSCALL_BIT = 0x40000000;

export interface SockFilter {
  code: number;
  jt: number;
  jf: number;
  k: number;
}

class Program {
  readonly insns: SockFilter[] = [];

  emit(code: number, k: number, jt = 0, jf = 0): void {
    for (const [what, off] of [['jt', jt], ['jf', jf]] as const) {
      if (!Number.isInteger(off) || off < 0 || off > 255) {
        throw new Error(`seccomp: BPF ${what} offset ${String(off)} does not fit in 8 bits (instruction ${String(this.insns.length)})`);
      }
    }
    if (!Number.isInteger(k) || k < 0 || k > 0xffffffff) throw new Error(`seccomp: BPF constant ${String(k)} is not a 32-bit unsigned value`);
    this.insns.push({ code, jt, jf, k });
  }

  load(offset: number): void {
    this.emit(BPF_LD | BPF_W | BPF_ABS, offset);
  }

  ret(action: number): void {
    this.emit(BPF_RET | BPF_K, action >>> 0);
  }
}

/** The compare-and-return block of an argument rule, after the `ld` of the argument. */
function argBlock(cond: ArgCondition, action: number): SockFilter[] {
  const p = new Program();
  p.load(argLowOffset(cond.arg));
  switch (cond.kind) {
    case 'equals-any': {
      // jeq v_i: to the ret when equal; the last one skips the ret when not.
      const n = cond.values.length;
      cond.values.forEach((v, i) => p.emit(BPF_JMP | BPF_JEQ | BPF_K, v >>> 0, n - 1 - i, i === n - 1 ? 1 : 0));
      break;
    }
    case 'mask-any':
      p.emit(BPF_JMP | BPF_JSET | BPF_K, cond.mask >>> 0, 0, 1);
      break;
    case 'not-in': {
      // jeq v_i: past the ret (to the reload) when equal; falling off the last one reaches the ret.
      const n = cond.values.length;
      cond.values.forEach((v, i) => p.emit(BPF_JMP | BPF_JEQ | BPF_K, v >>> 0, n - i, 0));
      break;
    }
  }
  p.ret(action);
  p.load(SECCOMP_DATA_NR);
  return p.insns;
}

function checkCondition(rule: SeccompRule, cond: ArgCondition): void {
  if (!Number.isInteger(cond.arg) || cond.arg < 0 || cond.arg > 5) {
    throw new Error(`seccomp: rule for ${rule.syscall} tests argument ${String(cond.arg)}; system calls have arguments 0 to 5`);
  }
  if (cond.kind !== 'mask-any' && cond.values.length === 0) {
    throw new Error(`seccomp: rule for ${rule.syscall} compares against an empty list`);
  }
}

/**
 * The filter for `arch` enforcing `rules` (first match wins), as the bytes of
 * a sock_filter array. Rules for system calls that do not exist on `arch` are
 * skipped.
 */
export function buildFilter(arch: SeccompArch, rules: readonly SeccompRule[], options: { refuseNewer?: boolean } = {}): Buffer {
  const p = new Program();
  p.load(SECCOMP_DATA_ARCH);
  p.emit(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH[arch], 1, 0);
  p.ret(SECCOMP_RET_KILL_PROCESS);
  p.load(SECCOMP_DATA_NR);
  if (arch === 'x86_64') {
    p.emit(BPF_JMP | BPF_JGE | BPF_K, X32_SYSCALL_BIT, 0, 1);
    p.ret(retErrno(EPERM));
  }
  if (options.refuseNewer === true) {
    p.emit(BPF_JMP | BPF_JGT | BPF_K, highestKnownSyscall(arch), 0, 1);
    p.ret(retErrno(ENOSYS));
  }
  for (const rule of rules) {
    const nr = syscallNumber(arch, rule.syscall);
    if (nr === undefined) continue;
    const action = retErrno(ERRNO_VALUES[rule.errno]);
    if (rule.when === undefined) {
      p.emit(BPF_JMP | BPF_JEQ | BPF_K, nr, 0, 1);
      p.ret(action);
    } else {
      checkCondition(rule, rule.when);
      const block = argBlock(rule.when, action);
      p.emit(BPF_JMP | BPF_JEQ | BPF_K, nr, 0, block.length);
      for (const insn of block) p.emit(insn.code, insn.k, insn.jt, insn.jf);
    }
  }
  p.ret(SECCOMP_RET_ALLOW);
  if (p.insns.length > BPF_MAXINSNS) {
    throw new Error(`seccomp: the filter has ${String(p.insns.length)} instructions; the kernel accepts at most ${String(BPF_MAXINSNS)}`);
  }
  return encode(p.insns);
}

export function encode(insns: readonly SockFilter[]): Buffer {
  const buf = Buffer.alloc(insns.length * SOCK_FILTER_SIZE);
  insns.forEach((insn, i) => {
    const o = i * SOCK_FILTER_SIZE;
    buf.writeUInt16LE(insn.code, o);
    buf.writeUInt8(insn.jt, o + 2);
    buf.writeUInt8(insn.jf, o + 3);
    buf.writeUInt32LE(insn.k >>> 0, o + 4);
  });
  return buf;
}

export function decode(buf: Uint8Array): SockFilter[] {
  if (buf.length % SOCK_FILTER_SIZE !== 0) {
    throw new Error(`seccomp: a BPF program is a multiple of ${String(SOCK_FILTER_SIZE)} bytes; got ${String(buf.length)}`);
  }
  const b = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  const out: SockFilter[] = [];
  for (let o = 0; o < b.length; o += SOCK_FILTER_SIZE) {
    out.push({ code: b.readUInt16LE(o), jt: b.readUInt8(o + 2), jf: b.readUInt8(o + 3), k: b.readUInt32LE(o + 4) });
  }
  return out;
}

const hex = (n: number): string => `0x${(n >>> 0).toString(16)}`;

function retName(k: number): string {
  const action = (k & SECCOMP_RET_ACTION_FULL) >>> 0;
  const data = k & SECCOMP_RET_DATA;
  switch (action) {
    case SECCOMP_RET_KILL_PROCESS:
      return data === 0 ? 'KILL_PROCESS' : `#${hex(k)}`;
    case SECCOMP_RET_KILL_THREAD:
      return data === 0 ? 'KILL_THREAD' : `#${hex(k)}`;
    case SECCOMP_RET_TRAP:
      return `TRAP(${String(data)})`;
    case SECCOMP_RET_ERRNO:
      return `ERRNO(${String(data)})`;
    case SECCOMP_RET_TRACE:
      return `TRACE(${String(data)})`;
    case SECCOMP_RET_LOG:
      return 'LOG';
    case SECCOMP_RET_ALLOW:
      return 'ALLOW';
    default:
      return `#${hex(k)}`;
  }
}

const JUMPS: ReadonlyMap<number, string> = new Map([
  [BPF_JEQ, 'jeq'],
  [BPF_JGT, 'jgt'],
  [BPF_JGE, 'jge'],
  [BPF_JSET, 'jset'],
]);

export interface DisassembleOptions {
  /** Annotate comparisons of the system call number with the call's name on this architecture. */
  arch?: SeccompArch | undefined;
}

/**
 * One line per instruction: `ld [4]`, `jeq #0xc000003e, 1, 0`,
 * `ret ERRNO(1)`, ... With `arch`, comparisons made while the accumulator
 * holds the system call number get a `; name` comment (tracked along the
 * straight-line order of the program, which is how buildFilter lays it out).
 */
export function disassemble(buf: Uint8Array, options: DisassembleOptions = {}): string[] {
  const lines: string[] = [];
  let accIsNr = false;
  for (const insn of decode(buf)) {
    const cls = insn.code & 0x07;
    let line: string;
    if (insn.code === (BPF_LD | BPF_W | BPF_ABS)) {
      line = `ld [${String(insn.k)}]`;
      accIsNr = insn.k === SECCOMP_DATA_NR;
    } else if (insn.code === (BPF_LD | BPF_W | BPF_IMM)) {
      line = `ld #${hex(insn.k)}`;
      accIsNr = false;
    } else if (insn.code === (BPF_RET | BPF_K)) {
      line = `ret ${retName(insn.k)}`;
    } else if (insn.code === (BPF_RET | BPF_A)) {
      line = 'ret A';
    } else if (insn.code === (BPF_JMP | BPF_JA)) {
      line = `ja +${String(insn.k)}`;
    } else if (cls === BPF_JMP && (insn.code & 0x08) === BPF_K && JUMPS.has(insn.code & 0xf0)) {
      line = `${JUMPS.get(insn.code & 0xf0) ?? '?'} #${hex(insn.k)}, ${String(insn.jt)}, ${String(insn.jf)}`;
      if (options.arch !== undefined && accIsNr && (insn.code & 0xf0) === BPF_JEQ) {
        const name = syscallName(options.arch, insn.k);
        if (name !== undefined) line += `  ; ${name}`;
      }
    } else {
      line = `.insn code=${hex(insn.code)} jt=${String(insn.jt)} jf=${String(insn.jf)} k=${hex(insn.k)}`;
    }
    lines.push(line);
  }
  return lines;
}
