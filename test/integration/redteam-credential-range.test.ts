/**
 * Red team: a credential's value taken back from its own host one part at
 * a time. The proxy replaces the value in a response wherever the pieces
 * of that response split it, but it sees one response at a time: a server
 * that echoes the request (an error message, a debugging endpoint, what a
 * store keeps) and serves parts of what it sends (`Range: bytes=0-19`, as
 * a file server or an object store does) hands the command the value in
 * parts, none of which is the value, and the command puts them together.
 * A request the proxy adds a token to goes on without its Range (and
 * If-Range): the server sends the whole, which is scrubbed whole.
 *
 * A loopback TLS server written byte by byte stands in for the credential
 * host; curl in the sandbox asks for three parts of the echo.
 */
import { randomBytes } from 'node:crypto';
import type { TLSSocket } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loopbackCredentialProfile, runWithToken, startTlsSite, type TlsSite } from '../helpers/credential-site.js';
import { giveTo, homeWithProject, runners, type Project, type Runner } from '../helpers/isolate.js';
import { rawReply } from '../helpers/raw-reply.js';

const TOKEN = `ghp_${randomBytes(27).toString('base64url').replace(/[-_]/g, 'x')}`;

let site: TlsSite;
let PORT = 0;
/** The Range each request came with ('' without one). */
const ranges: string[] = [];
const sockets = new Set<TLSSocket>();

/** `token=<the bearer token>`, whole, or the part a single `Range: bytes=a-b` asks for. */
function echo(head: string): string {
  const body = `token=${/^authorization: bearer (.*)$/im.exec(head)?.[1] ?? ''}`;
  const range = /^range: bytes=(\d+)-(\d+)$/im.exec(head);
  ranges.push(range?.[0].toLowerCase() ?? '');
  if (range?.[1] === undefined || range[2] === undefined) return `HTTP/1.1 200 OK\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`;
  const [from, to] = [Number(range[1]), Math.min(Number(range[2]), body.length - 1)];
  const part = body.slice(from, to + 1);
  return `HTTP/1.1 206 Partial Content\r\nContent-Range: bytes ${from}-${to}/${body.length}\r\nContent-Length: ${part.length}\r\nConnection: close\r\n\r\n${part}`;
}

beforeAll(async () => {
  site = await startTlsSite('range', rawReply(sockets, echo));
  PORT = site.port;
});

afterAll(() => site.stop());

describe.each(runners())('red team: a credential echoed back in parts ($label)', (runner: Runner) => {
  let p: Project;
  let profile: string;

  beforeAll(() => {
    p = homeWithProject(runner);
    profile = loopbackCredentialProfile(p.home, 'range', site.caPem, PORT);
    giveTo(runner, p.home);
  });
  afterAll(() => p.cleanup());

  const run = runWithToken(runner, () => ({ p, profile }), TOKEN);

  it('the parts of an echo, asked for with Range, do not put the token together: the server is asked for the whole', async () => {
    const before = ranges.length;
    const part = (range: string): string => `curl -sS -r ${range} -H "Authorization: Bearer $GITHUB_TOKEN" https://127.0.0.1:${PORT}/echo`;
    const r = await run(`{ ${part('0-19')}; ${part('20-39')}; ${part('40-59')}; } | tr -d '\\n'; echo`);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout + r.stderr, 'the real token reached the command').not.toContain(TOKEN);
    expect(r.stdout).toMatch(/^token=ghp_/);
    expect(ranges.slice(before)).toEqual(['', '', '']);
  });

  it('control: a request without the placeholder keeps its Range, and gets the part', async () => {
    const before = ranges.length;
    const r = await run(`curl -sS -r 0-4 -H "Authorization: Bearer not-a-credential" https://127.0.0.1:${PORT}/echo; echo`);
    expect(r.stdout.trim(), r.stderr).toBe('token');
    expect(ranges.slice(before)).toEqual(['range: bytes=0-4']);
  });
});
