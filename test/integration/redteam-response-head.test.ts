/**
 * Red team: a credential host's response head must reach the command
 * scrubbed of the real value in every part of it, not only in header
 * values. A server that puts what it was sent into its status line's reason
 * phrase (some frameworks write an error message there: "401 invalid token
 * <token>") or into a header's name would otherwise hand the command the
 * real token through isolate's own terminated tunnel. Nor may a change of
 * case hide it: a server that writes header names in lower case (an ASGI
 * application must) or a message in upper case hands on the token's
 * letters without their case, and a GitHub token's last six characters
 * are a checksum of the rest, so the command can try each case of each
 * letter offline and find the one token that matches.
 *
 * A loopback TLS server written byte by byte stands in for the credential
 * host; curl in the sandbox prints the response head it receives.
 */
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import type { TLSSocket } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loopbackCredentialProfile, startTlsSite, type TlsSite } from '../helpers/credential-site.js';
import { giveTo, homeWithProject, isolateAsync, type Project } from '../helpers/isolate.js';
import { backendCases, type BackendCase } from '../helpers/backends.js';
import { rawReply } from '../helpers/raw-reply.js';

const TOKEN = `ghp_${randomBytes(27).toString('base64url').replace(/[-_]/g, 'x')}`;

let site: TlsSite;
let PORT = 0;
const seen: string[] = [];
const sockets = new Set<TLSSocket>();

/** The response to `path`, echoing the bearer token of `head` where that path says. */
function reply(path: string, token: string): string {
  if (path === '/reason') return `HTTP/1.1 401 invalid token ${token}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n`;
  if (path === '/header-name') return `HTTP/1.1 200 OK\r\nX-Seen-${token}: 1\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok`;
  // Header names in lower case, as an ASGI application must write them (and HTTP/2 does): the token lower-cased.
  if (path === '/header-name-lower') return `HTTP/1.1 200 OK\r\nx-seen-${token.toLowerCase()}: 1\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok`;
  if (path === '/reason-upper') return `HTTP/1.1 401 INVALID TOKEN ${token.toUpperCase()}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n`;
  return `HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n`;
}

beforeAll(async () => {
  site = await startTlsSite(
    'rhead',
    rawReply(sockets, (head) => {
      const token = /^authorization: bearer (.*)$/im.exec(head)?.[1] ?? '';
      seen.push(token);
      return reply(head.split(' ')[1] ?? '', token);
    }),
  );
  PORT = site.port;
});

afterAll(() => site.stop());

describe.each(backendCases('response head scrubbing'))('a credential host\'s response head is scrubbed whole ($label)', ({ runner, backend, backendEnv }: BackendCase) => {
  let p: Project;
  let profile: string;

  beforeAll(() => {
    p = homeWithProject(runner);
    profile = loopbackCredentialProfile(p.home, 'head', site.caPem, PORT);
    giveTo(runner, p.home);
  });
  afterAll(() => p.cleanup());

  it('a token echoed lower-cased in a header name or upper-cased in the reason phrase reaches the command in no case', async () => {
    const before = seen.length;
    const curl = (path: string): string => `curl -sS -i -H "Authorization: Bearer $GITHUB_TOKEN" https://127.0.0.1:${PORT}${path}; echo`;
    const r = await isolateAsync(runner, ['run', '--backend', backend, '-p', profile, '--', 'sh', '-c', `${curl('/header-name-lower')}; ${curl('/reason-upper')}`], {
      cwd: p.project,
      env: { ...p.env, ...backendEnv, XDG_STATE_HOME: join(p.home, 'state'), GITHUB_TOKEN: TOKEN },
      timeoutMs: 30_000,
    });
    expect(seen.slice(before)).toEqual([TOKEN, TOKEN]);
    expect((r.stdout + r.stderr).toLowerCase(), 'the real token, in some case, reached the command').not.toContain(TOKEN.toLowerCase());
    expect(r.stdout).toMatch(/^x-seen-ghp_\w+: 1\r?$/m);
    expect(r.stdout).toMatch(/^HTTP\/1\.1 401 INVALID TOKEN ghp_\w+\r?$/m);
    expect(r.status, r.stderr).toBe(0);
  });

  it('a token echoed in the reason phrase or in a header name reaches the command as the placeholder', async () => {
    const before = seen.length;
    const curl = (path: string): string => `curl -sS -i -H "Authorization: Bearer $GITHUB_TOKEN" https://127.0.0.1:${PORT}${path}; echo`;
    const r = await isolateAsync(runner, ['run', '--backend', backend, '-p', profile, '--', 'sh', '-c', `${curl('/reason')}; ${curl('/header-name')}; printf 'placeholder=%s\\n' "$GITHUB_TOKEN"`], {
      cwd: p.project,
      env: { ...p.env, ...backendEnv, XDG_STATE_HOME: join(p.home, 'state'), GITHUB_TOKEN: TOKEN },
      timeoutMs: 30_000,
    });
    // The server was sent the real token both times: the echo is real.
    expect(seen.slice(before)).toEqual([TOKEN, TOKEN]);
    expect(r.stdout + r.stderr, 'the real token reached the command').not.toContain(TOKEN);
    const placeholder = /^placeholder=(\S+)$/m.exec(r.stdout)?.[1] ?? '';
    expect(placeholder).toMatch(/^ghp_/);
    expect(r.stdout).toContain(`HTTP/1.1 401 invalid token ${placeholder}`);
    expect(r.stdout).toContain(`X-Seen-${placeholder}: 1`);
    expect(r.status, r.stderr).toBe(0);
  });
});
