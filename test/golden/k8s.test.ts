/**
 * Golden Kubernetes renderings (isolate export --format k8s) of the built-in
 * profiles on the synthetic host, each checked against the Kubernetes API's
 * schemas. The images are placeholders; the seccomp profile's name carries
 * the digest of its JSON (the JSON itself is the OCI golden, oci/seccomp-default.json).
 */
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { expectGolden } from './golden-file.js';
import { k8sExport, type K8sOptions } from '../../src/backends/k8s/render.js';
import { k8sProblems } from '../../src/backends/k8s/validate.js';
import { k8sYaml } from '../../src/backends/k8s/yaml.js';
import { BUILTIN_NAMES } from '../../src/profile/builtin.js';
import { applyOverrides, loadMergedProfile, type LoadContext, type ProfileOverrides } from '../../src/profile/load.js';
import { HOST_ENV, VARS, expectNoSecretValues, syntheticPolicy } from './synthetic.js';

const CTX: LoadContext = { callerCwd: VARS.CWD, env: { HOME: VARS.HOME } };
const OPTIONS: K8sOptions = { name: 'isolate-run', image: 'IMAGE', proxyImage: 'isolate:VERSION', seccomp: 'localhost', uid: 1000 };

async function golden(profile: string, command: readonly string[], file: string, overrides: ProfileOverrides = {}, options: Partial<K8sOptions> = {}): Promise<string> {
  const policy = syntheticPolicy(applyOverrides(await loadMergedProfile(profile, CTX), overrides, CTX));
  const exp = k8sExport(policy, command, HOST_ENV, { ...OPTIONS, ...options });
  expect(k8sProblems(exp.objects)).toEqual([]);
  const text = k8sYaml(exp, `isolate export --format k8s -p ${profile} -- ${command.join(' ')}`);
  expect(parseAllDocuments(text).map((d) => d.toJS() as unknown)).toEqual(exp.objects);
  expectNoSecretValues(text);
  await expectGolden(text, `k8s/${file}`);
  return text;
}

describe('golden Kubernetes objects for the built-in profiles', () => {
  it.each([...BUILTIN_NAMES])('%s', async (name) => {
    await golden(name, ['make', 'test'], `${name}.yaml`);
  });

  it('default with a filtered network, a timeout and a memory limit: the proxy Deployment, Service, rules and policies', async () => {
    const text = await golden('default', ['npm', 'ci'], 'default-filtered.yaml', {
      allowDomain: ['registry.npmjs.org', '*.github.com'],
      denyDomain: ['gist.github.com'],
      limits: { timeout: '10m', memory: '2G' },
    });
    expect(text).toContain('activeDeadlineSeconds: 600');
  });

  it('default with the runtime default seccomp profile (the weaker fallback)', async () => {
    const text = await golden('default', ['make', 'test'], 'default-runtime-default.yaml', {}, { seccomp: 'runtime-default' });
    expect(text).toContain('type: RuntimeDefault');
    expect(text).not.toContain('Localhost');
  });
});
