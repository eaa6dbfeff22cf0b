/**
 * The seccomp rules as the OCI runtime spec's `linux.seccomp` object, the
 * same document a Kubernetes Localhost seccomp profile is. It is rendered
 * from the rules buildFilter turns into BPF (resolveSeccomp), so both
 * enforce one policy:
 *
 * - a plain rule refuses its call with its errno (`errnoRet`);
 * - an argument rule becomes one entry per case in which it refuses, each
 *   entry with a single `SCMP_CMP_MASKED_EQ` on the argument: the mask
 *   never reaches above bit 31, so only the low 32 bits are compared, as in
 *   the BPF (the kernel ignores the upper half of these `int` arguments).
 *   An entry never compares one argument twice: runc treats two comparisons
 *   of the same argument as either-or, other runtimes as both, so such an
 *   entry would mean different things on different runtimes.
 * - Calls newer than isolate's tables cannot be named, and runtimes do not
 *   refuse them on their own (runc 1.1 lets fchmodat2 set the set-user-ID
 *   bit under a profile that allows what it does not name). So when the
 *   rules refuse newer calls (the default preset), the profile is an
 *   allowlist: the default action is ENOSYS, every known call the rules do
 *   not refuse is allowed by name, and each argument rule adds the cases in
 *   which its call passes. Without that refusal (preset `none` with a deny
 *   list), the default is to allow and only the refusals are listed.
 *
 * What the format cannot say (docs/oci.md): other ABIs are refused by the
 * runtime's bad-architecture action, not by isolate's KILL_PROCESS; x32
 * calls fall under it too (the BPF returns EPERM).
 */
import { ERRNO_VALUES, type ArgCondition, type ResolvedSeccomp, type SeccompRule } from './presets.js';
import { knownSyscalls, syscallNumber, type SeccompArch } from './syscalls.js';

export interface OciSeccompArg {
  readonly index: number;
  readonly value: number;
  readonly valueTwo: number;
  readonly op: 'SCMP_CMP_MASKED_EQ';
}

export interface OciSeccompSyscall {
  readonly names: readonly string[];
  readonly action: 'SCMP_ACT_ERRNO' | 'SCMP_ACT_ALLOW';
  readonly errnoRet?: number;
  readonly args?: readonly OciSeccompArg[];
}

export interface OciSeccomp {
  readonly defaultAction: 'SCMP_ACT_ALLOW' | 'SCMP_ACT_ERRNO';
  readonly defaultErrnoRet?: number;
  readonly architectures: readonly string[];
  readonly syscalls: readonly OciSeccompSyscall[];
}

/** libseccomp's names for the architectures (seccomp.h, SCMP_ARCH_*). */
export const OCI_SECCOMP_ARCH: Readonly<Record<SeccompArch, string>> = Object.freeze({
  x86_64: 'SCMP_ARCH_X86_64',
  aarch64: 'SCMP_ARCH_AARCH64',
});

/** `(arg & mask) === value` on the low 32 bits. */
export interface MaskedEq {
  readonly mask: number;
  readonly value: number;
}

const LOW_32 = 0xffffffff;
const BITS: readonly number[] = Array.from({ length: 32 }, (_, i) => (2 ** i) >>> 0);

/**
 * The set of 32-bit values outside `points`, as a union of disjoint masked
 * equalities: where every point agrees on a bit, the values with the other
 * bit are one case; where they disagree, both halves are split further.
 */
export function complementCases(points: readonly number[], mask = 0, value = 0): MaskedEq[] {
  if (points.length === 0) return [{ mask: mask >>> 0, value: value >>> 0 }];
  const free = BITS.filter((bit) => (mask & bit) === 0);
  if (free.length === 0) return [];
  const first = points[0] ?? 0;
  const agreed = free.find((bit) => points.every((p) => (p & bit) === (first & bit)));
  if (agreed !== undefined) {
    const other = { mask: (mask | agreed) >>> 0, value: ((value | agreed) ^ (first & agreed)) >>> 0 };
    return [other, ...complementCases(points, mask | agreed, value | (first & agreed))];
  }
  const split = free[0] ?? 0;
  const withBit = points.filter((p) => (p & split) !== 0);
  const without = points.filter((p) => (p & split) === 0);
  return [...complementCases(withBit, mask | split, value | split), ...complementCases(without, mask | split, value)];
}

const distinct = (values: readonly number[]): number[] => [...new Set(values.map((v) => v >>> 0))];
const equalTo = (v: number): MaskedEq => ({ mask: LOW_32, value: v });

