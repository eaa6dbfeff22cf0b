/**
 * Golden nsjail plans for the built-in profiles, on the synthetic host of
 * synthetic.ts: the exact argv, the exact generated config (with every
 * environment value replaced by <value:NAME>) and the summary.
 */
import { hostname, homedir } from 'node:os';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { UPDATE_GOLDEN_COMMAND, expectGolden } from './golden-file.js';
import { nsjailBackend } from '../../src/backends/nsjail.js';
import { mapConfigEnv } from '../../src/backends/nsjail-proto.js';
import { X32_LISTED, X32_SYSCALL_BIT } from '../../src/backends/nsjail-seccomp.js';
import type { CommandFact, HostFacts, Plan } from '../../src/backends/types.js';
import { BUILTIN_NAMES } from '../../src/profile/builtin.js';
import { applyOverrides, loadMergedProfile, type LoadContext, type ProfileOverrides } from '../../src/profile/load.js';
import type { Policy } from '../../src/profile/types.js';
import { HIDDEN_IN_PROJECT, HOST_ENV, VARS, asideLists, expectNoSecretValues, list, pathLists, syntheticHost, syntheticPolicy, syntheticPolicyWithPath, syntheticProtectWithPaths, usrBinCommand } from './synthetic.js';

const REPO = fileURLToPath(new URL('../../', import.meta.url));
const CTX: LoadContext = { callerCwd: VARS.CWD, env: { HOME: VARS.HOME } };
const NSJAIL = { path: '/usr/local/bin/nsjail', version: '>=3.5' };
/** Where isolate puts a filtered run's proxy socket without XDG_RUNTIME_DIR: its private runtime directory in the state directory. */
const SOCKET_DIR = '/home/user/.local/state/isolate/run/net-4242-synthetic';

function nsjailHost(policy: Policy, fact: CommandFact): HostFacts {
  return {
    ...syntheticHost(policy, fact),
    nsjail: NSJAIL,
    ...(policy.network.mode === 'filtered' ? { network: { socat: '/usr/bin/socat', shell: '/bin/sh', socketDir: SOCKET_DIR } } : {}),
  };
}

async function goldenPlan(profile: string, command: readonly string[], fact: CommandFact, overrides: ProfileOverrides = {}, host: Partial<HostFacts> = {}): Promise<Plan> {
  const merged = applyOverrides(await loadMergedProfile(profile, CTX), overrides, CTX);
  const policy = syntheticPolicy(merged);
  return nsjailBackend.plan(policy, command, { ...nsjailHost(policy, fact), ...host });
}

function configOf(plan: Plan): string {
  const input = plan.inputs?.[0];
  if (input === undefined) throw new Error('the plan has no config input');
  return input.data.toString();
}

/** The x32 rows of the kafel policy (SYSCALL[0x40000000] ...), 128 of them, shown as one line. */
function foldX32(config: string): string {
  const lines = config.split('\n');
  const rows = lines.filter((l) => l.includes(`SYSCALL[0x${X32_SYSCALL_BIT.toString(16)}`) || /SYSCALL\[0x4000[0-9a-f]{4}\]/.test(l));
  if (rows.length === 0) return config;
  const first = lines.indexOf(rows[0] as string);
  expect(lines.slice(first, first + rows.length), 'x32 rows are contiguous').toEqual(rows);
  const last = `0x${(X32_SYSCALL_BIT + X32_LISTED - 1).toString(16)}`;
  return [...lines.slice(0, first), `  "    <${rows.length} rows: SYSCALL[0x40000000] ... SYSCALL[${last}], 8 a row>\\n"`, ...lines.slice(first + rows.length)].join('\n');
}

