import { gzipSync, brotliCompressSync, deflateSync } from 'node:zlib';
import type { Transform } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { bodyDecoder } from '../../src/network/credentials/content-coding.js';
import { contentCodings } from '../../src/network/credentials/response-head.js';

async function decode(decoder: Transform, body: Buffer): Promise<string> {
  const out: Buffer[] = [];
  decoder.on('data', (d: Buffer) => out.push(d));
  const done = new Promise((resolve, reject) => {
    decoder.once('end', resolve);
    decoder.once('error', reject);
  });
  decoder.end(body);
  await done;
  return Buffer.concat(out).toString();
}

describe('contentCodings', () => {
  it('reads every Content-Encoding header and list, lower-cased, without identity', () => {
    expect(contentCodings([['Content-Type', 'text/plain'], ['Content-Encoding', ' GZIP , identity'], ['content-encoding', 'br']])).toEqual(['gzip', 'br']);
    expect(contentCodings([['Content-Encoding', 'identity']])).toEqual([]);
    expect(contentCodings([])).toEqual([]);
    // A transfer coding other than chunked is undone after the chunks, so after the content codings.
    expect(contentCodings([['Transfer-Encoding', 'gzip, chunked'], ['Content-Encoding', 'br']])).toEqual(['br', 'gzip']);
    expect(contentCodings([['transfer-encoding', 'chunked'], ['Transfer-Encoding', 'identity']])).toEqual([]);
  });
});

describe('bodyDecoder', () => {
  it('undoes gzip, x-gzip, deflate and br', async () => {
    const text = 'you sent: Bearer ghp_x';
    for (const [coding, body] of [['gzip', gzipSync(text)], ['x-gzip', gzipSync(text)], ['deflate', deflateSync(text)], ['br', brotliCompressSync(text)]] as const) {
      const d = bodyDecoder([coding]);
      if ('error' in d) throw new Error(d.error);
      expect(await decode(d, body)).toBe(text);
    }
  });

  it('refuses a coding it cannot undo, and more than one, naming them', () => {
    expect(bodyDecoder(['compress'])).toEqual({ error: expect.stringContaining('compress') as string });
    expect(bodyDecoder(['zstd'])).toEqual({ error: expect.stringContaining('cannot search') as string });
    expect(bodyDecoder(['gzip', 'br'])).toEqual({ error: expect.stringContaining('gzip, br') as string });
  });

  it('fails on a damaged body instead of passing it on', async () => {
    const d = bodyDecoder(['gzip']);
    if ('error' in d) throw new Error(d.error);
    await expect(decode(d, Buffer.from('not gzip at all'))).rejects.toThrow();
  });
});
