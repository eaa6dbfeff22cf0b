/**
 * The filesystem view: fresh /dev and /proc, private /tmp, a read-only
 * system, a hidden home, secret stores hidden, symlinks that cannot escape,
 * and protected files that stay read-only inside the writable project. The
 * first block runs for bubblewrap and, when it is installed, for nsjail.
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, chownSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  TEMP_PREFIX,
  asRunner,
  giveTo,
  homeWithProject,
  isolate,
  keyValues,
  plant,
  runners,
  snapshot,
  spawnIsolate,
  tempDirFor,
  type Project,
} from '../helpers/isolate.js';
import { FRESH_DEV, REPO_FILES, attempts, fixture, token, type Fixture } from '../helpers/fs-fixture.js';
import { backendCases } from '../helpers/backends.js';

/** The same filesystem checks for each Linux backend that can run here. */
const CASES = backendCases('filesystem checks');

describe.each(CASES)('filesystem ($label)', ({ runner, backend, backendEnv }) => {
  let f: Fixture;
  beforeAll(() => {
    f = fixture(runner);
  });
  afterAll(() => {
    f.cleanup();
    f.cleanupOutside();
  });

  /** `isolate <sub> --backend <backend> ...` */
  const run = (args: string[], env: Record<string, string> = f.env, cwd = f.project) =>
    isolate(runner, [args[0] ?? 'run', '--backend', backend, ...args.slice(1)], { cwd, env: { ...env, ...backendEnv } });

  it('has a fresh, minimal /dev without the host devices', () => {
    const host = readdirSync('/dev');
    const hostOnly = host.filter((n) => !FRESH_DEV.has(n));
    expect(hostOnly.length).toBeGreaterThan(0); // control: the host has devices the sandbox must not see
    const r = run(['run', '--', 'sh', '-c', 'ls -A /dev; echo "blockdevs=$(find /dev -type b | wc -l)"; echo "urandom=$(head -c 16 /dev/urandom | wc -c)"; echo x > /dev/null && echo "null=ok"']);
    expect(r.status, r.stderr).toBe(0);
    const lines = r.stdout.split('\n').filter((l) => l !== '' && !l.includes('='));
    expect(lines).toEqual(expect.arrayContaining(['null', 'zero', 'urandom', 'random', 'full', 'tty']));
    expect(lines.filter((n) => !FRESH_DEV.has(n))).toEqual([]);
    for (const dev of hostOnly) expect(lines).not.toContain(dev);
    const kv = keyValues(r.stdout);
    expect(kv['blockdevs']).toBe('0');
    expect(kv['urandom']).toBe('16');
    expect(kv['null']).toBe('ok');
  });

  it('has a fresh /proc showing only the sandbox processes', () => {
    const hostPids = readdirSync('/proc').filter((n) => /^\d+$/.test(n));
    expect(hostPids.length).toBeGreaterThan(10); // control
    const r = run(['run', '--', 'sh', '-c', 'ls /proc | grep -c "^[0-9]"; ls /proc | grep "^[0-9]" | tr "\\n" " "']);
    expect(r.status, r.stderr).toBe(0);
    const [count, pids] = r.stdout.split('\n');
    expect(Number(count)).toBeGreaterThan(0);
    expect(Number(count)).toBeLessThanOrEqual(5);
    for (const pid of (pids ?? '').trim().split(' ')) expect(Number(pid)).toBeLessThan(20);
    // This test's own process (on the host) is not visible by its host pid.
    expect((pids ?? '').trim().split(' ')).not.toContain(String(process.pid));
  });

  it('hides the host\'s secret files (/etc/shadow is an empty device, /etc/ssh an empty directory)', () => {
    const r = run(['run', '--', 'sh', '-c', 'test -c /etc/shadow && echo "shadow=dev"; echo "shadowbytes=$(cat /etc/shadow | wc -c)"; echo "ssh=$(ls -A /etc/ssh | wc -l)"; echo "passwd=$(test -s /etc/passwd && echo readable)"']);
    expect(r.status, r.stderr).toBe(0);
    expect(keyValues(r.stdout)).toEqual({ shadow: 'dev', shadowbytes: '0', ssh: '0', passwd: 'readable' });
  });

  it('has a private /tmp and /var/tmp', () => {
    const hostFile = join('/tmp', `${TEMP_PREFIX}hostfile-${randomBytes(6).toString('hex')}`);
    const hostSecret = token('HOST-TMP');
    const insideName = `${TEMP_PREFIX}inside-${randomBytes(6).toString('hex')}`;
    writeFileSync(hostFile, hostSecret, { mode: 0o644 });
    chownSync(hostFile, runner.uid, runner.gid);
    try {
      // Control: the runner can read it on the host.
      expect(asRunner(runner, ['cat', hostFile], { cwd: f.project, env: f.env }).stdout).toBe(hostSecret);
      const script = [
        `if cat ${hostFile} 2>/dev/null; then echo; echo "hostfile=visible"; else echo "hostfile=hidden"; fi`,
        `echo inside > /tmp/${insideName} && echo "tmp=$(cat /tmp/${insideName})"`,
        `echo inside > /var/tmp/${insideName} && echo "vartmp=$(cat /var/tmp/${insideName})"`,
      ].join('\n');
      const r = run(['run', '--', 'sh', '-c', script]);
      expect(r.status, r.stderr).toBe(0);
      const kv = keyValues(r.stdout);
      expect(kv['hostfile']).toBe('hidden');
      expect(r.stdout).not.toContain(hostSecret);
      expect(kv['tmp']).toBe('inside'); // writing to /tmp works inside ...
      expect(kv['vartmp']).toBe('inside');
      expect(existsSync(join('/tmp', insideName))).toBe(false); // ... and stays there
      expect(existsSync(join('/var/tmp', insideName))).toBe(false);
      expect(readFileSync(hostFile, 'utf8')).toBe(hostSecret);
    } finally {
      rmSync(hostFile, { force: true });
      rmSync(join('/tmp', insideName), { force: true });
      rmSync(join('/var/tmp', insideName), { force: true, recursive: true });
    }
  });

  describe('writes outside the working directory', () => {
    for (const profile of ['default', 'dev']) {
      it(`do not reach the host (${profile})`, () => {
        const name = `${TEMP_PREFIX}probe-${randomBytes(6).toString('hex')}`;
        const ops = {
          etc: `echo pwned > /etc/${name}`,
          usr: `echo pwned > /usr/${name}`,
          notes: `echo pwned > ${join(f.home, 'notes.txt')}`,
          homeNew: `echo pwned > ${join(f.home, name)}`,
          outside: `echo pwned > ${join(f.outside, 'secret.txt')}`,
          outsideNew: `echo pwned > ${join(f.outside, name)}`,
          project: `echo fine > ${name}`, // control: the working directory is writable
        };
        try {
          const r = run(['run', '-p', profile, '--', 'sh', '-c', attempts(ops)]);
          expect(r.status, r.stderr).toBe(0);
          const kv = keyValues(r.stdout);
          expect(kv['etc']).toBe('blocked');
          expect(kv['usr']).toBe('blocked');
          expect(kv['project']).toBe('WROTE');
          if (profile === 'dev') expect(kv['notes']).toBe('blocked'); // home is readable, not writable
          // Whatever happened inside (home and /tmp are private tmpfs in default), the host is unchanged.
          expect(existsSync(`/etc/${name}`)).toBe(false);
          expect(existsSync(`/usr/${name}`)).toBe(false);
          expect(readFileSync(join(f.home, 'notes.txt'), 'utf8')).toBe(f.notes);
          expect(existsSync(join(f.home, name))).toBe(false);
          expect(readFileSync(join(f.outside, 'secret.txt'), 'utf8')).toBe(f.outsideSecret);
          expect(existsSync(join(f.outside, name))).toBe(false);
          expect(readFileSync(join(f.project, name), 'utf8')).toBe('fine\n');
        } finally {
          rmSync(join(f.project, name), { force: true });
        }
      });
    }
  });

  describe('the home directory', () => {
    it('holds secrets the runner can read on the host (control)', () => {
      const r = asRunner(runner, ['sh', '-c', `cat ${f.home}/.ssh/id_rsa ${f.home}/.aws/credentials ${f.home}/notes.txt project/link-ssh project/link-outside`], {
        cwd: f.home,
        env: f.env,
      });
      expect(r.status, r.stderr).toBe(0);
      expect(r.stdout).toBe(f.ssh + f.aws + f.notes + f.ssh + f.outsideSecret);
    });

    for (const profile of ['default', 'strict']) {
      it(`is replaced by an empty one (${profile})`, () => {
        const script = [
          `echo "home=$HOME"`,
          'echo "listing=$(ls -A ~ | tr "\\n" " ")"',
          `cat ~/.ssh/id_rsa ${f.home}/.aws/credentials ~/notes.txt 2>/dev/null`,
          `grep -rs . ${f.home} --exclude-dir=project 2>/dev/null`,
          'true',
        ].join('\n');
        const r = run(['run', '-p', profile, '--', 'sh', '-c', script]);
        expect(r.status, r.stderr).toBe(0);
        const kv = keyValues(r.stdout);
        expect(kv['home']).toBe(f.home);
        expect(kv['listing']?.trim()).toBe('project'); // only the working directory shows through
        for (const secret of [f.ssh, f.aws, f.notes]) expect(r.stdout).not.toContain(secret);
      });
    }

    it('is readable with dev, except the secret stores', () => {
      const script = [
        'echo "notes=$(cat ~/notes.txt)"',
        `if cat ~/.ssh/id_rsa; then echo; echo "ssh=read"; else echo "ssh=blocked"; fi`,
        `if cat ${f.home}/.aws/credentials; then echo; echo "aws=read"; else echo "aws=blocked"; fi`,
        `grep -rs . ${f.home} --exclude-dir=project`,
        'true',
      ].join('\n');
      const r = run(['run', '-p', 'dev', '--', 'sh', '-c', script]);
      expect(r.status, r.stderr).toBe(0);
      const kv = keyValues(r.stdout);
      expect(kv['notes']).toBe(f.notes); // control: the home really is readable
      expect(kv['ssh']).toBe('blocked');
      expect(kv['aws']).toBe('blocked');
      expect(r.stdout).not.toContain(f.ssh);
      expect(r.stdout).not.toContain(f.aws);
    });

    for (const profile of ['default', 'strict', 'dev']) {
      it(`cannot be reached through symlinks in the project (${profile})`, () => {
        const script = ['link-ssh', 'link-relative', 'link-outside']
          .map((l) => `if cat ${l}; then echo; echo "${l}=read"; else echo "${l}=blocked"; fi`)
          .join('\n');
        const r = run(['run', '-p', profile, '--', 'sh', '-c', script]);
        expect(r.status, r.stderr).toBe(0);
        const kv = keyValues(r.stdout);
        expect(kv['link-ssh']).toBe('blocked');
        expect(kv['link-relative']).toBe('blocked');
        expect(kv['link-outside']).toBe('blocked');
        expect(r.stdout).not.toContain(f.ssh);
        expect(r.stdout).not.toContain(f.outsideSecret);
      });
    }

    it('links resolve inside when the target is allowed (control for the symlink test)', () => {
      const r = run(['run', '--allow-read', f.outside, '--', 'cat', 'link-outside']);
      expect(r.status, r.stderr).toBe(0);
      expect(r.stdout).toBe(f.outsideSecret);
    });
  });

  describe('the working directory', () => {
    it('is writable with default, and the writes appear on the host', () => {
      const name = `new-${randomBytes(4).toString('hex')}.txt`;
      writeFileSync(join(f.project, 'existing.txt'), 'before\n');
      giveTo(runner, f.project);
      try {
        const r = run(['run', '--', 'sh', '-c', `echo created > ${name} && echo after > existing.txt && mkdir -p dir/sub && echo deep > dir/sub/file`]);
        expect(r.status, r.stderr).toBe(0);
        expect(readFileSync(join(f.project, name), 'utf8')).toBe('created\n');
        expect(readFileSync(join(f.project, 'existing.txt'), 'utf8')).toBe('after\n');
        expect(readFileSync(join(f.project, 'dir/sub/file'), 'utf8')).toBe('deep\n');
      } finally {
        for (const n of [name, 'existing.txt', 'dir']) rmSync(join(f.project, n), { recursive: true, force: true });
      }
    });

    // Making a directory owned by another user needs root; an unprivileged test run cannot set this up.
    const canChown = process.getuid?.() === 0;
    if (!canChown) console.warn("skipping the other-user's-directory test: creating a directory owned by another user needs root");
    it.skipIf(!canChown)("does not refuse to run because of another user's private directory in the project", () => {
      // e.g. a root-owned volume directory, or another user's repository. The
      // sandbox (no capabilities) cannot enter it, so nothing in it is
      // reachable from inside; the run must not fail because of it.
      // As the unprivileged user, the protected-file scan cannot enter it
      // either (it skips directories it cannot list, but not this).
      // As root, the scan enters it and plans mounts bwrap cannot make.
      const locked = join(f.project, 'locked');
      mkdirSync(join(locked, '.git', 'hooks'), { recursive: true });
      const otherUid = runner.uid === 0 ? 65534 : 0;
      chownSync(locked, otherUid, otherUid);
      chmodSync(locked, 0o700);
      try {
        const r = run(['run', '--', 'sh', '-c', 'echo ran; ls locked 2>/dev/null || echo "locked=unreadable"']);
        expect(r.stderr).not.toContain('cannot inspect');
        expect(r.status, r.stderr).toBe(0);
        expect(r.stdout).toContain('ran\n');
        if (runner.uid !== 0) expect(r.stdout).toContain('locked=unreadable');
      } finally {
        rmSync(locked, { recursive: true, force: true });
      }
    });

    it('is read-only with strict', () => {
      writeFileSync(join(f.project, 'existing.txt'), 'before\n');
      giveTo(runner, f.project);
      const before = snapshot(f.project);
      try {
        const ops = {
          create: 'echo x > created.txt',
          modify: 'echo x >> existing.txt',
          remove: 'rm existing.txt',
          mkdir: 'mkdir newdir',
          read: 'test "$(cat existing.txt)" = before', // control: readable
        };
        const r = run(['run', '-p', 'strict', '--', 'sh', '-c', attempts(ops)]);
        expect(r.status, r.stderr).toBe(0);
        const kv = keyValues(r.stdout);
        expect(kv).toEqual({ create: 'blocked', modify: 'blocked', remove: 'blocked', mkdir: 'blocked', read: 'WROTE' });
        expect(snapshot(f.project)).toEqual(before);
      } finally {
        rmSync(join(f.project, 'existing.txt'), { force: true });
      }
    });
  });
});

