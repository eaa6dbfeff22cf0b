import { describe, expect, it } from 'vitest';
import { DEFAULT_PRESET, PERSONALITY_ALLOWED, resolveSeccomp, type ArgCondition, type SeccompRule } from '../../src/seccomp/presets.js';
import { complementCases, ociSeccomp, passCases, refusalCases, type OciSeccomp } from '../../src/seccomp/oci.js';
import { SECCOMP_ARCHES, syscallNumber, type SeccompArch } from '../../src/seccomp/syscalls.js';

/** What a rule's condition means on a 64-bit argument: the kernel sees only its low 32 bits. */
function refuses(when: ArgCondition, arg: bigint): boolean {
  const low = Number(BigInt.asUintN(32, arg));
  if (when.kind === 'equals-any') return when.values.includes(low);
  if (when.kind === 'mask-any') return (low & when.mask) !== 0;
  return !when.values.includes(low);
}

/**
 * How libseccomp applies an OCI profile: the entries naming the call whose
 * comparisons all hold decide; none: the default action. The entries must
 * never disagree (the order of a runtime's rules is not the file's).
 */
function ociVerdict(profile: OciSeccomp, name: string, args: readonly bigint[]): number | 'allow' {
  const verdicts = new Set<number | 'allow'>();
  for (const entry of profile.syscalls) {
    if (!entry.names.includes(name)) continue;
    const hold = (entry.args ?? []).every((a) => ((args[a.index] ?? 0n) & BigInt(a.value)) === BigInt(a.valueTwo));
    if (hold) verdicts.add(entry.action === 'SCMP_ACT_ALLOW' ? 'allow' : (entry.errnoRet ?? -1));
  }
  expect(verdicts.size, `${name}: entries that disagree`).toBeLessThanOrEqual(1);
  const [verdict] = verdicts;
  if (verdict !== undefined) return verdict;
  return profile.defaultAction === 'SCMP_ACT_ALLOW' ? 'allow' : (profile.defaultErrnoRet ?? -1);
}

function ruleVerdict(rules: readonly SeccompRule[], name: string, args: readonly bigint[]): number | 'allow' {
  const rule = rules.find((r) => r.syscall === name);
  if (rule === undefined) return 'allow';
  if (rule.when !== undefined && !refuses(rule.when, args[rule.when.arg] ?? 0n)) return 'allow';
  return rule.errno === 'EPERM' ? 1 : 38;
}

let seed = 0x1234567;
const rand = (): number => {
  seed ^= seed << 13;
  seed ^= seed >>> 17;
  seed ^= seed << 5;
  return seed >>> 0;
};
const INTERESTING = [0, 8, 0x5412, 0x541c, 0x5401, 0x20000, 0x20008, 0x40000, 0xffffffff, 0xfffffffe, 0o4000, 0o2000, 0o755, 0x10000000, 0x7e020000, 31, 40, 2, 10];
const randomArg = (): bigint => {
  const low = rand() % 3 === 0 ? rand() : (INTERESTING[rand() % INTERESTING.length] ?? 0);
  const high = rand() % 2 === 0 ? 0n : BigInt(rand());
  const flip = rand() % 4 === 0 ? 2 ** (rand() % 32) : 0;
  return (high << 32n) | BigInt((low ^ flip) >>> 0);
};