function render(title: string, plan: Plan): string {
  const s = plan.summary;
  const input = plan.inputs?.[0];
  const config = foldX32(mapConfigEnv(configOf(plan), (name) => `<value:${name}>`));
  const lines = [
    `# ${title}`,
    `# Synthetic host (uid 1000, nsjail ${NSJAIL.version}, merged /usr, project at /home/user/project).`,
    `# Regenerate after an intended change: ${UPDATE_GOLDEN_COMMAND}`,
    '',
    `backend: ${plan.backend} ${plan.backendVersion}`,
    `command: ${plan.command.program} -> ${plan.command.resolved}`,
    `cwd: ${plan.cwd}`,
    `fds: args=${String(plan.fds.args)} status=${String(plan.fds.status)} started=${String(plan.fds.started)} inputs=${(plan.inputs ?? []).map((i) => i.fd).join(',')}`,
    ...list(`path fds (opened by run/${plan.checkPathFds === true ? ', mounts checked against them before the command starts' : ''})`, (plan.pathFds ?? []).map((e) => `${e.fd} ${e.path}${e.readOnly === undefined ? '' : e.readOnly ? ' (bound read-only' : ' (bound read-write'}${e.seal === undefined ? '' : `, sealed entry listed as ${e.seal}`}${e.readOnly === undefined ? '' : ')'}`)),
    ...(plan.standIns === undefined ? [] : [`stand-ins of sealed entries: ${plan.standIns}`]),
    `launcherEnv: ${JSON.stringify(plan.launcherEnv)}`,
    `pipedArgs: ${JSON.stringify(plan.pipedArgs)}`,
    `seccomp fd: ${plan.seccomp === undefined ? 'none (the filter is in the config)' : String(plan.seccomp.fd)}`,
    '',
    '== argv (one argument per line, as JSON) ==',
    ...plan.argv.map((a) => JSON.stringify(a)),
    '',
    `== config (fd ${String(input?.fd)}; values replaced by <value:NAME>) ==`,
    ...config.replace(/\n$/, '').split('\n'),
    '',
    ...asideLists(plan, true),
    '',
    '== summary ==',
    ...pathLists(s),
    `network: ${s.network}`,
    ...(s.proxy === undefined ? [] : [`proxy: ${s.proxy.listen}, ${s.proxy.socket}`]),
    ...list('limits', s.limits),
    `seccomp: preset ${s.seccomp.preset}, install ${String(s.seccomp.install)}, arch ${String(s.seccomp.arch)}`,
    ...list('seccomp rules', s.seccomp.rules),
    ...list('env', s.env),
    `namespaces: ${s.namespaces.join(' ')}`,
    ...list('notes', s.notes),
  ];
  return `${lines.join('\n')}\n`;
}

/** Paths the synthetic host has; anything else in a golden file came from this machine. */
const SYNTHETIC_ROOTS = [
  '/usr',
  '/etc',
  '/opt',
  '/bin',
  '/sbin',
  '/lib',
  '/lib64',
  '/home/user',
  '/tmp',
  '/var/tmp',
  '/proc',
  '/dev',
  '/run/isolate',
  '/run/systemd/resolve',
  // Optional paths the synthetic host does not have (named in the notes).
  '/lib32',
  '/libx32',
  '/nix/store',
  '/snap',
  '/home/linuxbrew/.linuxbrew',
];

