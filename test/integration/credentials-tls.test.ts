/**
 * Credentials over HTTPS in real sandboxes, against loopback HTTPS servers
 * with a test CA made here: the proxy terminates TLS for the credential
 * host only (its certificate from the run's CA, trusted through the run's
 * bundle), verifies the real server against network.upstreamCa, and puts
 * the token in; curl, python (urllib, requests) and node authenticate with
 * the placeholder. Another allowed HTTPS host stays an opaque tunnel; a
 * ClientHello naming another server is refused and recorded; an upstream
 * the proxy cannot verify is refused; no file holds the token or a key.
 * Under bubblewrap, and nsjail where it is installed.
 */
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { filesUnder, listenAll, makeCerts, stopAll } from '../helpers/credential-site.js';
import { DEFAULT_PATH, TEMP_PREFIX, giveTo, homeWithProject, isolateAsync, type Project, type Result } from '../helpers/isolate.js';
import { backendCases, type BackendCase } from '../helpers/backends.js';

const TOKEN = `ghp_${randomBytes(27).toString('base64url').replace(/[-_]/g, 'x')}`;

let certDir: string;
let api: Server;
let other: Server;
let git: Server;
let API: number;
let OTHER: number;
let GIT: number;
let gitAuth: (string | undefined)[] = [];
const seen: { url: string; authorization: string | undefined }[] = [];
const otherSeen: { url: string; authorization: string | undefined }[] = [];

/** A bare repository with one commit, served by git http-backend (smart HTTP) behind Basic authentication with the token. */
function gitServer(tls: { key: Buffer; cert: Buffer }): Server {
  const work = join(certDir, 'work');
  const run = (args: string[], cwd: string): void => {
    const r = spawnSync('git', args, { cwd, encoding: 'utf8', env: { PATH: DEFAULT_PATH, HOME: certDir, GIT_CONFIG_NOSYSTEM: '1' } });
    if (r.status !== 0) throw new Error(`git ${args.join(' ')}: ${r.stderr}`);
  };
  run(['init', '-q', '-b', 'main', work], certDir);
  writeFileSync(join(work, 'README'), 'cloned through isolate\n');
  run(['add', 'README'], work);
  run(['-c', 'user.name=t', '-c', 'user.email=t@localhost', 'commit', '-q', '-m', 'one'], work);
  run(['clone', '-q', '--bare', work, join(certDir, 'repo.git')], certDir);
  return createServer(tls, (req, res) => {
    gitAuth.push(req.headers.authorization);
    if (req.headers.authorization !== `Basic ${Buffer.from(`x-access-token:${TOKEN}`).toString('base64')}`) {
      res.writeHead(401, { 'www-authenticate': 'Basic realm="git"' }).end();
      return;
    }
    const url = new URL(req.url ?? '/', 'https://x');
    const cgi = spawn('git', ['http-backend'], {
      env: { PATH: DEFAULT_PATH, GIT_PROJECT_ROOT: certDir, GIT_HTTP_EXPORT_ALL: '1', PATH_INFO: url.pathname, QUERY_STRING: url.search.slice(1), REQUEST_METHOD: req.method ?? 'GET', CONTENT_TYPE: req.headers['content-type'] ?? '', REMOTE_USER: 'x-access-token', GIT_CONFIG_NOSYSTEM: '1', HOME: certDir },
    });
    req.pipe(cgi.stdin);
    const out: Buffer[] = [];
    cgi.stdout.on('data', (d: Buffer) => out.push(d));
    cgi.on('close', () => {
      const all = Buffer.concat(out);
      const split = all.indexOf('\r\n\r\n');
      const head = all.subarray(0, split).toString().split('\r\n');
      const status = Number(/^Status: (\d+)/m.exec(head.join('\n'))?.[1] ?? 200);
      const headers = Object.fromEntries(head.filter((l) => !l.startsWith('Status:')).map((l) => [l.slice(0, l.indexOf(':')), l.slice(l.indexOf(':') + 1).trim()]));
      res.writeHead(status, headers).end(all.subarray(split + 4));
    });
  });
}

