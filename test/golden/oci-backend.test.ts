/**
 * Golden `isolate run --backend oci` plans for the built-in profiles, on the
 * synthetic host of synthetic.ts: the launcher's argv, the descriptors, the
 * bundle run/ writes (config.json with every environment value replaced by
 * <value:NAME> and the seccomp object shown by its size: it is the export's,
 * oci/seccomp-default.json) and the summary.
 */
import { describe, expect, it } from 'vitest';
import { expectGolden } from './golden-file.js';
import { OCI_STARTED_FD, RUNTIME_TASKS, ociBackend } from '../../src/backends/oci.js';
import type { OciConfig } from '../../src/backends/oci-config.js';
import type { CommandFact, HostFacts, OciFacts, Plan } from '../../src/backends/types.js';
import { BUILTIN_NAMES } from '../../src/profile/builtin.js';
import { applyOverrides, loadMergedProfile, type LoadContext, type ProfileOverrides } from '../../src/profile/load.js';
import type { Policy } from '../../src/profile/types.js';
import { HIDDEN_IN_PROJECT, HOST_ENV, VARS, asideLists, expectNoSecretValues, list, pathLists, syntheticHost, syntheticPolicy, usrBinCommand } from './synthetic.js';

const CTX: LoadContext = { callerCwd: VARS.CWD, env: { HOME: VARS.HOME } };
const MOUNT_POINTS = ['/', '/proc', '/dev', '/usr/local', '/tmp'];
const RUN_DIR = '/home/user/.local/state/isolate/run';
const OCI: OciFacts = {
  runtime: { name: 'runc', path: '/usr/sbin/runc', version: '1.1.5' },
  refused: [{ name: 'crun', reason: 'crun refuses a hybrid cgroup layout' }],
  setpriv: '/usr/bin/setpriv',
  bundleDir: `${RUN_DIR}/oci-4242-synthetic-1-0000abcd`,
};

function ociHost(policy: Policy, fact: CommandFact): HostFacts {
  return {
    ...syntheticHost(policy, fact),
    mountPoints: MOUNT_POINTS,
    oci: OCI,
    ...(policy.network.mode === 'filtered' ? { network: { socat: '/usr/bin/socat', shell: '/bin/sh', socketDir: `${RUN_DIR}/net-4242-synthetic` } } : {}),
  };
}

async function goldenPlan(profile: string, command: readonly string[], fact: CommandFact, overrides: ProfileOverrides = {}, host: Partial<HostFacts> = {}): Promise<Plan> {
  const merged = applyOverrides(await loadMergedProfile(profile, CTX), overrides, CTX);
  const policy = syntheticPolicy(merged);
  return ociBackend.plan(policy, command, { ...ociHost(policy, fact), ...host });
}

function configOf(plan: Plan): OciConfig {
  if (plan.bundle === undefined) throw new Error('the plan has no bundle');
  return JSON.parse(plan.bundle.config) as OciConfig;
}

function render(title: string, plan: Plan): string {
  const s = plan.summary;
  const config = configOf(plan);
  const env = config.process.env.map((kv) => `${kv.slice(0, kv.indexOf('='))}=<value:${kv.slice(0, kv.indexOf('='))}>`);
  const seccomp = config.linux.seccomp;
  const shown = { ...config, process: { ...config.process, env }, linux: { ...config.linux, seccomp: seccomp === undefined ? undefined : `<${String(seccomp.syscalls.length)} entries, default ${seccomp.defaultAction}>` } };
  const b = plan.bundle;
  const lines = [
    `# ${title}`,
    '# Synthetic host (uid 1000, runc 1.1.5, merged /usr, project at /home/user/project).',
    '',
    `backend: ${plan.backend} ${plan.backendVersion}`,
    `command: ${plan.command.program} -> ${plan.command.resolved}`,
    `cwd: ${plan.cwd}`,
    `fds: started=${String(plan.fds.started)} inputs=${(plan.inputs ?? []).map((i) => `${i.fd}:${JSON.stringify(i.data)}`).join(',')}`,
    ...list(`path fds (opened by run/${plan.checkPathFds === true ? ', mounts checked against them before the command starts' : ''})`, (plan.pathFds ?? []).map((e) => `${e.fd} ${e.path}${e.readOnly === true ? ' (bound read-only' : ' (bound read-write'}${e.seal === undefined ? '' : `, sealed entry listed as ${e.seal}`})`)),
    ...(plan.standIns === undefined ? [] : [`stand-ins of sealed entries: ${plan.standIns}`]),
    `launcherEnv: ${JSON.stringify(plan.launcherEnv)}`,
    ...(plan.cgroup === undefined ? [] : [`cgroup: v${plan.cgroup.version} ${plan.cgroup.writes.map((w) => `${w.file}=${w.value}`).join(' ')}`]),
    '',
    '== argv (one argument per line, as JSON) ==',
    ...plan.argv.map((a) => JSON.stringify(a)),
    '',
    `== bundle ${b?.dir ?? ''} (container ${b?.name ?? ''}, state in ${b?.stateDir ?? ''}) ==`,
    ...(b?.dirs ?? []).map((d) => `${d}/`),
    ...(b?.links ?? []).map((l) => `${l.path} -> ${l.target}`),
    `${b?.configFile ?? ''}:`,
    ...JSON.stringify(shown, null, 2).split('\n'),
    '',
    ...asideLists(plan, true),
    '',
    '== summary ==',
    ...pathLists(s),
    `network: ${s.network}`,
    ...(s.proxy === undefined ? [] : [`proxy: ${s.proxy.listen}, ${s.proxy.socket}`]),
    ...list('limits', s.limits),
    `seccomp: preset ${s.seccomp.preset}, install ${String(s.seccomp.install)}, arch ${String(s.seccomp.arch)}`,
    `env: ${s.env.join(' ')}`,
    `namespaces: ${s.namespaces.join(' ')}`,
    ...list('notes', s.notes),
  ];
  return `${lines.join('\n')}\n`;
}

