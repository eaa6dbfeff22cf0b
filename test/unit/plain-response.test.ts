/**
 * A plain http:// response in a run with credentials, as the proxy relays
 * it (credentials/plain-response.ts): its body scrubbed as the body, a
 * chunked one taken out of its chunks, so a value the server cut between
 * chunks reaches the command as the placeholder.
 */
import { describe, expect, it } from 'vitest';
import { plainResponse } from '../../src/network/credentials/plain-response.js';
import { makePlaceholder } from '../../src/network/credentials/placeholder.js';
import { CredentialVault } from '../../src/network/credentials/vault.js';

const TOKEN = 'ghp_R3alT0kenValue0123456789abcdefABCDEF';
const PLACEHOLDER = makePlaceholder(TOKEN);
const vault = new CredentialVault([
  { spec: { name: 'T', source: { kind: 'env', name: 'T' }, hosts: ['127.0.0.1:8080'], ttlMs: undefined, from: 'test' }, value: TOKEN, placeholder: PLACEHOLDER },
]);

/** What the command receives for `pieces` from upstream (the connection then ends), or why it was cut off. */
function relay(pieces: string[], method = 'GET'): { out: string; refused?: string } {
  const r = plainResponse(method, vault);
  let out = '';
  for (const p of pieces) {
    const b = Buffer.from(p, 'latin1');
    const why = r.check(b);
    if (why !== undefined) return { out, refused: why };
    out += Buffer.concat(r.scrubber.push(b)).toString('latin1');
  }
  return { out: out + r.scrubber.flush().toString('latin1') };
}

/** A client's reading of a chunked body. */
function dechunk(body: string): { data: string; last: boolean } {
  let data = '';
  for (let at = 0; ; ) {
    const eol = body.indexOf('\r\n', at);
    if (eol === -1) return { data, last: false };
    const size = parseInt(body.slice(at, eol), 16);
    if (size === 0) return { data, last: true };
    data += body.slice(eol + 2, eol + 2 + size);
    at = eol + 2 + size + 2;
  }
}

const chunk = (t: string): string => `${t.length.toString(16)}\r\n${t}\r\n`;
const CHUNKED = 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n';

describe('a plain http response with credentials', () => {
  it('a value cut between two chunks, at every place, reaches the command as the placeholder', () => {
    const text = `you sent ${TOKEN}.`;
    for (let cut = 1; cut < text.length; cut++) {
      const { out } = relay([`${CHUNKED}${chunk(text.slice(0, cut))}${chunk(text.slice(cut))}0\r\n\r\n`]);
      expect(out.startsWith(CHUNKED)).toBe(true);
      expect(dechunk(out.slice(CHUNKED.length)), `cut at ${cut}`).toEqual({ data: `you sent ${PLACEHOLDER}.`, last: true });
    }
  });

  it('a value in chunks of one byte, each arriving alone', () => {
    const text = `${TOKEN}`;
    const { out } = relay([CHUNKED, ...text.split('').map(chunk), '0\r\n\r\n']);
    expect(dechunk(out.slice(CHUNKED.length))).toEqual({ data: PLACEHOLDER, last: true });
  });

  it('a body framed by its length or by the end of the connection is scrubbed and keeps its length; the head too', () => {
    const body = `token=${TOKEN}`;
    const head = `HTTP/1.1 401 bad ${TOKEN}\r\nContent-Length: ${body.length}\r\nX-Echo: ${TOKEN}\r\n\r\n`;
    expect(relay([head + body.slice(0, 10), body.slice(10)]).out).toBe(`HTTP/1.1 401 bad ${PLACEHOLDER}\r\nContent-Length: ${body.length}\r\nX-Echo: ${PLACEHOLDER}\r\n\r\ntoken=${PLACEHOLDER}`);
    expect(relay([`HTTP/1.0 200 OK\r\n\r\n${TOKEN.slice(0, 9)}`, TOKEN.slice(9)]).out).toBe(`HTTP/1.1 200 OK\r\n\r\n${PLACEHOLDER}`);
  });

  it('nothing after the response is passed on, 1xx heads are not, nor a body for HEAD', () => {
    expect(relay([`HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokHTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n${chunk(TOKEN)}`]).out).toBe('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok');
    expect(relay([`HTTP/1.1 100 Continue\r\n\r\n${CHUNKED}${chunk('ok')}0\r\n\r\n${chunk('more')}`]).out).toBe(`${CHUNKED}${chunk('ok')}0\r\n\r\n`);
    expect(relay(['HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n'], 'HEAD').out).toBe('HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n');
  });

  it('a chunked body cut short reaches the command without its last chunk (cut short there too)', () => {
    const { out } = relay([`${CHUNKED}${chunk('abc')}${chunk(TOKEN).slice(0, 24)}`]);
    const { data, last } = dechunk(out.slice(CHUNKED.length));
    expect(last).toBe(false);
    expect(data, 'the start of the value reached the command').not.toContain(TOKEN.slice(4, 12));
  });

  it('a switch of protocols, a malformed chunk or head ends the connection', () => {
    expect(relay(['HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n']).refused).toMatch(/switched protocols/);
    expect(relay([`${CHUNKED}zz\r\n`]).refused).toMatch(/malformed chunk size/);
    expect(relay(['HTTP/9 200 OK\r\n\r\n']).refused).toMatch(/malformed status line/);
  });
});
