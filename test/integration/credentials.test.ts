/**
 * Credentials in real sandboxes, over plain HTTP to loopback servers in this
 * test process: the command sees a placeholder and authenticates with it
 * (curl, python urllib, node http); the server receives the real token; an
 * echoing server's reply reaches the command with the placeholder; the
 * placeholder sent to a second allowed host, or after the ttl, is refused
 * (403) and recorded as misuse; a failing source stops the run (125); no
 * file isolate wrote holds the token; nothing is left behind.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { gzipSync } from 'node:zlib';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { filesUnder, listenAll, stopAll } from '../helpers/credential-site.js';
import { STACK_LINE, giveTo, homeWithProject, isolateAsync, runners, type Project, type Result, type Runner } from '../helpers/isolate.js';

/** A GitHub-shaped token made for this test run. */
const TOKEN = `ghp_${randomBytes(27).toString('base64url').replace(/[-_]/g, 'x')}`;
const PLACEHOLDER = /^ghp_[A-Za-z0-9]{36}$/;

interface Seen {
  url: string;
  authorization: string | undefined;
}

let api: Server;
let other: Server;
let API: number;
let OTHER: number;
const seen: Seen[] = [];
const otherSeen: Seen[] = [];

const record = (into: Seen[], req: IncomingMessage): void => {
  into.push({ url: req.url ?? '', authorization: req.headers.authorization });
};



beforeAll(async () => {
  // /echo answers with the Authorization it received, in a header and in a body sent in small pieces.
  api = createServer((req, res) => {
    record(seen, req);
    const auth = req.headers.authorization ?? '';
    if (req.url === '/echo-gzip') {
      // Compresses its echo whatever the request's Accept-Encoding says (the proxy asks for none).
      res.writeHead(200, { 'content-type': 'text/plain', 'content-encoding': 'gzip' }).end(gzipSync(`you sent: ${auth}\n`));
      return;
    }
    if (req.url?.startsWith('/echo') !== true) {
      res.end(auth === `Bearer ${TOKEN}` ? 'authenticated' : 'unauthenticated');
      return;
    }
    const body = `you sent: ${auth}\n`;
    res.writeHead(200, { 'content-type': 'text/plain', 'content-length': String(body.length), 'x-echo': auth });
    const pieces = body.match(/.{1,7}/gs) ?? [];
    const next = (): void => {
      const piece = pieces.shift();
      if (piece === undefined) res.end();
      else res.write(piece, () => setTimeout(next, 1));
    };
    next();
  });
  other = createServer((req, res) => {
    record(otherSeen, req);
    res.end('other');
  });
  [API = 0, OTHER = 0] = await listenAll(api, other);
});

afterAll(async () => {
  await stopAll(api, other);
});


interface Report {
  exitCode: number;
  stdout: string;
  stderr: string;
  env: string[];
  network: {
    events?: { port: number; decision: string; reason?: string }[];
    credentials?: { events: { name: string; kind: string; host: string; port: number; method: string; path: string; reason?: string }[]; misuse: number };
  };
}

