/**
 * Golden OCI bundles (isolate export --format oci) for the built-in
 * profiles, on the synthetic host of synthetic.ts: the whole config.json,
 * with every environment value replaced by <value:NAME> and the seccomp
 * object (its own golden file: oci/seccomp-default.json) shown by its size.
 */
import { describe, expect, it } from 'vitest';
import { expectGolden } from './golden-file.js';
import { ociExporter } from '../../src/backends/oci-export.js';
import type { Exported } from '../../src/backends/export.js';
import type { CommandFact, HostFacts } from '../../src/backends/types.js';
import type { OciConfig } from '../../src/backends/oci-config.js';
import { BUILTIN_NAMES } from '../../src/profile/builtin.js';
import { applyOverrides, loadMergedProfile, type LoadContext, type ProfileOverrides } from '../../src/profile/load.js';
import { HIDDEN_IN_PROJECT, HOST_ENV, VARS, expectNoSecretValues, syntheticHost, syntheticPolicy, syntheticPolicyWithPath, syntheticProtectWithPaths, usrBinCommand } from './synthetic.js';

const CTX: LoadContext = { callerCwd: VARS.CWD, env: { HOME: VARS.HOME } };
/** A host mount beneath a read-only path: the bundle binds it read-only too. */
const MOUNT_POINTS = ['/', '/proc', '/dev', '/usr/local', '/tmp'];

async function exported(profile: string, command: readonly string[], fact: CommandFact, overrides: ProfileOverrides = {}, host: Partial<HostFacts> = {}): Promise<Exported> {
  const merged = applyOverrides(await loadMergedProfile(profile, CTX), overrides, CTX);
  const policy = syntheticPolicy(merged);
  return ociExporter.render(policy, command, { ...syntheticHost(policy, fact), mountPoints: MOUNT_POINTS, ...host });
}

function render(e: Exported): string {
  const file = e.entries.find((x) => x.path === e.main);
  if (file?.kind !== 'file') throw new Error('no config.json');
  const config = JSON.parse(file.content) as OciConfig;
  const env = config.process.env.map((kv) => `${kv.slice(0, kv.indexOf('='))}=<value:${kv.slice(0, kv.indexOf('='))}>`);
  const seccomp = config.linux.seccomp;
  const shown = {
    ...config,
    process: { ...config.process, env },
    linux: { ...config.linux, seccomp: seccomp === undefined ? undefined : `<${String(seccomp.syscalls.length)} entries, default ${seccomp.defaultAction}>` },
  };
  const others = e.entries.filter((x) => x.path !== e.main).map((x) => (x.kind === 'symlink' ? `${x.path} -> ${x.target}` : x.kind === 'file' ? `${x.path}: ${JSON.stringify(x.content)}` : `${x.path}/`));
  return [`# entries`, ...others, '', '# notes', ...e.notes, '', '# config.json', JSON.stringify(shown, null, 2), ''].join('\n');
}

describe('golden OCI bundles of the built-in profiles', () => {
  for (const name of BUILTIN_NAMES) {
    it(name, async () => {
      const text = render(await exported(name, ['make', 'test'], usrBinCommand('make')));
      expectNoSecretValues(text);
      await expectGolden(text, `oci/${name}.txt`);
    });
  }

  it('the caller\'s environment values reach config.json (the golden shows their names only)', async () => {
    const e = await exported('default', ['make'], usrBinCommand('make'));
    const file = e.entries.find((x) => x.path === 'config.json');
    const config = JSON.parse(file?.kind === 'file' ? file.content : '{}') as OciConfig;
    expect(config.process.env).toContain(`PATH=${HOST_ENV['PATH'] ?? ''}`);
    expect(config.process.env.join('\n')).not.toContain('synthetic-aws-secret');
  });

  it('a file and a directory hidden inside the project: the directories above them are bound onto themselves', async () => {
    const deny = HIDDEN_IN_PROJECT.map((rel) => `${VARS.CWD}/${rel}`);
    const text = render(await exported('default', ['make'], usrBinCommand('make'), { deny }));
    for (const dir of ['config', 'deploy']) expect(text).toContain(`"destination": "${VARS.CWD}/${dir}"`);
    await expectGolden(text, 'oci/default-deny-in-project.txt');
  });

  it("a directory of the caller's PATH inside the project (direnv's PATH_add bin): bound read-only over the project", async () => {
    const policy = syntheticPolicyWithPath(await loadMergedProfile('default', CTX), [`${VARS.CWD}/bin`]);
    const e = await ociExporter.render(policy, ['make'], { ...syntheticHost(policy, usrBinCommand('make')), mountPoints: MOUNT_POINTS, protect: syntheticProtectWithPaths(policy) });
    const text = render(e);
    const config = text.slice(text.indexOf('# config.json'));
    expect(config.indexOf(`"destination": "${VARS.CWD}/bin"`)).toBeGreaterThan(config.indexOf(`"destination": "${VARS.CWD}"`));
    await expectGolden(text, 'oci/default-path-dir.txt');
  });

  it('default in a checkout whose .git/config held a token: the bundle carries the copy without it, bound by a path relative to the bundle', async () => {
    const config = `${VARS.CWD}/.git/config`;
    const text = '[core]\n\tbare = false\n[remote "origin"]\n\turl = "https://github.com/o/r.git"\n';
    const e = await exported('default', ['make', 'test'], usrBinCommand('make'), {}, { gitConfigs: [{ path: config, text }] });
    expect(e.entries.filter((x) => x.path.startsWith('git-configs'))).toEqual([{ kind: 'dir', path: 'git-configs' }, { kind: 'file', path: 'git-configs/0', content: text }]);
    const rendered = render(e);
    expect(rendered).toContain('"source": "git-configs/0"');
    expect(rendered).not.toContain(`"source": "${config}"`);
    await expectGolden(rendered, 'oci/default-git-credentials.txt');
  });

  it('limits: explicit memory and process limits become cgroup resources and rlimits', async () => {
    const text = render(await exported('default', ['make'], usrBinCommand('make'), { limits: { memory: '512M', processes: 64, cpu: '10s', openFiles: 256, fileSize: '1G' } }));
    await expectGolden(text, 'oci/default-limits.txt');
  });
});
