/**
 * doctor's sandbox check runs a real plan through run/: a bubblewrap that
 * cannot build the sandbox is a failed check with what it said, never "ok".
 * A fake bwrap (a shell script that fails) stands in for a broken one.
 * A bwrap inside a path the sandbox can write (planted by the command of a
 * run) is a failed check, and doctor never starts it.
 */
import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { sandboxCheck } from '../../src/doctor/sandbox-check.js';
import { apparmorCheck, runChecks } from '../../src/doctor/checks.js';

let dir: string;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'isolate-doctor-test-'));
});

afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('doctor: the sandbox check', () => {
  it.runIf(process.platform === 'linux')('a bwrap that fails to start the sandbox is a failed check that shows its message', async () => {
    const fake = join(dir, 'bwrap');
    // The version marker bwrapVersion reads from the binary, so that the plan accepts it.
    writeFileSync(fake, '#!/bin/sh\n# bubblewrap 0.8.0\necho "bwrap: cannot do it (fake)" >&2\nexit 1\n');
    chmodSync(fake, 0o755);
    const check = await sandboxCheck({ ISOLATE_BWRAP: fake });
    expect(check.status).toBe('fail');
    expect(check.detail).toMatch(/^exit 125: /);
    expect(check.detail).toContain('bwrap: cannot do it (fake)');
    expect(check.fix).toBeTruthy();
  });
});

describe('doctor: a launcher inside a path the sandbox can write', () => {
  it.runIf(process.platform === 'linux')('a bwrap in the project (ISOLATE_BWRAP, as an .envrc there could set it) is a failed check, and is never started', async () => {
    const home = join(dir, 'home');
    const project = join(dir, 'project');
    mkdirSync(home);
    mkdirSync(join(project, 'bin'), { recursive: true });
    const marker = join(dir, 'started-on-host');
    const planted = join(project, 'bin', 'bwrap');
    // No version text in the file itself, so that reading it says nothing and only starting it would.
    writeFileSync(planted, `#!/bin/sh\ntouch ${marker}\nprintf 'bubble%s 0.9.0\\n' wrap\nexit 1\n`);
    chmodSync(planted, 0o755);
    const checks = await runChecks({ HOME: home, PATH: '/usr/bin:/bin', ISOLATE_BWRAP: planted }, project);
    expect(existsSync(marker), 'doctor started the bwrap the command of a run could have planted').toBe(false);
    const bwrap = checks.find((c) => c.name === 'bubblewrap');
    expect(bwrap).toMatchObject({ status: 'fail', detail: expect.stringContaining(`bwrap at ${planted} is inside a path the sandbox can write`) as unknown });
    expect(bwrap?.fix).toContain('install bwrap outside the paths the profile makes writable');
    expect(checks.some((c) => c.name === 'sandbox with the default profile')).toBe(false);
  });
});

describe('doctor in a directory the default profile refuses (/tmp)', () => {
  it.runIf(process.platform === 'linux')('says so on a line of its own, and still checks bubblewrap and the sandbox: the launcher is not at fault', async () => {
    const home = join(dir, 'home');
    mkdirSync(home);
    const checks = await runChecks({ HOME: home, PATH: '/usr/bin:/bin' }, '/tmp');
    const bwrap = checks.find((c) => c.name === 'bubblewrap');
    expect(bwrap?.detail, 'doctor blamed bubblewrap for the directory it was run in').not.toContain('/tmp');
    expect(checks.some((c) => c.name === 'sandbox with the default profile'), 'doctor skipped the sandbox check').toBe(bwrap?.status !== 'fail');
    const here = checks.find((c) => c.name === 'working directory');
    expect(here).toMatchObject({ status: 'warn', detail: expect.stringContaining('"${CWD}" is /tmp') as unknown });
    expect(here?.fix).toContain('--cwd');
  });

  it.runIf(process.platform === 'linux')('a directory the default profile accepts gets no such line', async () => {
    const home = join(dir, 'home');
    const project = join(dir, 'project');
    mkdirSync(home);
    mkdirSync(project);
    const checks = await runChecks({ HOME: home, PATH: '/usr/bin:/bin' }, project);
    expect(checks.some((c) => c.name === 'working directory')).toBe(false);
  });
});

describe('doctor: the AppArmor user namespace restriction (Ubuntu 23.10 and later)', () => {
  const userns = (apparmorRestrict: number | undefined) => ({ maxUserNamespaces: 100, unprivilegedClone: undefined, apparmorRestrict });

  it('fails for an ordinary user, with one command that lifts it (CI applies exactly the part before the note)', () => {
    const check = apparmorCheck(userns(1), 1001);
    expect(check.status).toBe('fail');
    expect(check.fix?.split('   (')[0]).toBe('sudo sysctl -w kernel.apparmor_restrict_unprivileged_userns=0');
  });

  it('is fine for root, when the setting is 0, and on kernels without it', () => {
    expect(apparmorCheck(userns(1), 0).status).toBe('ok');
    expect(apparmorCheck(userns(0), 1001).status).toBe('ok');
    expect(apparmorCheck(userns(undefined), 1001).status).toBe('ok');
  });
});
