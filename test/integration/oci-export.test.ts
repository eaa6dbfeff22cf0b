/**
 * The exported bundle, run by the OCI runtime itself (`runc run`, not
 * through isolate), as the current user and (as root) as an unprivileged
 * user: what the profile blocks stays blocked. Each check has its control:
 * the same probe on the host sees the secret, the port, the write.
 * Skipped, with the reason printed, when runc is not installed.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { asRunner, giveTo, homeWithProject, isolate, plant, runners, type Project, type Result, type Runner } from '../helpers/isolate.js';
import { token } from '../helpers/fs-fixture.js';

const RUNC = ['/usr/sbin/runc', '/usr/bin/runc', '/usr/local/sbin/runc', '/usr/local/bin/runc'].find((p) => existsSync(p));
const PYTHON = '/usr/bin/python3';
const skipReason = process.platform !== 'linux' ? `OCI runtimes need Linux (this is ${process.platform})` : RUNC === undefined ? 'runc is not installed (apt-get install runc)' : !existsSync(PYTHON) ? `${PYTHON} is not installed` : undefined;
if (skipReason !== undefined) console.warn(`OCI export tests skipped: ${skipReason}`);

/** The probe: one line per check, `name=result`; with arguments, only the checks they name. */
const PROBE = `
import ctypes, os, socket, sys
out = {}
def attempt(name, fn):
    if len(sys.argv) > 1 and name not in sys.argv[1:]:
        return
    try:
        fn(); out[name] = 'allowed'
    except OSError as e:
        out[name] = 'refused:' + (os.strerror(e.errno) if e.errno else str(e))
attempt('read-secret', lambda: open(os.environ['ISO_HOME'] + '/secret.txt').read())
attempt('write-home', lambda: open(os.environ['ISO_HOME'] + '/written.txt', 'w').write('x'))
attempt('write-usr', lambda: open('/usr/isolate-oci-probe', 'w').write('x'))
attempt('write-hook', lambda: open('.git/hooks/pre-commit', 'a').write('evil'))
attempt('write-project', lambda: open('made.txt', 'w').write('ok'))
libc = ctypes.CDLL(None, use_errno=True)
def syscall_refused(fn):
    def run():
        if fn() < 0:
            e = ctypes.get_errno(); raise OSError(e, os.strerror(e))
    return run
attempt('personality', syscall_refused(lambda: libc.personality(ctypes.c_ulong(0x0040000))))
attempt('unshare-user', syscall_refused(lambda: libc.unshare(0x10000000)))
def connect():
    s = socket.create_connection(('127.0.0.1', int(os.environ['ISO_PORT'])), timeout=3); s.close()
attempt('connect-host', connect)
for k, v in out.items(): print(k + '=' + v)
`;

function runc(runner: Runner, dir: string, bundle: string): Result {
  const xdg = join(dir, 'xdg');
  mkdirSync(xdg, { recursive: true, mode: 0o700 });
  giveTo(runner, xdg);
  const name = token('isolate-it');
  return asRunner(runner, [RUNC ?? 'runc', '--root', join(dir, 'runc-state'), 'run', '--bundle', bundle, name], { cwd: dir, env: { XDG_RUNTIME_DIR: xdg }, timeoutMs: 30_000 });
}

