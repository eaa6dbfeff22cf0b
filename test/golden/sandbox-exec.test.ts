/**
 * Golden sandbox-exec plans for the built-in profiles on a synthetic macOS
 * host (synthetic-mac.ts): the SBPL profile exactly as handed to
 * sandbox-exec, and every -D parameter. Nothing here reads this machine
 * (which is not a Mac).
 * The built-in profiles are taken as they are: their `syscalls.preset:
 * default` becomes the Seatbelt rules at the end of each profile.
 */
import { hostname, homedir } from 'node:os';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { UPDATE_GOLDEN_COMMAND, expectGolden } from './golden-file.js';
import { START_NAME, TERMINAL_CONTROL_FD, planSandboxExec, type SandboxExecPlan } from '../../src/backends/sandbox-exec.js';
import type { CommandFact, HostFacts } from '../../src/backends/types.js';
import { BUILTIN_NAMES } from '../../src/profile/builtin.js';
import { applyOverrides, loadMergedProfile, type ProfileOverrides } from '../../src/profile/load.js';
import { HIDDEN_IN_PROJECT, list, pathLists } from './synthetic.js';
import { MAC_CTX, MAC_ENV, MAC_VARS, darwinHost, macPolicy } from './synthetic-mac.js';

const REPO = fileURLToPath(new URL('../../', import.meta.url));

const VARS = MAC_VARS;
const CTX = MAC_CTX;
const HOST_ENV = MAC_ENV;

const MAKE: CommandFact = { program: 'make', candidates: [{ path: '/usr/bin/make', real: '/usr/bin/make', isFile: true, executable: true }] };
const CURL: CommandFact = { program: 'curl', candidates: [{ path: '/usr/bin/curl', real: '/usr/bin/curl', isFile: true, executable: true }] };

async function goldenPlan(profile: string, command: readonly string[], fact: CommandFact, overrides: ProfileOverrides = {}, host: Partial<HostFacts> = {}): Promise<SandboxExecPlan> {
  const merged = applyOverrides(await loadMergedProfile(profile, CTX), overrides, CTX);
  const policy = macPolicy(merged);
  return planSandboxExec(policy, command, { ...darwinHost(policy, fact), ...host });
}

// ---- rendering -------------------------------------------------------------------

function renderPlan(title: string, plan: SandboxExecPlan): string {
  const se = plan.sandboxExec;
  const dashes = plan.argv.indexOf('--');
  const s = plan.summary;
  const env = Object.entries(plan.launcherEnv).map(([name, value]) => (HOST_ENV[name] === value ? `${name}=<caller's ${name}>` : `${name}=${JSON.stringify(value)}`));
  const lines = [
    `# ${title}`,
    '# Synthetic macOS host (uid 501, Apple silicon, project at /Users/user/project).',
    `# Regenerate after an intended change: ${UPDATE_GOLDEN_COMMAND}`,
    '',
    `backend: ${plan.backend} ${plan.backendVersion}`,
    `command: ${plan.command.program} -> ${plan.command.resolved}`,
    `cwd: ${plan.cwd} (new session: ${se.newSession})`,
    `fds: ${JSON.stringify(plan.fds)}  pipedArgs: ${JSON.stringify(plan.pipedArgs)}`,
    ...(plan.terminal === undefined ? [] : [`terminal: ${JSON.stringify(plan.terminal)}`]),
    `run directory: ${se.runDir ?? '(none)'}`,
    ...se.dirs.map((d) => `  ${d.path} replaces ${d.replaces}${d.env.length > 0 ? `; ${d.env.join(', ')}` : ''}`),
    ...list('services', plan.services.map((p) => JSON.stringify(p))),
    '',
    '== argv ==',
    JSON.stringify(plan.argv[0]),
    `-p <the profile below>`,
    ...plan.argv.slice(3, dashes).reduce<string[]>((out, a, i, all) => (i % 2 === 0 ? [...out, `${a} ${shownDefine(all[i + 1] ?? '')}`] : out), []),
    '--',
    ...plan.argv.slice(dashes + 1).map((a) => `    ${JSON.stringify(a)}`),
    '',
    '== profile (-p) ==',
    plan.argv[2] ?? '',
    '== environment (launcherEnv = childEnv) ==',
    ...env,
    '',
    ...list('withheld env', plan.withheldEnv),
    '',
    '== summary ==',
    ...pathLists(s, false),
    `network: ${s.network}`,
    ...(s.proxy === undefined ? [] : [`proxy: ${JSON.stringify(s.proxy)}`]),
    ...list('limits', s.limits),
    `seccomp: ${JSON.stringify(s.seccomp)}`,
    `namespaces: ${s.namespaces.join(' ') || '(none)'}`,
    ...list('notes', s.notes),
  ];
  return `${lines.join('\n')}\n`;
}

