import { hostname, homedir } from 'node:os';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { expectGolden } from './golden-file.js';
import { bwrapBackend } from '../../src/backends/bwrap.js';
import type { CommandFact, HostFacts, Plan } from '../../src/backends/types.js';
import { BUILTIN_NAMES } from '../../src/profile/builtin.js';
import { applyOverrides, loadMergedProfile, type LoadContext, type ProfileOverrides } from '../../src/profile/load.js';
import { HIDDEN_IN_PROJECT, HOST_ENV, VARS, expectNoSecretValues, redactPiped, renderPlan, syntheticHost, syntheticPolicy, usrBinCommand } from './synthetic.js';

const REPO = fileURLToPath(new URL('../../', import.meta.url));
/** A run by root on the synthetic host (its HOME is the synthetic one): where isolate's device nodes are. */
const ROOT_DEVICES = { dir: `${VARS.HOME}/.local/state/isolate/dev`, mknod: '/usr/bin/mknod' };
const CTX: LoadContext = { callerCwd: VARS.CWD, env: { HOME: VARS.HOME } };

async function goldenPlan(profile: string, command: readonly string[], fact: CommandFact, overrides: ProfileOverrides = {}, host: Partial<HostFacts> = {}): Promise<Plan> {
  const merged = applyOverrides(await loadMergedProfile(profile, CTX), overrides, CTX);
  const policy = syntheticPolicy(merged);
  return bwrapBackend.plan(policy, command, { ...syntheticHost(policy, fact), ...host });
}

/** Paths the synthetic host has; anything else in a golden file came from this machine. */
const SYNTHETIC_ROOTS = [
  // The sandbox's root itself (--remount-ro /).
  '/',
  '/usr',
  '/etc',
  '/opt',
  '/bin',
  '/sbin',
  '/lib',
  '/lib32',
  '/lib64',
  '/libx32',
  '/nix/store',
  '/snap',
  '/home/linuxbrew/.linuxbrew',
  '/home/user',
  '/tmp',
  '/var/tmp',
  '/proc',
  '/dev',
  '/run/systemd/resolve',
];

