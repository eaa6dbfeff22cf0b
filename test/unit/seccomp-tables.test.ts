/**
 * The committed syscall tables against the Linux UAPI headers they were taken
 * from (when this machine has them), plus spot checks that need no headers.
 */
import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  NODE_ARCH_TO_SECCOMP_ARCH,
  SECCOMP_ARCHES,
  SYSCALL_TABLES,
  isKnownSyscall,
  knownSyscalls,
  seccompArchFromNode,
  syscallName,
  syscallNumber,
} from '../../src/seccomp/syscalls.js';

const X86_64_HEADER = '/usr/include/x86_64-linux-gnu/asm/unistd_64.h';
const GENERIC_HEADER = '/usr/include/asm-generic/unistd.h';

/** What arch/arm64/include/uapi/asm/unistd.h defines before including asm-generic/unistd.h. */
const ARM64_WANTS = [
  '__ARCH_WANT_RENAMEAT',
  '__ARCH_WANT_NEW_STAT',
  '__ARCH_WANT_SET_GET_RLIMIT',
  '__ARCH_WANT_TIME32_SYSCALLS',
  '__ARCH_WANT_SYS_CLONE3',
  '__ARCH_WANT_MEMFD_SECRET',
];

/** Placeholders that are `__NR_` macros but not system calls. */
const NOT_SYSCALLS = new Set(['syscalls', 'arch_specific_syscall']);

/**
 * Evaluate a preprocessor condition made of integers, names, defined(X),
 * !, ==, !=, && and || (all that unistd.h uses).
 */
function evalCondition(expr: string, macros: ReadonlyMap<string, string>): boolean {
  const tokens = expr.match(/defined\s*\(\s*\w+\s*\)|defined\s+\w+|\w+|==|!=|&&|\|\||[!()]/g) ?? [];
  let pos = 0;
  const peek = (): string | undefined => tokens[pos];
  const next = (): string => {
    const t = tokens[pos++];
    if (t === undefined) throw new Error(`unexpected end of #if expression: ${expr}`);
    return t;
  };
  const value = (name: string, depth = 0): number => {
    if (/^\d+$/.test(name)) return Number(name);
    const v = macros.get(name);
    if (v === undefined || depth > 8) return 0; // undefined identifiers are 0 in #if
    return /^\w+$/.test(v) ? value(v, depth + 1) : 0;
  };
  const primary = (): number => {
    const t = next();
    if (t === '!') return primary() === 0 ? 1 : 0;
    if (t === '(') {
      const v = or();
      if (next() !== ')') throw new Error(`missing ) in ${expr}`);
      return v;
    }
    const d = /^defined\s*\(?\s*(\w+)\s*\)?$/.exec(t);
    if (d?.[1] !== undefined) return macros.has(d[1]) ? 1 : 0;
    return value(t);
  };
  const equality = (): number => {
    let v = primary();
    while (peek() === '==' || peek() === '!=') {
      const op = next();
      const r = primary();
      v = (op === '==' ? v === r : v !== r) ? 1 : 0;
    }
    return v;
  };
  const and = (): number => {
    let v = equality();
    while (peek() === '&&') {
      next();
      const r = equality();
      v = v !== 0 && r !== 0 ? 1 : 0;
    }
    return v;
  };
  const or = (): number => {
    let v = and();
    while (peek() === '||') {
      next();
      const r = and();
      v = v !== 0 || r !== 0 ? 1 : 0;
    }
    return v;
  };
  const result = or();
  if (pos !== tokens.length) throw new Error(`trailing tokens in #if expression: ${expr}`);
  return result !== 0;
}

/**
 * A minimal C preprocessor pass over a unistd header: conditionals, #define
 * and #undef, then every `__NR_name` resolved to its number.
 */