/**
 * A -D NAME=value as the golden shows it. The ANYCASE_ regexes
 * (sbpl-caseless.ts, unit-tested there) are read back into the paths they
 * match in any letter case, so a diff shows which paths they cover.
 */
function shownDefine(define: string): string {
  const caseless = /^(ANYCASE_\w+)=\^\((.*)\)(\(\/\|\$\)|\$)$/.exec(define);
  if (caseless === null) return JSON.stringify(define);
  const [, name, body = '', end] = caseless;
  const paths = body.replace(/\[([a-zA-Z])[a-zA-Z]\]/g, '$1').replace(/\\(.)/g, '$1');
  return `${name}=<any letter case of: ${paths.split('|').join(', ')}${end === '$' ? '' : ', and below'}>`;
}

// ---- checks ----------------------------------------------------------------------

const SYNTHETIC_ROOTS = ['/usr', '/private', '/etc', '/tmp', '/var', '/opt', '/bin', '/sbin', '/Users/user', '/System', '/Library', '/Applications/Xcode.app', '/Applications', '/dev', '/nix', '/snap', '/home/linuxbrew', '/lib', '/lib32', '/lib64', '/libx32', '/run/systemd/resolve'];

function expectOnlySyntheticPaths(text: string): void {
  const paths = text.match(/(?<![\w.~$}:/\\])\/[^\s'"`:;,|)\\]*/g) ?? [];
  const foreign = paths.filter((p) => p !== '/' && p !== '/Users' && !SYNTHETIC_ROOTS.some((r) => p === r || p.startsWith(`${r}/`)));
  expect(foreign, 'paths in the golden that the synthetic host does not have').toEqual([]);
  expect(text).not.toContain(REPO.replace(/\/$/, ''));
  const host = hostname().replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  // As a word of its own: a short host name ("vm") is also part of sysctl names ("vm.loadavg").
  expect(text).not.toMatch(new RegExp(`(^|[^A-Za-z0-9_.-])${host}($|[^A-Za-z0-9_.-])`));
  if (homedir() !== VARS.HOME && homedir() !== '/') expect(text).not.toContain(homedir());
}

function expectNoSecrets(plan: SandboxExecPlan, text: string): void {
  for (const value of Object.values(HOST_ENV)) if (value.includes('synthetic')) expect(text).not.toContain(value);
  for (const name of ['GITHUB_TOKEN', 'AWS_SECRET_ACCESS_KEY', 'SSH_AUTH_SOCK', 'LC_SESSION_TOKEN', 'NO_PROXY']) expect(plan.launcherEnv).not.toHaveProperty(name);
  expect(plan.launcherEnv).toEqual(plan.childEnv);
}

/** The profile text names no path of the policy: those are -D parameters (the unit tests prove it for any path). */
function expectPathsOnlyInParams(plan: SandboxExecPlan): void {
  const profile = plan.argv[2] ?? '';
  expect(profile).toBe(plan.sandboxExec.profile);
  for (const secret of ['/Users/user', 'abc123', 'project', '.git', '.ssh']) expect(profile).not.toContain(secret);
}

describe('golden sandbox-exec plans for the built-in profiles (macOS)', () => {
  it.each([...BUILTIN_NAMES])('%s', async (name) => {
    const plan = await goldenPlan(name, ['make', 'test'], MAKE);
    const text = renderPlan(`isolate run --backend sandbox-exec --profile ${name} -- make test`, plan);
    expectOnlySyntheticPaths(text);
    expectNoSecrets(plan, text);
    expectPathsOnlyInParams(plan);
    await expectGolden(text, `sandbox-exec/${name}.txt`);
  });

  it('default with a file and a directory hidden inside the project: the directories above them stay put', async () => {
    const deny = HIDDEN_IN_PROJECT.map((rel) => `${VARS.CWD}/${rel}`);
    const plan = await goldenPlan('default', ['make', 'test'], MAKE, { deny });
    const pins = plan.sandboxExec.params.find((p) => p.name === 'PINS')?.value ?? '';
    for (const dir of ['config', 'deploy']) expect(pins).toContain(`${VARS.CWD}/${dir}`);
    const text = renderPlan(`isolate run --backend sandbox-exec ${deny.map((d) => `--deny ${d}`).join(' ')} -- make test`, plan);
    expectOnlySyntheticPaths(text);
    expectNoSecrets(plan, text);
    expectPathsOnlyInParams(plan);
    await expectGolden(text, 'sandbox-exec/default-deny-in-project.txt');
  });

  it('default with filtered network', async () => {
    const overrides: ProfileOverrides = { allowDomain: ['registry.npmjs.org', '*.github.com'], denyDomain: ['gist.github.com'] };
    const plan = await goldenPlan('default', ['curl', 'https://registry.npmjs.org/'], CURL, overrides);
    expect(plan.summary.network).toBe('filtered');
    const text = renderPlan('isolate run --backend sandbox-exec --allow-domain registry.npmjs.org --allow-domain *.github.com --deny-domain gist.github.com -- curl https://registry.npmjs.org/', plan);
    expectOnlySyntheticPaths(text);
    expectNoSecrets(plan, text);
    expectPathsOnlyInParams(plan);
    await expectGolden(text, 'sandbox-exec/default-net-filtered.txt');
  });

  it('default with a terminal of its own (stdin and stdout on a terminal)', async () => {
    const plan = await goldenPlan('default', ['make', 'test'], MAKE, {}, { terminal: { python: '/usr/bin/python3' } });
    expect(plan.terminal).toEqual({ given: true, controlFd: TERMINAL_CONTROL_FD });
    // After the start wrapper, before the command: the helper leads the launcher's session and keeps the command in its group.
    const helper = plan.argv.indexOf('/usr/bin/python3');
    expect(plan.argv.slice(helper + 1, helper + 5)).toEqual(['-I', '-S', '-B', '-c']);
    expect(plan.argv.slice(helper + 6)).toEqual(['--leader', String(TERMINAL_CONTROL_FD), '/usr/bin/make', 'test']);
    expect(plan.argv.indexOf(START_NAME)).toBeLessThan(helper);
    const text = renderPlan('isolate run --backend sandbox-exec -- make test   (on a terminal)', plan);
    expectOnlySyntheticPaths(text);
    expectNoSecrets(plan, text);
    expectPathsOnlyInParams(plan);
    await expectGolden(text, 'sandbox-exec/default-terminal.txt');
  });

  it('without python3, or without the developer tools that run it, no terminal and the reason', async () => {
    const missing = await goldenPlan('default', ['make', 'test'], MAKE, {}, { terminal: { python: undefined } });
    expect(missing.terminal).toMatchObject({ given: false, reason: expect.stringContaining('python3 is not installed'), fix: expect.stringContaining('xcode-select --install') });
    expect(missing.argv).not.toContain('--leader');
    const hidden = await goldenPlan('default', ['make', 'test'], MAKE, {}, { terminal: { python: '/Users/user/.pyenv/shims/python3' } });
    expect(hidden.terminal).toMatchObject({ given: false, reason: expect.stringContaining('/Users/user/.pyenv/shims/python3 is not visible inside the sandbox') });
    expect(hidden.summary.notes).toContain('the command runs in a new session, without a controlling terminal (no TIOCSTI)');
  });

  it('strict with limits and a private working directory', async () => {
    const plan = await goldenPlan('strict', ['make', 'test'], MAKE, { cwd: '/tmp', limits: { cpu: '10s', openFiles: 256, fileSize: '100M', processes: 64, timeout: '5m' } });
    const tmp = plan.sandboxExec.dirs.find((d) => d.replaces === '/private/tmp');
    expect(plan.cwd).toBe(tmp?.path);
    expect(tmp?.env).toEqual(['TMPDIR']);
    const text = renderPlan('isolate run --backend sandbox-exec --profile strict --cwd /tmp --cpu 10s --open-files 256 --file-size 100M --processes 64 --timeout 5m -- make test', plan);
    expectOnlySyntheticPaths(text);
    expectNoSecrets(plan, text);
    expectPathsOnlyInParams(plan);
    await expectGolden(text, 'sandbox-exec/strict-limits-tmp-cwd.txt');
  });
});