beforeAll(async () => {
  certDir = mkdtempSync(join(tmpdir(), `${TEMP_PREFIX}tls-`));
  makeCerts(certDir);
  const tls = { key: readFileSync(join(certDir, 'server.key')), cert: readFileSync(join(certDir, 'server.pem')) };
  api = createServer(tls, (req, res) => {
    seen.push({ url: req.url ?? '', authorization: req.headers.authorization });
    const auth = req.headers.authorization ?? '';
    if (req.url === '/echo-split') {
      // Claims a binary type, and echoes the token split across two chunks of a chunked body (and two TLS records).
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      res.write(`you sent: ${auth.slice(0, 20)}`);
      setTimeout(() => res.end(auth.slice(20)), 50);
      return;
    }
    if (req.url === '/echo-gzip' || req.url === '/echo-compress') {
      // Compresses its echo whatever the request's Accept-Encoding says (the proxy asks for none); gzip in two chunks.
      const body = gzipSync(`you sent: ${auth}`);
      res.writeHead(200, { 'content-encoding': req.url === '/echo-gzip' ? 'gzip' : 'compress', 'content-type': 'text/plain' });
      res.write(body.subarray(0, 20));
      setTimeout(() => res.end(body.subarray(20)), 50);
      return;
    }
    if (req.url === '/echo-te-gzip') {
      // Compressed as a transfer coding: once its chunks are read the body is still a gzip stream, which no header passed on names.
      res.writeHead(200, { 'transfer-encoding': 'gzip, chunked', 'content-type': 'text/plain' });
      res.end(gzipSync(`you sent: ${auth}`));
      return;
    }
    res.end(req.url?.startsWith('/echo') === true ? `you sent: ${auth}` : auth === `Bearer ${TOKEN}` ? 'authenticated' : 'unauthenticated');
  });
  other = createServer(tls, (req, res) => {
    otherSeen.push({ url: req.url ?? '', authorization: req.headers.authorization });
    res.end('other');
  });
  git = gitServer(tls);
  [API = 0, OTHER = 0, GIT = 0] = await listenAll(api, other, git);
});

afterAll(async () => {
  await stopAll(api, other, git);
  rmSync(certDir, { recursive: true, force: true });
});


interface Report {
  exitCode: number;
  stdout: string;
  stderr: string;
  network: {
    events: { protocol: string; host: string; port: number; decision: string; reason: string; error?: string }[];
    credentials?: { events: { name: string; kind: string; host: string; port: number; path: string }[] };
  };
}

/** Node has no proxy support of its own in version 20: a CONNECT through isolate's proxy, then https over that socket. */
const NODE_CLIENT = `
const http = require('http'), https = require('https');
const [host, port, path] = process.argv.slice(1);
http.request({ host: '127.0.0.1', port: 3128, method: 'CONNECT', path: host + ':' + port }).on('connect', (_res, socket) => {
  https.get({ socket, servername: undefined, host, port, path, agent: false, headers: { Authorization: 'Bearer ' + process.env.GITHUB_TOKEN } }, (res) => res.pipe(process.stdout));
}).end();`;

/** A CONNECT to 127.0.0.1:port, then TLS naming another server: what a domain-fronting client does. */
const FRONTING = `
import socket, ssl, sys
s = socket.create_connection(("127.0.0.1", 3128))
s.sendall(("CONNECT 127.0.0.1:%s HTTP/1.1\\r\\nHost: 127.0.0.1\\r\\n\\r\\n" % sys.argv[1]).encode())
print(s.recv(4096).split(b"\\r\\n")[0].decode())
ctx = ssl.create_default_context(); ctx.check_hostname = False; ctx.verify_mode = ssl.CERT_NONE
try:
    ctx.wrap_socket(s, server_hostname="fronted.example").sendall(b"GET / HTTP/1.1\\r\\nHost: fronted.example\\r\\n\\r\\n")
    print("handshake completed")
except (ssl.SSLError, OSError) as e:
    print("refused")`;