function parseUnistd(text: string, predefined: readonly string[]): Record<string, number> {
  const macros = new Map<string, string>(predefined.map((name) => [name, '1']));
  macros.set('__BITS_PER_LONG', '64');
  // Join continuation lines and drop comments.
  const source = text.replace(/\\\n/g, ' ').replace(/\/\*[\s\S]*?\*\//g, ' ').replace(/\/\/.*$/gm, '');
  const stack: { active: boolean; taken: boolean; parentActive: boolean }[] = [];
  const active = (): boolean => stack.every((f) => f.active);
  for (const rawLine of source.split('\n')) {
    const line = rawLine.trim();
    const m = /^#\s*(\w+)\s*(.*)$/.exec(line);
    if (m === null) continue;
    const [, directive = '', rest = ''] = m;
    switch (directive) {
      case 'if':
      case 'ifdef':
      case 'ifndef': {
        const parentActive = active();
        let cond = false;
        if (parentActive) {
          if (directive === 'if') cond = evalCondition(rest, macros);
          else cond = macros.has(rest.trim()) === (directive === 'ifdef');
        }
        stack.push({ active: parentActive && cond, taken: cond, parentActive });
        break;
      }
      case 'elif': {
        const top = stack.at(-1);
        if (top === undefined) throw new Error('#elif without #if');
        const cond = top.parentActive && !top.taken && evalCondition(rest, macros);
        top.active = cond;
        top.taken ||= cond;
        break;
      }
      case 'else': {
        const top = stack.at(-1);
        if (top === undefined) throw new Error('#else without #if');
        top.active = top.parentActive && !top.taken;
        top.taken = true;
        break;
      }
      case 'endif':
        if (stack.pop() === undefined) throw new Error('#endif without #if');
        break;
      case 'define': {
        if (!active()) break;
        const d = /^(\w+)(\([^)]*\))?\s*(.*)$/.exec(rest);
        if (d?.[1] !== undefined) macros.set(d[1], d[2] === undefined ? (d[3] ?? '').trim() : '<function-like>');
        break;
      }
      case 'undef':
        if (active()) macros.delete(rest.trim());
        break;
      default:
        break; // #include and friends
    }
  }
  if (stack.length !== 0) throw new Error('unterminated #if');

  const resolve = (v: string, depth = 0): number => {
    if (/^\d+$/.test(v)) return Number(v);
    const next = macros.get(v);
    if (next === undefined || depth > 8) throw new Error(`cannot resolve ${v}`);
    return resolve(next, depth + 1);
  };
  const table: Record<string, number> = {};
  for (const [name, value] of macros) {
    if (!name.startsWith('__NR_')) continue;
    const syscall = name.slice('__NR_'.length);
    if (NOT_SYSCALLS.has(syscall)) continue;
    table[syscall] = resolve(value);
  }
  return table;
}

const sorted = (t: Readonly<Record<string, number>>): [string, number][] =>
  Object.entries(t).sort((a, b) => a[1] - b[1] || (a[0] < b[0] ? -1 : 1));

describe('syscall tables against the UAPI headers', () => {
  const haveX86 = existsSync(X86_64_HEADER);
  const haveGeneric = existsSync(GENERIC_HEADER);
  if (!haveX86) console.log(`seccomp-tables: ${X86_64_HEADER} is not installed (apt-get install linux-libc-dev); skipping the x86_64 header comparison`);
  if (!haveGeneric) console.log(`seccomp-tables: ${GENERIC_HEADER} is not installed (apt-get install linux-libc-dev); skipping the aarch64 header comparison`);

  it.runIf(haveX86)('x86_64 matches asm/unistd_64.h exactly', () => {
    const parsed = parseUnistd(readFileSync(X86_64_HEADER, 'utf8'), []);
    expect(Object.keys(parsed).length).toBeGreaterThan(300);
    expect(sorted(SYSCALL_TABLES.x86_64)).toEqual(sorted(parsed));
  });

  it.runIf(haveGeneric)('aarch64 matches asm-generic/unistd.h (64-bit, arm64 wants) exactly', () => {
    const parsed = parseUnistd(readFileSync(GENERIC_HEADER, 'utf8'), ARM64_WANTS);
    expect(Object.keys(parsed).length).toBeGreaterThan(250);
    expect(sorted(SYSCALL_TABLES.aarch64)).toEqual(sorted(parsed));
  });

  it('the mini preprocessor follows the conditionals it must', () => {
    const text = [
      '#define __NR_a 1',
      '#if __BITS_PER_LONG == 32 || defined(__SYSCALL_COMPAT)',
      '#define __NR_b 2',
      '#else',
      '#define __NR_c 3',
      '#endif',
      '#ifdef __ARCH_WANT_X',
      '#define __NR_d 4',
      '#endif',
      '#define __NR3264_e 5',
      '#if __BITS_PER_LONG == 64 && !defined(__SYSCALL_COMPAT)',
      '#define __NR_e __NR3264_e',
      '#ifdef __NR3264_missing',
      '#define __NR_f __NR3264_missing',
      '#endif',
      '#endif',
      '#undef __NR_syscalls',
      '#define __NR_syscalls 6',
    ].join('\n');
    expect(parseUnistd(text, [])).toEqual({ a: 1, c: 3, e: 5 });
    expect(parseUnistd(text, ['__ARCH_WANT_X'])).toEqual({ a: 1, c: 3, d: 4, e: 5 });
  });
});

