/** The chunked-body reader of the terminator's upstream client: the same data however the bytes are split; malformed framing is an error. */
import { describe, expect, it } from 'vitest';
import { ChunkedDecoder } from '../../src/network/credentials/chunked.js';
import { framing } from '../../src/network/credentials/response-head.js';

const BODY = '5;ext=1\r\nhello\r\n1\r\n \r\nC \r\nworld, again\r\n0\r\nTrailer: x\r\n\r\n';

function decode(pieces: string[]): { text: string; done: boolean } | { error: string } {
  const d = new ChunkedDecoder();
  let text = '';
  let done = false;
  for (const p of pieces) {
    const r = d.push(Buffer.from(p, 'latin1'));
    if ('error' in r) return r;
    text += r.data.map((b) => b.toString('latin1')).join('');
    done = r.done;
  }
  return { text, done };
}

describe('the chunked body reader', () => {
  it('reads the same data wherever the bytes are split, and ends after the trailers', () => {
    for (let a = 0; a <= BODY.length; a++) {
      for (let b = a; b <= BODY.length; b += 7) {
        expect(decode([BODY.slice(0, a), BODY.slice(a, b), BODY.slice(b)]), `${a}/${b}`).toEqual({ text: 'hello world, again', done: true });
      }
    }
    expect(decode([BODY.slice(0, -2)])).toEqual({ text: 'hello world, again', done: false });
  });

  it('refuses a malformed size, a chunk without its CRLF, a bare LF, and an endless line', () => {
    for (const bad of ['x\r\nhello\r\n', '-1\r\n', '5\r\nhelloXY0\r\n\r\n', '5\nhello\r\n', '5;'.padEnd(5000, 'a')]) {
      expect(decode([bad]), JSON.stringify(bad.slice(0, 20))).toHaveProperty('error');
    }
  });
});

describe('a response body\'s framing', () => {
  const head = (...headers: [string, string][]) => ({ status: 200, message: 'OK', headers });
  const te = (value: string): [string, string] => ['Transfer-Encoding', value];

  it('is chunked only where every client reads it so: chunked last, once, after compressions only', () => {
    // Empty list items are no items (RFC 9110 section 5.6.1), as curl reads them too.
    for (const h of [[te('chunked')], [te('Chunked ')], [te('gzip, chunked')], [te('gzip'), te('chunked')], [te('chunked'), ['Content-Length', '5']], [te('chunked,')], [te('chunked'), te('')]] as [string, string][][]) {
      expect(framing(head(...h), 'GET'), JSON.stringify(h)).toEqual({ kind: 'chunked' });
    }
    // Clients read some of these as chunked and the standard as ending with the connection: refused, never guessed at.
    for (const h of [[te('chunked, identity')], [te('chunked'), te('identity')], [te('')], [te('identity')], [te('gzip')], [te('chunked, chunked')], [te('chunked;q=1')], [te('chunked, x-custom')]] as [string, string][][]) {
      expect(framing(head(...h), 'GET'), JSON.stringify(h)).toEqual({ error: expect.stringMatching(/Transfer-Encoding that is not chunked last/) });
    }
  });

  it('without a Transfer-Encoding: its one Content-Length, or the end of the connection; none for HEAD', () => {
    expect(framing(head(['Content-Length', '5']), 'GET')).toEqual({ kind: 'length', length: 5 });
    expect(framing(head(), 'GET')).toEqual({ kind: 'close' });
    expect(framing(head(te('chunked,')), 'HEAD')).toEqual({ kind: 'none' });
  });
});
