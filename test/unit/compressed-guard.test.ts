import { describe, expect, it } from 'vitest';
import { compressedResponseGuard } from '../../src/network/credentials/compressed-guard.js';

const feed = (...pieces: string[]): (string | undefined)[] => {
  const guard = compressedResponseGuard();
  return pieces.map((p) => guard(Buffer.from(p, 'latin1')));
};

describe('compressedResponseGuard', () => {
  it('passes a response without a content coding, and everything after its head', () => {
    expect(feed('HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nbody', 'Content-Encoding: gzip\r\n\r\n')).toEqual([undefined, undefined]);
    expect(feed('HTTP/1.1 200 OK\r\nContent-Encoding: identity\r\n\r\n')).toEqual([undefined]);
  });

  it('refuses a compressed response before its body, however the head is split, after 1xx heads', () => {
    const out = feed('HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-En', 'coding: gzip\r\n', '\r\n\x1f\x8b');
    expect(out.slice(0, 2)).toEqual([undefined, undefined]);
    expect(out[2]).toMatch(/encoded with gzip/);
  });

  it('refuses a body compressed as a transfer coding (Transfer-Encoding: gzip, chunked): once unchunked it is still compressed', () => {
    expect(feed('HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n')[0]).toMatch(/encoded with gzip/);
    expect(feed('HTTP/1.1 200 OK\r\nTransfer-Encoding: Deflate\r\n\r\n')[0]).toMatch(/encoded with deflate/);
    expect(feed('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n')[0]).toBeUndefined();
  });

  it('refuses a malformed or endless head', () => {
    expect(feed('HTTP/9 nope\r\n\r\n')[0]).toMatch(/malformed status line/);
    expect(feed(`HTTP/1.1 200 OK\r\nX: ${'a'.repeat(70_000)}`)[0]).toMatch(/too large/);
  });
});