describe('syscall tables: spot checks', () => {
  it.each([
    ['ptrace', 101],
    ['ioctl', 16],
    ['clone', 56],
    ['clone3', 435],
    ['io_uring_setup', 425],
    ['unshare', 272],
    ['mount', 165],
    ['read', 0],
    ['execve', 59],
    ['iopl', 172],
    ['ioperm', 173],
  ])('x86_64 %s = %i', (name, nr) => {
    expect(syscallNumber('x86_64', name)).toBe(nr);
    expect(syscallName('x86_64', nr)).toBe(name);
  });

  it.each([
    ['ptrace', 117],
    ['ioctl', 29],
    ['clone', 220],
    ['clone3', 435],
    ['unshare', 97],
    ['mount', 40],
    ['io_uring_setup', 425],
    ['read', 63],
    ['execve', 221],
    ['mmap', 222],
    ['fstat', 80],
    ['memfd_secret', 447],
  ])('aarch64 %s = %i', (name, nr) => {
    expect(syscallNumber('aarch64', name)).toBe(nr);
    expect(syscallName('aarch64', nr)).toBe(name);
  });

  it('names absent on one architecture', () => {
    expect(syscallNumber('aarch64', 'iopl')).toBeUndefined();
    expect(syscallNumber('aarch64', 'open')).toBeUndefined();
    expect(syscallNumber('aarch64', 'fork')).toBeUndefined();
    expect(syscallNumber('x86_64', 'open')).toBe(2);
    expect(isKnownSyscall('iopl')).toBe(true);
    expect(isKnownSyscall('open')).toBe(true);
  });

  it('isKnownSyscall rejects non-syscalls, including Object.prototype names', () => {
    for (const name of ['', 'ptrac', 'PTRACE', 'constructor', '__proto__', 'toString', 'hasOwnProperty', 'syscalls', 'arch_specific_syscall']) {
      expect(isKnownSyscall(name), name).toBe(false);
      expect(syscallNumber('x86_64', name), name).toBeUndefined();
      expect(syscallNumber('aarch64', name), name).toBeUndefined();
    }
  });

  it('numbers are unique per architecture and in range', () => {
    for (const arch of SECCOMP_ARCHES) {
      const numbers = Object.values(SYSCALL_TABLES[arch]);
      expect(new Set(numbers).size, arch).toBe(numbers.length);
      for (const n of numbers) {
        expect(Number.isInteger(n) && n >= 0 && n < 1024, `${arch} ${String(n)}`).toBe(true);
      }
    }
    expect(knownSyscalls()).toContain('iopl');
    expect(knownSyscalls()).toContain('renameat');
  });

  it('maps Node process.arch to the seccomp architecture', () => {
    expect(NODE_ARCH_TO_SECCOMP_ARCH).toEqual({ x64: 'x86_64', arm64: 'aarch64' });
    expect(seccompArchFromNode('x64')).toBe('x86_64');
    expect(seccompArchFromNode('arm64')).toBe('aarch64');
    expect(seccompArchFromNode('ia32')).toBeUndefined();
    expect(seccompArchFromNode('riscv64')).toBeUndefined();
    expect(seccompArchFromNode('toString')).toBeUndefined();
  });
});
