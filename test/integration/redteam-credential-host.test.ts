/**
 * Red team: a credential added inside a terminated TLS tunnel must go to the
 * CONNECT host and nowhere else. A CDN routes a request by its Host header,
 * or by the host of an absolute-form target (RFC 9112 3.2.2: the server then
 * ignores Host); a sandboxed command that names another site there would
 * have the real token (or an aws signature made with the real keys) carried
 * to that site's origin: domain fronting. Each such request must be refused
 * by isolate's proxy, recorded, and never reach the server.
 *
 * The command writes its requests itself (a CONNECT, TLS, then raw HTTP),
 * as a hostile command would. A loopback HTTPS server stands in for the
 * credential host and records every request it receives.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listenAll, makeCerts, stopAll } from '../helpers/credential-site.js';
import { TEMP_PREFIX, giveTo, homeWithProject, isolateAsync, type Project } from '../helpers/isolate.js';
import { backendCases, type BackendCase } from '../helpers/backends.js';

const TOKEN = `ghp_${randomBytes(27).toString('base64url').replace(/[-_]/g, 'x')}`;

let certDir: string;
let api: Server;
let API = 0;
const seen: { url: string; hosts: string[]; authorization: string | undefined }[] = [];

/** One raw request per case named in its arguments, each on its own tunnel; prints the case, the status, and X-Isolate-Denied when the proxy refused it. */
const RAW_CLIENT = `
import os, socket, ssl, sys
port, token = sys.argv[1], os.environ["GITHUB_TOKEN"]
host = "127.0.0.1:" + port
CASES = {
    "control": ("/control", ["Host: " + host]),
    "duplicate-host": ("/duplicate-host", ["Host: " + host, "Host: fronted.example"]),
    "absolute-form": ("https://fronted.example/absolute-form", ["Host: " + host]),
    "authority-form": ("fronted.example:443", ["Host: " + host]),
    "host-other-port": ("/host-other-port", ["Host: 127.0.0.1:1"]),
}
for name in sys.argv[2:]:
    target, lines = CASES[name]
    s = socket.create_connection(("127.0.0.1", 3128))
    s.sendall(("CONNECT %s HTTP/1.1\\r\\nHost: %s\\r\\n\\r\\n" % (host, host)).encode())
    s.recv(4096)
    ctx = ssl.create_default_context(); ctx.check_hostname = False; ctx.verify_mode = ssl.CERT_NONE
    t = ctx.wrap_socket(s, server_hostname=None)
    head = ["GET %s HTTP/1.1" % target] + lines + ["Authorization: Bearer " + token, "Connection: close", "", ""]
    t.sendall("\\r\\n".join(head).encode())
    out = b""
    while True:
        d = t.recv(65536)
        if not d: break
        out += d
    status = out.split(b"\\r\\n")[0].decode()
    denied = [l for l in out.split(b"\\r\\n\\r\\n")[0].decode().split("\\r\\n") if l.lower().startswith("x-isolate-denied")]
    print(name, status.split(" ")[1] if " " in status else status, denied[0] if denied else "")
    t.close()
`;

beforeAll(async () => {
  certDir = mkdtempSync(join(tmpdir(), `${TEMP_PREFIX}front-`));
  makeCerts(certDir);
  const tls = { key: readFileSync(join(certDir, 'server.key')), cert: readFileSync(join(certDir, 'server.pem')) };
  api = createServer(tls, (req, res) => {
    seen.push({ url: req.url ?? '', hosts: hostValues(req.rawHeaders), authorization: req.headers.authorization });
    res.end('ok');
  });
  [API = 0] = await listenAll(api);
});

afterAll(async () => {
  await stopAll(api);
  rmSync(certDir, { recursive: true, force: true });
});

function hostValues(raw: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i + 1 < raw.length; i += 2) if (raw[i]?.toLowerCase() === 'host') out.push(raw[i + 1] ?? '');
  return out;
}

interface Report {
  exitCode: number;
  stdout: string;
  stderr: string;
  network: { events: { port: number; decision: string; reason: string }[] };
}

describe.each(backendCases('credential fronting'))('a credential goes to the CONNECT host only ($label)', ({ runner, backend, backendEnv }: BackendCase) => {
  let p: Project;
  let profile: string;

  beforeAll(() => {
    p = homeWithProject(runner);
    const lines = [
      'extends: default',
      'network:',
      '  mode: filtered',
      `  allow: ["127.0.0.1:${API}"]`,
      `  upstreamCa: ${join(p.home, 'test-ca.pem')}`,
      'credentials:',
      `  - { name: GITHUB_TOKEN, from: { env: GITHUB_TOKEN }, hosts: ["127.0.0.1:${API}"] }`,
      '',
    ];
    writeFileSync(join(p.home, 'test-ca.pem'), readFileSync(join(certDir, 'ca.pem')));
    profile = join(p.home, 'front.yaml');
    writeFileSync(profile, lines.join('\n'), { mode: 0o644 });
    writeFileSync(join(p.project, 'raw.py'), RAW_CLIENT);
    giveTo(runner, p.home);
  });
  afterAll(() => p.cleanup());

  it('a second Host, an absolute-form or authority-form target, a Host of another port: refused, recorded, never sent on', async () => {
    const before = seen.length;
    const cases = ['control', 'duplicate-host', 'absolute-form', 'authority-form', 'host-other-port'];
    const r = await isolateAsync(runner, ['run', '--json', '--backend', backend, '-p', profile, '--', 'python3', 'raw.py', String(API), ...cases], {
      cwd: p.project,
      env: { ...p.env, ...backendEnv, XDG_STATE_HOME: join(p.home, 'state'), GITHUB_TOKEN: TOKEN },
      timeoutMs: 30_000,
    });
    expect(r.stdout + r.stderr).not.toContain(TOKEN);
    const report = JSON.parse(r.stdout) as Report;
    expect(report.exitCode, report.stderr).toBe(0);
    const denied = (why: string): RegExp => new RegExp(`403 X-Isolate-Denied: ${why}`, 'i');
    expect(report.stdout.trimEnd().split('\n').map((l) => l.slice(l.indexOf(' ') + 1))).toEqual([
      '200 ',
      expect.stringMatching(denied('the request has 2 Host headers')),
      expect.stringMatching(denied('the request\'s target "https://fronted.example/absolute-form" is not a path')),
      // Node's HTTP parser answers an authority-form target outside CONNECT itself.
      '400 ',
      expect.stringMatching(denied(`the request's Host "127\\.0\\.0\\.1:1" is not the CONNECT host 127\\.0\\.0\\.1:${API}`)),
    ]);
    const refusals = report.network.events.filter((e) => e.port === API && e.decision === 'denied').map((e) => e.reason);
    expect(refusals).toEqual([expect.stringMatching(/2 Host headers/), expect.stringMatching(/is not a path/), expect.stringMatching(/is not the CONNECT host/)]);
    // The server saw the control request, with the token, and nothing else.
    expect(seen.slice(before)).toEqual([{ url: '/control', hosts: [`127.0.0.1:${API}`], authorization: `Bearer ${TOKEN}` }]);
  });
});
