/**
 * Red team: what an opaque tunnel to an allowed host may carry. The proxy
 * refuses a CONNECT tunnel whose TLS ClientHello names another server than
 * the CONNECT line (domain fronting: a CDN routes by that name), and sends
 * an http:// request on with the Host it decided on, so a request cannot
 * reach another site served from the same address. A SOCKS5 tunnel to the
 * same host, or a tunnel carrying plain HTTP (CONNECT or SOCKS5 to port
 * 80: no TLS, a Host header of the command's choice), must not be a way
 * around either: plain HTTP in a tunnel reaches the server with the
 * tunnel's host as its Host, or not at all.
 *
 * Two loopback servers stand in for the allowed host: a TLS one that
 * records the server name of every ClientHello, and a plain one that
 * records every request head. A hostile python client in the sandbox
 * writes the tunnels itself.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer as createNetServer, type AddressInfo, type Server as NetServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer as createTlsServer, type Server as TlsServer } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeCerts } from '../helpers/credential-site.js';
import { TEMP_PREFIX, giveTo, homeWithProject, isolateAsync, type Project } from '../helpers/isolate.js';
import { backendCases, type BackendCase } from '../helpers/backends.js';

let certDir: string;
let tls: TlsServer;
let plain: NetServer;
let TLS = 0;
let PLAIN = 0;
const names: string[] = [];
const heads: string[] = [];
const sockets = new Set<Socket>();

/** Opens a tunnel (CONNECT or SOCKS5) per case, then speaks TLS naming a server, or plain HTTP with a Host; prints the case and what came back. */
const CLIENT = `
import socket, ssl, struct, sys, time
tls_port, plain_port = int(sys.argv[1]), int(sys.argv[2])
def tunnel(kind, port):
    s = socket.create_connection(("127.0.0.1", 3128))
    if kind == "socks5":
        s.sendall(b"\\x05\\x01\\x00"); s.recv(2)
        s.sendall(b"\\x05\\x01\\x00\\x01" + socket.inet_aton("127.0.0.1") + struct.pack(">H", port))
        ok = s.recv(10)[1] == 0
    else:
        s.sendall(("CONNECT 127.0.0.1:%d HTTP/1.1\\r\\nHost: 127.0.0.1:%d\\r\\n\\r\\n" % (port, port)).encode())
        ok = s.recv(4096).startswith(b"HTTP/1.1 200")
    if not ok: raise OSError("tunnel refused")
    return s
def read(s):
    out = b""
    try:
        while True:
            d = s.recv(65536)
            if not d: break
            out += d
    except OSError: pass
    return out
def fronted(kind, name):
    s = tunnel(kind, tls_port)
    ctx = ssl.create_default_context(); ctx.check_hostname = False; ctx.verify_mode = ssl.CERT_NONE
    try:
        t = ctx.wrap_socket(s, server_hostname=name)
        t.sendall(("GET / HTTP/1.1\\r\\nHost: %s\\r\\nConnection: close\\r\\n\\r\\n" % name).encode())
        return read(t).split(b"\\r\\n")[0].decode() or "closed"
    except (ssl.SSLError, OSError): return "refused"
def plain_http(kind, *pieces):
    s = tunnel(kind, plain_port)
    for i, piece in enumerate(pieces):
        if i: time.sleep(0.3)
        s.sendall(piece.encode())
    return read(s).split(b"\\r\\n")[0].decode() or "closed"
for kind in ("connect", "socks5"):
    print(kind, "tls-control", fronted(kind, None))
    print(kind, "tls-fronted", fronted(kind, "fronted.example"))
    print(kind, "http-other-host", plain_http(kind, "GET /%s HTTP/1.1\\r\\nHost: other-site.example\\r\\n\\r\\n" % kind))
    print(kind, "http-lower-case", plain_http(kind, "\\r\\nget /%s-lower HTTP/1.0\\r\\nHost: other-site.example\\r\\n\\r\\n" % kind))
    print(kind, "http-in-pieces", plain_http(kind, "G", "ET /%s-pieces HTTP/1.1\\r\\nHost: other-site.example\\r\\n\\r\\n" % kind))
    print(kind, "not-http", plain_http(kind, "PING %s\\r\\n" % kind))
`;

