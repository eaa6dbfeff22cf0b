/**
 * `isolate explain --backend sandbox-exec` for every built-in profile, on the
 * golden tests' synthetic Mac: the profiles are accepted as they are, and
 * the text says what Seatbelt does (its rules for the default preset, the
 * loopback proxy), not what Linux would.
 */
import { describe, expect, it } from 'vitest';
import { assertEnforceable, conformanceRows } from '../../src/backends/conformance.js';
import { planSandboxExec } from '../../src/backends/sandbox-exec.js';
import { SEATBELT_DEFAULT, hardeningText } from '../../src/backends/sbpl-hardening.js';
import { renderExplanation } from '../../src/cli/explain.js';
import { PLAIN } from '../../src/cli/output.js';
import { EXPLAIN_SCHEMA_VERSION, type Explanation } from '../../src/index.js';
import { BUILTIN_NAMES } from '../../src/profile/builtin.js';
import { applyOverrides, loadMergedProfile, type ProfileOverrides } from '../../src/profile/load.js';
import { ON_PATH } from '../../src/profile/path-dirs.js';
import { resolvePolicy } from '../../src/profile/resolve.js';
import { MAC_CTX, MAC_DISK, MAC_VARS, darwinHost, macPolicy } from '../golden/synthetic-mac.js';

const MAKE = { program: 'make', candidates: [{ path: '/usr/bin/make', real: '/usr/bin/make', isFile: true, executable: true }] };

async function explained(name: string, overrides: ProfileOverrides = {}): Promise<Explanation> {
  const policy = macPolicy(applyOverrides(await loadMergedProfile(name, MAC_CTX), overrides, MAC_CTX));
  assertEnforceable(policy, 'sandbox-exec');
  const plan = planSandboxExec(policy, ['make', 'test'], darwinHost(policy, MAKE));
  return {
    schemaVersion: EXPLAIN_SCHEMA_VERSION,
    kind: 'explain',
    profile: policy.profile,
    backend: { name: plan.backend, version: plan.backendVersion },
    command: plan.command,
    cwd: plan.cwd,
    commandLine: '<command line>',
    argv: plan.argv,
    pipedArgs: plan.pipedArgs,
    summary: plan.summary,
    withheldEnv: plan.withheldEnv,
    conformance: conformanceRows(policy, 'sandbox-exec'),
    descriptors: [],
    warnings: [],
    credentials: [],
  };
}

describe('explain --backend sandbox-exec', () => {
  it.each([...BUILTIN_NAMES])('%s: accepted, and lists the Seatbelt rules of the default preset', async (name) => {
    const e = await explained(name);
    const text = renderExplanation(e, PLAIN);
    expect(text).toMatch(/^syscalls +preset default: macOS has no seccomp; Seatbelt rules refuse:$/m);
    for (const r of SEATBELT_DEFAULT) expect(text).toContain(hardeningText(r));
    expect(text).not.toContain('foreign architectures');
    expect(text).not.toContain('network namespace');
    expect(text).toMatch(/^isolation +Seatbelt profile \(deny default\)/m);
    const asked = e.conformance.filter((c) => c.requested && c.how === 'none').map((c) => c.id);
    expect(asked).toEqual(['namespaces']);
    expect(e.conformance.find((c) => c.id === 'syscalls')).toMatchObject({ requested: true, how: 'native' });
  });

  it('filtered network: the proxy on the host loopback, not socat in a namespace', async () => {
    const text = renderExplanation(await explained('default', { allowDomain: ['registry.npmjs.org'] }), PLAIN);
    expect(text).toMatch(/^network +filtered: only TCP to isolate's proxy at http:\/\/127\.0\.0\.1:\d+ on the host loopback$/m);
  });

  it('preset none: says there are no hardening rules', async () => {
    const e = await explained('default');
    const none = { ...e, summary: { ...e.summary, seccomp: { ...e.summary.seccomp, preset: 'none', install: false } } };
    expect(renderExplanation(none, PLAIN)).toMatch(/^syscalls +preset none: no hardening rules beyond the profile's;$/m);
  });

  it("a directory on the caller's PATH inside the project: Seatbelt refuses writes to it, and explain says why", async () => {
    const bin = `${MAC_VARS.CWD}/bin`;
    const disk = { ...MAC_DISK, stat: (path: string) => (path === bin ? ('dir' as const) : MAC_DISK.stat(path)) };
    const policy = resolvePolicy(await loadMergedProfile('default', MAC_CTX), { vars: MAC_VARS, env: { HOME: MAC_VARS.HOME, PATH: `/usr/bin:/bin:${bin}` }, disk });
    const host = darwinHost(policy, MAKE);
    const plan = planSandboxExec(policy, ['make', 'test'], { ...host, protect: [...host.protect, { path: bin, state: 'dir', pins: [] }] });
    expect(plan.summary.protected).toContain(bin);
    expect(plan.summary.protectedWhy).toEqual({ [bin]: ON_PATH });
    const e = await explained('default');
    expect(renderExplanation({ ...e, summary: plan.summary }, PLAIN)).toContain(`${bin} (${ON_PATH})`);
  });
});
