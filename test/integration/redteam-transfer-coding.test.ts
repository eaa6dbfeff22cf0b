/**
 * Red team: a response whose Transfer-Encoding the proxy and the command's
 * client read differently. The proxy takes a chunked body out of its chunks
 * before it scrubs it, so a value the server splits between two chunks is
 * found. A header such as `Transfer-Encoding: chunked,` (an empty last
 * item), `chunked, identity`, or a second Transfer-Encoding header after
 * `chunked` made the proxy read the body as ending with the connection and
 * search its raw bytes, chunk-size lines and all, while curl still took it
 * as chunked and joined the halves: the real token reached the command,
 * over plain http and, as raw chunk framing with both halves in clear,
 * through a terminated TLS tunnel. A proxy must read a body's end as the
 * client does, or refuse the response.
 *
 * Loopback servers written byte by byte echo the bearer token they get,
 * split between two chunks; judged by what the command prints.
 */
import { randomBytes } from 'node:crypto';
import { createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import type { TLSSocket } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loopbackCredentialProfile, startTlsSite, type TlsSite } from '../helpers/credential-site.js';
import { giveTo, homeWithProject, isolateAsync, runners, type Project, type Runner } from '../helpers/isolate.js';
import { rawReply } from '../helpers/raw-reply.js';

const TOKEN = `ghp_${randomBytes(27).toString('base64url').replace(/[-_]/g, 'x')}`;
/** Where the server splits the token: the tail alone is 30 unguessable characters. */
const SPLIT = 10;

/** The Transfer-Encoding headers of each path; /chunked is the control. */
const FRAMINGS: Record<string, string> = {
  '/chunked': 'Transfer-Encoding: chunked',
  '/trailing-comma': 'Transfer-Encoding: chunked,',
  '/chunked-identity': 'Transfer-Encoding: chunked, identity',
  '/two-headers': 'Transfer-Encoding: chunked\r\nTransfer-Encoding: identity',
  '/empty-second': 'Transfer-Encoding: chunked\r\nTransfer-Encoding: ',
};

const seen: string[] = [];

function reply(head: string): string {
  const token = /^authorization: bearer (.*)$/im.exec(head)?.[1] ?? '';
  seen.push(token);
  const [a, b] = [token.slice(0, SPLIT), token.slice(SPLIT)];
  const te = FRAMINGS[head.split(' ')[1] ?? ''] ?? 'Transfer-Encoding: chunked';
  return `HTTP/1.1 200 OK\r\n${te}\r\nConnection: close\r\n\r\n${a.length.toString(16)}\r\n${a}\r\n${b.length.toString(16)}\r\n${b}\r\n0\r\n\r\n`;
}

let site: TlsSite;
let plain: Server;
let PLAIN = 0;
const tlsSockets = new Set<TLSSocket>();
const plainSockets = new Set<Socket>();

beforeAll(async () => {
  site = await startTlsSite('tcoding', rawReply(tlsSockets, reply));
  plain = createServer(rawReply(plainSockets, reply));
  await new Promise<void>((resolvePromise) => plain.listen(0, '127.0.0.1', resolvePromise));
  PLAIN = (plain.address() as { port: number }).port;
});

afterAll(async () => {
  for (const s of plainSockets) s.destroy();
  await new Promise<void>((resolvePromise) => plain.close(() => resolvePromise()));
  await site.stop();
});

describe.each(runners())('a Transfer-Encoding the proxy and the client could read differently ($label)', (runner: Runner) => {
  let p: Project;
  let profile: string;

  beforeAll(() => {
    p = homeWithProject(runner);
    profile = loopbackCredentialProfile(p.home, 'tcoding', site.caPem, site.port);
    giveTo(runner, p.home);
  });
  afterAll(() => p.cleanup());

  const env = (): Record<string, string> => ({ ...p.env, XDG_STATE_HOME: join(p.home, 'state'), GITHUB_TOKEN: TOKEN });
  const curls = (base: string): string =>
    Object.keys(FRAMINGS)
      .map((path) => `printf '%s=' ${path}; curl -sS -H "Authorization: Bearer $GITHUB_TOKEN" ${base}${path}; echo`)
      .join('; ');

  /** The command's output: the real token in it neither whole nor as its tail; the control printed the placeholder. */
  function judge(out: string, before: number): void {
    expect(seen.slice(before), 'the server was sent the real token each time').toEqual(Object.keys(FRAMINGS).map(() => TOKEN));
    expect(out, 'the real token reached the command').not.toContain(TOKEN.slice(SPLIT));
    const placeholder = /^placeholder=(\S+)$/m.exec(out)?.[1] ?? '';
    expect(placeholder).toMatch(/^ghp_\w{36}$/);
    expect(out).toContain(`/chunked=${placeholder}\n`);
  }

  it('over plain http: an echo split between chunks never reaches the command whole', async () => {
    const before = seen.length;
    const r = await isolateAsync(runner, ['run', '--allow-domain', `127.0.0.1:${PLAIN}`, '--credential', `GITHUB_TOKEN@127.0.0.1:${PLAIN}`, '--', 'sh', '-c', `${curls(`http://127.0.0.1:${PLAIN}`)}; echo "placeholder=$GITHUB_TOKEN"`], { cwd: p.project, env: env() });
    judge(r.stdout + r.stderr, before);
    expect(r.status, r.stderr).toBe(0);
  });

  it('through a terminated TLS tunnel: neither half of the token reaches the command', async () => {
    const before = seen.length;
    const r = await isolateAsync(runner, ['run', '-p', profile, '--', 'sh', '-c', `${curls(`https://127.0.0.1:${site.port}`)}; echo "placeholder=$GITHUB_TOKEN"`], { cwd: p.project, env: env() });
    judge(r.stdout + r.stderr, before);
    expect(r.status, r.stderr).toBe(0);
  });
});