describe.each(runners())('credentials over HTTP ($label)', (runner: Runner) => {
  let p: Project;
  let state: string;

  beforeAll(() => {
    p = homeWithProject(runner);
    state = join(p.home, 'state');
  });
  afterAll(() => p.cleanup());

  const api = (path: string): string => `http://127.0.0.1:${API}${path}`;
  const base = (): string[] => ['--allow-domain', `127.0.0.1:${API}`, '--allow-domain', `127.0.0.1:${OTHER}`, '--credential', `GITHUB_TOKEN@127.0.0.1:${API}`];

  async function run(args: string[], env: Record<string, string> = {}): Promise<Result & { report: Report }> {
    const r = await isolateAsync(runner, ['run', '--json', ...args], { cwd: p.project, env: { ...p.env, XDG_STATE_HOME: state, GITHUB_TOKEN: TOKEN, ...env } });
    let report: Report;
    try {
      report = JSON.parse(r.stdout) as Report;
    } catch {
      throw new Error(`no report: ${r.stdout}\n${r.stderr}`);
    }
    expect(r.stdout + r.stderr, 'the token reached the command or isolate\'s output').not.toContain(TOKEN);
    return { ...r, report };
  }

  it('curl authenticates with the placeholder; the server receives the real token; the command never sees it', async () => {
    const before = seen.length;
    const r = await run([...base(), '--', 'sh', '-c', `printf '%s\\n' "$GITHUB_TOKEN"; cat /proc/self/environ | tr '\\0' '\\n' | grep -c ghp_; curl -sS -H "Authorization: Bearer $GITHUB_TOKEN" ${api('/user?page=2')}`]);
    expect(r.report.exitCode, r.report.stderr).toBe(0);
    const [placeholder, count, answer] = r.report.stdout.split('\n');
    expect(placeholder).toMatch(PLACEHOLDER);
    expect(placeholder).toHaveLength(TOKEN.length);
    expect(placeholder).not.toBe(TOKEN);
    expect(count).toBe('1');
    expect(answer).toBe('authenticated');
    expect(seen.slice(before)).toEqual([{ url: '/user?page=2', authorization: `Bearer ${TOKEN}` }]);
    expect(r.report.network.credentials?.events).toEqual([
      { time: expect.any(String), name: 'GITHUB_TOKEN', kind: 'injected', host: '127.0.0.1', port: API, method: 'GET', path: '/user' },
    ]);
    expect(r.report.env).toContain('GITHUB_TOKEN');
  });

  it('python urllib, node http and curl -u (Basic) authenticate with the placeholder', async () => {
    const before = seen.length;
    const py = `import os, urllib.request; r = urllib.request.Request("${api('/py')}", headers={"Authorization": "Bearer " + os.environ["GITHUB_TOKEN"]}); print(urllib.request.urlopen(r, timeout=10).read().decode())`;
    const js = `const http = require('http'); const u = new URL('${api('/node')}'); http.get({ host: '127.0.0.1', port: 3128, path: u.href, headers: { Host: u.host, Authorization: 'Bearer ' + process.env.GITHUB_TOKEN } }, (res) => res.pipe(process.stdout));`;
    const r = await run([...base(), '--', 'sh', '-c', `python3 -c '${py}'; ${process.execPath} -e "${js}"; echo; curl -sS -u "x-access-token:$GITHUB_TOKEN" ${api('/basic')}`]);
    expect(r.report.exitCode, r.report.stderr).toBe(0);
    expect(r.report.stdout).toBe('authenticated\nauthenticated\nunauthenticated');
    const got = seen.slice(before);
    expect(got.map((s) => s.url)).toEqual(['/py', '/node', '/basic']);
    expect(got[0]?.authorization).toBe(`Bearer ${TOKEN}`);
    expect(got[1]?.authorization).toBe(`Bearer ${TOKEN}`);
    expect(Buffer.from(got[2]?.authorization?.slice('Basic '.length) ?? '', 'base64').toString()).toBe(`x-access-token:${TOKEN}`);
    expect(r.report.network.credentials?.events.map((e) => e.kind)).toEqual(['injected', 'injected', 'injected']);
  });

  it('an echoing endpoint\'s reply reaches the command with the placeholder, in its header and across the pieces of its body', async () => {
    const r = await run([...base(), '--', 'sh', '-c', `echo "$GITHUB_TOKEN"; curl -sS -D - -H "Authorization: Bearer $GITHUB_TOKEN" ${api('/echo')}`]);
    expect(r.report.exitCode, r.report.stderr).toBe(0);
    const placeholder = r.report.stdout.split('\n')[0] ?? '';
    expect(r.report.stdout).toMatch(new RegExp(`x-echo: Bearer ${placeholder}`, 'i'));
    expect(r.report.stdout).toContain(`you sent: Bearer ${placeholder}`);
    expect(seen[seen.length - 1]?.authorization).toBe(`Bearer ${TOKEN}`);
  });

  it('a compressed echo over plain HTTP, which the proxy cannot search, is cut off: the command reads no token', async () => {
    const r = await run([...base(), '--', 'sh', '-c', `curl -sS --compressed -H "Authorization: Bearer $GITHUB_TOKEN" ${api('/echo-gzip')}; echo "curl: $?"`]);
    expect(r.report.stdout).toMatch(/curl: (52|56)\n?$/);
    expect(r.report.stdout).not.toContain('you sent');
    expect(seen[seen.length - 1]).toEqual({ url: '/echo-gzip', authorization: `Bearer ${TOKEN}` });
    const denied = r.report.network.events?.find((a) => a.port === API && a.decision === 'denied');
    expect(denied?.reason).toMatch(/encoded with gzip/);
  });

  it('the placeholder sent to a second allowed host, also in a body or through a CONNECT or SOCKS5 tunnel, is refused and recorded as misuse; that host sees nothing', async () => {
    const before = otherSeen.length;
    const tunnels = `curl -sS -p -H "X-T: $GITHUB_TOKEN" http://127.0.0.1:${OTHER}/connect 2>/dev/null || echo; curl -sS --socks5-hostname 127.0.0.1:3128 -H "X-T: $GITHUB_TOKEN" http://127.0.0.1:${OTHER}/socks 2>/dev/null || echo`;
    const r = await run([...base(), '--', 'sh', '-c', `curl -sS -i -H "Authorization: Bearer $GITHUB_TOKEN" http://127.0.0.1:${OTHER}/steal; curl -sS -d "t=$GITHUB_TOKEN" http://127.0.0.1:${OTHER}/form; ${tunnels}; echo; curl -sS http://127.0.0.1:${OTHER}/plain`]);
    expect(r.report.stdout).toMatch(/^HTTP\/1\.1 403 Forbidden/);
    expect(r.report.stdout).toMatch(/x-isolate-denied: the placeholder of credential GITHUB_TOKEN was sent to 127\.0\.0\.1:\d+; it is only added for/i);
    expect(r.report.stdout.trimEnd().endsWith('other')).toBe(true);
    expect(otherSeen.slice(before).map((s) => s.url)).toEqual(['/plain']);
    expect(r.report.network.credentials?.misuse).toBe(4);
    expect(r.report.network.credentials?.events).toMatchObject([
      { kind: 'refused', host: '127.0.0.1', port: OTHER, method: 'GET', path: '/steal' },
      { kind: 'refused', host: '127.0.0.1', port: OTHER, method: 'POST', path: '/form' },
      { kind: 'refused', host: '127.0.0.1', port: OTHER, method: 'CONNECT', path: '(tunnel)' },
      { kind: 'refused', host: '127.0.0.1', port: OTHER, method: 'SOCKS5', path: '(tunnel)' },
    ]);
  });

  // The ttl leaves the sandbox's start and the first two requests 4 s, also on a loaded machine (1.5 s did not, once).
  it('after its ttl the placeholder is refused; file and command sources are read from the caller\'s own profile', async () => {
    const tokenFile = join(p.home, 'gh-token');
    writeFileSync(tokenFile, `${TOKEN}\n`, { mode: 0o600 });
    const profile = join(p.home, 'creds.yaml');
    writeFileSync(
      profile,
      [
        'extends: default',
        'network:',
        '  mode: filtered',
        `  allow: ["127.0.0.1:${API}"]`,
        'credentials:',
        `  - { name: GITHUB_TOKEN, from: { file: ${tokenFile} }, hosts: ["127.0.0.1:${API}"], ttl: 4000ms }`,
        `  - { name: MINTED, from: { command: [printf, "%s", "${TOKEN}"] }, hosts: ["127.0.0.1:${API}"] }`,
        '',
      ].join('\n'),
      { mode: 0o644 },
    );
    giveTo(runner, p.home);
    const before = seen.length;
    const r = await run(['--profile', profile, '--', 'sh', '-c', `curl -sS -H "Authorization: Bearer $MINTED" ${api('/minted')}; echo; curl -sS -H "Authorization: Bearer $GITHUB_TOKEN" ${api('/a')}; echo; sleep 4.5; curl -sS -i -H "Authorization: Bearer $GITHUB_TOKEN" ${api('/b')}`], { GITHUB_TOKEN: '' });
    expect(r.report.stdout).toMatch(/^authenticated\nauthenticated\nHTTP\/1\.1 403 Forbidden/);
    expect(r.report.stdout).toMatch(/credential GITHUB_TOKEN expired/);
    expect(seen.slice(before).map((s) => s.url)).toEqual(['/minted', '/a']);
    expect(r.report.network.credentials?.events.map((e) => `${e.name} ${e.kind}`)).toEqual(['MINTED injected', 'GITHUB_TOKEN injected', 'GITHUB_TOKEN refused']);
  });

  it('explain shows each credential (name, source, hosts, ttl, where it was defined) and never a value, nor runs a source', async () => {
    const env = { ...p.env, XDG_STATE_HOME: state, GITHUB_TOKEN: TOKEN };
    const json = await isolateAsync(runner, ['explain', '--json', ...base(), '--', 'true'], { cwd: p.project, env });
    expect(json.status, json.stderr).toBe(0);
    expect(json.stdout).not.toContain(TOKEN);
    expect((JSON.parse(json.stdout) as { credentials: unknown }).credentials).toEqual([
      { name: 'GITHUB_TOKEN', kind: 'token', variables: ['GITHUB_TOKEN'], source: 'env GITHUB_TOKEN', hosts: [`127.0.0.1:${API}`], ttlMs: null, from: '--credential[0]' },
    ]);
    const text = await isolateAsync(runner, ['explain', ...base(), '--', 'true'], { cwd: p.project, env });
    expect(text.stdout).toMatch(/credential +GITHUB_TOKEN: a placeholder; the value \(env GITHUB_TOKEN\) is added by the proxy for 127\.0\.0\.1:\d+ only/);
    expect(text.stdout).not.toContain(TOKEN);
  });

  it('a source that yields nothing or fails, or a network that is not filtered, stops the run (125) before the command starts', async () => {
    const marker = join(p.project, 'ran');
    const cases: [string[], Record<string, string>, RegExp][] = [
      [base(), { GITHUB_TOKEN: '' }, /credential GITHUB_TOKEN \(env GITHUB_TOKEN\): the source yielded nothing/],
      [['--net', 'none', '--credential', `GITHUB_TOKEN@127.0.0.1:${API}`], {}, /credentials need network\.mode: filtered/],
    ];
    for (const [args, env, message] of cases) {
      const r = await isolateAsync(runner, ['run', ...args, '--', 'touch', marker], { cwd: p.project, env: { ...p.env, XDG_STATE_HOME: state, GITHUB_TOKEN: TOKEN, ...env } });
      expect(r.status, r.stderr).toBe(125);
      expect(r.stderr).toMatch(message);
      expect(r.stderr).not.toMatch(STACK_LINE);
      expect(existsSync(marker)).toBe(false);
    }
  });

  it('no file isolate wrote holds the token, and no proxy directory is left behind', () => {
    const files = filesUnder(p.home);
    const log = files.find((f) => f.path.endsWith('audit.jsonl'));
    expect(log?.text, 'the audit log records the injections').toMatch(/"kind":"injected"/);
    expect(log?.text).toMatch(/"kind":"refused"/);
    // The test's own token file and profile hold it (the profile's command prints it); nothing else may.
    const own = new Set([join(p.home, 'gh-token'), join(p.home, 'creds.yaml')]);
    expect(files.filter((f) => f.text.includes(TOKEN) && !own.has(f.path)).map((f) => f.path)).toEqual([]);
    expect(files.length).toBeGreaterThan(own.size + 1);
    const runDir = join(state, 'isolate', 'run');
    expect(existsSync(runDir) ? readdirSync(runDir).filter((n) => n.startsWith('net-')) : []).toEqual([]);
  });
});
