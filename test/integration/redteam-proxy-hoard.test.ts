/**
 * Red team: a command that hoards connections through the filtered
 * network's proxy. Each open tunnel can hold relay buffers in isolate,
 * which runs outside the sandbox and its memory limit: a command that
 * opened tunnels to a server sending data and never read them grew
 * isolate's memory by about 1 MiB a tunnel, without end (300 took it from
 * 67 to 280 MB). The proxy holds at most MAX_OPEN_CLIENTS of a run's
 * connections open at once; the rest are refused and recorded.
 *
 * Judged on the host: how many connections reached the loopback server.
 */
import { writeFileSync } from 'node:fs';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_OPEN_CLIENTS } from '../../src/network/proxy.js';
import { giveTo, homeWithProject, isolateAsync, type Project } from '../helpers/isolate.js';
import { backendCases, type BackendCase } from '../helpers/backends.js';

const TRIES = MAX_OPEN_CLIENTS + 40;

/** Opens TRIES tunnels to the server and keeps them all open without reading past each reply's first line; prints how many were refused. */
const HOARDER = `
import socket, sys, time
port, tries = int(sys.argv[1]), int(sys.argv[2])
held, ok, refused = [], 0, 0
for i in range(tries):
    s = socket.create_connection(("127.0.0.1", 3128))
    s.sendall(("CONNECT 127.0.0.1:%d HTTP/1.1\\r\\nHost: 127.0.0.1:%d\\r\\n\\r\\n" % (port, port)).encode())
    line = s.recv(12)
    if line.startswith(b"HTTP/1.1 200"): ok += 1
    elif line.startswith(b"HTTP/1.1 403"): refused += 1
    held.append(s)
print("ok", ok, "refused", refused)
sys.stdout.flush()
time.sleep(0.5)
`;

let server: Server;
let PORT = 0;
let accepted = 0;
const sockets = new Set<Socket>();

beforeAll(async () => {
  server = createServer((s) => {
    accepted++;
    sockets.add(s);
    s.once('close', () => sockets.delete(s));
    s.on('error', () => undefined);
    s.write(Buffer.alloc(4 << 20, 0x61)); // more than any socket buffer: the rest waits in the writer
  });
  await new Promise<void>((resolvePromise) => server.listen(0, '127.0.0.1', resolvePromise));
  PORT = (server.address() as AddressInfo).port;
});

afterAll(async () => {
  for (const s of sockets) s.destroy();
  await new Promise<void>((resolvePromise) => server.close(() => resolvePromise()));
});

describe.each(backendCases('hoarded connections'))('connections held open through the proxy ($label)', ({ runner, backend, backendEnv }: BackendCase) => {
  let p: Project;

  beforeAll(() => {
    p = homeWithProject(runner);
    writeFileSync(join(p.project, 'hoard.py'), HOARDER);
    giveTo(runner, p.home);
  });
  afterAll(() => p.cleanup());

  it(`at most ${MAX_OPEN_CLIENTS} reach the server at once; the others are refused and recorded`, async () => {
    const before = accepted;
    const r = await isolateAsync(
      runner,
      ['run', '--json', '--backend', backend, '--allow-domain', `127.0.0.1:${PORT}`, '--', 'python3', 'hoard.py', String(PORT), String(TRIES)],
      { cwd: p.project, env: { ...p.env, ...backendEnv, XDG_STATE_HOME: join(p.home, 'state') }, timeoutMs: 60_000 },
    );
    const report = JSON.parse(r.stdout) as { exitCode: number; stdout: string; stderr: string; network: { events: { decision: string; reason: string }[] } };
    expect(report.exitCode, report.stderr).toBe(0);
    expect(report.stdout.trim()).toBe(`ok ${MAX_OPEN_CLIENTS} refused ${TRIES - MAX_OPEN_CLIENTS}`);
    expect(accepted - before).toBe(MAX_OPEN_CLIENTS);
    const refused = report.network.events.filter((e) => e.decision === 'denied');
    expect(refused).toHaveLength(TRIES - MAX_OPEN_CLIENTS);
    for (const e of refused) expect(e.reason).toMatch(new RegExp(`more than ${MAX_OPEN_CLIENTS} connections`));
  });
});
