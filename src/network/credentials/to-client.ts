/**
 * The upstream response (upstream.ts) written to the client's HTTP response
 * on a terminated tunnel: its head without the hop-by-hop headers and with
 * every header value scrubbed, its body scrubbed as it comes (scrub.ts:
 * in place, across the pieces) and written once per batch of pieces, the
 * upstream paused while the client is not keeping up. A body that fails
 * upstream fails here too: the client's connection is cut, never ended as
 * if the body were whole.
 */
import type { ServerResponse } from 'node:http';
import type { Framing, ResponseHead } from './response-head.js';
import type { ResponseSink } from './response-reader.js';
import type { Exchange } from './upstream.js';
import type { CredentialVault } from './vault.js';

/** Headers that belong to one connection, not to the request or response they came with. */
export const HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'proxy-authorization', 'transfer-encoding', 'upgrade', 'te', 'trailer']);

/**
 * The headers passed on: no hop-by-hop ones, values scrubbed, and no
 * Content-Length where the body's end is not its length (chunked, or the
 * end of the connection); where it is, one Content-Length (a server may
 * repeat the same one).
 */
function clientHeaders(head: ResponseHead, f: Framing, vault: CredentialVault): string[] {
  let lengths = 0;
  const keep = ([n]: [string, string]): boolean => {
    const name = n.toLowerCase();
    if (name !== 'content-length') return !HOP.has(name);
    return (f.kind === 'length' || f.kind === 'none') && lengths++ === 0;
  };
  return head.headers.filter(keep).flatMap(([n, v]) => [n, vault.scrubText(v)]);
}

/** A sink for `exchange` that answers `res`; `upstream` is the exchange it feeds (for pausing), `failed` hears why it failed. */
export function toClient(res: ServerResponse, vault: CredentialVault, upstream: () => Exchange | undefined, failed: (reason: string, beforeHead: boolean) => void): ResponseSink {
  const scrub = vault.responseScrubber();
  return {
    head(head, f) {
      res.writeHead(head.status, head.message, clientHeaders(head, f, vault));
    },
    body(pieces, release) {
      const parts = pieces.flatMap((p) => scrub.push(p));
      let full = false;
      parts.forEach((p, i) => (full = !res.write(p, i === parts.length - 1 ? release : undefined) || full));
      if (parts.length === 0) release();
      if (full) {
        upstream()?.pause();
        res.once('drain', () => upstream()?.resume());
      }
    },
    end() {
      res.end(scrub.flush());
    },
    fail(reason) {
      failed(reason, !res.headersSent);
    },
  };
}
