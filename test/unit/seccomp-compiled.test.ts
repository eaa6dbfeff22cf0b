/**
 * The syscall policy worked out once per distinct policy in a process
 * (src/seccomp/compiled.ts): the same result as working it out afresh, per
 * configuration and architecture, and never changed through what a caller got.
 */
import { describe, expect, it } from 'vitest';
import { buildFilter } from '../../src/seccomp/bpf.js';
import { compiledFilter, resolvedSeccomp } from '../../src/seccomp/compiled.js';
import { describeRules, resolveSeccomp, type SeccompConfig } from '../../src/seccomp/presets.js';

const fresh = (config: SeccompConfig, arch: 'x86_64' | 'aarch64'): Buffer => {
  const r = resolveSeccomp(config);
  return buildFilter(arch, r.rules, { refuseNewer: r.refuseNewer });
};

describe('compiledFilter and resolvedSeccomp', () => {
  const configs: SeccompConfig[] = [
    { preset: 'default', deny: [], allow: [] },
    { preset: 'default', deny: ['ptrace'], allow: [] },
    { preset: 'default', deny: [], allow: ['ptrace'] },
    { preset: 'none', deny: ['mount'], allow: [] },
  ];

  it('gives what building afresh gives, for each configuration and architecture, asked twice', () => {
    for (let round = 0; round < 2; round++) {
      for (const c of configs) {
        for (const arch of ['x86_64', 'aarch64'] as const) expect(compiledFilter(c, arch).equals(fresh(c, arch))).toBe(true);
        const r = resolveSeccomp(c);
        expect(resolvedSeccomp(c)).toEqual({ resolved: r, lines: describeRules(r.rules, r.refuseNewer) });
      }
    }
    // Distinct configurations, distinct programs: the key tells deny from allow.
    expect(compiledFilter(configs[1] as SeccompConfig, 'x86_64').equals(compiledFilter(configs[2] as SeccompConfig, 'x86_64'))).toBe(false);
  });

  it('hands out copies: changing one changes nothing kept', () => {
    const c: SeccompConfig = { preset: 'default', deny: [], allow: [] };
    const program = compiledFilter(c, 'x86_64');
    program.fill(0);
    expect(compiledFilter(c, 'x86_64').equals(fresh(c, 'x86_64'))).toBe(true);
    const { lines } = resolvedSeccomp(c);
    lines.length = 0;
    expect(resolvedSeccomp(c).lines.length).toBeGreaterThan(0);
  });

  it('refuses an unknown system call name every time it is asked', () => {
    const c: SeccompConfig = { preset: 'default', deny: ['no_such_call'], allow: [] };
    expect(() => compiledFilter(c, 'x86_64')).toThrow(/unknown system call/);
    expect(() => resolvedSeccomp(c)).toThrow(/unknown system call/);
  });
});
