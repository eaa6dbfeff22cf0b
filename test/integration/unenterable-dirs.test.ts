/**
 * A run whose working directory, or a path the profile shows, lies behind a
 * directory the sandbox cannot enter. The sandbox has no capabilities over
 * the host's files, so even root gets only the permission bits there: root
 * in another user's 0700 project, or anyone in a directory of their own
 * they took the x bit from. isolate refuses with one message that names the
 * directory and the fix (exit 125), before the launcher would fail on a
 * descriptor's path and a second message would blame the cgroup. And a
 * launcher that fails its own set-up gets its own message, not one about
 * the cgroup it never entered.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, chownSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { backendCases } from '../helpers/backends.js';
import { asRunner, isolate, projectSite, runners, type Result, type Runner } from '../helpers/isolate.js';

/** What the command prints when it runs: it must not. */
const RAN = 'COMMAND-RAN-6b1f';

/** A uid other than the runner's, for a directory of another user: the unprivileged runner's, or nobody. */
const otherUid = (runner: Runner): number => runners().find((r) => r.uid !== runner.uid)?.uid ?? 65534;

/** The one refusal: exit 125, one message of isolate's naming `dir`, nothing of the launcher's or the cgroup's. */
function expectOneRefusal(r: Result, dir: string, ...mentions: string[]): void {
  expect(r.status, r.stderr).toBe(125);
  expect(r.stdout).not.toContain(RAN);
  expect(r.stderr).toContain(`the sandbox cannot enter ${dir} (`);
  for (const m of mentions) expect(r.stderr).toContain(m);
  expect(r.stderr.match(/^isolate: /gm)?.length, r.stderr).toBe(1);
  expect(r.stderr).not.toMatch(/cgroup|bwrap:|nsjail|Can't find|Permission denied/i);
}

const rootCases = backendCases('a project behind a directory the sandbox cannot enter').filter((c) => c.runner.uid === 0);
const WHY_SKIPPED = 'a run by root in another user\'s directory skipped: the tests do not run as root, and only root can run there';
if (rootCases.length === 0) console.warn(WHY_SKIPPED);
if (rootCases.length === 0) describe('root in another user\'s directory', () => it.skip(WHY_SKIPPED, () => undefined));

describe.each(rootCases)('root in another user\'s directory ($label)', ({ runner, backend, backendEnv }) => {
  let site: ReturnType<typeof projectSite>;
  beforeEach(() => {
    site = projectSite(runner, 'isolate-it-unenterable-', backendEnv);
  });
  afterEach(() => site.cleanup());
  const run = (args: string[], cwd = site.project): Result =>
    isolate(runner, [args[0] as string, '--backend', backend, ...args.slice(1), '--', 'sh', '-c', `echo ${RAN}`], { cwd, env: site.env, timeoutMs: 60_000 });

  it('the project is another user\'s 0700 directory: run and explain refuse, naming it and how to run', () => {
    const owner = otherUid(runner);
    chownSync(site.project, owner, owner);
    chmodSync(site.project, 0o700);
    for (const command of ['run', 'explain']) {
      expectOneRefusal(run([command]), site.project, `uid ${owner}`, 'mode 0700', `sudo -u '#${owner}'`);
    }
  }, 150_000);

  // bubblewrap and nsjail reach each path they bind by its host path, as the sandbox: a directory on the way that it
  // cannot enter stops them. An OCI runtime opens the sources with privileges of its own: the run goes on.
  const walksHostPaths = backend !== 'oci';

  it('the project is inside another user\'s 0700 directory: refused, naming that directory (an OCI runtime: it runs)', () => {
    const owner = otherUid(runner);
    const parent = join(site.dir, 'theirs');
    const project = join(parent, 'project');
    mkdirSync(project, { recursive: true });
    chownSync(parent, owner, owner);
    chmodSync(parent, 0o700);
    const r = run(['run'], project);
    if (walksHostPaths) expectOneRefusal(r, parent, `on the way to ${project}`, `chmod o+x ${parent}`);
    else expect([r.status, r.stdout], r.stderr).toEqual([0, `${RAN}\n`]);
  }, 150_000);

  it('a path the profile shows is inside another user\'s 0700 directory: refused, naming that directory (an OCI runtime: it runs)', () => {
    const owner = otherUid(runner);
    const theirs = join(site.dir, 'theirs');
    mkdirSync(join(theirs, 'shared'), { recursive: true });
    writeFileSync(join(theirs, 'shared', 'notes'), 'x');
    chownSync(theirs, owner, owner);
    chmodSync(theirs, 0o700);
    const r = run(['run', '--allow-read', join(theirs, 'shared')]);
    if (walksHostPaths) expectOneRefusal(r, theirs, `on the way to ${join(theirs, 'shared')}`);
    else expect([r.status, r.stdout], r.stderr).toEqual([0, `${RAN}\n`]);
  }, 150_000);

  it('control: another user\'s project that others may enter runs', () => {
    const owner = otherUid(runner);
    chownSync(site.project, owner, owner);
    chmodSync(site.project, 0o755);
    const r = run(['run']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain(RAN);
  }, 150_000);
});

describe.each(backendCases('a directory of one\'s own the sandbox cannot enter'))('a directory of one\'s own without its x bit ($label)', ({ runner, backend, backendEnv }) => {
  let site: ReturnType<typeof projectSite>;
  beforeEach(() => {
    site = projectSite(runner, 'isolate-it-unenterable-', backendEnv);
  });
  afterEach(() => {
    chmodSync(site.project, 0o755);
    site.cleanup();
  });

  it('isolate started in it (the x bit taken after the cd): refused, with chmod u+x as the fix', () => {
    const argv = [process.execPath, runner.bin, 'run', '--backend', backend, '--', 'sh', '-c', `echo ${RAN}`];
    const r = asRunner(runner, ['sh', '-c', 'cd "$1" && chmod 600 . && shift && exec "$@"', 'sh', site.project, ...argv], {
      cwd: site.dir,
      env: { ...site.env, XDG_STATE_HOME: runner.stateDir },
      timeoutMs: 60_000,
    });
    expectOneRefusal(r, site.project, `chmod u+x ${site.project}`);
  }, 150_000);
});

const aclCases = process.getuid?.() === 0 && spawnSync('setfacl', ['--version']).status === 0 ? runners().filter((r) => r.uid !== 0) : [];
const WHY_NO_ACL = 'a directory an access control list opens skipped: needs the tests to run as root (to make a directory of root\'s), an unprivileged runner, and setfacl';
if (aclCases.length === 0) console.warn(WHY_NO_ACL);
if (aclCases.length === 0) describe('a directory an access control list opens', () => it.skip(WHY_NO_ACL, () => undefined));

describe.each(aclCases)('a directory an access control list opens ($label)', (runner) => {
  let site: ReturnType<typeof projectSite>;
  beforeEach(() => {
    site = projectSite(runner, 'isolate-it-unenterable-');
  });
  afterEach(() => site.cleanup());

  it('root\'s 0700 directory on the way, with setfacl -m u:<runner>:x: the run goes on, as the kernel lets it', () => {
    const gate = join(site.dir, 'gate');
    const project = join(gate, 'project');
    mkdirSync(project, { recursive: true });
    chownSync(project, runner.uid, runner.gid);
    chownSync(gate, 0, 0);
    chmodSync(gate, 0o700);
    expect(spawnSync('setfacl', ['-m', `u:${runner.uid}:x`, gate]).status).toBe(0);
    const r = isolate(runner, ['run', '--', 'sh', '-c', `echo ${RAN}`], { cwd: project, env: site.env, timeoutMs: 60_000 });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain(RAN);
  }, 150_000);
});

describe.each(runners())('a launcher that fails its own set-up ($label)', (runner) => {
  let site: ReturnType<typeof projectSite>;
  beforeEach(() => {
    site = projectSite(runner, 'isolate-it-unenterable-');
  });
  afterEach(() => site.cleanup());

  it('one message, the launcher\'s, however early it exits (none about a cgroup it never entered)', () => {
    const fake = join(site.dir, 'bin', 'bwrap');
    mkdirSync(join(site.dir, 'bin'));
    writeFileSync(fake, '#!/bin/sh\n# bubblewrap 0.9.0\necho "bwrap: setup failed" >&2\nexit 1\n', { mode: 0o755 });
    chownSync(join(site.dir, 'bin'), runner.uid, runner.gid);
    chownSync(fake, runner.uid, runner.gid);
    // It exits within a millisecond or two: often before isolate moves it into the run's cgroup (a run by root).
    for (let round = 0; round < 4; round++) {
      const r = isolate(runner, ['run', '--backend', 'bwrap', '--', 'sh', '-c', `echo ${RAN}`], { cwd: site.project, env: { ...site.env, ISOLATE_BWRAP: fake }, timeoutMs: 60_000 });
      expect(r.status, r.stderr).toBe(125);
      expect(r.stdout).not.toContain(RAN);
      expect(r.stderr).toContain('bwrap: setup failed');
      expect(r.stderr).toContain('bwrap could not set up the sandbox');
      expect(r.stderr, `round ${round}`).not.toContain('cgroup');
    }
  }, 150_000);
});

const rootAclCases = process.getuid?.() === 0 && spawnSync('setfacl', ['--version']).status === 0 ? backendCases('root in a directory an access control list opens').filter((c) => c.runner.uid === 0) : [];
const WHY_NO_ROOT_ACL = 'root in a directory an access control list opens skipped: needs the tests to run as root, and setfacl';
if (rootAclCases.length === 0) console.warn(WHY_NO_ROOT_ACL);
if (rootAclCases.length === 0) describe('root in a directory an access control list opens', () => it.skip(WHY_NO_ROOT_ACL, () => undefined));

describe.each(rootAclCases)('root in a directory an access control list opens ($label)', ({ runner, backend, backendEnv }) => {
  let site: ReturnType<typeof projectSite>;
  beforeEach(() => {
    site = projectSite(runner, 'isolate-it-unenterable-', backendEnv);
  });
  afterEach(() => site.cleanup());

  /** `dir`: another user's 0700 directory on the way to the project, with `acl` set on it. */
  const gated = (acl: string): { gate: string; project: string } => {
    const owner = otherUid(runner);
    const gate = join(site.dir, 'gate');
    const project = join(gate, 'project');
    mkdirSync(project, { recursive: true });
    chownSync(gate, owner, owner);
    chmodSync(gate, 0o700);
    expect(spawnSync('setfacl', ['-m', acl, gate]).status).toBe(0);
    return { gate, project };
  };
  const run = (project: string): Result => isolate(runner, ['run', '--backend', backend, '--', 'sh', '-c', `echo ${RAN}`], { cwd: project, env: site.env, timeoutMs: 60_000 });

  it('another user\'s 0700 directory with setfacl -m u:root:x: the run goes on, as the kernel lets root\'s sandbox in', () => {
    const { project } = gated('u:root:x');
    const r = run(project);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain(RAN);
  }, 150_000);

  it('an entry the mask takes the x bit from (setfacl -m u:root:x,m::r): still refused, naming the directory', () => {
    const { gate, project } = gated('u:root:x,m::r');
    const r = run(project);
    if (backend === 'oci') expect([r.status, r.stdout], r.stderr).toEqual([0, `${RAN}\n`]);
    else expectOneRefusal(r, gate, `on the way to ${project}`);
  }, 150_000);
});
