/**
 * The Kubernetes export: what a hostile command, environment or profile
 * could do with it (inject YAML, expand `$(VAR)`, reach the network, leak
 * a secret), and the check against the API's schemas.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { k8sExport, literal, type K8sObject, type K8sOptions } from '../../src/backends/k8s/render.js';
import { k8sProblems, assertValidK8s } from '../../src/backends/k8s/validate.js';
import { k8sYaml } from '../../src/backends/k8s/yaml.js';
import { K8S_FILE, k8sExporter } from '../../src/backends/k8s/exporter.js';
import type { HostFacts } from '../../src/backends/types.js';
import { exportPolicy } from '../../src/index.js';
import { applyOverrides, loadMergedProfile, type LoadContext, type ProfileOverrides } from '../../src/profile/load.js';
import type { Policy } from '../../src/profile/types.js';
import { HOST_ENV, VARS, syntheticPolicy } from '../golden/synthetic.js';

const CTX: LoadContext = { callerCwd: VARS.CWD, env: { HOME: VARS.HOME } };
const OPTIONS: K8sOptions = { name: 'build', image: 'img', proxyImage: 'isolate:1', seccomp: 'localhost', uid: 1000 };

async function policyOf(overrides: ProfileOverrides = {}, profile = 'default'): Promise<Policy> {
  return syntheticPolicy(applyOverrides(await loadMergedProfile(profile, CTX), overrides, CTX));
}

type Json = Record<string, unknown>;
const byKind = (objects: readonly K8sObject[], kind: string, name?: string): Json =>
  objects.find((o) => o.kind === kind && (name === undefined || o.metadata?.name === name)) as unknown as Json;
const podSpec = (objects: readonly K8sObject[]): Json => (((byKind(objects, 'Job')['spec'] as Json)['template'] as Json)['spec'] as Json);
const container = (objects: readonly K8sObject[]): Json => ((podSpec(objects)['containers'] as Json[])[0] as Json);

describe('k8sExport', () => {
  it('a command and environment full of YAML and $(VAR) syntax reach the Pod exactly as given', async () => {
    const hostile = ['sh', '-c', 'echo $(cat /etc/passwd) $HOME\n---\nkind: Pod\n# x: y', '$$(X)', "'\"{}[]&*!|>%@`"];
    const env = { ...HOST_ENV, TERM: '$(KUBERNETES_SERVICE_HOST)\nkind: Secret' };
    const exp = k8sExport(await policyOf(), hostile, env, OPTIONS);
    const docs = parseAllDocuments(k8sYaml(exp, `title\n---\nkind: Pod ${hostile.join(' ')}`)).map((d) => d.toJS() as unknown);
    expect(docs).toEqual(exp.objects);
    expect(docs.map((d) => (d as Json)['kind'])).toEqual(exp.objects.map((o) => o.kind));
    const c = container(exp.objects);
    expect(c['command']).toEqual(hostile.map(literal));
    expect(literal('$(A) $$ $')).toBe('$$(A) $$$$ $$');
    expect((c['env'] as Json[]).find((e) => e['name'] === 'TERM')?.['value']).toBe('$$(KUBERNETES_SERVICE_HOST)\nkind: Secret');
  });

  it('no value breaks a line for a YAML 1.1 reader (kubectl): NEL, LS and PS in a value or the title add no key', async () => {
    // Red team: kubectl's YAML reader (go-yaml, YAML 1.1) breaks lines at U+0085, U+2028 and U+2029 as at \n; the yaml
    // library wrote them as they are, so a value (a profile's environment.set, a command word, a path) started lines of its
    // own: `? privileged` and `: true` on them made keys of the container the user never wrote. Written as a failing finding first.
    const lines = (indent: string, sep: string): string => `x${sep}${indent}? hostPID${sep}${indent}:${sep}${indent}  true`;
    const hostile = ['sh', '-c', lines('      ', '\u2028'), lines('  ', '\u0085'), `a\nb${lines('', '\u2029')}`, 'del\u007f c1\u009b esc\u001b'];
    const policy = await policyOf({ env: [`INJECT=${lines('      ', '\u2028')}`] });
    const exp = k8sExport(policy, hostile, HOST_ENV, OPTIONS);
    const text = k8sYaml(exp, `title${lines('', '\u2028')}`);
    // What a YAML 1.1 reader sees: each of those characters a line break.
    const asKubectlReadsIt = text.replace(/[\u0085\u2028\u2029]/g, '\n');
    const docs = parseAllDocuments(asKubectlReadsIt).map((d) => d.toJS() as unknown);
    expect(docs).toEqual(exp.objects);
    expect(container(exp.objects)['command']).toEqual(hostile.map(literal));
    // eslint-disable-next-line no-control-regex -- control characters are what this looks for
    expect(text, 'a raw control or line-breaking character is left in the YAML').not.toMatch(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u2028\u2029]/);
  });

  it('no secret of the caller reaches the Job: the environment is the profile allowlist', async () => {
    const exp = k8sExport(await policyOf(), ['make'], HOST_ENV, OPTIONS);
    const names = (container(exp.objects)['env'] as Json[]).map((e) => e['name']);
    for (const secret of ['GITHUB_TOKEN', 'AWS_SECRET_ACCESS_KEY', 'NPM_CONFIG__AUTH', 'LC_SESSION_TOKEN', 'SSH_AUTH_SOCK', 'EDITOR']) expect(names).not.toContain(secret);
    expect(names).toContain('PATH');
  });

  it('the Pod has no privilege, no API token, no service variables, and the Localhost seccomp profile named by its digest', async () => {
    const exp = k8sExport(await policyOf(), ['make'], HOST_ENV, OPTIONS);
    const pod = podSpec(exp.objects);
    expect(pod).toMatchObject({ automountServiceAccountToken: false, enableServiceLinks: false, restartPolicy: 'Never' });
    for (const key of ['hostNetwork', 'hostPID', 'hostIPC', 'shareProcessNamespace', 'serviceAccountName']) expect(pod).not.toHaveProperty(key);
    expect(container(exp.objects)['securityContext']).toEqual({
      allowPrivilegeEscalation: false,
      privileged: false,
      readOnlyRootFilesystem: true,
      runAsNonRoot: true,
      capabilities: { drop: ['ALL'] },
    });
    expect(pod['securityContext']).toMatchObject({ runAsNonRoot: true, runAsUser: 1000, seccompProfile: { type: 'Localhost', localhostProfile: exp.seccompFile?.path } });
    expect(exp.seccompFile?.path).toMatch(/^isolate\/build-[0-9a-f]{12}\.json$/);
    expect(JSON.parse(exp.seccompFile?.json ?? '')).toMatchObject({ defaultAction: 'SCMP_ACT_ERRNO' });
    expect(JSON.stringify(pod['volumes'])).not.toContain('hostPath');
  });

  it('network none: a policy with no ingress and no egress at all', async () => {
    const exp = k8sExport(await policyOf(), ['make'], HOST_ENV, OPTIONS);
    expect(byKind(exp.objects, 'NetworkPolicy', 'build-sandbox')['spec']).toMatchObject({ policyTypes: ['Ingress', 'Egress'], ingress: [], egress: [] });
    expect(exp.objects.map((o) => o.kind)).not.toContain('Deployment');
  });

  it('network filtered: egress only to the proxy Pods on 3128 (no DNS); the proxy is its own Pod, reached only from the sandbox', async () => {
    const exp = k8sExport(await policyOf({ allowDomain: ['example.com'] }), ['curl', 'https://example.com'], HOST_ENV, OPTIONS);
    const egress = (byKind(exp.objects, 'NetworkPolicy', 'build-sandbox')['spec'] as Json)['egress'];
    expect(egress).toEqual([{ to: [{ podSelector: { matchLabels: { 'isolate.dev/run': 'build', 'isolate.dev/role': 'proxy' } } }], ports: [{ protocol: 'TCP', port: 3128 }] }]);
    expect(byKind(exp.objects, 'Deployment')['metadata']).toMatchObject({ labels: { 'isolate.dev/role': 'proxy' } });
    expect((byKind(exp.objects, 'NetworkPolicy', 'build-proxy')['spec'] as Json)['ingress']).toEqual([
      { from: [{ podSelector: { matchLabels: { 'isolate.dev/run': 'build', 'isolate.dev/role': 'sandbox' } } }], ports: [{ protocol: 'TCP', port: 3128 }] },
    ]);
    expect(podSpec(exp.objects)['enableServiceLinks']).toBe(true);
    const env = Object.fromEntries((container(exp.objects)['env'] as Json[]).map((e) => [e['name'], e['value']]));
    expect(env['HTTPS_PROXY']).toBe('http://$(BUILD_PROXY_SERVICE_HOST):$(BUILD_PROXY_SERVICE_PORT)');
    expect(env).not.toHaveProperty('NO_PROXY');
    expect((byKind(exp.objects, 'ConfigMap', 'build-proxy-rules')['data'] as Json)['proxy.yaml']).toContain('example.com');
  });

  it('limits: the timeout is the deadline, the memory limit the container limit; what has no Pod field is noted', async () => {
    const exp = k8sExport(await policyOf({ limits: { timeout: '90s', memory: '512M', cpu: '10s', processes: 64 } }), ['make'], HOST_ENV, OPTIONS);
    expect((byKind(exp.objects, 'Job')['spec'] as Json)['activeDeadlineSeconds']).toBe(90);
    expect(container(exp.objects)['resources']).toEqual({ limits: { memory: '512Mi' } });
    expect(exp.notes.join('\n')).toMatch(/limits\.cpu[\s\S]*limits\.processes/);
  });

  it('refuses: credentials, a name that is not a DNS label, root, an empty command', async () => {
    await expect(async () => k8sExport(await policyOf({ allowDomain: ['api.github.com'], credential: ['GITHUB_TOKEN@api.github.com'] }), ['gh'], HOST_ENV, OPTIONS)).rejects.toThrow(/credentials cannot be exported/);
    const policy = await policyOf();
    expect(() => k8sExport(policy, ['make'], HOST_ENV, { ...OPTIONS, name: 'Bad_Name' })).toThrow(/DNS label/);
    expect(() => k8sExport(policy, ['make'], HOST_ENV, { ...OPTIONS, name: 'x'.repeat(41) })).toThrow(/DNS label/);
    expect(() => k8sExport(policy, ['make'], HOST_ENV, { ...OPTIONS, uid: 0 })).toThrow(/non-root/);
    expect(() => k8sExport(policy, [], HOST_ENV, OPTIONS)).toThrow(/no command/);
  });
});

/** A profile file of its own, extending default, in a fresh directory; removed after `use`. */
async function withProfile<T>(yaml: string, use: (file: string, dir: string) => Promise<T>): Promise<T> {
  const dir = mkdtempSync(join(tmpdir(), 'isolate-k8s-'));
  try {
    writeFileSync(join(dir, 'p.yaml'), `extends: default\n${yaml}`);
    return await use(join(dir, 'p.yaml'), dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('k8sExporter and isolate export --format k8s', () => {
  it('writes kubernetes.yaml, then the seccomp profile laid out as the kubelet directory wants it', async () => {
    const policy = await policyOf();
    const out = k8sExporter.render(policy, ['make'], { env: HOST_ENV } as unknown as HostFacts, { k8s: { name: 'ci' } });
    expect(out.main).toBe(K8S_FILE);
    const paths = out.entries.map((e) => `${e.kind} ${e.path}`);
    expect(paths[0]).toBe('file kubernetes.yaml');
    expect(paths.slice(1, 3)).toEqual(['dir seccomp', 'dir seccomp/isolate']);
    expect(paths[3]).toMatch(/^file seccomp\/isolate\/ci-[0-9a-f]{12}\.json$/);
    expect(out.notes.join('\n')).toMatch(/copy seccomp\/ to \/var\/lib\/kubelet\/seccomp\//);
  });

  it('refuses a command the profile\'s command policy refuses (126), and a hostname no Pod can have', async () => {
    await withProfile('commands: { deny: ["curl *"] }\n', async (file, dir) => {
      await expect(exportPolicy(['curl', 'https://example.com'], { format: 'k8s', profile: file, callerCwd: dir, callerEnv: {} })).rejects.toMatchObject({ code: 'E_COMMAND_REFUSED' });
    });
    await withProfile('process: { hostname: build.example }\n', async (file, dir) => {
      await expect(exportPolicy(['make'], { format: 'k8s', profile: file, callerCwd: dir, callerEnv: {} })).rejects.toThrow(/not a Pod hostname/);
    });
    await expect(exportPolicy(['make'], { format: 'oci', k8s: { name: 'x' }, callerEnv: {} })).rejects.toThrow(/apply to --format k8s/);
  });

  it('a profile without syscall rules gets RuntimeDefault, and says so', async () => {
    await withProfile('syscalls: { preset: none }\n', async (file, dir) => {
      const out = await exportPolicy(['make'], { format: 'k8s', profile: file, callerCwd: dir, callerEnv: {} });
      expect(out.entries.map((e) => e.path)).toEqual([K8S_FILE]);
      expect(out.notes.join('\n')).toMatch(/no syscall rules; the Pod gets the container runtime's own profile/);
    });
  });
});

describe('the check against the Kubernetes API schemas', () => {
  it('accepts every object of a filtered export', async () => {
    const exp = k8sExport(await policyOf({ allowDomain: ['example.com'] }), ['make'], HOST_ENV, OPTIONS);
    expect(k8sProblems(exp.objects)).toEqual([]);
    expect(() => assertValidK8s(exp.objects)).not.toThrow();
  });

  it('names the object and the field the API would refuse', async () => {
    const exp = k8sExport(await policyOf(), ['make'], HOST_ENV, OPTIONS);
    const job = structuredClone(byKind(exp.objects, 'Job'));
    ((((job['spec'] as Json)['template'] as Json)['spec'] as Json)['securityContext'] as Json)['runAsUser'] = 'root';
    const noContainers = structuredClone(byKind(exp.objects, 'Job'));
    delete (((noContainers['spec'] as Json)['template'] as Json)['spec'] as Json)['containers'];
    const badPolicy = structuredClone(byKind(exp.objects, 'NetworkPolicy'));
    ((badPolicy['spec'] as Json)['policyTypes'] as string[]).push('Sideways');
    const problems = k8sProblems([job, noContainers, badPolicy] as unknown as K8sObject[]);
    expect(problems).toHaveLength(3);
    expect(problems[0]).toMatch(/^Job build: .*runAsUser must be integer/);
    expect(problems[1]).toMatch(/^Job build: .*containers/);
    expect(problems[2]).toMatch(/^NetworkPolicy build-sandbox: .*policyTypes/);
    expect(() => assertValidK8s([job] as unknown as K8sObject[])).toThrow(/do not match the API schemas/);
    expect(k8sProblems([{ apiVersion: 'v1', kind: 'Pod' }])).toEqual(['Pod (no name): v1 Pod is not a kind isolate checks']);
  });
});