function lines(text: string): Record<string, string> {
  return Object.fromEntries(text.split('\n').filter((l) => l.includes('=')).map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
}

describe.skipIf(skipReason !== undefined)('an exported bundle run by runc directly', () => {
  let server: Server;
  let port: number;
  beforeAll(async () => {
    server = createServer((s) => s.end());
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(() => server.close());

  for (const runner of runners()) {
    describe(runner.label, () => {
      let p: Project;
      let secret: string;
      beforeAll(() => {
        p = homeWithProject(runner);
        secret = token('OCI-SECRET');
        plant(runner, p.home, 'secret.txt', secret);
        plant(runner, p.project, '.git/hooks/pre-commit', '#!/bin/sh\necho original hook\n', 0o755);
        writeFileSync(join(p.project, 'probe.py'), PROBE);
        giveTo(runner, p.home);
      });
      afterAll(() => p.cleanup());

      it('the controls: on the host the secret is readable and the port answers', () => {
        const r = asRunner(runner, [PYTHON, 'probe.py', 'read-secret', 'connect-host'], { cwd: p.project, env: { ...p.env, ISO_HOME: p.home, ISO_PORT: String(port) } });
        const seen = lines(r.stdout);
        expect(seen['read-secret'], r.stderr).toBe('allowed');
        expect(seen['connect-host']).toBe('allowed');
      });

      it('hidden file unreadable, writes outside refused, denied system calls refused, no network', () => {
        const bundle = join(p.home, 'bundle');
        const env = { ...p.env, ISO_HOME: p.home, ISO_PORT: String(port) };
        const e = isolate(runner, ['export', '--format', 'oci', '--out', bundle, '--env', 'ISO_HOME', '--env', 'ISO_PORT', '--', PYTHON, 'probe.py'], { cwd: p.project, env });
        expect(e.status, e.stderr).toBe(0);
        const r = runc(runner, p.home, bundle);
        const seen = lines(r.stdout);
        expect(r.status, `${r.stdout}\n${r.stderr}`).toBe(0);
        expect(seen['read-secret']).toMatch(/^refused:/);
        expect(r.stdout).not.toContain(secret);
        // The home is a private tmpfs in the sandbox (as with bubblewrap): a write there stays there.
        expect(seen['write-usr']).toMatch(/^refused:/);
        expect(seen['write-hook']).toMatch(/^refused:/);
        expect(seen['write-project']).toBe('allowed');
        expect(seen['personality']).toBe('refused:Operation not permitted');
        expect(seen['unshare-user']).toBe('refused:Operation not permitted');
        expect(seen['connect-host']).toMatch(/^refused:/);
        // On the host: the project's file was written, nothing else.
        expect(readFileSync(join(p.project, 'made.txt'), 'utf8')).toBe('ok');
        expect(existsSync(join(p.home, 'written.txt'))).toBe(false);
        expect(existsSync('/usr/isolate-oci-probe')).toBe(false);
        expect(readFileSync(join(p.project, '.git/hooks/pre-commit'), 'utf8')).toBe('#!/bin/sh\necho original hook\n');
      });

      it('the host\'s device nodes cannot be chmod-ed or re-timed from the bundle, and still work', () => {
        const nodes = ['null', 'zero', 'full', 'random', 'urandom', 'tty'];
        const state = (): string[] => nodes.map((n) => {
          const st = statSync(`/dev/${n}`, { bigint: true });
          return `${n} ${st.mode.toString(8)} ${st.uid}:${st.gid} ${st.ctimeNs}`;
        });
        const before = state();
        const script = [
          ...nodes.map((n) => `chmod 0600 /dev/${n} 2>/dev/null && echo "chmod-${n}=allowed"; touch /dev/${n} 2>/dev/null && echo "touch-${n}=allowed"`),
          'echo x > /dev/null && echo "null=ok"',
          'echo "zero=$(head -c 4 /dev/zero | wc -c)"',
        ].join('\n');
        const bundle = join(p.home, 'bundle-dev');
        const e = isolate(runner, ['export', '--format', 'oci', '--out', bundle, '--', 'sh', '-c', script], { cwd: p.project, env: p.env });
        expect(e.status, e.stderr).toBe(0);
        const modes = nodes.map((n) => statSync(`/dev/${n}`).mode & 0o7777);
        let r: Result;
        try {
          r = runc(runner, p.home, bundle);
        } finally {
          // Should a chmod ever get through, the host's node gets its mode back.
          nodes.forEach((n, i) => (statSync(`/dev/${n}`).mode & 0o7777) !== modes[i] && process.getuid?.() === 0 && chmodSync(`/dev/${n}`, modes[i] ?? 0o666));
        }
        expect(r.status, `${r.stdout}\n${r.stderr}`).toBe(0);
        expect(r.stdout).not.toContain('=allowed');
        expect(lines(r.stdout)).toMatchObject({ null: 'ok', zero: '4' });
        expect(state()).toEqual(before);
      });

      it('a path hidden inside the project stays where it is: the directories above it cannot be renamed or removed', () => {
        const hidden = token('OCI-DENY-SECRET');
        plant(runner, p.project, 'config/deep/secret.txt', hidden);
        plant(runner, p.project, 'other/readme.txt', 'other');
        const script = [
          'mv config config2 2>/dev/null && echo "mvParent=allowed"',
          'mv config/deep config/deep2 2>/dev/null && echo "mvDeep=allowed"',
          'rm -rf config 2>/dev/null && echo "rmParent=allowed"',
          'cat config/deep/secret.txt config*/deep*/secret.txt 2>/dev/null',
          'mv other other2 && echo "control=allowed"',
        ].join('\n');
        const bundle = join(p.home, 'bundle-deny');
        const e = isolate(runner, ['export', '--format', 'oci', '--out', bundle, '--deny', 'config/deep/secret.txt', '--', 'sh', '-c', script], { cwd: p.project, env: p.env });
        expect(e.status, e.stderr).toBe(0);
        const r = runc(runner, p.home, bundle);
        expect(r.status, `${r.stdout}\n${r.stderr}`).toBe(0);
        expect(lines(r.stdout)).toEqual({ control: 'allowed' });
        expect(r.stdout).not.toContain(hidden);
        expect(readFileSync(join(p.project, 'config/deep/secret.txt'), 'utf8')).toBe(hidden);
        expect(existsSync(join(p.project, 'other2/readme.txt'))).toBe(true);
      });

      it('a checkout\'s git token (actions/checkout\'s extraheader, a token in the remote\'s URL) is not in the bundle, and the container cannot read it', () => {
        const ghs = token('ghs_');
        const glc = token('glcbt-');
        const b64 = Buffer.from(`x-access-token:${ghs}`).toString('base64');
        const config = `[core]\n\trepositoryformatversion = 0\n[remote "origin"]\n\turl = https://gitlab-ci-token:${glc}@gitlab.com/g/p.git\n[http "https://github.com/"]\n\textraheader = AUTHORIZATION: basic ${b64}\n`;
        plant(runner, p.project, '.git/config', config);
        const bundle = join(p.home, 'bundle-git');
        const e = isolate(runner, ['export', '--format', 'oci', '--out', bundle, '--', 'sh', '-c', 'cat .git/config; echo END'], { cwd: p.project, env: p.env });
        expect(e.status, e.stderr).toBe(0);
        const leaked = (text: string): string[] => [ghs, glc, b64].filter((s) => text.includes(s));
        const written = spawnSync('grep', ['-raF', '-e', ghs, '-e', glc, '-e', b64, bundle], { encoding: 'utf8' });
        expect(written.stdout, 'the bundle holds the token').toBe('');
        const r = runc(runner, p.home, bundle);
        expect(r.status, `${r.stdout}\n${r.stderr}`).toBe(0);
        expect(r.stdout).toContain('repositoryformatversion');
        expect(r.stdout).toContain('gitlab.com/g/p.git');
        expect(r.stdout).toContain('END');
        expect(leaked(r.stdout + r.stderr)).toEqual([]);
        // The host's file is the job's: unchanged.
        expect(readFileSync(join(p.project, '.git/config'), 'utf8')).toBe(config);
      });

      it('the command\'s exit code is the runtime\'s', () => {
        const bundle = join(p.home, 'bundle-exit');
        const e = isolate(runner, ['export', '--format', 'oci', '--out', bundle, '--', 'sh', '-c', 'exit 7'], { cwd: p.project, env: p.env });
        expect(e.status, e.stderr).toBe(0);
        expect(runc(runner, p.home, bundle).status).toBe(7);
      });
    });
  }
});

describe('isolate export refuses what a bundle cannot hold, and hostile output directories', () => {
  for (const runner of runners()) {
    describe(runner.label, () => {
      let p: Project;
      beforeAll(() => {
        p = homeWithProject(runner);
      });
      afterAll(() => p.cleanup());

      it('a timeout, the filtered network: exit 125 with the reason, nothing written', () => {
        for (const extra of [['--timeout', '5s'], ['--allow-domain', 'example.com']]) {
          const out = join(p.home, `refused-${extra[0]?.slice(2) ?? ''}`);
          const r = isolate(runner, ['export', '--format', 'oci', '--out', out, ...extra, '--', 'true'], { cwd: p.project, env: p.env });
          expect(r.status, r.stderr).toBe(125);
          expect(r.stderr).toMatch(/an OCI bundle cannot enforce/);
          expect(existsSync(out)).toBe(false);
        }
      });

      it('--out: a symlink, a file, a non-empty directory are refused; nothing is written through them', () => {
        const target = join(p.home, 'elsewhere');
        mkdirSync(target);
        const link = join(p.home, 'link');
        spawnSync('ln', ['-s', target, link]);
        const full = join(p.home, 'full');
        mkdirSync(full);
        writeFileSync(join(full, 'keep'), 'x');
        giveTo(runner, p.home);
        for (const out of [link, full, join(full, 'keep')]) {
          const r = isolate(runner, ['export', '--format', 'oci', '--out', out, '--', 'true'], { cwd: p.project, env: p.env });
          expect(r.status, `${out}: ${r.stderr}`).toBe(125);
        }
        expect(spawnSync('ls', ['-A', target], { encoding: 'utf8' }).stdout).toBe('');
        expect(readFileSync(join(full, 'keep'), 'utf8')).toBe('x');
      });

      it('without --out, config.json is printed and nothing is written', () => {
        const r = isolate(runner, ['export', '--format', 'oci', '--', 'true'], { cwd: p.project, env: p.env });
        expect(r.status, r.stderr).toBe(0);
        const config = JSON.parse(r.stdout) as { process: { noNewPrivileges: boolean; capabilities: { bounding: string[] } } };
        expect(config.process.noNewPrivileges).toBe(true);
        expect(config.process.capabilities.bounding).toEqual([]);
      });
    });
  }
});
