/**
 * Red team: a credential host over plain http:// (a host and port its
 * credential names exactly) that echoes the token in forms the proxy's
 * scrubber did not match. In a chunked body, the token cut between two
 * chunks: the proxy relayed such a body as bytes and scrubbed them as they
 * came, the chunk size between the token's halves hid it, and curl, taking
 * the chunks out, printed the real token. Escaped, as servers write text: a
 * key with other characters than letters and digits (`/`, `+`, `=`, as
 * base64 keys have) echoed percent-encoded or in JSON (`\/` as PHP writes
 * it) reached the command as it was; so did one spelled as other encoders
 * write it (Python's quote() keeps /, Go's url.PathEscape keeps + and =,
 * .NET's JSON writes \u002B) and one in base64 wrapped in lines (MIME,
 * PEM). Each must reach the command with the placeholder.
 *
 * A loopback server written byte by byte stands in for the credential host;
 * curl in the sandbox prints the body it receives.
 */
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { giveTo, homeWithProject, isolateAsync, type Project } from '../helpers/isolate.js';
import { backendCases, type BackendCase } from '../helpers/backends.js';
import { rawReply } from '../helpers/raw-reply.js';

const TOKEN = `ghp_${randomBytes(27).toString('base64url').replace(/[-_]/g, 'x')}`;
/** A key as base64 writes it: with /, + and =. */
const KEY = `${randomBytes(24).toString('base64')}/+=`;
const hex = (c: string): string => c.charCodeAt(0).toString(16).padStart(2, '0');
const fromJson = (e: string): string => JSON.parse(`"${e}"`) as string;
/** The forms `/escaped` echoes the key in, and how a client reads each back. */
const ESCAPED: readonly [string, (key: string) => string, (echo: string) => string][] = [
  ['percent', (k) => encodeURIComponent(k), decodeURIComponent],
  ['php-json', (k) => k.replace(/[\\"/]/g, (c) => `\\${c}`), fromJson],
  // Python's urllib.parse.quote() keeps /; Go's url.PathEscape keeps + and =.
  ['python-quote', (k) => k.replace(/[+=]/g, (c) => `%${hex(c).toUpperCase()}`), decodeURIComponent],
  ['go-path-escape', (k) => k.replace(/\//g, (c) => `%${hex(c).toUpperCase()}`), decodeURIComponent],
  // .NET's System.Text.Json writes + as \u002B; other writers escape every / + = with lower-case hex.
  ['dotnet-json', (k) => k.replace(/\+/g, '\\u002B'), fromJson],
  ['json-lower-hex', (k) => k.replace(/[/+=]/g, (c) => `\\u00${hex(c)}`), fromJson],
];
/** The key in base64 wrapped as MIME (76 columns, CRLF) and PEM or GitHub's API (60, LF) write it, a line end falling inside its form. */
const WRAPPED: readonly [number, string][] = [
  [76, '\r\n'],
  [60, '\n'],
];
const wrap = (text: string, columns: number, eol: string): string => (Buffer.from(text).toString('base64').match(new RegExp(`.{1,${columns}}`, 'g')) ?? []).join(eol) + eol;
const wrappedEchoes = (key: string): string[] => WRAPPED.flatMap(([columns, eol]) => [40, 41, 42].map((n) => wrap(`${'p'.repeat(n)}${key}.`, columns, eol)));
/** A key whose base64url differs from its base64 (6-bit groups 62 and 63: `>`, `?`, `~`), echoed in base64url at each offset, as a JWT or a URL carries it. */
const URL_KEY = `Zq?>~?>~${randomBytes(12).toString('hex')}?>~?>~Zq`;
const urlEchoes = (key: string): string[] => [0, 1, 2].map((n) => Buffer.from(`${'p'.repeat(n)}${key}`, 'latin1').toString('base64url'));

let server: Server;
let PORT = 0;
const seen: string[] = [];
const sockets = new Set<Socket>();

const chunk = (text: string): string => `${Buffer.byteLength(text).toString(16)}\r\n${text}\r\n`;

/** The token echoed in chunks of `size` bytes (1: every byte a chunk of its own), or cut once at `size`. */
function reply(path: string, token: string, key: string): string {
  if (path === '/escaped' || path === '/wrapped' || path === '/base64url') {
    const echoes = { '/escaped': () => ESCAPED.map(([name, escape]) => `${name}=${escape(key)}\n`).join(''), '/wrapped': () => wrappedEchoes(key).join('--\n'), '/base64url': () => urlEchoes(key).join('\n') };
    const body = echoes[path]();
    return `HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`;
  }
  const text = `you sent ${token}.`;
  const m = /^\/(every|cut)\/(\d+)$/.exec(path);
  if (m === null) return 'HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n';
  const size = Number(m[2]);
  const parts = m[1] === 'cut' ? [text.slice(0, size), text.slice(size)] : (text.match(new RegExp(`.{1,${size}}`, 'gs')) ?? []);
  return `HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n${parts.map(chunk).join('')}0\r\n\r\n`;
}

beforeAll(async () => {
  server = createServer(
    rawReply(sockets, (head) => {
      const token = /^authorization: bearer (.*)$/im.exec(head)?.[1] ?? '';
      const key = /^x-(?:api|url)-key: (.*)$/im.exec(head)?.[1] ?? '';
      seen.push(token || key);
      return reply(head.split(' ')[1] ?? '', token, key);
    }),
  );
  await new Promise<void>((resolvePromise) => server.listen(0, '127.0.0.1', resolvePromise));
  PORT = (server.address() as AddressInfo).port;
});

afterAll(async () => {
  for (const s of sockets) s.destroy();
  await new Promise<void>((resolvePromise) => server.close(() => resolvePromise()));
});

describe.each(backendCases('chunked echo scrubbing'))('a token echoed across chunks over plain http ($label)', ({ runner, backend, backendEnv }: BackendCase) => {
  let p: Project;
  let profile: string;

  beforeAll(() => {
    p = homeWithProject(runner);
    profile = join(p.home, 'chunked.yaml');
    const lines = [
      'extends: default',
      'network:',
      '  mode: filtered',
      `  allow: ["127.0.0.1:${PORT}"]`,
      'credentials:',
      `  - { name: GITHUB_TOKEN, from: { env: GITHUB_TOKEN }, hosts: ["127.0.0.1:${PORT}"] }`,
      `  - { name: API_KEY, from: { env: API_KEY }, hosts: ["127.0.0.1:${PORT}"] }`,
      `  - { name: URL_KEY, from: { env: URL_KEY }, hosts: ["127.0.0.1:${PORT}"] }`,
      '',
    ];
    writeFileSync(profile, lines.join('\n'), { mode: 0o644 });
    giveTo(runner, p.home);
  });
  afterAll(() => p.cleanup());

  /** `script` under sh in the sandbox of the profile, with the three credentials' real values in the caller's environment. */
  const curlIn = (script: string) =>
    isolateAsync(runner, ['run', '--backend', backend, '-p', profile, '--', 'sh', '-c', script], {
      cwd: p.project,
      env: { ...p.env, ...backendEnv, XDG_STATE_HOME: join(p.home, 'state'), GITHUB_TOKEN: TOKEN, API_KEY: KEY, URL_KEY },
      timeoutMs: 30_000,
    });

  it('reaches the command with the placeholder, whole, however the chunks cut it', async () => {
    const paths = ['/cut/15', '/cut/20', '/cut/40', '/every/1', '/every/7'];
    const before = seen.length;
    const curl = (path: string): string => `curl -sS -H "Authorization: Bearer $GITHUB_TOKEN" http://127.0.0.1:${PORT}${path}; echo`;
    const r = await curlIn(`${paths.map(curl).join('; ')}; printf 'placeholder=%s\\n' "$GITHUB_TOKEN"`);
    // The server was sent the real token each time: the echo is real.
    expect(seen.slice(before)).toEqual(paths.map(() => TOKEN));
    expect(r.stdout + r.stderr, 'the real token reached the command').not.toContain(TOKEN);
    const placeholder = /^placeholder=(\S+)$/m.exec(r.stdout)?.[1] ?? '';
    expect(placeholder).toMatch(/^ghp_/);
    expect(r.stdout.split('\n').filter((l) => l.startsWith('you sent'))).toEqual(paths.map(() => `you sent ${placeholder}.`));
    expect(r.status, r.stderr).toBe(0);
  });

  it('a key echoed percent-encoded or escaped in JSON reaches the command as the placeholder', async () => {
    const before = seen.length;
    const script = `curl -sS -H "X-Api-Key: $API_KEY" http://127.0.0.1:${PORT}/escaped; printf 'placeholder=%s\\n' "$API_KEY"`;
    const r = await curlIn(script);
    // The server was sent the real key: the echo is real.
    expect(seen.slice(before)).toEqual([KEY]);
    const placeholder = /^placeholder=(\S+)$/m.exec(r.stdout)?.[1] ?? '';
    expect(placeholder).toHaveLength(KEY.length);
    for (const [name, , unescape] of ESCAPED) {
      const echoed = new RegExp(`^${name}=(.*)$`, 'm').exec(r.stdout)?.[1] ?? '';
      expect(unescape(echoed), `the real key reached the command, ${name}`).not.toBe(KEY);
      expect(unescape(echoed).slice(0, 8)).not.toBe(KEY.slice(0, 8));
    }
    expect(r.status, r.stderr).toBe(0);
  });

  it('a key echoed in base64 wrapped in lines reaches the command as the placeholder', async () => {
    const before = seen.length;
    const script = `curl -sS -H "X-Api-Key: $API_KEY" http://127.0.0.1:${PORT}/wrapped`;
    const r = await curlIn(script);
    expect(seen.slice(before)).toEqual([KEY]);
    const blocks = r.stdout.split('--\n');
    expect(blocks).toHaveLength(wrappedEchoes(KEY).length);
    for (const block of blocks) {
      const decoded = Buffer.from(block.replace(/\r?\n/g, ''), 'base64').toString('latin1');
      expect(decoded, `the real key reached the command, in ${JSON.stringify(block)}`).not.toContain(KEY.slice(2, -2));
      expect(decoded).toMatch(/^p{40}/);
    }
    expect(r.status, r.stderr).toBe(0);
  });

  it('a key echoed in base64url (a JWT, a URL) reaches the command as the placeholder', async () => {
    const before = seen.length;
    const script = `curl -sS -H "X-Url-Key: $URL_KEY" http://127.0.0.1:${PORT}/base64url`;
    const r = await curlIn(script);
    expect(seen.slice(before)).toEqual([URL_KEY]);
    // What the server sent differs from base64: the form a base64 scrubber would miss.
    for (const echo of urlEchoes(URL_KEY)) expect(echo).not.toBe(Buffer.from(Buffer.from(echo, 'base64url')).toString('base64').replace(/=+$/, ''));
    const lines = r.stdout.trim().split('\n');
    expect(lines).toHaveLength(3);
    for (const line of lines) {
      const decoded = Buffer.from(line, 'base64url').toString('latin1');
      expect(decoded, `the real key reached the command, in ${line}`).not.toContain(URL_KEY.slice(2, -2));
    }
    expect(r.status, r.stderr).toBe(0);
  });
});
