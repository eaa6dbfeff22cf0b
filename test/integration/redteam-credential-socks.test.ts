/**
 * Red team: a credential's value taken back from its own host through the
 * proxy's SOCKS5 side. The proxy terminated TLS to a credential host only
 * for CONNECT: a SOCKS5 connection to the same host was an opaque tunnel,
 * so a page that shows what the server was sent before (the token a CONNECT
 * request carried, added by the proxy) came back to the command unscrubbed,
 * over TLS and over plain HTTP alike. A SOCKS5 connection to a credential
 * host must be treated as a CONNECT is: TLS answered by isolate, the
 * placeholder replaced going up, the value scrubbed coming back.
 *
 * Loopback servers written byte by byte (one HTTPS, one plain HTTP) stand
 * in for the credential hosts: each remembers the last Authorization it was
 * sent and shows it at /last; /echo shows the one of its own request.
 */
import { randomBytes } from 'node:crypto';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loopbackCredentialProfile, runWithToken, startTlsSite, type TlsSite } from '../helpers/credential-site.js';
import { giveTo, homeWithProject, runners, type Project, type Runner } from '../helpers/isolate.js';
import { rawReply } from '../helpers/raw-reply.js';

const TOKEN = `ghp_${randomBytes(27).toString('base64url').replace(/[-_]/g, 'x')}`;

let site: TlsSite;
let plain: Server;
let TLS_PORT = 0;
let PLAIN_PORT = 0;
const tlsSockets = new Set<TLSSocket>();
const plainSockets = new Set<Socket>();
/** Every Authorization each server was sent, in order ('' for none). */
const seen: string[] = [];

/** A server that remembers the last Authorization: /last shows it, /echo shows the request's own. */
function remembering(): (head: string) => string {
  let last = '';
  return (head) => {
    const auth = /^authorization: (.*)$/im.exec(head)?.[1] ?? '';
    seen.push(auth);
    const path = head.split(' ')[1] ?? '';
    const body = path === '/last' ? `last=${last}\n` : `echo=${auth}\n`;
    if (auth !== '') last = auth;
    return `HTTP/1.1 200 OK\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`;
  };
}

beforeAll(async () => {
  site = await startTlsSite('socks', rawReply(tlsSockets, remembering()));
  TLS_PORT = site.port;
  plain = createServer(rawReply(plainSockets, remembering()));
  await new Promise<void>((resolvePromise) => plain.listen(0, '127.0.0.1', resolvePromise));
  PLAIN_PORT = (plain.address() as AddressInfo).port;
});

afterAll(async () => {
  for (const s of plainSockets) s.destroy();
  await new Promise<void>((resolvePromise) => plain.close(() => resolvePromise()));
  await site.stop();
});

describe.each(runners())('red team: a credential host reached through SOCKS5 ($label)', (runner: Runner) => {
  let p: Project;
  let profile: string;

  beforeAll(() => {
    p = homeWithProject(runner);
    profile = loopbackCredentialProfile(p.home, 'socks', site.caPem, [TLS_PORT, PLAIN_PORT]);
    giveTo(runner, p.home);
  });
  afterAll(() => p.cleanup());

  const run = runWithToken(runner, () => ({ p, profile }), TOKEN);
  // -k: the command trusts what it likes; through the opaque tunnel it reached the server's own certificate.
  const socks = '-k --socks5-hostname 127.0.0.1:3128';

  it('over TLS: what the host was sent earlier comes back scrubbed, and a request through SOCKS5 gets the value added', async () => {
    const before = seen.length;
    const r = await run(
      [
        `curl -sS -o /dev/null -H "Authorization: Bearer $GITHUB_TOKEN" https://127.0.0.1:${TLS_PORT}/store`,
        `curl -sS ${socks} https://127.0.0.1:${TLS_PORT}/last`,
        `curl -sS ${socks} -H "Authorization: Bearer $GITHUB_TOKEN" https://127.0.0.1:${TLS_PORT}/echo`,
        `printf 'placeholder=%s\\n' "$GITHUB_TOKEN"`,
      ].join('; '),
    );
    expect(r.stdout + r.stderr, 'the real token reached the command').not.toContain(TOKEN);
    // The server was sent the real token both times: the echoes are real.
    expect(seen.slice(before)).toEqual([`Bearer ${TOKEN}`, '', `Bearer ${TOKEN}`]);
    const placeholder = /^placeholder=(\S+)$/m.exec(r.stdout)?.[1] ?? '';
    expect(placeholder).toMatch(/^ghp_/);
    expect(r.stdout).toContain(`last=Bearer ${placeholder}\n`);
    expect(r.stdout).toContain(`echo=Bearer ${placeholder}\n`);
  });

  it('over plain HTTP: what the host was sent earlier never reaches the command', async () => {
    const before = seen.length;
    const r = await run(
      [`curl -sS -o /dev/null -H "Authorization: Bearer $GITHUB_TOKEN" http://127.0.0.1:${PLAIN_PORT}/store`, `curl -sS ${socks} http://127.0.0.1:${PLAIN_PORT}/last`].join('; '),
    );
    // The absolute-URI request carried the real token: the page at /last would show it.
    expect(seen.slice(before)[0]).toBe(`Bearer ${TOKEN}`);
    expect(r.stdout + r.stderr, 'the real token reached the command').not.toContain(TOKEN);
  });
});
