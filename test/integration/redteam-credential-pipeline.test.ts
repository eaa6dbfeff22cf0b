/**
 * Red team: requests pipelined on one terminated tunnel. The proxy answers
 * the TLS of a credential host's tunnel itself and sends each request on
 * over a connection of its own, which holds read buffers (1 MiB) in
 * isolate, outside the sandbox and its memory limit. The proxy holds at
 * most MAX_OPEN_CLIENTS of the command's connections (redteam-proxy-hoard),
 * but one tunnel carried as many requests as the command wrote into it
 * (HTTP/1.1 pipelining): each went on at once, over its own connection, so
 * a command that sent 300 requests in one write and read no answer made
 * isolate open 300 connections to the host and hold their buffers, and
 * 128 tunnels as many times more. A terminated tunnel now sends its
 * requests on one at a time, the next once the answer before it is done;
 * a command that queues more than MAX_PIPELINED behind it has its tunnel
 * closed, recorded as refused.
 *
 * Judged on the host: how many connections the loopback server had at once.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TLSSocket } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_PIPELINED } from '../../src/network/credentials/terminate.js';
import { loopbackCredentialProfile, startTlsSite, type TlsSite } from '../helpers/credential-site.js';
import { giveTo, homeWithProject, isolateAsync, runners, type Project, type Runner } from '../helpers/isolate.js';

const TRIES = 300;

/** One CONNECT to the credential host, TLS with the run's CA, TRIES requests in one write, no answer read. */
const PIPELINER = `
import socket, ssl, sys, time
port, tries = int(sys.argv[1]), int(sys.argv[2])
s = socket.create_connection(("127.0.0.1", 3128))
s.sendall(("CONNECT 127.0.0.1:%d HTTP/1.1\\r\\nHost: 127.0.0.1:%d\\r\\n\\r\\n" % (port, port)).encode())
assert s.recv(39).startswith(b"HTTP/1.1 200")
t = ssl.create_default_context().wrap_socket(s, server_hostname="127.0.0.1")
t.sendall(b"".join(b"GET /%s/%d HTTP/1.1\\r\\nHost: 127.0.0.1:%d\\r\\n\\r\\n" % (sys.argv[3].encode(), i, port) for i in range(tries)))
if sys.argv[3] == "large":
    time.sleep(3)
    print("sent", tries)
else:
    got = b""
    while got.count(b"small answer") < tries:
        got += t.recv(65536)
    print(" ".join(l.decode() for l in got.split(b"\\r\\n") if l.startswith(b"small answer")))
`;

let site: TlsSite;
let PORT = 0;
let open = 0;
let most = 0;
let accepted = 0;
const sockets = new Set<TLSSocket>();

beforeAll(async () => {
  site = await startTlsSite('pipeline', (s) => {
    accepted++;
    most = Math.max(most, ++open);
    sockets.add(s);
    s.once('close', () => {
      open--;
      sockets.delete(s);
    });
    s.on('error', () => undefined);
    s.once('data', (d: Buffer) => {
      const path = d.toString('latin1').split(' ')[1] ?? '';
      // To /large/: more than the buffers on the way hold, so the rest waits in the writer.
      if (path.startsWith('/large/')) s.end(Buffer.concat([Buffer.from(`HTTP/1.1 200 OK\r\nContent-Length: ${4 << 20}\r\n\r\n`), Buffer.alloc(4 << 20, 0x61)]));
      else s.end(`HTTP/1.1 200 OK\r\nContent-Length: ${`small answer ${path}\r\n`.length}\r\n\r\nsmall answer ${path}\r\n`);
    });
  });
  PORT = site.port;
});

afterAll(() => site.stop());

describe.each(runners())('requests pipelined on a terminated tunnel ($label)', (runner: Runner) => {
  let p: Project;
  let profile: string;

  beforeAll(() => {
    p = homeWithProject(runner);
    writeFileSync(join(p.project, 'pipeline.py'), PIPELINER);
    profile = loopbackCredentialProfile(p.home, 'pipeline', site.caPem, PORT);
    giveTo(runner, p.home);
  });
  afterAll(() => p.cleanup());

  const pipeline = async (tries: number, answer: 'large' | 'small') => {
    [most, accepted] = [open, 0];
    const r = await isolateAsync(runner, ['run', '--json', '-p', profile, '--', 'python3', 'pipeline.py', String(PORT), String(tries), answer], {
      cwd: p.project,
      env: { ...p.env, XDG_STATE_HOME: join(p.home, 'state'), GITHUB_TOKEN: 'ghp_0123456789abcdefghijABCDEFGHIJ012345' },
      timeoutMs: 60_000,
    });
    return JSON.parse(r.stdout) as { exitCode: number; stdout: string; stderr: string; network: { events: { decision: string; reason: string }[] } };
  };

  it(`go on one at a time; more than ${MAX_PIPELINED} waiting close the tunnel, recorded as refused`, async () => {
    const report = await pipeline(TRIES, 'large');
    expect(report.exitCode, report.stderr).toBe(0);
    expect(report.stdout.trim()).toBe(`sent ${TRIES}`);
    // The first request may be sent on (or the tunnel closed before its connection was made); never a second beside it.
    expect(most, 'connections the server had at once').toBeLessThanOrEqual(1);
    expect(accepted).toBeLessThanOrEqual(1);
    expect(report.network.events).toEqual([expect.objectContaining({ decision: 'denied', reason: expect.stringMatching(new RegExp(`more than ${MAX_PIPELINED} requests`)) })]);
  });

  it('control: a few pipelined requests are each answered, in order, one connection at a time', async () => {
    const report = await pipeline(5, 'small');
    expect(report.exitCode, report.stderr).toBe(0);
    expect(report.stdout.trim()).toBe([0, 1, 2, 3, 4].map((i) => `small answer /small/${i}`).join(' '));
    expect(accepted).toBe(5);
    expect(most).toBe(1);
    expect(report.network.events).toEqual([expect.objectContaining({ decision: 'allowed' })]);
  });
});