describe.each(runners())('protected files in the writable project ($label)', (runner) => {
  let p: Project;
  // A fresh project for every test: a leftover of one run must not hide in the next test's "before".
  beforeEach(() => {
    p = homeWithProject(runner);
    for (const [rel, what] of Object.entries(REPO_FILES)) {
      if (what.startsWith('file:')) plant(runner, p.project, rel, what.slice(5), rel.includes('/hooks/') ? 0o755 : 0o644);
    }
    giveTo(runner, p.home);
    expect(snapshot(p.project)).toEqual(REPO_FILES);
  });
  afterEach(() => p.cleanup());

  it('cannot be changed, and the run leaves nothing behind but the command\'s own files', () => {
    const before = REPO_FILES;
    const ops = {
      hookAppend: 'echo pwned >> .git/hooks/pre-commit',
      hookCreate: 'echo pwned > .git/hooks/post-checkout',
      hookRemove: 'rm .git/hooks/pre-commit',
      hooksMove: 'mv .git/hooks .git/hooks-moved',
      configAppend: 'echo pwned >> .git/config',
      configRemove: 'rm .git/config',
      gitMove: 'mv .git .git2',
      nestedHook: 'echo pwned > sub/deeper/.git/hooks/pre-push',
      nestedHookCreate: 'echo pwned > sub/deeper/.git/hooks/pre-commit',
      nestedConfigCreate: 'echo pwned > sub/deeper/.git/config',
      subMove: 'mv sub sub2',
      mcp: 'echo pwned > .mcp.json',
      envrc: 'echo pwned > .envrc',
      vscode: 'mkdir .vscode && echo "{}" > .vscode/tasks.json',
      envrcRemoveAndCreate: 'rm -f .envrc; echo pwned > .envrc',
      mise: 'printf "[hooks]\\nenter = \\"touch pwned\\"\\n" > mise.toml',
      miseDir: 'mkdir -p .mise && echo pwned > .mise/config.toml',
      helix: 'mkdir -p .helix && echo pwned > .helix/languages.toml',
      // controls: the rest of the project is writable
      normal: 'echo fine > normal.txt',
      nestedNormal: 'echo fine > sub/deeper/normal.txt',
      headWrite: 'echo "ref: refs/heads/other" > .git/HEAD.new && rm .git/HEAD.new',
    };
    const r = isolate(runner, ['run', '--', 'sh', '-c', attempts(ops)], { cwd: p.project, env: p.env });
    expect(r.status, r.stderr).toBe(0);
    const kv = keyValues(r.stdout);
    const expected = Object.fromEntries(Object.keys(ops).map((k) => [k, 'blocked']));
    expected['normal'] = 'WROTE';
    expected['nestedNormal'] = 'WROTE';
    expected['headWrite'] = 'WROTE';
    expect(kv).toEqual(expected);

    // On the host: exactly the two control files are new; hooks, config and
    // everything else are byte-for-byte as before; no placeholder (.envrc,
    // .mcp.json, sub/deeper/.git/config, ...) is left.
    const after = snapshot(p.project);
    expect(after).toEqual({ ...before, 'normal.txt': 'file:fine\n', 'sub/deeper/normal.txt': 'file:fine\n' });
  });

  it('leaves no placeholder behind when the command fails or is killed by a signal', () => {
    expect(isolate(runner, ['run', '--', 'sh', '-c', 'test -f .envrc && test ! -s .envrc && exit 3'], { cwd: p.project, env: p.env }).status).toBe(3);
    expect(snapshot(p.project)).toEqual(REPO_FILES);
    expect(isolate(runner, ['run', '--', 'sh', '-c', 'kill -KILL $$'], { cwd: p.project, env: p.env }).status).toBe(137);
    expect(snapshot(p.project)).toEqual(REPO_FILES);
  });

  it('the placeholders of one run are the next run\'s, never a second name of one file: read-only, empty, one link each, none left behind', () => {
    // A state directory of this test's own, so that its spare placeholders are this test's alone.
    const env = { ...p.env, XDG_STATE_HOME: join(p.home, '.state') };
    const script = 'find . -type f -empty -exec stat -c "%i %h %s" {} +; echo pwned > .envrc 2>/dev/null && echo WROTE || echo blocked';
    const inodes: Set<string>[] = [];
    for (let i = 0; i < 2; i++) {
      const r = isolate(runner, ['run', '--', 'sh', '-c', script], { cwd: p.project, env });
      expect(r.status, r.stderr).toBe(0);
      const lines = r.stdout.trim().split('\n');
      expect(lines.pop()).toBe('blocked');
      expect(lines.length).toBeGreaterThan(10);
      for (const line of lines) expect(line).toMatch(/^\d+ 1 0$/);
      inodes.push(new Set(lines.map((l) => l.split(' ')[0] ?? '')));
      expect(snapshot(p.project)).toEqual(REPO_FILES);
    }
    // The second run made no new files: its placeholders are the first run's.
    expect([...(inodes[1] ?? [])].filter((ino) => !inodes[0]?.has(ino))).toEqual([]);
  });

  it('leaves no placeholder behind when isolate is stopped with SIGTERM', async () => {
    const before = REPO_FILES;
    const child = spawnIsolate(runner, ['run', '--', 'sh', '-c', 'echo ready; exec sleep 30'], { cwd: p.project, env: p.env });
    try {
      await new Promise<void>((res, rej) => {
        let out = '';
        child.stdout?.on('data', (d: Buffer) => {
          out += d.toString();
          if (out.includes('ready')) res();
        });
        child.on('close', () => rej(new Error(`isolate exited before the command started: ${out}`)));
      });
      // While it runs, the placeholders exist on the host (this is what the cleanup must undo).
      expect(existsSync(join(p.project, '.envrc'))).toBe(true);
      const exited = new Promise<number | null>((res) => child.on('exit', (code) => res(code)));
      child.kill('SIGTERM');
      expect(await exited).toBe(143);
      expect(snapshot(p.project)).toEqual(before);
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
  });

  it('keeps a .git file (a worktree or submodule pointer) read-only', () => {
    const { dir: wt, cleanup } = tempDirFor(runner);
    try {
      plant(runner, wt, 'home/wt/.git', 'gitdir: /somewhere/else/.git/worktrees/wt\n');
      const cwd = join(wt, 'home', 'wt');
      const before = snapshot(cwd);
      const ops = { gitFile: 'echo "gitdir: /tmp/evil" > .git', gitFileRemove: 'rm .git', normal: 'echo fine > ok.txt' };
      const r = isolate(runner, ['run', '--', 'sh', '-c', attempts(ops)], { cwd, env: { ...p.env, HOME: join(wt, 'home') } });
      expect(r.status, r.stderr).toBe(0);
      expect(keyValues(r.stdout)).toEqual({ gitFile: 'blocked', gitFileRemove: 'blocked', normal: 'WROTE' });
      expect(snapshot(cwd)).toEqual({ ...before, 'ok.txt': 'file:fine\n' });
    } finally {
      cleanup();
    }
  });

  it('are protected in a project nested in a writable directory given with --allow-write', () => {
    const { dir: extra, cleanup } = tempDirFor(runner);
    try {
      plant(runner, extra, 'repo/.git/hooks/pre-commit', 'original\n', 0o755);
      const before = snapshot(extra);
      const ops = { hook: `echo pwned >> ${extra}/repo/.git/hooks/pre-commit`, envrc: `echo pwned > ${extra}/.envrc`, normal: `echo fine > ${extra}/ok.txt` };
      const r = isolate(runner, ['run', '--allow-write', extra, '--', 'sh', '-c', attempts(ops)], { cwd: p.project, env: p.env });
      expect(r.status, r.stderr).toBe(0);
      expect(keyValues(r.stdout)).toEqual({ hook: 'blocked', envrc: 'blocked', normal: 'WROTE' });
      expect(snapshot(extra)).toEqual({ ...before, 'ok.txt': 'file:fine\n' });
    } finally {
      cleanup();
    }
  });
});

describe.each(runners())('host /tmp after a run ($label)', (runner) => {
  let p: Project;
  beforeAll(() => {
    p = homeWithProject(runner);
  });
  afterAll(() => p.cleanup());

  /**
   * /tmp entries, ignoring the temp directories tests (in this and other files running in parallel) create: every one
   * is isolate-<purpose>-XXXXXX; what isolate itself makes there (isolate-net-*, isolate-run-*, isolate-<uid>) still counts.
   */
  const isolateOwn = /^isolate-(net-|run-|\d+$)/;
  const listTmp = (): Set<string> => new Set(readdirSync('/tmp').filter((n) => !n.startsWith('isolate-') || isolateOwn.test(n)));

  it('gains no entries', () => {
    // Other processes on the machine may create files in /tmp meanwhile; a
    // leak by isolate happens on every run, so it shows in both attempts.
    const leaks: string[][] = [];
    for (let attempt = 0; attempt < 2; attempt++) {
      const before = listTmp();
      const r = isolate(runner, ['run', '--', 'sh', '-c', 'echo x > /tmp/inside-file; mkdir /tmp/inside-dir; echo ok'], { cwd: p.project, env: p.env });
      expect(r.status, r.stderr).toBe(0);
      expect(r.stdout).toBe('ok\n');
      const explain = isolate(runner, ['explain', '--json', '--', 'true'], { cwd: p.project, env: p.env });
      expect(explain.status).toBe(0);
      const created = [...listTmp()].filter((n) => !before.has(n));
      leaks.push(created);
      if (created.length === 0) break;
    }
    expect(leaks.some((l) => l.length === 0), `new /tmp entries after each run: ${JSON.stringify(leaks)}`).toBe(true);
    expect(existsSync('/tmp/inside-file')).toBe(false);
    expect(existsSync('/tmp/inside-dir')).toBe(false);
  });

  it('gains nothing in $TMPDIR either', () => {
    const { dir: tmp, cleanup } = tempDirFor(runner);
    try {
      mkdirSync(join(tmp, 'keep'));
      giveTo(runner, tmp);
      const r = isolate(runner, ['run', '--', 'true'], { cwd: p.project, env: { ...p.env, TMPDIR: tmp } });
      expect(r.status, r.stderr).toBe(0);
      expect(readdirSync(tmp)).toEqual(['keep']);
    } finally {
      cleanup();
    }
  });
});

describe.each(runners())('command-line overrides and unusual working directories ($label)', (runner) => {
  let f: Fixture;
  beforeAll(() => {
    f = fixture(runner);
    plant(runner, f.project, '.env', 'DOTENV-SECRET\n');
    plant(runner, f.project, 'secrets/a.key', 'DIR-SECRET\n');
    plant(runner, f.project, 'docs/readme.txt', 'docs\n');
    plant(runner, f.home, '.bashrc', 'original rc\n');
    plant(runner, f.home, '.config/gh/hosts.yml', token('GH-HOSTS'));
    giveTo(runner, f.home);
  });
  afterAll(() => {
    f.cleanup();
    f.cleanupOutside();
  });

  it('--deny hides a file and a directory of the project, also from writes', () => {
    const before = snapshot(f.project);
    const ops = {
      readFile: 'cat .env',
      readDir: 'cat secrets/a.key',
      writeFile: 'echo x > .env',
      writeDir: 'echo x > secrets/b.key',
      readOther: 'cat docs/readme.txt', // control
    };
    const r = isolate(runner, ['run', '--deny', '.env', '--deny', 'secrets', '--', 'sh', '-c', attempts(ops)], { cwd: f.project, env: f.env });
    expect(r.status, r.stderr).toBe(0);
    expect(keyValues(r.stdout)).toEqual({ readFile: 'blocked', readDir: 'blocked', writeFile: 'blocked', writeDir: 'blocked', readOther: 'WROTE' });
    expect(r.stdout + r.stderr).not.toContain('SECRET');
    expect(snapshot(f.project)).toEqual(before);
  });

  it('--allow-write makes one directory writable under strict, nothing else', () => {
    try {
      const ops = { inDocs: 'echo w > docs/new.txt', inProject: 'echo w > new.txt' };
      const r = isolate(runner, ['run', '-p', 'strict', '--allow-write', 'docs', '--', 'sh', '-c', attempts(ops)], { cwd: f.project, env: f.env });
      expect(r.status, r.stderr).toBe(0);
      expect(keyValues(r.stdout)).toEqual({ inDocs: 'WROTE', inProject: 'blocked' });
      expect(readFileSync(join(f.project, 'docs/new.txt'), 'utf8')).toBe('w\n');
      expect(existsSync(join(f.project, 'new.txt'))).toBe(false);
    } finally {
      rmSync(join(f.project, 'docs/new.txt'), { force: true });
    }
  });

  it('--cwd runs in that directory and makes only it writable', () => {
    try {
      // ../up.txt lands in the private home (the project is inside it), not on the host.
      const r = isolate(runner, ['run', '--cwd', 'docs', '--', 'sh', '-c', 'pwd; echo w > here.txt; (echo w > ../up.txt) 2>/dev/null; cat ../.env 2>/dev/null; true'], {
        cwd: f.project,
        env: f.env,
      });
      expect(r.status, r.stderr).toBe(0);
      expect(r.stdout).toBe(`${join(f.project, 'docs')}\n`); // and the rest of the project is not visible
      expect(readFileSync(join(f.project, 'docs/here.txt'), 'utf8')).toBe('w\n');
      expect(existsSync(join(f.project, 'up.txt'))).toBe(false);
    } finally {
      rmSync(join(f.project, 'docs/here.txt'), { force: true });
    }
  });

  it('with the home directory itself as the working directory, secret stores stay hidden and rc files read-only', () => {
    const before = snapshot(f.home);
    const ops = {
      ssh: 'cat .ssh/id_rsa',
      aws: 'cat .aws/credentials',
      gh: 'cat .config/gh/hosts.yml',
      bashrc: 'echo pwned >> .bashrc',
      profile: 'echo pwned > .profile',
      sshWrite: 'echo pwned > .ssh/authorized_keys',
      notes: 'cat notes.txt', // control: the rest of the home is the project now
      create: 'echo fine > created.txt',
    };
    try {
      const r = isolate(runner, ['run', '--', 'sh', '-c', attempts(ops)], { cwd: f.home, env: f.env });
      expect(r.status, r.stderr).toBe(0);
      expect(keyValues(r.stdout)).toEqual({
        ssh: 'blocked',
        aws: 'blocked',
        gh: 'blocked',
        bashrc: 'blocked',
        profile: 'blocked',
        sshWrite: 'blocked',
        notes: 'WROTE',
        create: 'WROTE',
      });
      expect(r.stdout + r.stderr).not.toContain(f.ssh);
      expect(r.stdout + r.stderr).not.toContain(f.aws);
      expect(snapshot(f.home)).toEqual({ ...before, 'created.txt': 'file:fine\n' });
    } finally {
      rmSync(join(f.home, 'created.txt'), { force: true });
    }
  });

  it('with a secret store as the working directory, its files stay hidden', () => {
    for (const profile of ['default', 'dev']) {
      const r = isolate(runner, ['run', '-p', profile, '--', 'sh', '-c', 'cat id_rsa; ls -A'], { cwd: join(f.home, '.ssh'), env: f.env });
      expect(r.stdout, profile).not.toContain(f.ssh);
      expect(r.stdout, profile).not.toContain('id_rsa');
      expect(readFileSync(join(f.home, '.ssh', 'id_rsa'), 'utf8')).toBe(f.ssh);
    }
  });
});
