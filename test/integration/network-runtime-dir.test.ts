/**
 * isolate's private runtime directory, where filtered runs' proxies listen:
 * no other sandbox reaches a run's proxy, not even one started before the
 * directory first existed, and a runtime directory that is not private is
 * refused (125) before any command runs.
 */
import type { ChildProcess } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { backendCases } from '../helpers/backends.js';
import { proxySocketOf } from '../helpers/proxy-socket.js';
import { STACK_LINE, asRunnerAsync, giveTo, isolateAsync, killSleepers, pollFor, runners, sleepProcs, spawnIsolate, tempDirFor, uniqueSleep, DEFAULT_PATH, START_WAIT_MS } from '../helpers/isolate.js';

const BODY = 'body-of-the-run-that-is-allowed-localhost';
let server: Server;
let P: number;

beforeAll(async () => {
  server = createServer((_req, res) => res.end(BODY));
  P = await new Promise<number>((resolvePromise, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolvePromise((server.address() as AddressInfo).port));
  });
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((r) => server.close(() => r()));
});

// 20 s: on a loaded 2-core runner the proxy took over 3 s to answer the positive control.
const request = (socket: string): string => `printf 'GET http://localhost:${P}/ HTTP/1.1\\r\\nHost: x\\r\\n\\r\\n' | timeout 20 socat - UNIX-CONNECT:${socket}`;

describe.each(backendCases('runtime directory checks'))('the proxy\'s private directory ($label)', ({ runner, backend, backendEnv }) => {
  let dir: string;
  let cleanup: () => void;
  beforeEach(() => {
    ({ dir, cleanup } = tempDirFor(runner, 'isolate-it-rtd-'));
    for (const d of ['a', 'b', 'home']) mkdirSync(join(dir, d));
    giveTo(runner, dir);
  });
  afterEach(() => cleanup());

  it('a sandbox started before isolate\'s state directory existed cannot reach the proxy of a run started after it', async () => {
    // A state directory no isolate has used yet: run B shows it, and waits for run A.
    const state = join(dir, 'state');
    mkdirSync(state);
    giveTo(runner, state);
    const env = { HOME: join(dir, 'home'), PATH: DEFAULT_PATH, XDG_STATE_HOME: state, ...backendEnv };
    const [ready, go] = [join(dir, 'b', 'ready'), join(dir, 'b', 'go')];
    const script = `touch ${ready}; while [ ! -e ${go} ]; do sleep 0.05; done; ls -R ${state} 2>&1; for s in ${state}/isolate/run/*/proxy.sock; do ${request('$s')}; done; true`;
    const b = isolateAsync(runner, ['run', '--backend', backend, '--net', 'none', '--allow-read', state, '--', 'sh', '-c', script], { cwd: join(dir, 'b'), env, timeoutMs: 80_000 });
    const sleep = uniqueSleep(25);
    let a: ChildProcess | undefined;
    let aErr = '';
    try {
      // Run A starts only once run B's sandbox is running.
      await pollFor('run B\'s sandbox', () => (existsSync(ready) ? true : undefined), START_WAIT_MS);
      a = spawnIsolate(runner, ['run', '--backend', backend, '--allow-domain', `localhost:${P}`, '--', 'sleep', sleep], { cwd: join(dir, 'a'), env });
      a.stderr?.setEncoding('utf8').on('data', (d: string) => (aErr += d));
      const pid = a.pid ?? -1;
      const socket = await pollFor('run A\'s proxy socket', () => proxySocketOf(pid), START_WAIT_MS);
      expect(socket.startsWith(`${state}/isolate/run/`), socket).toBe(true);
      await pollFor('run A\'s sandbox', () => (sleepProcs(sleep).length > 0 ? true : undefined), START_WAIT_MS);
      // Positive control: on the host, as the runner, the socket answers.
      const control = await asRunnerAsync(runner, ['sh', '-c', request(socket)], { cwd: dir, env });
      expect(control.stdout, `${control.stderr}\nrun A: ${aErr}`).toContain(BODY);
      writeFileSync(go, '');
      const r = await b;
      expect(r.status, r.stderr).toBe(0);
      expect(r.stdout, 'run B (--net none) got an answer through run A\'s proxy').not.toContain(BODY);
      expect(r.stdout, 'run B saw into isolate\'s state directory').not.toContain('audit.jsonl');
    } finally {
      a?.kill('SIGKILL');
      killSleepers(sleep);
      writeFileSync(go, '');
      await b.catch(() => undefined);
    }
  }, 40_000);
});

describe.each(runners())('a runtime directory that is not private ($label)', (runner) => {
  let dir: string;
  let xdg: string;
  let cleanup: () => void;
  let env: Record<string, string>;
  beforeEach(() => {
    ({ dir, cleanup } = tempDirFor(runner, 'isolate-it-rtd-'));
    xdg = join(dir, 'xdg');
    for (const d of ['project', 'home', 'xdg']) mkdirSync(join(dir, d));
    giveTo(runner, dir);
    chmodSync(xdg, 0o700);
    env = { HOME: join(dir, 'home'), PATH: DEFAULT_PATH, XDG_RUNTIME_DIR: xdg };
  });
  afterEach(() => cleanup());

  const refused = async (why: string): Promise<void> => {
    const marker = join(dir, 'project', 'ran.txt');
    const r = await isolateAsync(runner, ['run', '--allow-domain', `localhost:${P}`, '--', 'touch', marker], { cwd: join(dir, 'project'), env });
    expect(r.status, r.stderr).toBe(125);
    expect(r.stderr).toMatch(/^isolate: /);
    expect(r.stderr).toContain(`${xdg}/isolate ${why}`);
    expect(r.stderr).toContain('XDG_RUNTIME_DIR');
    expect(r.stderr).not.toMatch(STACK_LINE);
    expect(existsSync(marker), 'the command ran').toBe(false);
  };

  it('open to other users: refused (125), with a fix, and the command does not run', async () => {
    mkdirSync(join(xdg, 'isolate'), { mode: 0o755 });
    chmodSync(join(xdg, 'isolate'), 0o755);
    giveTo(runner, xdg);
    await refused('is open to other users (mode 0755');
  });

  it('a symlink, even to a private directory of the user\'s: refused', async () => {
    mkdirSync(join(dir, 'elsewhere'), { mode: 0o700 });
    symlinkSync(join(dir, 'elsewhere'), join(xdg, 'isolate'));
    giveTo(runner, dir);
    await refused('is not a directory (a symlink is never followed)');
  });

  it.runIf(runner.uid === 0)('another user\'s (as root, who could use it anyway): refused', async () => {
    mkdirSync(join(xdg, 'isolate'), { mode: 0o700 });
    chownSync(join(xdg, 'isolate'), 65534, 65534);
    await refused('belongs to uid 65534');
  });
});
