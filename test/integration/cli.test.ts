/**
 * The CLI surface: --json and --report, quiet success, explain (text and
 * JSON, never a secret value), profiles, doctor, --version and --help.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO, TEMP_PREFIX, asRunner, giveTo, homeWithProject, isolate, plant, runners, type Project } from '../helpers/isolate.js';

/** The text summary of `explain`: `label  value` rows, continuation lines indented. */
function summaryRows(text: string): Record<string, string[]> {
  const rows: Record<string, string[]> = {};
  let current: string | undefined;
  for (const line of text.split('\n')) {
    if (line === '') break; // the summary ends before the command line
    const m = /^(\S+)\s+(.*)$/.exec(line);
    if (m?.[1] !== undefined && m[2] !== undefined) {
      current = m[1];
      (rows[current] ??= []).push(m[2]);
    } else if (current !== undefined && /^\s+\S/.test(line)) {
      rows[current]?.push(line.trim());
    }
  }
  return rows;
}

const VERSION = (JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { version: string }).version;

describe.each(runners())('cli ($label)', (runner) => {
  let p: Project;
  beforeAll(() => {
    p = homeWithProject(runner);
    plant(runner, p.home, '.ssh/id_rsa', 'key');
    mkdirSync(join(p.home, 'reports'));
    giveTo(runner, p.home);
  });
  afterAll(() => p.cleanup());

  const run = (args: string[], env: Record<string, string> = p.env) => isolate(runner, args, { cwd: p.project, env });

  describe('run', () => {
    it('prints nothing of its own on success: stdout and stderr are the command\'s', () => {
      const r = run(['run', '--', 'sh', '-c', 'echo hello; echo to-stderr >&2']);
      expect(r.status).toBe(0);
      expect(r.stdout).toBe('hello\n');
      expect(r.stderr).toBe('to-stderr\n');
    });

    it('prints nothing of its own when the command fails', () => {
      const r = run(['run', '--', 'sh', '-c', 'echo oops >&2; exit 3']);
      expect(r.status).toBe(3);
      expect(r.stdout).toBe('');
      expect(r.stderr).toBe('oops\n');
    });

    it('passes stdin through', () => {
      const r = isolate(runner, ['run', '--', 'tr', 'a-z', 'A-Z'], { cwd: p.project, env: p.env, input: 'piped input\n' });
      expect(r.status).toBe(0);
      expect(r.stdout).toBe('PIPED INPUT\n');
    });

    it('--json prints one JSON report with the captured output', () => {
      const r = run(['run', '--json', '--', 'sh', '-c', 'echo out; echo err >&2; exit 3']);
      expect(r.status).toBe(3);
      expect(r.stderr).toBe('');
      const report = JSON.parse(r.stdout) as Record<string, unknown>;
      expect(report).toMatchObject({
        schemaVersion: 2,
        kind: 'run',
        exitCode: 3,
        signal: null,
        stdout: 'out\n',
        stderr: 'err\n',
        error: null,
        cwd: p.project,
      });
      expect(typeof report['durationMs']).toBe('number');
      expect(report['durationMs'] as number).toBeGreaterThan(0);
      expect(report['command']).toEqual(['sh', '-c', 'echo out; echo err >&2; exit 3']);
    });

    it('--json reports a signal', () => {
      const r = run(['run', '--json', '--', 'sh', '-c', 'kill -TERM $$']);
      expect(r.status).toBe(143);
      const report = JSON.parse(r.stdout) as Record<string, unknown>;
      expect(report['exitCode']).toBe(143);
      expect(report['signal']).toBe('SIGTERM');
    });

    it('--json reports isolate\'s own error as JSON', () => {
      const r = run(['run', '--json', '-p', 'no-such-profile', '--', 'true']);
      expect(r.status).toBe(125);
      const report = JSON.parse(r.stdout) as { exitCode: number; error: { code: string; summary: string } | null };
      expect(report.exitCode).toBe(125);
      expect(report.error?.code).toBe('E_PROFILE_NOT_FOUND');
      expect(report.error?.summary).toContain('no-such-profile');
    });

    it('--json never contains the value of a caller secret', () => {
      const token = `ghp_${randomBytes(12).toString('hex')}`;
      const r = run(['run', '--json', '--', 'true'], { ...p.env, GITHUB_TOKEN: token, LC_SECRET_TOKEN: token });
      expect(r.status).toBe(0);
      expect(r.stdout).not.toContain(token);
      const passed = run(['run', '--json', '--env', 'GITHUB_TOKEN', '--', 'true'], { ...p.env, GITHUB_TOKEN: token });
      expect(passed.status).toBe(0);
      expect((JSON.parse(passed.stdout) as { env: string[] }).env).toContain('GITHUB_TOKEN'); // named ...
      expect(passed.stdout).not.toContain(token); // ... never its value
    });

    it('--report writes the report and leaves stdio untouched', () => {
      const file = join(p.home, 'reports', `report-${randomBytes(4).toString('hex')}.json`);
      const r = run(['run', '--report', file, '--', 'sh', '-c', 'echo out; echo err >&2; exit 5']);
      expect(r.status).toBe(5);
      expect(r.stdout).toBe('out\n');
      expect(r.stderr).toBe('err\n');
      const report = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
      expect(report).toMatchObject({ schemaVersion: 2, kind: 'run', exitCode: 5, signal: null, error: null });
      expect(typeof report['durationMs']).toBe('number');
      expect(statSync(file).mode & 0o777).toBe(0o600);
      expect(statSync(file).uid).toBe(runner.uid);
    });

    it('--report is written when the command is not found', () => {
      const file = join(p.home, 'reports', `report-${randomBytes(4).toString('hex')}.json`);
      const r = run(['run', '--report', file, '--', 'no-such-command-xyz']);
      expect(r.status).toBe(127);
      const report = JSON.parse(readFileSync(file, 'utf8')) as { exitCode: number; error: { code: string } | null };
      expect(report.exitCode).toBe(127);
      expect(report.error?.code).toBe('E_COMMAND_NOT_FOUND');
    });
  });

  describe('explain', () => {
    it('prints the bwrap command line and a summary, and runs nothing', () => {
      const r = run(['explain', '--', 'touch', 'ran.txt']);
      expect(r.status, r.stderr).toBe(0);
      expect(r.stderr).toBe('');
      expect(existsSync(join(p.project, 'ran.txt'))).toBe(false);
      expect(r.stdout).toMatch(/\bbwrap\b/);
      expect(r.stdout).toContain('--unshare-net');
      expect(r.stdout).toContain('--die-with-parent');
      const rows = summaryRows(r.stdout);
      expect(rows['readable']).toEqual(expect.arrayContaining(['/usr', '/etc']));
      expect(rows['writable']).toEqual([p.project]);
      expect(rows['hidden']).toEqual(expect.arrayContaining(['/etc/shadow']));
      expect(rows['private']?.some((l) => l.startsWith('/tmp '))).toBe(true);
      expect(rows['private']?.some((l) => l.startsWith(`${p.home} `))).toBe(true);
      expect(rows['network']?.[0]).toMatch(/^none/);
    });

    it('names the hidden secret stores when the home is readable (dev), and the host network', () => {
      const r = run(['explain', '-p', 'dev', '--', 'true']);
      expect(r.status, r.stderr).toBe(0);
      const rows = summaryRows(r.stdout);
      expect(rows['readable']).toContain(p.home);
      expect(rows['hidden']).toContain(join(p.home, '.ssh'));
      expect(rows['network']?.[0]).toMatch(/^host/);
      expect(r.stdout).not.toContain('--unshare-net');
    });

    it('--json parses and describes the plan', () => {
      const r = run(['explain', '--json', '--', 'touch', 'ran.txt']);
      expect(r.status, r.stderr).toBe(0);
      const e = JSON.parse(r.stdout) as {
        schemaVersion: number;
        kind: string;
        argv: string[];
        commandLine: string;
        cwd: string;
        summary: { writable: string[]; readable: string[]; hidden: string[]; network: string };
      };
      expect(e.schemaVersion).toBe(1);
      expect(e.kind).toBe('explain');
      // bwrap, started under setpriv --pdeathsig KILL where setpriv is installed (it dies with isolate)
      const launcherAt = /setpriv$/.test(e.argv[0] ?? '') ? 4 : 0;
      expect(e.argv[launcherAt]).toMatch(/bwrap$/);
      expect(e.argv).toContain('--unshare-net');
      expect(e.commandLine).toContain('--unshare-net');
      expect(e.cwd).toBe(p.project);
      expect(e.summary.writable).toEqual([p.project]);
      expect(e.summary.network).toBe('none');
      expect(existsSync(join(p.project, 'ran.txt'))).toBe(false);
    });

    it('never prints the value of a secret from the caller environment', () => {
      const values = {
        GITHUB_TOKEN: `ghp_${randomBytes(12).toString('hex')}`,
        LC_SECRET_TOKEN: `lc_${randomBytes(12).toString('hex')}`,
        AWS_SECRET_ACCESS_KEY: `aws_${randomBytes(12).toString('hex')}`,
      };
      const env = { ...p.env, ...values };
      for (const args of [
        ['explain', '--json', '--', 'true'],
        ['explain', '--', 'true'],
        ['explain', '--json', '--env', 'GITHUB_TOKEN', '--env', 'LC_SECRET_TOKEN', '--env', 'AWS_SECRET_ACCESS_KEY', '--', 'true'],
        ['explain', '--env', 'GITHUB_TOKEN', '--env', 'LC_SECRET_TOKEN', '--env', 'AWS_SECRET_ACCESS_KEY', '--', 'true'],
      ]) {
        const r = run(args, env);
        expect(r.status, r.stderr).toBe(0);
        for (const v of Object.values(values)) {
          expect(r.stdout, args.join(' ')).not.toContain(v);
          expect(r.stderr).not.toContain(v);
        }
      }
      // The passed variables are shown by name.
      const r = run(['explain', '--json', '--env', 'GITHUB_TOKEN', '--', 'true'], env);
      const e = JSON.parse(r.stdout) as { pipedArgs: string[]; summary: { env: string[] } };
      expect(e.summary.env).toContain('GITHUB_TOKEN');
      expect(e.pipedArgs).toContain('$GITHUB_TOKEN');
    });

    it('never prints a secret set with --env NAME=VALUE', () => {
      const value = `sk_${randomBytes(12).toString('hex')}`;
      const r = run(['explain', '--json', '--env', `MY_API_KEY=${value}`, '--', 'true']);
      expect(r.status, r.stderr).toBe(0);
      expect(r.stdout).not.toContain(value);
    });

    it('prints a command line that, run with bash, runs the command in the same sandbox', () => {
      // A separate project: the printed command line creates placeholder files isolate would clean up.
      const q = homeWithProject(runner);
      try {
        const env = { ...q.env, LANG: 'C.UTF-8' };
        // A run first: by root, the line binds isolate's copies of the device nodes, which a run makes (the test runs alone too).
        expect(isolate(runner, ['run', '--', 'true'], { cwd: q.project, env }).status).toBe(0);
        const e = JSON.parse(isolate(runner, ['explain', '--json', '--', 'sh', '-c', 'echo "$(hostname) $LANG $HOME"; ls /proc/net/dev >/dev/null; cat /proc/net/dev | wc -l'], { cwd: q.project, env }).stdout) as {
          commandLine: string;
        };
        const r = asRunner(runner, ['bash', '-c', e.commandLine], { cwd: q.project, env });
        expect(r.status, r.stderr).toBe(0);
        const [first, lines] = r.stdout.split('\n');
        expect(first).toBe(`isolate C.UTF-8 ${q.home}`);
        expect(lines).toBe('3'); // two header lines and lo
      } finally {
        q.cleanup();
      }
    });
  });

  describe('explain of a sealed home', () => {
    it('prints a command line that runs under dev in a home with a pipe in it: the sealed entries handed over by descriptor, the pipe as /dev/null (opening it would block)', () => {
      const q = homeWithProject(runner);
      try {
        plant(runner, q.home, '.ssh/id_ed25519', 'RT-KEY\n');
        plant(runner, q.home, 'notes.txt', 'RT-NOTES\n');
        expect(asRunner(runner, ['mkfifo', join(q.home, 'pipe')], { cwd: q.home }).status).toBe(0);
        const env = { ...q.env, LANG: 'C.UTF-8' };
        // A run first: by root, the line binds isolate's copies of the device nodes, which a run makes.
        expect(isolate(runner, ['run', '--', 'true'], { cwd: q.project, env }).status).toBe(0);
        const e = JSON.parse(isolate(runner, ['explain', '--json', '-p', 'dev', '--', 'sh', '-c', 'cat ~/notes.txt ~/.ssh/id_ed25519 2>/dev/null; ls -A ~'], { cwd: q.project, env }).stdout) as { commandLine: string };
        expect(e.commandLine).toContain(`< ${join(q.home, 'notes.txt')}`);
        const r = asRunner(runner, ['bash', '-c', e.commandLine], { cwd: q.project, env });
        expect(r.status, r.stderr).toBe(0);
        expect(r.stdout).toContain('RT-NOTES');
        expect(r.stdout).toContain('pipe');
        expect(r.stdout).not.toContain('RT-KEY');
      } finally {
        q.cleanup();
      }
    });
  });

  describe('explain of a socket the profile names', () => {
    it('prints a command line that runs with --allow-read <socket> (sharing one service): the line binds it by its path, which a shell cannot open', () => {
      const q = homeWithProject(runner);
      try {
        const socket = join(q.home, 'app.sock');
        const made = asRunner(runner, ['python3', '-c', 'import socket,sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])', socket], { cwd: q.home });
        expect(made.status, made.stderr).toBe(0);
        const env = { ...q.env, LANG: 'C.UTF-8' };
        expect(isolate(runner, ['run', '--', 'true'], { cwd: q.project, env }).status).toBe(0);
        const e = JSON.parse(isolate(runner, ['explain', '--json', '--allow-read', socket, '--', 'sh', '-c', `test -S ${socket} && echo RT-SOCKET-SHOWN`], { cwd: q.project, env }).stdout) as { commandLine: string; descriptors: string[] };
        expect(e.commandLine).not.toContain(`< ${socket}`);
        const r = asRunner(runner, ['bash', '-c', e.commandLine], { cwd: q.project, env });
        expect(r.status, r.stderr).toBe(0);
        expect(r.stdout).toContain('RT-SOCKET-SHOWN');
        // And the run itself binds it from its descriptor.
        const run = isolate(runner, ['run', '--allow-read', socket, '--', 'sh', '-c', `test -S ${socket} && echo RT-SOCKET-SHOWN`], { cwd: q.project, env });
        expect(run.status, run.stderr).toBe(0);
        expect(run.stdout).toContain('RT-SOCKET-SHOWN');
      } finally {
        q.cleanup();
      }
    });
  });

  describe('profiles', () => {
    it('lists the built-in profiles', () => {
      for (const args of [['profiles'], ['profiles', 'list']]) {
        const r = run(args);
        expect(r.status, r.stderr).toBe(0);
        const names = r.stdout
          .split('\n')
          .filter((l) => l !== '')
          .map((l) => l.split(/\s+/)[0]);
        expect(names).toEqual(expect.arrayContaining(['default', 'strict', 'dev']));
      }
      const json = JSON.parse(run(['profiles', 'list', '--json']).stdout) as { profiles: { name: string; kind: string }[] };
      expect(json.profiles.filter((x) => x.kind === 'builtin').map((x) => x.name).sort()).toEqual(['default', 'dev', 'strict']);
    });

    it('lists user profiles from ~/.config/isolate/profiles', () => {
      plant(runner, p.home, '.config/isolate/profiles/mine.yaml', 'extends: strict\n');
      const r = run(['profiles']);
      expect(r.status).toBe(0);
      expect(r.stdout).toMatch(/^mine\s+user\b/m);
      const show = run(['run', '-p', 'mine', '--', 'sh', '-c', 'touch x 2>/dev/null || echo read-only']);
      expect(show.stdout).toBe('read-only\n');
    });

    it('show prints the resolved policy with absolute paths', () => {
      for (const name of ['default', 'strict', 'dev']) {
        const r = run(['profiles', 'show', name]);
        expect(r.status, r.stderr).toBe(0);
        expect(r.stdout).not.toContain('~');
        expect(r.stdout).not.toContain('${');
        const policy = JSON.parse(r.stdout) as {
          filesystem: { mounts: { kind: string; path: string }[] };
          process: { cwd: string; hostname: string };
          network: { mode: string };
        };
        expect(policy.filesystem.mounts.length).toBeGreaterThan(5);
        for (const m of policy.filesystem.mounts) expect(m.path, `${m.kind} ${m.path}`).toMatch(/^\//);
        expect(policy.process.cwd).toBe(p.project);
        expect(policy.process.hostname).toBe('isolate');
        const paths = (kind: string): string[] => policy.filesystem.mounts.filter((m) => m.kind === kind).map((m) => m.path);
        if (name === 'default') {
          expect(paths('write')).toContain(p.project);
          expect(paths('tmpfs')).toEqual(expect.arrayContaining(['/tmp', p.home]));
          expect(policy.network.mode).toBe('none');
        }
        if (name === 'strict') expect(paths('write')).toEqual([]);
        if (name === 'dev') {
          expect(paths('read')).toContain(p.home);
          expect(paths('deny')).toContain(join(p.home, '.ssh'));
          expect(policy.network.mode).toBe('host');
        }
      }
    });

    it('show of an unknown profile: 125', () => {
      const r = run(['profiles', 'show', 'no-such-profile']);
      expect(r.status).toBe(125);
      expect(r.stderr).toContain('no-such-profile');
    });
  });

  it('doctor --json parses and is ok on this machine', () => {
    // /tmp on a shared machine holds other users' private directories (mkdtemp
    // makes them 0700; this suite's own temp dirs for root are such). Make sure
    // there is one, so the result does not depend on what else runs.
    const other = mkdtempSync(join(tmpdir(), TEMP_PREFIX));
    mkdirSync(join(other, 'inner'));
    try {
      expect(statSync(other).mode & 0o777).toBe(0o700);
      // Control: with this host, a sandbox with the default profile does start.
      const sanity = run(['run', '--', 'true']);
      expect(sanity.status, sanity.stderr).toBe(0);
      const r = run(['doctor', '--json']);
      expect(r.status, r.stdout).toBe(0);
      const d = JSON.parse(r.stdout) as { ok: boolean; kind: string; checks: { name: string; status: string }[] };
      expect(d.kind).toBe('doctor');
      expect(d.ok).toBe(true);
      expect(d.checks.length).toBeGreaterThan(0);
      expect(d.checks.filter((c) => c.status === 'fail')).toEqual([]);
    } finally {
      rmSync(other, { recursive: true, force: true });
    }
  });

  it('--version prints the package version', () => {
    for (const flag of ['--version', '-V']) {
      const r = run([flag]);
      expect(r.status).toBe(0);
      expect(r.stdout).toBe(`${VERSION}\n`);
      expect(r.stderr).toBe('');
    }
  });

  it('--help prints usage and exits 0', () => {
    const r = run(['--help']);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^usage: isolate/);
    for (const cmd of ['run', 'explain', 'profiles', 'doctor']) expect(r.stdout).toContain(cmd);
    const sub = run(['run', '--help']);
    expect(sub.status).toBe(0);
    for (const opt of ['--profile', '--allow-read', '--allow-write', '--deny', '--env', '--net', '--cwd', '--json', '--report']) expect(sub.stdout).toContain(opt);
    // No command at all: usage, but as a failure.
    const none = run([]);
    expect(none.status).toBe(125);
    expect(none.stdout).toMatch(/^usage: isolate/);
  });
});