beforeAll(async () => {
  certDir = mkdtempSync(join(tmpdir(), `${TEMP_PREFIX}tunnel-`));
  makeCerts(certDir);
  const track = (s: Socket): void => {
    sockets.add(s);
    s.once('close', () => sockets.delete(s));
    s.on('error', () => undefined);
  };
  tls = createTlsServer({
    key: readFileSync(join(certDir, 'server.key')),
    cert: readFileSync(join(certDir, 'server.pem')),
    SNICallback: (name, cb) => {
      names.push(name);
      cb(null, undefined);
    },
  }, (s) => {
    track(s);
    s.once('data', () => s.end('HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok'));
  });
  plain = createNetServer((s) => {
    track(s);
    let data = '';
    s.on('data', (d: Buffer) => {
      data += d.toString('latin1');
      // A request head, or a line of another protocol.
      if (data.includes('\r\n\r\n') || (!/HTTP\//.test(data) && data.includes('\r\n'))) {
        heads.push(data);
        s.end(data.startsWith('PING') ? 'PONG\r\n' : 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok');
      }
    });
  });
  const listen = (server: TlsServer | NetServer): Promise<number> =>
    new Promise((resolvePromise) => server.listen(0, '127.0.0.1', () => resolvePromise((server.address() as AddressInfo).port)));
  [TLS, PLAIN] = await Promise.all([listen(tls), listen(plain)]);
});

afterAll(async () => {
  for (const s of sockets) s.destroy();
  await Promise.all([tls, plain].map((server) => new Promise<void>((resolvePromise) => server.close(() => resolvePromise()))));
  rmSync(certDir, { recursive: true, force: true });
});

describe.each(backendCases('tunnel contents'))('an opaque tunnel goes to its host only ($label)', ({ runner, backend, backendEnv }: BackendCase) => {
  let p: Project;

  beforeAll(() => {
    p = homeWithProject(runner);
    writeFileSync(join(p.project, 'tunnels.py'), CLIENT);
    giveTo(runner, p.home);
  });
  afterAll(() => p.cleanup());

  it('TLS naming another server through SOCKS5 is refused; plain HTTP through CONNECT or SOCKS5 reaches the server with the tunnel\'s host as Host, or not at all', async () => {
    const [namesBefore, headsBefore] = [names.length, heads.length];
    const r = await isolateAsync(
      runner,
      ['run', '--json', '--backend', backend, '--allow-domain', `127.0.0.1:${TLS}`, '--allow-domain', `127.0.0.1:${PLAIN}`, '--', 'python3', 'tunnels.py', String(TLS), String(PLAIN)],
      { cwd: p.project, env: { ...p.env, ...backendEnv, XDG_STATE_HOME: join(p.home, 'state') }, timeoutMs: 30_000 },
    );
    const report = JSON.parse(r.stdout) as { exitCode: number; stdout: string; stderr: string; network: { events: { protocol: string; port: number; decision: string; reason: string }[] } };
    expect(report.exitCode, report.stderr).toBe(0);
    const each = (kind: string): string[] => [
      `${kind} tls-control HTTP/1.1 200 OK`,
      `${kind} tls-fronted refused`,
      `${kind} http-other-host HTTP/1.1 200 OK`,
      `${kind} http-lower-case closed`,
      `${kind} http-in-pieces closed`,
      `${kind} not-http PONG`,
    ];
    expect(report.stdout.trimEnd().split('\n')).toEqual([...each('connect'), ...each('socks5')]);
    // What reached the servers: ClientHellos without a server name; requests naming the tunnel's host only, and the other protocol's lines.
    expect(names.slice(namesBefore)).toEqual([]);
    const pinned = (kind: string): string => `GET /${kind} HTTP/1.1\r\nHost: 127.0.0.1:${PLAIN}\r\nConnection: close\r\n\r\n`;
    expect(heads.slice(headsBefore)).toEqual([pinned('connect'), 'PING connect\r\n', pinned('socks5'), 'PING socks5\r\n']);
    const denied = report.network.events.filter((e) => e.decision === 'denied').map((e) => `${e.protocol} ${e.reason}`).sort();
    expect(denied).toEqual([
      expect.stringMatching(/^connect plain HTTP inside a tunnel, sent in pieces/),
      expect.stringMatching(/^connect plain HTTP inside a tunnel: a malformed request head/),
      expect.stringMatching(/^connect the TLS server name "fronted.example" is not the CONNECT host 127\.0\.0\.1 /),
      expect.stringMatching(/^socks5 plain HTTP inside a tunnel, sent in pieces/),
      expect.stringMatching(/^socks5 plain HTTP inside a tunnel: a malformed request head/),
      expect.stringMatching(/^socks5 the TLS server name "fronted.example" is not the SOCKS5 host 127\.0\.0\.1 /),
    ]);
  });
});