/** The values reach config.json only (in the private bundle), never argv or the launcher's environment. */
function expectValuesOnlyInConfig(plan: Plan): void {
  const env = configOf(plan).process.env;
  for (const [name, value] of Object.entries(plan.childEnv)) expect(env).toContain(`${name}=${value}`);
  const argv = plan.argv.join('\n');
  // The bundle directory is in the caller's home: HOME's value (and USER's) are parts of its path.
  for (const [name, value] of Object.entries(HOST_ENV)) if (!VARS.HOME.includes(value)) expect(argv, name).not.toContain(value);
  expect(plan.launcherEnv).toEqual({});
}

describe('golden oci plans for the built-in profiles', () => {
  it.each([...BUILTIN_NAMES])('%s', async (name) => {
    const plan = await goldenPlan(name, ['make', 'test'], usrBinCommand('make'));
    const text = render(`isolate run --backend oci --profile ${name} -- make test`, plan);
    expectNoSecretValues(text);
    expectValuesOnlyInConfig(plan);
    await expectGolden(text, `oci-run/${name}.txt`);
  });

  it('the init waits for isolate on the started descriptor, armed to die with the runtime, before the command', async () => {
    const plan = await goldenPlan('default', ['make', 'test'], usrBinCommand('make'));
    const args = configOf(plan).process.args;
    expect(args.slice(0, 4)).toEqual(['/usr/bin/setpriv', '--pdeathsig', 'KILL', '/bin/sh']);
    expect(args.slice(-2)).toEqual(['/usr/bin/make', 'test']);
    expect(plan.fds).toEqual({ started: OCI_STARTED_FD });
    expect(plan.argv).toEqual(expect.arrayContaining(['--preserve-fds', '1']));
    // Protected names are bound by path: run/ checks each against its descriptor before "go".
    expect(plan.checkPathFds).toBe(true);
    expect(configOf(plan).linux.resources).toBeUndefined();
  });

  it('default with a file and a directory hidden inside the project: the directories above them are pinned', async () => {
    const deny = HIDDEN_IN_PROJECT.map((rel) => `${VARS.CWD}/${rel}`);
    const plan = await goldenPlan('default', ['make', 'test'], usrBinCommand('make'), { deny });
    expect(plan.pathFds?.filter((p) => p.readOnly === false).map((p) => p.path)).toEqual(expect.arrayContaining([`${VARS.CWD}/config`, `${VARS.CWD}/deploy`]));
    await expectGolden(render(`isolate run --backend oci ${deny.map((d) => `--deny ${d}`).join(' ')} -- make test`, plan), 'oci-run/default-deny-in-project.txt');
  });

  it('default in a checkout whose .git/config held a token: bound from the bundle\'s own copy without it', async () => {
    const config = `${VARS.CWD}/.git/config`;
    const text = '[core]\n\tbare = false\n[remote "origin"]\n\turl = "https://github.com/o/r.git"\n';
    const plan = await goldenPlan('default', ['make', 'test'], usrBinCommand('make'), {}, { gitConfigs: [{ path: config, text }] });
    expect(plan.bundle?.files).toEqual([{ path: 'git-configs/0', data: text }]);
    expect(configOf(plan).mounts.find((m) => m.destination === config)?.source).toBe(`${plan.bundle?.dir ?? ''}/git-configs/0`);
    expect(plan.pathFds?.map((e) => e.path)).not.toContain(config);
    const rendered = `${render('isolate run --backend oci -- make test   (.git/config held a token)', plan)}\n== bundle files ==\n${(plan.bundle?.files ?? []).map((f) => `${f.path}: ${JSON.stringify(f.data)}`).join('\n')}\n`;
    expectNoSecretValues(rendered);
    await expectGolden(rendered, 'oci-run/default-git-credentials.txt');
  });

  it('default with network filtered and every limit, with a cgroup: the runtime\'s threads are counted in pids.max before the command starts', async () => {
    const cgroup = { version: 1 as const, parents: { memory: '/sys/fs/cgroup/memory', pids: '/sys/fs/cgroup/pids' }, name: 'isolate-4242-abcd' };
    const plan = await goldenPlan(
      'default',
      ['curl', 'https://registry.npmjs.org/'],
      usrBinCommand('curl'),
      { allowDomain: ['registry.npmjs.org'], limits: { timeout: '90s', cpu: '30s', memory: '512M', processes: 64, openFiles: 256, fileSize: '100M' } },
      { cgroup },
    );
    expect(plan.services).toHaveLength(1);
    expect(plan.cgroup?.writes).toContainEqual({ file: '/sys/fs/cgroup/pids/isolate-4242-abcd/pids.max', value: String(64 + RUNTIME_TASKS + 2) });
    // At the started byte: what the cgroup then holds (the runtime's threads, the init), the limit and the forwarder.
    expect(plan.cgroup?.initInside).toBe(true);
    expect(plan.cgroup?.pidsAtStart).toEqual({ current: '/sys/fs/cgroup/pids/isolate-4242-abcd/pids.current', max: '/sys/fs/cgroup/pids/isolate-4242-abcd/pids.max', add: 64 + 1 });
    const text = render('isolate run --backend oci --allow-domain registry.npmjs.org --timeout 90s --cpu 30s --memory 512M --processes 64 --open-files 256 --file-size 100M -- curl https://registry.npmjs.org/', plan);
    expectNoSecretValues(text);
    expectValuesOnlyInConfig(plan);
    await expectGolden(text, 'oci-run/default-filtered-limits.txt');
  });

  it('crun with the run\'s cgroup makes none of its own, so the container stays inside it (crun on cgroup v1 would make it at the hierarchy\'s root)', async () => {
    const cgroup = { version: 1 as const, parents: { memory: '/sys/fs/cgroup/memory', pids: '/sys/fs/cgroup/pids' }, name: 'isolate-4242-abcd' };
    const crun = { ...OCI, runtime: { name: 'crun' as const, path: '/usr/bin/crun', version: '1.8.1' }, refused: [] };
    const limited = await goldenPlan('default', ['make'], usrBinCommand('make'), { limits: { processes: 64 } }, { cgroup, oci: crun });
    expect(limited.argv.slice(4, 6)).toEqual(['/usr/bin/crun', '--cgroup-manager=disabled']);
    const none = await goldenPlan('default', ['make'], usrBinCommand('make'), {}, { oci: crun });
    expect(none.argv).not.toContain('--cgroup-manager=disabled');
    const runc = await goldenPlan('default', ['make'], usrBinCommand('make'), { limits: { processes: 64 } }, { cgroup });
    expect(runc.argv).not.toContain('--cgroup-manager=disabled');
  });

  it('no usable runtime: refused (E_BACKEND_MISSING, exit 125) with the fix, never another backend', async () => {
    await expect(goldenPlan('default', ['make'], usrBinCommand('make'), {}, { oci: { ...OCI, runtime: undefined } })).rejects.toMatchObject({
      code: 'E_BACKEND_MISSING',
      fix: expect.stringContaining('apt-get install -y runc') as unknown,
      detail: expect.stringContaining('hybrid') as unknown,
    });
  });

  it('a cgroup process limit under 5: refused (runc\'s own init needs its threads in the cgroup before the command starts)', async () => {
    const cgroup = { version: 1 as const, parents: { memory: '/sys/fs/cgroup/memory', pids: '/sys/fs/cgroup/pids' }, name: 'isolate-4242-abcd' };
    await expect(goldenPlan('default', ['make'], usrBinCommand('make'), { limits: { processes: 4 } }, { cgroup })).rejects.toMatchObject({ code: 'E_LIMIT_UNENFORCEABLE' });
    await expect(goldenPlan('default', ['make'], usrBinCommand('make'), { limits: { processes: 5 } }, { cgroup })).resolves.toMatchObject({ backend: 'oci' });
  });

  it('setpriv or /bin/sh not visible inside the sandbox: refused', async () => {
    await expect(goldenPlan('default', ['make'], usrBinCommand('make'), {}, { oci: { ...OCI, setpriv: '/srv/isolate-test/setpriv' } })).rejects.toMatchObject({ code: 'E_SANDBOX_SETUP' });
  });
});