function expectOnlySyntheticPaths(text: string): void {
  // Paths as they stand in the golden: quoted config values, JSON argv, summary lines.
  const paths = text.match(/(?<![\w.~$}:/\\])\/[^\s'"`:;,|)\\]*/g) ?? [];
  // "//" starts a comment in the kafel policy.
  const foreign = paths.filter((p) => p !== '/' && !p.startsWith('//') && !SYNTHETIC_ROOTS.some((r) => p === r || p.startsWith(`${r}/`)));
  expect(foreign, 'paths in the golden that the synthetic host does not have').toEqual([]);
  expect(text).not.toContain(REPO.replace(/\/$/, ''));
  const host = hostname().replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  expect(text).not.toMatch(new RegExp(`(^|[^A-Za-z0-9_])${host}($|[^A-Za-z0-9_])`));
  if (homedir() !== VARS.HOME && homedir() !== '/') expect(text).not.toContain(homedir());
}

/** The plan hands the caller's real values to nsjail in the config, and nowhere on argv. */
function expectValuesOnlyInConfig(plan: Plan): void {
  const config = configOf(plan);
  for (const [name, value] of Object.entries(plan.childEnv)) {
    expect(value, name).toBe(HOST_ENV[name] ?? value);
    expect(config).toContain(`envar: ${JSON.stringify(`${name}=${value}`)}`);
  }
  const argv = plan.argv.join('\n');
  for (const value of Object.values(HOST_ENV)) expect(argv).not.toContain(value);
  expect(plan.launcherEnv).toEqual({});
}

describe('golden nsjail plans for the built-in profiles', () => {
  it.each([...BUILTIN_NAMES])('%s', async (name) => {
    const plan = await goldenPlan(name, ['make', 'test'], usrBinCommand('make'));
    const text = render(`isolate run --backend nsjail --profile ${name} -- make test`, plan);
    expectOnlySyntheticPaths(text);
    expectNoSecretValues(text);
    expectValuesOnlyInConfig(plan);
    await expectGolden(text, `nsjail/${name}.txt`);
  });

  it('default with a file and a directory hidden inside the project: the directories above them are pinned', async () => {
    const deny = HIDDEN_IN_PROJECT.map((rel) => `${VARS.CWD}/${rel}`);
    const plan = await goldenPlan('default', ['make', 'test'], usrBinCommand('make'), { deny });
    expect(plan.pathFds?.filter((p) => p.readOnly === false).map((p) => p.path)).toEqual(expect.arrayContaining([`${VARS.CWD}/config`, `${VARS.CWD}/deploy`]));
    const text = render(`isolate run --backend nsjail ${deny.map((d) => `--deny ${d}`).join(' ')} -- make test`, plan);
    expectOnlySyntheticPaths(text);
    expectNoSecretValues(text);
    await expectGolden(text, 'nsjail/default-deny-in-project.txt');
  });

  it("default with a directory of the caller's PATH inside the project (direnv's PATH_add bin): kept read-only, saying why", async () => {
    const policy = syntheticPolicyWithPath(await loadMergedProfile('default', CTX), [`${VARS.CWD}/bin`]);
    const plan = nsjailBackend.plan(policy, ['make', 'test'], { ...nsjailHost(policy, usrBinCommand('make')), protect: syntheticProtectWithPaths(policy) });
    expect(plan.summary.protected).toContain(`${VARS.CWD}/bin`);
    expect(plan.summary.protectedWhy?.[`${VARS.CWD}/bin`]).toMatch(/^on your PATH/);
    const text = render(`PATH=${VARS.CWD}/bin:$PATH isolate run --backend nsjail -- make test`, plan);
    expectOnlySyntheticPaths(text);
    expectNoSecretValues(text);
    await expectGolden(text, 'nsjail/default-path-dir.txt');
  });

  it('default with a terminal of its own (stdin and stdout on a terminal)', async () => {
    const plan = await goldenPlan('default', ['top'], usrBinCommand('top'), {}, { terminal: { python: '/usr/bin/python3.11' } });
    // The control pipe follows the path descriptors, and nsjail passes it into the sandbox.
    const control = 5 + (plan.pathFds?.length ?? 0);
    expect(plan.terminal).toEqual({ given: true, controlFd: control });
    expect(configOf(plan)).toContain(`pass_fd: ${control}`);
    const text = render('isolate run --backend nsjail -- top   (on a terminal)', plan);
    expectOnlySyntheticPaths(text);
    expectNoSecretValues(text);
    expectValuesOnlyInConfig(plan);
    await expectGolden(text, 'nsjail/default-terminal.txt');
  });

  it('default run by root: the device nodes are isolate\'s copies, bound read-only', async () => {
    const devices = { dir: `${VARS.HOME}/.local/state/isolate/dev`, mknod: '/usr/bin/mknod' };
    const plan = await goldenPlan('default', ['make', 'test'], usrBinCommand('make'), {}, { uid: 0, gid: 0, devices });
    expect(plan.devices).toEqual(devices);
    expect(configOf(plan)).toContain(`src: "${devices.dir}/null"`);
    const text = render('isolate run --backend nsjail -- make test   (as root)', plan);
    expectOnlySyntheticPaths(text);
    expectNoSecretValues(text);
    expectValuesOnlyInConfig(plan);
    await expectGolden(text, 'nsjail/default-root.txt');
  });

  it('default with network filtered and every limit', async () => {
    const plan = await goldenPlan('default', ['curl', 'https://registry.npmjs.org/'], usrBinCommand('curl'), {
      allowDomain: ['registry.npmjs.org', '*.github.com'],
      denyDomain: ['gist.github.com'],
      limits: { timeout: '90s', cpu: '30s', memory: '512M', processes: 64, openFiles: 256, fileSize: '100M' },
    });
    expect(plan.services).toHaveLength(1);
    const text = render(
      'isolate run --backend nsjail --allow-domain registry.npmjs.org --allow-domain *.github.com --deny-domain gist.github.com --timeout 90s --cpu 30s --memory 512M --processes 64 --open-files 256 --file-size 100M -- curl https://registry.npmjs.org/',
      plan,
    );
    expectOnlySyntheticPaths(text);
    expectNoSecretValues(text);
    expectValuesOnlyInConfig(plan);
    await expectGolden(text, 'nsjail/default-filtered-limits.txt');
  });
});