describe('refusalCases', () => {
  it('each case is a single masked equality within the low 32 bits', () => {
    for (const rule of DEFAULT_PRESET) {
      if (rule.when === undefined) continue;
      for (const c of refusalCases(rule.when)) {
        expect(c.mask).toBeGreaterThan(0);
        expect(c.mask).toBeLessThanOrEqual(0xffffffff);
        expect((c.value & ~c.mask) >>> 0).toBe(0);
      }
    }
  });

  it('the personality allowlist: every listed value passes, its neighbours and flag values are refused', () => {
    const cases = refusalCases({ kind: 'not-in', arg: 0, values: PERSONALITY_ALLOWED });
    const hit = (x: number): boolean => cases.some((c) => ((x & c.mask) >>> 0) === c.value);
    for (const v of PERSONALITY_ALLOWED) expect(hit(v), v.toString(16)).toBe(false);
    for (const v of [1, 7, 9, 0x40000, 0x400000, 0x20001, 0xfffffffe, 0x7fffffff, 0x80000000]) expect(hit(v), v.toString(16)).toBe(true);
  });

  it('every value is either refused or passed, never both, and as the rule means', () => {
    for (const rule of DEFAULT_PRESET) {
      if (rule.when === undefined) continue;
      const refused = refusalCases(rule.when);
      const passes = passCases(rule.when);
      for (let trial = 0; trial < 2000; trial++) {
        const x = Number(BigInt.asUintN(32, randomArg()));
        const hit = (c: { mask: number; value: number }): boolean => ((x & c.mask) >>> 0) === c.value;
        expect([refused.some(hit), passes.some(hit)], `${rule.syscall} ${x.toString(16)}`).toEqual([refuses(rule.when, BigInt(x)), !refuses(rule.when, BigInt(x))]);
      }
    }
  });

  it('the complement of no value is every value, of every value none', () => {
    expect(complementCases([])).toEqual([{ mask: 0, value: 0 }]);
    expect(refusalCases({ kind: 'equals-any', arg: 1, values: [5, 5] })).toEqual([{ mask: 0xffffffff, value: 5 }]);
  });
});

describe('ociSeccomp agrees with the rules the BPF filter enforces', () => {
  const configs = [
    { preset: 'default' as const },
    { preset: 'default' as const, allow: ['ptrace', 'clone'], deny: ['chroot', 'ioctl'] },
    { preset: 'none' as const, deny: ['read', 'iopl'] },
  ];
  for (const arch of SECCOMP_ARCHES) {
    it(`${arch}: every rule's call with random and boundary arguments`, () => {
      for (const config of configs) {
        const resolved = resolveSeccomp(config);
        const profile = ociSeccomp(resolved, [arch]);
        expect(profile).toBeDefined();
        if (profile === undefined) return;
        const names = [...new Set([...resolved.rules.map((r) => r.syscall), 'read', 'write', 'openat', 'execve'])];
        for (const name of names.filter((n) => syscallNumber(arch, n) !== undefined)) {
          for (let trial = 0; trial < 300; trial++) {
            const args = Array.from({ length: 6 }, randomArg);
            expect(ociVerdict(profile, name, args), `${JSON.stringify(config)} ${name} ${String(args)}`).toBe(ruleVerdict(resolved.rules, name, args));
          }
        }
      }
    });
  }

  it('no entry compares one argument twice (runtimes disagree on what that means)', () => {
    const profile = ociSeccomp(resolveSeccomp({ preset: 'default' }), ['x86_64']);
    for (const entry of profile?.syscalls ?? []) {
      const indexes = (entry.args ?? []).map((a) => a.index);
      expect(new Set(indexes).size).toBe(indexes.length);
    }
  });

  it('leaves out calls the architectures do not have, and installs nothing for preset none alone', () => {
    const names = (arch: SeccompArch): string[] => (ociSeccomp(resolveSeccomp({ preset: 'default' }), [arch])?.syscalls ?? []).flatMap((e) => e.names);
    expect(names('x86_64')).toContain('iopl');
    expect(names('aarch64')).not.toContain('iopl');
    expect(ociSeccomp(resolveSeccomp({ preset: 'none' }), ['x86_64'])).toBeUndefined();
    expect(ociSeccomp(resolveSeccomp({ preset: 'default' }), ['x86_64', 'aarch64'])?.architectures).toEqual(['SCMP_ARCH_X86_64', 'SCMP_ARCH_AARCH64']);
  });

  it('the default preset is an allowlist with ENOSYS for what it does not name (calls newer than the tables); a deny list alone is not', () => {
    const preset = ociSeccomp(resolveSeccomp({ preset: 'default' }), ['x86_64']);
    expect(preset).toMatchObject({ defaultAction: 'SCMP_ACT_ERRNO', defaultErrnoRet: 38 });
    expect(preset?.syscalls[0]?.names).toContain('read');
    expect(preset?.syscalls.flatMap((e) => e.names)).not.toContain('clone3');
    expect(ociSeccomp(resolveSeccomp({ preset: 'none', deny: ['chroot'] }), ['x86_64'])).toEqual({
      defaultAction: 'SCMP_ACT_ALLOW',
      architectures: ['SCMP_ARCH_X86_64'],
      syscalls: [{ names: ['chroot'], action: 'SCMP_ACT_ERRNO', errnoRet: 1 }],
    });
  });
});
