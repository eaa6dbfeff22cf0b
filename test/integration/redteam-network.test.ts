/**
 * Red team: the filtered network. One run reaching the network another run
 * is allowed (through that run's proxy socket), and the Host header of an
 * http:// request that the README says is always the decided host.
 *
 * The servers listen on 127.0.0.1 in this test process; the sandbox reaches
 * them as localhost:<port>, which needs a rule naming the host and the port.
 * Each test was written as a failing finding first; it now guards the fix.
 */
import { mkdirSync } from 'node:fs';
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { createServer as createNetServer, type AddressInfo, type Server as NetServer } from 'node:net';
import { dirname, join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { proxySocketOf } from '../helpers/proxy-socket.js';
import { asRunnerAsync, giveTo, isolateAsync, killSleepers, pollFor, runners, spawnIsolate, tempDirFor, uniqueSleep, DEFAULT_PATH, START_WAIT_MS } from '../helpers/isolate.js';

const BODY = 'rt-body-reached-through-another-run';
let http: HttpServer;
let raw: NetServer;
let P: number;
let RAW: number;
const received: string[] = [];

function listen(server: HttpServer | NetServer): Promise<number> {
  return new Promise((resolvePromise, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolvePromise((server.address() as AddressInfo).port));
  });
}

beforeAll(async () => {
  http = createHttpServer((_req, res) => res.end(BODY));
  P = await listen(http);
  raw = createNetServer((s) => {
    let data = '';
    s.on('data', (d: Buffer) => {
      data += d.toString('latin1');
      if (data.includes('\r\n\r\n')) {
        received.push(data);
        s.end('HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok');
      }
    });
    s.on('error', () => undefined);
  });
  RAW = await listen(raw);
});

afterAll(async () => {
  http.closeAllConnections();
  await new Promise<void>((r) => http.close(() => r()));
  await new Promise<void>((r) => raw.close(() => r()));
});

describe.each(runners())('red team: filtered network ($label)', (runner) => {
  let dir: string;
  let cleanup: () => void;
  let env: Record<string, string>;
  let base: string;
  beforeEach(() => {
    ({ dir, cleanup } = tempDirFor(runner, 'isolate-it-rtn-'));
    base = join(dir, 't');
    for (const d of ['a', 'b', 't']) mkdirSync(join(dir, d));
    giveTo(runner, dir);
    // No XDG_RUNTIME_DIR: isolate used to put the proxy's socket directory in this temp directory.
    env = { HOME: join(dir, 'home'), PATH: DEFAULT_PATH, TMPDIR: base };
  });
  afterEach(() => cleanup());

  it('a run without network cannot use a concurrent run\'s proxy (and so its allowed domains) through a readable temp directory', async () => {
    const sleep = uniqueSleep(20);
    const a = spawnIsolate(runner, ['run', '--allow-domain', `localhost:${P}`, '--', 'sleep', sleep], { cwd: join(dir, 'a'), env });
    try {
      // Wherever isolate puts it: the unix socket run A's isolate listens on.
      const socket = await pollFor('run A\'s proxy socket', () => proxySocketOf(a.pid ?? -1), START_WAIT_MS);
      // 10 s: run A's isolate answers once its own start is done, which a busy machine (CI runs files side by side) slows.
      const request = (s: string): string => `printf 'GET http://localhost:${P}/ HTTP/1.1\\r\\nHost: x\\r\\n\\r\\n' | timeout 10 socat - UNIX-CONNECT:${s}`;
      // Positive control: on the host, as the runner, the socket answers with the allowed server's body.
      const control = await asRunnerAsync(runner, ['sh', '-c', request(socket)], { cwd: dir, env });
      expect(control.stdout, control.stderr).toContain(BODY);
      // Run B shows the temp directory and the directory that holds isolate's own (else the one that holds the socket's).
      const own = socket.lastIndexOf('/isolate/');
      const parent = own > 0 ? socket.slice(0, own) : dirname(dirname(socket));
      const script = `for s in ${base}/isolate-net-*/proxy.sock ${socket}; do ${request('$s')}; done; true`;
      // Run B's own $TMPDIR is never shown whole (profile/socket-dirs.ts): refused. Run B of a session with another
      // $TMPDIR shows run A's temp directory as any directory of the user's.
      const ownTmp = await isolateAsync(runner, ['run', '--net', 'none', '--allow-read', base, '--', 'true'], { cwd: join(dir, 'b'), env });
      expect(ownTmp.status, ownTmp.stderr).toBe(125);
      expect(ownTmp.stderr).toContain(`is ${base}, where the host's services keep their sockets`);
      const { TMPDIR: _a, ...otherSession } = env;
      const b = await isolateAsync(runner, ['run', '--net', 'none', '--allow-read', base, '--allow-read', parent, '--', 'sh', '-c', script], { cwd: join(dir, 'b'), env: otherSession });
      expect(b.status, b.stderr).toBe(0);
      expect(b.stdout, 'run B (--net none) got an answer from localhost through run A\'s proxy').not.toContain(BODY);
    } finally {
      a.kill('SIGKILL');
      killSleepers(sleep);
      await new Promise((r) => setTimeout(r, 300));
    }
  });

  it('an http:// request cannot send the upstream a Host header of its own (bare LF inside another header)', async () => {
    const send = (head: string) =>
      isolateAsync(runner, ['run', '--allow-domain', `localhost:${RAW}`, '--', 'sh', '-c', `printf '${head}' | timeout 20 socat - TCP:127.0.0.1:3128; true`], {
        cwd: join(dir, 'a'),
        env,
      });
    // Control: with CRLF line ends the request reaches the upstream, with the decided Host instead of the client's.
    received.length = 0;
    const control = await send(`GET http://localhost:${RAW}/ HTTP/1.1\\r\\nX-A: a\\r\\nHost: evil.example\\r\\n\\r\\n`);
    expect(control.status, control.stderr).toBe(0);
    expect(received.join('\n'), 'the proxy forwarded the request').toContain('GET / HTTP/1.1');
    expect(received.join('\n')).toContain(`Host: localhost:${RAW}`);
    expect(received.join('\n'), 'the upstream saw the Host header the client chose').not.toMatch(/\nHost: evil\.example/);
    // A bare LF inside a header: refused (400, as documented for a header value with a control character), never passed on.
    received.length = 0;
    const r = await send(`GET http://localhost:${RAW}/ HTTP/1.1\\r\\nX-A: a\\nHost: evil.example\\r\\n\\r\\n`);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^HTTP\/1\.1 400 /);
    const seen = received.join('\n');
    expect(seen, 'the upstream saw a second Host header the client chose').not.toMatch(/\nHost: evil\.example/);
    expect(seen, 'a request with a bare LF reached the upstream').toBe('');
  });
});