function expectOnlySyntheticPaths(text: string): void {
  const paths = text.match(/(?<![\w.~$}:/])\/[^\s'"`:;,|)]*/g) ?? [];
  const foreign = paths.filter((p) => !SYNTHETIC_ROOTS.some((r) => p === r || p.startsWith(`${r}/`)));
  expect(foreign, 'paths in the golden that the synthetic host does not have').toEqual([]);
  expect(text).not.toContain(REPO.replace(/\/$/, ''));
  // The host name as a word of its own (a short one like "vm" is also part of syscall names).
  const host = hostname().replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  expect(text).not.toMatch(new RegExp(`(^|[^A-Za-z0-9_])${host}($|[^A-Za-z0-9_])`));
  if (homedir() !== VARS.HOME && homedir() !== '/') expect(text).not.toContain(homedir());
}

/** The plan passes the caller's real values (the golden only shows placeholders). */
function expectValuesFromHost(plan: Plan): void {
  for (const [name, value] of Object.entries(plan.childEnv)) expect(value, name).toBe(HOST_ENV[name]);
  expect(redactPiped(plan.pipedArgs).join('\n')).not.toContain('en_US.UTF-8');
}

describe('golden bwrap plans for the built-in profiles', () => {
  it.each([...BUILTIN_NAMES])('%s', async (name) => {
    const plan = await goldenPlan(name, ['make', 'test'], usrBinCommand('make'));
    const text = renderPlan(`isolate run --profile ${name} -- make test`, plan);
    expectOnlySyntheticPaths(text);
    expectNoSecretValues(text);
    expectValuesFromHost(plan);
    await expectGolden(text, `bwrap/${name}.txt`);
  });

  it('default with --net host', async () => {
    const plan = await goldenPlan('default', ['curl', 'https://example.org/'], usrBinCommand('curl'), { net: 'host' });
    expect(plan.argv).not.toContain('--unshare-net');
    const text = renderPlan('isolate run --net host -- curl https://example.org/', plan);
    expectOnlySyntheticPaths(text);
    expectNoSecretValues(text);
    await expectGolden(text, 'bwrap/default-net-host.txt');
  });

  it('default with a file and a directory hidden inside the project: the directories above them are pinned', async () => {
    const deny = HIDDEN_IN_PROJECT.map((rel) => `${VARS.CWD}/${rel}`);
    const plan = await goldenPlan('default', ['make', 'test'], usrBinCommand('make'), { deny });
    expect(plan.pathFds?.filter((p) => p.readOnly === false).map((p) => p.path)).toEqual(expect.arrayContaining([`${VARS.CWD}/config`, `${VARS.CWD}/deploy`]));
    const text = renderPlan(`isolate run ${deny.map((d) => `--deny ${d}`).join(' ')} -- make test`, plan);
    expectOnlySyntheticPaths(text);
    expectNoSecretValues(text);
    await expectGolden(text, 'bwrap/default-deny-in-project.txt');
  });

  it('default in a checkout whose .git/config held a token: the sandbox sees its text without it, from a pipe', async () => {
    const config = `${VARS.CWD}/.git/config`;
    const text = '[core]\n\tbare = false\n[http "https://github.com/"]\n[remote "origin"]\n\turl = "https://github.com/o/r.git"\n';
    const plan = await goldenPlan('default', ['make', 'test'], usrBinCommand('make'), {}, { gitConfigs: [{ path: config, text }] });
    expect(plan.pathFds?.map((e) => e.path)).not.toContain(config);
    const fd = plan.inputs?.[0]?.fd;
    expect(plan.inputs).toEqual([{ fd, data: text, gitConfig: config }]);
    expect(plan.argv.join(' ')).toContain(`--ro-bind-data ${String(fd)} ${config}`);
    const rendered = `${renderPlan('isolate run -- make test   (.git/config held a token)', plan)}\n== inputs ==\n${(plan.inputs ?? []).map((i) => `fd ${i.fd}: ${JSON.stringify(i.data)}`).join('\n')}\n`;
    expectOnlySyntheticPaths(rendered);
    expectNoSecretValues(rendered);
    await expectGolden(rendered, 'bwrap/default-git-credentials.txt');
  });

  it('default with a terminal of its own (stdin and stdout on a terminal)', async () => {
    const plan = await goldenPlan('default', ['top'], usrBinCommand('top'), {}, { terminal: { python: '/usr/bin/python3.11' } });
    // The control pipe follows the path descriptors (from 7, after the gate's 6); the helper runs before prlimit.
    const control = 7 + (plan.pathFds?.length ?? 0);
    expect(plan.terminal).toEqual({ given: true, controlFd: control });
    const helper = plan.argv.indexOf('/usr/bin/python3.11');
    expect(plan.argv.slice(helper + 1, helper + 5)).toEqual(['-I', '-S', '-B', '-c']);
    expect(plan.argv[helper + 6]).toBe(String(control));
    expect(plan.argv[helper + 7]).toBe('/usr/bin/prlimit');
    const text = renderPlan('isolate run -- top   (on a terminal)', plan);
    expectOnlySyntheticPaths(text);
    expectNoSecretValues(text);
    await expectGolden(text, 'bwrap/default-terminal.txt');
  });

  it('without python3 inside the sandbox, no terminal and the reason', async () => {
    const plan = await goldenPlan('default', ['top'], usrBinCommand('top'), { deny: ['/usr/bin/python3.11'] }, { terminal: { python: '/usr/bin/python3.11' } });
    expect(plan.terminal).toMatchObject({ given: false, reason: expect.stringContaining('/usr/bin/python3.11 is not visible inside the sandbox') });
    expect(plan.argv.some((a) => a.includes('TIOCSWINSZ'))).toBe(false);
    const missing = await goldenPlan('default', ['top'], usrBinCommand('top'), {}, { terminal: { python: undefined } });
    expect(missing.terminal).toMatchObject({ given: false, reason: expect.stringContaining('python3 is not installed') });
  });

  it('default run by root: the sandbox\'s /dev shows isolate\'s copies of the device nodes, bound from the descriptors run/ checked', async () => {
    const plan = await goldenPlan('default', ['make', 'test'], usrBinCommand('make'), {}, { uid: 0, gid: 0, devices: ROOT_DEVICES });
    expect(plan.devices).toEqual(ROOT_DEVICES);
    // The device descriptors follow the path descriptors (from 7, after the gate's 6); the terminal's control pipe follows them.
    expect(plan.deviceFd).toBe(7 + (plan.pathFds?.length ?? 0));
    const dev = plan.argv.indexOf('--dev');
    expect(plan.argv.slice(dev, dev + 8)).toEqual(['--dev', '/dev', '--dev-bind', `/proc/self/fd/${plan.deviceFd}`, '/dev/null', '--dev-bind', `/proc/self/fd/${(plan.deviceFd ?? 0) + 1}`, '/dev/zero']);
    if (plan.terminal?.given === true) expect(plan.terminal.controlFd).toBe((plan.deviceFd ?? 0) + 6);
    const text = renderPlan('isolate run -- make test   (as root)', plan);
    expectOnlySyntheticPaths(text);
    expectNoSecretValues(text);
    await expectGolden(text, 'bwrap/default-root.txt');
  });

  it('default with a command with tricky arguments', async () => {
    const args = [
      '-c',
      'printf "%s\\n" "$@" | wc -l; echo `id -u` $(pwd) \'quoted\'',
      'sh',
      '',
      ' leading space',
      "it's",
      '$HOME',
      '--help',
      '--',
      'new\nline',
      'tab\there',
      '*.txt',
      'ünïcödé',
    ];
    const plan = await goldenPlan('default', ['sh', ...args], usrBinCommand('sh', '/usr/bin/dash'));
    expect(plan.command.args).toEqual(args);
    expect(plan.argv.slice(plan.argv.lastIndexOf('/usr/bin/sh'))).toEqual(['/usr/bin/sh', ...args]);
    const text = renderPlan('isolate run -- sh -c <script> sh <tricky arguments>', plan);
    expectNoSecretValues(text);
    await expectGolden(text, 'bwrap/default-tricky-args.txt');
  });
});
