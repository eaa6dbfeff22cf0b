/**
 * The caller's stdin, stdout and stderr in real sandboxes: a directory on
 * any of them is refused (125) before the command runs, through the CLI and
 * the Node API; a file on stdin reaches the command as its data only, so the
 * command cannot write the file through /proc/self/fd/0. Judged on the host.
 */
import { closeSync, existsSync, openSync, readFileSync, readSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { backendCases } from '../helpers/backends.js';
import { STACK_LINE, asRunner, isolate, plant, projectSite, type Result } from '../helpers/isolate.js';

describe.each(backendCases('stdio checks'))('the caller\'s stdio ($label)', ({ runner, backend, backendEnv }) => {
  let dir: string;
  let project: string;
  let cleanup: () => void;
  let env: Record<string, string>;
  beforeEach(() => {
    ({ dir, project, env, cleanup } = projectSite(runner, 'isolate-it-stdio-', backendEnv));
  });
  afterEach(() => cleanup());

  /** Run `script` with the runner's descriptor `fd` opened on `path` (flags as open(2) takes them). */
  const withFd = <T>(path: string, flags: string, run: (fd: number) => T): T => {
    const fd = openSync(path, flags);
    try {
      return run(fd);
    } finally {
      closeSync(fd);
    }
  };
  const run = (script: string, fds: Record<number, number>): Result =>
    isolate(runner, ['run', '--backend', backend, '--', 'sh', '-c', script], { cwd: project, env, fds });

  /** 125 and the command did not run; the message where isolate can write it (not when stderr is the directory). */
  const expectRefused = (r: Result, name: string, marker: string): void => {
    expect(r.status, r.stderr).toBe(125);
    if (name !== 'stderr') {
      expect(r.stderr).toMatch(new RegExp(`^isolate: ${name} is a directory`));
      expect(r.stderr).toContain('/dev/null');
      expect(r.stderr).not.toMatch(STACK_LINE);
    }
    expect(existsSync(marker), 'the command ran').toBe(false);
  };

  it('a directory on stdin, stdout or stderr: refused (125), the command does not run', () => {
    const secret = plant(runner, dir, 'outside/secret.txt', 'STDIO-SECRET-OUTSIDE\n');
    const marker = join(project, 'ran.txt');
    withFd(dirname(secret), 'r', (fd) => {
      expectRefused(run(`touch ${marker}; cat /proc/self/fd/0/secret.txt`, { 0: fd }), 'stdin', marker);
      const out = run(`touch ${marker}; cat /proc/self/fd/1/secret.txt >&2`, { 1: fd });
      expectRefused(out, 'stdout', marker);
      expect(out.stderr).not.toContain('STDIO-SECRET-OUTSIDE');
      expectRefused(run(`touch ${marker}; cat /proc/self/fd/2/secret.txt`, { 2: fd }), 'stderr', marker);
    });
  });

  it('a file on stdin: the command reads its data but cannot write the file through /proc/self/fd/0', () => {
    const file = plant(runner, dir, 'outside/input.txt', 'ORIGINAL-INPUT\n');
    const r = withFd(file, 'r', (fd) => run('cat; echo PLANTED > /proc/self/fd/0 2>/dev/null; echo PLANTED >> /proc/self/fd/0 2>/dev/null; true', { 0: fd }));
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout, 'the command read its stdin').toBe('ORIGINAL-INPUT\n');
    expect(readFileSync(file, 'utf8'), 'the file on the host was written through stdin').toBe('ORIGINAL-INPUT\n');
  });

  it('a file on stdin is read from where the caller\'s descriptor stands, to its end', () => {
    const file = plant(runner, dir, 'outside/lines.txt', `${'x'.repeat(200_000)}\nlast\n`);
    const r = withFd(file, 'r', (fd) => {
      readSync(fd, Buffer.alloc(10)); // the caller has read 10 bytes already
      return run('wc -c; true', { 0: fd });
    });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout.trim()).toBe(String(200_006 - 10));
  });

  it('the Node API with stdio inherit: a directory on stdin is E_STDIO, exit 125, and the command does not run', () => {
    plant(runner, dir, 'outside/x', '');
    const marker = join(project, 'ran.txt');
    const index = join(dirname(dirname(runner.bin)), 'dist', 'index.js');
    const script = `const { run } = await import(${JSON.stringify(index)});
const r = await run(['touch', ${JSON.stringify(marker)}], { stdio: 'inherit', backend: ${JSON.stringify(backend)}, callerCwd: ${JSON.stringify(project)}, audit: { enabled: false } });
process.stderr.write(JSON.stringify({ exitCode: r.exitCode, code: r.error?.code }));`;
    const r = withFd(join(dir, 'outside'), 'r', (fd) => asRunner(runner, [process.execPath, '--input-type=module', '-e', script], { cwd: project, env: { ...env, XDG_STATE_HOME: runner.stateDir }, fds: { 0: fd } }));
    expect(r.status, r.stderr).toBe(0);
    expect(JSON.parse(r.stderr)).toEqual({ exitCode: 125, code: 'E_STDIO' });
    expect(existsSync(marker), 'the command ran').toBe(false);
  });
});