/** The cases in which an argument condition refuses the call, each one masked equality. */
export function refusalCases(when: ArgCondition): MaskedEq[] {
  switch (when.kind) {
    case 'equals-any':
      return distinct(when.values).map(equalTo);
    case 'mask-any':
      return BITS.filter((bit) => (when.mask & bit) !== 0).map((bit) => ({ mask: bit, value: bit }));
    case 'not-in':
      return complementCases(distinct(when.values));
  }
}

/** The cases in which it lets the call through: the rest of the 32-bit values. */
export function passCases(when: ArgCondition): MaskedEq[] {
  switch (when.kind) {
    case 'equals-any':
      return complementCases(distinct(when.values));
    case 'mask-any':
      return [{ mask: when.mask >>> 0, value: 0 }];
    case 'not-in':
      return distinct(when.values).map(equalTo);
  }
}

type Action = Pick<OciSeccompSyscall, 'action' | 'errnoRet'>;
const ALLOW: Action = { action: 'SCMP_ACT_ALLOW' };
const ENOSYS_DEFAULT: Action = { action: 'SCMP_ACT_ERRNO', errnoRet: ERRNO_VALUES.ENOSYS };

function caseEntries(syscall: string, arg: number, cases: readonly MaskedEq[], action: Action): OciSeccompSyscall[] {
  return cases.map((c) => ({ names: [syscall], ...action, args: [{ index: arg, value: c.mask, valueTwo: c.value, op: 'SCMP_CMP_MASKED_EQ' }] }));
}

/** A rule's entries; those whose action is the default one are left out (libseccomp refuses them). */
function ruleEntries(rule: SeccompRule, byDefault: Action): OciSeccompSyscall[] {
  const refuse: Action = { action: 'SCMP_ACT_ERRNO', errnoRet: ERRNO_VALUES[rule.errno] };
  const isDefault = (a: Action): boolean => a.action === byDefault.action && a.errnoRet === byDefault.errnoRet;
  const when = rule.when;
  if (when === undefined) return isDefault(refuse) ? [] : [{ names: [rule.syscall], ...refuse }];
  return [
    ...(isDefault(refuse) ? [] : caseEntries(rule.syscall, when.arg, refusalCases(when), refuse)),
    ...(isDefault(ALLOW) ? [] : caseEntries(rule.syscall, when.arg, passCases(when), ALLOW)),
  ];
}

/** Consecutive plain entries with the same action share one entry, as in hand-written profiles. */
function mergePlain(entries: readonly OciSeccompSyscall[]): OciSeccompSyscall[] {
  const out: OciSeccompSyscall[] = [];
  for (const entry of entries) {
    const last = out.at(-1);
    const same = last !== undefined && last.args === undefined && entry.args === undefined && last.action === entry.action && last.errnoRet === entry.errnoRet;
    if (same) out[out.length - 1] = { ...last, names: [...last.names, ...entry.names] };
    else out.push(entry);
  }
  return out;
}

/** Every call the architectures have that no rule names, allowed by name (the allowlist form). */
function allowedByName(rules: readonly SeccompRule[], arches: readonly SeccompArch[]): OciSeccompSyscall[] {
  const named = new Set(rules.map((r) => r.syscall));
  const names = knownSyscalls().filter((n) => !named.has(n) && arches.some((arch) => syscallNumber(arch, n) !== undefined));
  return [{ names, action: 'SCMP_ACT_ALLOW' }];
}

/**
 * The OCI `linux.seccomp` object for `arches` enforcing `seccomp`'s rules,
 * or undefined when no filter is installed. Calls that exist on none of the
 * architectures are left out, as buildFilter skips them. A call named by two
 * rules is an error: in the BPF the first would win, in libseccomp both.
 */
export function ociSeccomp(seccomp: ResolvedSeccomp, arches: readonly SeccompArch[]): OciSeccomp | undefined {
  if (!seccomp.install) return undefined;
  const rules = seccomp.rules.filter((r) => arches.some((arch) => syscallNumber(arch, r.syscall) !== undefined));
  const seen = new Set<string>();
  for (const rule of rules) {
    if (seen.has(rule.syscall)) throw new Error(`seccomp: ${rule.syscall} is named by two rules; the OCI form cannot keep their order`);
    seen.add(rule.syscall);
  }
  const byDefault = seccomp.refuseNewer ? ENOSYS_DEFAULT : ALLOW;
  const listed = seccomp.refuseNewer ? allowedByName(rules, arches) : [];
  return {
    defaultAction: byDefault.action,
    ...(byDefault.errnoRet === undefined ? {} : { defaultErrnoRet: byDefault.errnoRet }),
    architectures: arches.map((arch) => OCI_SECCOMP_ARCH[arch]),
    syscalls: [...listed, ...mergePlain(rules.flatMap((r) => ruleEntries(r, byDefault)))],
  };
}
