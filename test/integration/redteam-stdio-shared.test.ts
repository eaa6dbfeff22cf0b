/**
 * Red team: stdio the command shares with others on the host. A descriptor
 * leads back to what it names: through /proc/self/fd/N the command opens
 * that file or pipe anew, for reading or writing, whatever mode the caller
 * opened it in. So it could read what was in a log of another user's that
 * the caller appends to (`>> /var/log/build.log`) and wipe it; write lines
 * into the pipe a host loop reads its next items from (`... | while read f;
 * do isolate run -- ...; rm "$f"; done`). Judged on the host: the log's
 * contents, and a file the loop makes for each line it reads.
 *
 * Each test was written as a failing finding first; it now guards the fix.
 */
import { spawn, spawnSync } from 'node:child_process';
import { createConnection, createServer } from 'node:net';
import { chmodSync, chownSync, closeSync, existsSync, openSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { backendCases } from '../helpers/backends.js';
import { DEFAULT_PATH, giveTo, isolate, isolateArgv, projectSite } from '../helpers/isolate.js';

const canChown = process.getuid?.() === 0;
if (!canChown) console.warn("the other user's log case of the shared-stdio red team is skipped: a file of another user's needs root to make; the root pass runs it as root and as an ordinary user");

describe.each(backendCases('red team: shared stdio'))('red team: stdio shared with the host ($label)', ({ runner, backend, backendEnv }) => {
  let dir: string;
  let project: string;
  let cleanup: () => void;
  let env: Record<string, string>;
  beforeEach(() => {
    ({ dir, project, env, cleanup } = projectSite(runner, 'isolate-it-rtsh-', backendEnv));
  });
  afterEach(() => cleanup());

  /** `sh -c shell sh <isolate run -- sh -c script>`: a host shell around the run, as the runner (its pipes are the runner's). */
  const around = (shell: string, script: string) => {
    const argv = isolateArgv(runner, ['run', '--backend', backend, '--', 'sh', '-c', script]).slice(runner.prefix.length);
    const [file, ...rest] = [...runner.prefix, 'sh', '-c', shell, 'sh', ...argv];
    return spawnSync(file as string, rest, { cwd: project, env: { ...env, PATH: DEFAULT_PATH, XDG_STATE_HOME: runner.stateDir }, encoding: 'utf8', timeout: 60_000, killSignal: 'SIGKILL' });
  };

  it.skipIf(!canChown)("a log of another user's on stdout (>> shared.log): the command cannot read what was in it, empty it or write over it", () => {
    const log = join(dir, 'shared.log');
    writeFileSync(log, 'PRIOR-LINE db-password=rt-shared-9f3\n');
    chmodSync(log, 0o666);
    // Another user's: a service's log root appends to, or root's shared log an ordinary user appends to.
    chownSync(log, runner.uid === 0 ? 65534 : 0, runner.uid === 0 ? 65534 : 0);
    const fd = openSync(log, 'a');
    let r;
    try {
      r = isolate(runner, ['run', '--backend', backend, '--', 'sh', '-c', 'timeout 1 cat /proc/self/fd/3 3>&1 > stolen.txt 2>/dev/null; (: > /proc/self/fd/1) 2>/dev/null; (echo OVERWRITE 1<> /proc/self/fd/1) 2>/dev/null; echo appended'], { cwd: project, env, fds: { 1: fd } });
    } finally {
      closeSync(fd);
    }
    expect(r.status, r.stderr).toBe(0);
    expect(readFileSync(log, 'utf8')).toMatch(/^PRIOR-LINE db-password=rt-shared-9f3\n/);
    expect(readFileSync(log, 'utf8')).toContain('appended\n');
    const stolen = join(project, 'stolen.txt');
    expect(existsSync(stolen) ? readFileSync(stolen, 'utf8') : '').not.toContain('rt-shared-9f3');
  });

  it('the pipe a host loop reads its items from (| while read): the command cannot add items the loop acts on', () => {
    // The loop makes a file for each item it reads: an item the command wrote into the pipe would be acted on by the host.
    const shell = `printf 'first\\n' | while read -r item; do : > "${dir}/seen-$item"; "$@" "$item" || echo "run failed: $?"; done`;
    // The item is the script's $0: a command given one it wrote itself writes nothing more.
    const r = around(shell, '[ "$0" = first ] && echo injected > /proc/self/fd/0; true');
    expect(r.stdout + r.stderr).not.toContain('run failed');
    const seen = readdirSync(dir).filter((n) => n.startsWith('seen-'));
    expect(seen).toEqual(['seen-first']);
  });

  it.each([0, 1])('a socket connected to a host service on descriptor %i: the command cannot talk to that service through it', async (fd) => {
    // The service answers a line, then records whatever else reaches it: a sandbox without network must not reach it.
    const received: string[] = [];
    const server = createServer((c) => {
      c.on('data', (d: Buffer) => received.push(d.toString()));
      c.on('error', () => undefined);
      c.write('hello-from-service\n');
    });
    const path = join(dir, 'service.sock');
    await new Promise<void>((resolve) => server.listen(path, resolve));
    giveTo(runner, dir);
    const client = createConnection(path);
    await new Promise<void>((resolve) => client.once('connect', resolve));
    const script = fd === 0 ? 'head -1; echo rt-sock-exfil-0 >&0; true' : 'echo to-stdout; timeout 2 head -1 <&1 > got.txt 2>/dev/null; echo rt-sock-exfil-1; true';
    const [file, ...rest] = isolateArgv(runner, ['run', '--backend', backend, '--', 'sh', '-c', script]);
    const child = spawn(file as string, rest, { cwd: project, env: { ...env, XDG_STATE_HOME: runner.stateDir }, stdio: fd === 0 ? [client, 'pipe', 'pipe'] : ['ignore', client, 'pipe'] });
    const status = await new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
    await new Promise((r) => setTimeout(r, 300));
    client.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    expect(status).not.toBeNull();
    expect(received.join('')).not.toContain('rt-sock-exfil-0');
    const got = join(project, 'got.txt');
    expect(existsSync(got) ? readFileSync(got, 'utf8') : '', 'the command read what the service sent').not.toContain('hello-from-service');
  });
});
