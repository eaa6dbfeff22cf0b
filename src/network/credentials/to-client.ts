/**
 * The upstream response (upstream.ts) written to the client's HTTP response
 * on a terminated tunnel: its head without the hop-by-hop headers, its
 * reason phrase and every header name and value scrubbed, its body scrubbed as it comes (scrub.ts:
 * in place, across the pieces) and written once per batch of pieces, the
 * upstream paused while the client is not keeping up. A compressed body is
 * decoded first and passed on uncompressed (content-coding.ts). A body that
 * fails upstream fails here too: the client's connection is cut, never ended
 * as if the body were whole.
 */
import type { ServerResponse } from 'node:http';
import type { Transform } from 'node:stream';
import { bodyDecoder } from './content-coding.js';
import { contentCodings, type Framing, type ResponseHead } from './response-head.js';
import type { ResponseSink } from './response-reader.js';
import type { Scrubber } from './scrub.js';
import type { Exchange } from './upstream.js';
import type { CredentialVault } from './vault.js';

/** Headers that belong to one connection, not to the request or response they came with. */
export const HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'proxy-authorization', 'transfer-encoding', 'upgrade', 'te', 'trailer']);

/**
 * The headers passed on: no hop-by-hop ones, values scrubbed, and no
 * Content-Length where the body's end is not its length (chunked, the end
 * of the connection, or a body passed on decoded, which has no
 * Content-Encoding either); where it is, one Content-Length (a server may
 * repeat the same one).
 */
function clientHeaders(head: ResponseHead, f: Framing, vault: CredentialVault, decoded: boolean): string[] {
  let lengths = 0;
  const keep = ([n]: [string, string]): boolean => {
    const name = n.toLowerCase();
    if (decoded && name === 'content-encoding') return false;
    if (name !== 'content-length') return !HOP.has(name);
    return !decoded && (f.kind === 'length' || f.kind === 'none') && lengths++ === 0;
  };
  // Names too: a server may echo what it was sent into a header's name (a value is a valid token).
  return head.headers.filter(keep).flatMap(([n, v]) => [vault.scrubText(n), vault.scrubText(v)]);
}

/** How the body's pieces reach the client. */
interface BodyPath {
  write(pieces: Buffer[], release: () => void): void;
  end(): void;
}

/** Scrub `pieces` and write them to `res`, `release` once written; false when `res` wants a 'drain' first. */
function writeScrubbed(res: ServerResponse, scrub: Scrubber, pieces: Buffer[], release: () => void): boolean {
  const parts = pieces.flatMap((p) => scrub.push(p));
  let full = false;
  parts.forEach((p, i) => (full = !res.write(p, i === parts.length - 1 ? release : undefined) || full));
  if (parts.length === 0) release();
  return !full;
}

/** Pause `source` until `target` drains. */
function waitFor(target: NodeJS.EventEmitter, pause: () => void, resume: () => void): void {
  pause();
  target.once('drain', resume);
}

/** The body as it comes. */
function plainPath(res: ServerResponse, scrub: Scrubber, upstream: () => Exchange | undefined): BodyPath {
  return {
    write(pieces, release) {
      if (!writeScrubbed(res, scrub, pieces, release)) waitFor(res, () => upstream()?.pause(), () => upstream()?.resume());
    },
    end: () => res.end(scrub.flush()),
  };
}

/** The body through `decoder`; a damaged one fails the response. */
function decodedPath(res: ServerResponse, scrub: Scrubber, decoder: Transform, upstream: () => Exchange | undefined, fail: (reason: string) => void): BodyPath {
  const noop = (): void => undefined;
  decoder.on('data', (d: Buffer) => {
    if (!writeScrubbed(res, scrub, [d], noop)) waitFor(res, () => decoder.pause(), () => decoder.resume());
  });
  decoder.once('end', () => res.end(scrub.flush()));
  decoder.once('error', (e) => fail(`the upstream response's compressed body cannot be decoded (${e.message})`));
  return {
    write(pieces, release) {
      let room = true;
      // The decoder reads each piece later; the last one's callback says it is done with them all.
      pieces.forEach((p, i) => (room = decoder.write(p, i === pieces.length - 1 ? release : undefined) && room));
      if (!room) waitFor(decoder, () => upstream()?.pause(), () => upstream()?.resume());
    },
    end: () => decoder.end(),
  };
}

/** Pieces after the response failed: given up at once. */
const DISCARD: BodyPath = { write: (_pieces, release) => release(), end: () => undefined };

/** A sink for `exchange` that answers `res`; `upstream` is the exchange it feeds (for pausing), `failed` hears why it failed. */
export function toClient(res: ServerResponse, vault: CredentialVault, upstream: () => Exchange | undefined, failed: (reason: string, beforeHead: boolean) => void): ResponseSink {
  const scrub = vault.responseScrubber();
  let path = plainPath(res, scrub, upstream);
  const fail = (reason: string): void => {
    path = DISCARD;
    failed(reason, !res.headersSent);
  };
  return {
    head(head, f) {
      const codings = f.kind === 'none' ? [] : contentCodings(head.headers);
      if (codings.length > 0) {
        const decoder = bodyDecoder(codings);
        if ('error' in decoder) return fail(decoder.error);
        path = decodedPath(res, scrub, decoder, upstream, fail);
      }
      try {
        // The reason phrase is the server's text as well (an error message may quote the token).
        res.writeHead(head.status, vault.scrubText(head.message), clientHeaders(head, f, vault, codings.length > 0));
      } catch {
        // A name scrubbed of a value's base64 form may hold a "/", which no header name can: refused, never thrown from the upstream's read.
        fail('the upstream response has a header name that is not a valid name once scrubbed of a credential');
      }
    },
    body: (pieces, release) => path.write(pieces, release),
    end: () => path.end(),
    fail,
  };
}
