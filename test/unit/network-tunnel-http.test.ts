/**
 * Plain HTTP inside a tunnel (tunnel-http.ts): its first request goes on
 * with the tunnel's host as its Host and `Connection: close`; a head the
 * proxy cannot read, a target naming a server, or a request line sent in
 * pieces that hide it, end the tunnel; other protocols pass untouched.
 */
import { describe, expect, it } from 'vitest';
import { gated } from '../../src/network/relay-filter.js';
import { tunnelHttp } from '../../src/network/tunnel-http.js';

/** Feed `pieces` through the gate and the watch, as a tunnel does: what was sent on, and why the tunnel ended (if it did). */
function through(host: string, port: number, ...pieces: string[]): { sent: string; refused: string | undefined } {
  const { gate, watch } = tunnelHttp(host, port);
  let sent = '';
  let refused: string | undefined;
  const send = (c: Buffer): void => {
    refused ??= watch(c);
    if (refused === undefined) sent += c.toString('latin1');
  };
  const feed = gated(gate, send, (why) => (refused ??= why));
  for (const p of pieces) if (refused === undefined) feed(Buffer.from(p, 'latin1'));
  return { sent, refused };
}

describe('tunnelHttp', () => {
  it("writes the first request again with the tunnel's host as Host and the connection closed, its body after it", () => {
    const r = through('allowed.test', 80, 'GET /x?q HTTP/1.1\r\nHost: other.example\r\nConnection: keep-alive\r\nAccept: */*\r\nContent-Length: 2\r\n\r\nhi', 'GET / HTTP/1.1\r\n');
    expect(r).toEqual({ sent: 'GET /x?q HTTP/1.1\r\nHost: allowed.test\r\nAccept: */*\r\nContent-Length: 2\r\nConnection: close\r\n\r\nhiGET / HTTP/1.1\r\n', refused: undefined });
  });

  it('names the port when it is not 80, and an IPv6 address in brackets; waits for the rest of a head whose request line has come', () => {
    expect(through('::1', 8080, '\r\n', 'GET / HTTP/1.0\r\nHo', 'st: x\r\n', '\r\n').sent).toBe('GET / HTTP/1.0\r\nHost: [::1]:8080\r\nConnection: close\r\n\r\n');
  });

  it.each([
    ['an absolute-form target', 'GET http://other.example/ HTTP/1.1\r\n\r\n', /target "http:\/\/other.example\/" is not a path/],
    ['a lower-case request line', 'get / http/1.1\r\nHost: other.example\r\n\r\n', /malformed request head/],
    ['a folded header', 'GET / HTTP/1.1\r\nX: a\r\n Host: other.example\r\n\r\n', /malformed request head/],
    ['HTTP/2 with prior knowledge', 'PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', /malformed request head/],
    ['a tab for a space', 'GET\t/ HTTP/1.1\r\nHost: other.example\r\n\r\n', /malformed request head/],
  ])('refuses %s, sending nothing', (_what, text, why) => {
    const r = through('allowed.test', 80, text);
    expect(r.sent).toBe('');
    expect(r.refused).toMatch(why);
  });

  it('refuses a request line sent in pieces that hide it at first, before its end goes on', () => {
    const r = through('allowed.test', 80, 'G', 'ET / HTTP/1.1\r\nHost: other.example\r\n\r\n');
    expect(r).toEqual({ sent: 'G', refused: expect.stringMatching(/sent in pieces/) });
  });

  it.each([
    ['a TLS ClientHello', '\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03'],
    ['a Redis command', 'PING x\r\n'],
    ['an SSH banner', 'SSH-2.0-OpenSSH_9.6\r\n'],
    ['a binary start', '\x00\x00\x00\x08\x04\xd2\x16\x2f'],
    ['a line without a version', 'GET /\r\n'],
  ])('passes %s untouched, and what follows it', (_what, text) => {
    expect(through('allowed.test', 80, text, 'GET / HTTP/1.1\r\nHost: other.example\r\n\r\n')).toEqual({ sent: `${text}GET / HTTP/1.1\r\nHost: other.example\r\n\r\n`, refused: undefined });
  });

  it('refuses a request line with no end within 64 KiB', () => {
    expect(through('allowed.test', 80, `GET /${'a'.repeat(70 * 1024)}`).refused).toMatch(/longer than/);
  });
});