describe.each(backendCases('credentials over HTTPS'))('credentials over HTTPS ($label)', ({ runner, backend, backendEnv }: BackendCase) => {
  let p: Project;
  let state: string;
  let profile: string;
  let unverified: string;

  beforeAll(() => {
    p = homeWithProject(runner);
    state = join(p.home, 'state');
    copyFileSync(join(certDir, 'ca.pem'), join(p.home, 'test-ca.pem'));
    copyFileSync(join(certDir, 'ca.pem'), join(p.project, 'test-ca.pem'));
    const lines = (upstreamCa: boolean): string =>
      [
        'extends: default',
        'network:',
        '  mode: filtered',
        `  allow: ["127.0.0.1:${API}", "127.0.0.1:${OTHER}", "127.0.0.1:${GIT}"]`,
        ...(upstreamCa ? [`  upstreamCa: ${join(p.home, 'test-ca.pem')}`] : []),
        'credentials:',
        `  - { name: GITHUB_TOKEN, from: { env: GITHUB_TOKEN }, hosts: ["127.0.0.1:${API}", "127.0.0.1:${GIT}"] }`,
        '',
      ].join('\n');
    profile = join(p.home, 'tls.yaml');
    unverified = join(p.home, 'unverified.yaml');
    writeFileSync(profile, lines(true), { mode: 0o644 });
    writeFileSync(unverified, lines(false), { mode: 0o644 });
    giveTo(runner, p.home);
  });
  afterAll(() => p.cleanup());

  async function run(script: string, prof = profile): Promise<Result & { report: Report }> {
    const r = await isolateAsync(runner, ['run', '--json', '--backend', backend, '-p', prof, '--', 'sh', '-c', script], {
      cwd: p.project,
      env: { ...p.env, ...backendEnv, XDG_STATE_HOME: state, GITHUB_TOKEN: TOKEN },
      timeoutMs: 30_000,
    });
    expect(r.stdout + r.stderr, "the token reached the command or isolate's output").not.toContain(TOKEN);
    return { ...r, report: JSON.parse(r.stdout) as Report };
  }

  const url = (port: number, path: string): string => `https://127.0.0.1:${port}${path}`;

  it('curl, python urllib and requests, and node authenticate with the placeholder; the server receives the token', async () => {
    const before = seen.length;
    const py = (lib: string): string =>
      lib === 'urllib'
        ? `import os, urllib.request; print(urllib.request.urlopen(urllib.request.Request("${url(API, '/urllib')}", headers={"Authorization": "Bearer " + os.environ["GITHUB_TOKEN"]})).read().decode())`
        : `import os, requests; print(requests.get("${url(API, '/requests')}", headers={"Authorization": "Bearer " + os.environ["GITHUB_TOKEN"]}).text)`;
    // The python the sandbox finds on the runs' PATH.
    const hasRequests = spawnSync('python3', ['-c', 'import requests'], { env: { PATH: DEFAULT_PATH } }).status === 0;
    if (!hasRequests) console.log('python3-requests is not installed: the requests client is not tried (.ci/run installs it)');
    const script = [
      `curl -sS -H "Authorization: Bearer $GITHUB_TOKEN" ${url(API, '/curl')}; echo`,
      `python3 -c '${py('urllib')}'`,
      hasRequests ? `python3 -c '${py('requests')}'` : 'echo authenticated',
      `${process.execPath} -e "${NODE_CLIENT.replace(/\n/g, ' ')}" 127.0.0.1 ${API} /node; echo`,
    ].join('; ');
    const r = await run(script);
    expect(r.report.exitCode, r.report.stderr).toBe(0);
    expect(r.report.stdout).toBe('authenticated\nauthenticated\nauthenticated\nauthenticated\n');
    const got = seen.slice(before);
    expect(got.map((s) => s.url)).toEqual(['/curl', '/urllib', ...(hasRequests ? ['/requests'] : []), '/node']);
    for (const s of got) expect(s.authorization).toBe(`Bearer ${TOKEN}`);
    expect(r.report.network.credentials?.events.every((e) => e.kind === 'injected' && e.port === API)).toBe(true);
  });

  it('git clones over HTTPS (smart HTTP) with the placeholder in its URL; the server authenticates the token', async () => {
    gitAuth = [];
    const r = await run(`git clone -q "https://x-access-token:$GITHUB_TOKEN@127.0.0.1:${GIT}/repo.git" cloned && cat cloned/README`);
    expect(r.report.exitCode, r.report.stderr).toBe(0);
    expect(r.report.stdout).toBe('cloned through isolate\n');
    const basic = `Basic ${Buffer.from(`x-access-token:${TOKEN}`).toString('base64')}`;
    expect(gitAuth.filter((a) => a !== undefined).length).toBeGreaterThan(0);
    expect(gitAuth.filter((a) => a !== undefined && a !== basic)).toEqual([]);
    expect(r.report.network.credentials?.events.some((e) => e.port === GIT && e.kind === 'injected' && e.path === '/repo.git/info/refs')).toBe(true);
  });

  it('an echoing endpoint\'s reply reaches the command with the placeholder', async () => {
    const r = await run(`echo "$GITHUB_TOKEN"; curl -sS -H "Authorization: Bearer $GITHUB_TOKEN" ${url(API, '/echo')}`);
    const placeholder = r.report.stdout.split('\n')[0] ?? '';
    expect(placeholder).toMatch(/^ghp_[A-Za-z0-9]{36}$/);
    expect(r.report.stdout).toBe(`${placeholder}\nyou sent: Bearer ${placeholder}`);
    expect(seen[seen.length - 1]?.authorization).toBe(`Bearer ${TOKEN}`);
  });

  it('an echo that claims a binary type and splits the token across chunks reaches the command with the placeholder', async () => {
    const r = await run(`echo "$GITHUB_TOKEN"; curl -sS -D - -H "Authorization: Bearer $GITHUB_TOKEN" ${url(API, '/echo-split')}`);
    const placeholder = r.report.stdout.split('\n')[0] ?? '';
    expect(placeholder).toMatch(/^ghp_[A-Za-z0-9]{36}$/);
    expect(r.report.stdout).toMatch(/content-type: application\/octet-stream/i);
    expect(r.report.stdout).toMatch(/transfer-encoding: chunked/i);
    expect(r.report.stdout.endsWith(`\r\n\r\nyou sent: Bearer ${placeholder}`)).toBe(true);
    expect(r.report.stdout).not.toContain(TOKEN);
    expect(seen[seen.length - 1]).toEqual({ url: '/echo-split', authorization: `Bearer ${TOKEN}` });
  });

  it('a compressed echo that ignores the request\'s Accept-Encoding reaches the command decoded, with the placeholder', async () => {
    // curl --compressed asks for gzip and decodes it: without the proxy decoding and scrubbing, the command would read the token.
    const r = await run(`echo "$GITHUB_TOKEN"; curl -sS -D - --compressed -H "Authorization: Bearer $GITHUB_TOKEN" ${url(API, '/echo-gzip')}`);
    const placeholder = r.report.stdout.split('\n')[0] ?? '';
    expect(placeholder).toMatch(/^ghp_[A-Za-z0-9]{36}$/);
    expect(r.report.stdout).not.toMatch(/content-encoding/i);
    expect(r.report.stdout.endsWith(`\r\n\r\nyou sent: Bearer ${placeholder}`), r.report.stdout).toBe(true);
    expect(seen[seen.length - 1]).toEqual({ url: '/echo-gzip', authorization: `Bearer ${TOKEN}` });
  });

  it('an echo compressed as a transfer coding (Transfer-Encoding: gzip, chunked) reaches the command decoded, with the placeholder', async () => {
    const r = await run(`echo "$GITHUB_TOKEN"; curl -sS -o body -H "Authorization: Bearer $GITHUB_TOKEN" ${url(API, '/echo-te-gzip')}; gzip -dc <body 2>/dev/null; cat body`);
    const placeholder = r.report.stdout.split('\n')[0] ?? '';
    expect(placeholder).toMatch(/^ghp_[A-Za-z0-9]{36}$/);
    expect(r.report.stdout).not.toContain(TOKEN);
    expect(r.report.stdout.endsWith(`you sent: Bearer ${placeholder}`), r.report.stdout).toBe(true);
    expect(seen[seen.length - 1]).toEqual({ url: '/echo-te-gzip', authorization: `Bearer ${TOKEN}` });
  });

  it('a body in a coding isolate cannot decode is refused (502), never passed on unsearched', async () => {
    const r = await run(`curl -sS -o body -w '%{http_code}' -H "Authorization: Bearer $GITHUB_TOKEN" ${url(API, '/echo-compress')}; echo; cat body`);
    expect(r.report.stdout).toMatch(/^502\n/);
    expect(r.report.stdout).toContain('cannot search');
    expect(seen[seen.length - 1]).toEqual({ url: '/echo-compress', authorization: `Bearer ${TOKEN}` });
  });

  it('another allowed HTTPS host is an opaque tunnel: the server\'s own certificate, and the placeholder arrives as it was sent', async () => {
    const before = otherSeen.length;
    const r = await run(
      `curl -sS --cacert test-ca.pem -H "Authorization: Bearer $GITHUB_TOKEN" ${url(OTHER, '/opaque')}; echo; curl -sS ${url(OTHER, '/run-ca')} >/dev/null 2>&1 || echo "the run CA does not vouch for it"; echo "$GITHUB_TOKEN"`,
    );
    const [body, verdict, placeholder] = r.report.stdout.split('\n');
    expect(body).toBe('other');
    expect(verdict).toBe('the run CA does not vouch for it');
    expect(otherSeen.slice(before)).toEqual([{ url: '/opaque', authorization: `Bearer ${placeholder}` }]);
  });

  it('a TLS server name other than the CONNECT host is refused and recorded, for opaque and terminated tunnels', async () => {
    const r = await run(`python3 -c '${FRONTING}' ${OTHER}; python3 -c '${FRONTING}' ${API}`);
    expect(r.report.stdout).toBe('HTTP/1.1 200 Connection Established\nrefused\nHTTP/1.1 200 Connection Established\nrefused\n');
    const denied = r.report.network.events.filter((e) => e.decision === 'denied');
    expect(denied.map((e) => [e.port, e.reason])).toEqual([
      [OTHER, 'the TLS server name "fronted.example" is not the CONNECT host 127.0.0.1 (domain fronting)'],
      [API, 'the TLS server name "fronted.example" is not the CONNECT host 127.0.0.1'],
    ]);
  });

  it('an upstream the proxy cannot verify (no network.upstreamCa) is refused: 502, and the server receives nothing', async () => {
    const before = seen.length;
    const r = await run(`curl -sS -i -H "Authorization: Bearer $GITHUB_TOKEN" ${url(API, '/unverified')}`, unverified);
    expect(r.report.stdout).toMatch(/^HTTP\/1\.1 502 Bad Gateway/m);
    expect(r.report.stdout).toMatch(/x-isolate-denied: the upstream connection to 127\.0\.0\.1:\d+ failed: .*(certificate|issuer)/i);
    expect(seen.length).toBe(before);
  });

  it('the sandbox sees certificates only: no key in its view of the proxy directory, nor in any file isolate wrote', async () => {
    const r = await run('ls /run/isolate; grep -c "BEGIN CERTIFICATE" /run/isolate/ca-bundle.pem >/dev/null && echo bundle; grep -rlE "PRIVATE [K]EY" /run/isolate || echo "no key"; echo "$SSL_CERT_FILE $NODE_EXTRA_CA_CERTS $REQUESTS_CA_BUNDLE $CURL_CA_BUNDLE $GIT_SSL_CAINFO"');
    const b = '/run/isolate/ca-bundle.pem';
    expect(r.report.stdout).toBe(`ca-bundle.pem\nproxy.sock\nbundle\nno key\n${[b, b, b, b, b].join(' ')}\n`);
    const files = filesUnder(p.home).filter((f) => f.path !== join(p.home, 'test-ca.pem') && f.path !== join(p.project, 'test-ca.pem'));
    expect(files.filter((f) => f.text.includes('PRIVATE KEY') || f.text.includes(TOKEN)).map((f) => f.path)).toEqual([]);
    expect(files.some((f) => f.path.endsWith('audit.jsonl') && f.text.includes('"kind":"injected"'))).toBe(true);
  });
});
